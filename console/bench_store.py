"""`saraban bench` store figures at national scale: 20,000 agencies after 50 scans (issue 13).

How the store is built (said in the bench's notes, with how long it took): the bench's own scan on the
simulated internet gives real verdicts (transcripts and all); they are spread over 20,000 agencies
(agency i gets the verdict of scanned agency i mod n, under its own id), and 50 scans are saved one
after another as the runner saves them (batches of 1,000, a snapshot after each), two weeks apart,
with 2 % of agencies changing group at every scan. Then one more scan, a correction, a bulk "called"
for 200 agencies and the list view's `records` are timed, and the console's memory is measured on it.

`records` is timed cold (a fresh `Store`, as a console opening the store) three times: the median is the
figure, the best is printed beside it (five helpers share two cores). Building takes minutes, so
`python -m console.bench_store build DIR` / `measure DIR` build once and measure copies of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from checks.model import Agency, Verdict
from console.rules import CALLED_WAITING
from console.store import Store
from console.store.codec import verdict_texts

SCALE_AGENCIES = 20_000
SCALE_SCANS = 50
SCALE_HISTORY = 10  # transcripts kept for the last 10 verdicts of each agency (history_limit)
SAVE_BATCH = 1_000  # as the runner saves
CHURN = 0.02

KEYS = (
    "store_scale_build_s",
    "store_scale_bytes",
    "store_scale_growth_bytes",
    "store_scale_new_verdicts_bytes",
    "store_scale_persist_s",
    "store_scale_persist_cpu_s",
    "store_scale_correction_s",
    "store_scale_bulk_called_s",
    "store_scale_records_first_scan_s",
    "store_scale_records_s",
    "store_scale_records_best_s",
    "store_scale_records_after_change_s",
    "store_scale_console_rss_mb",
)


def _agencies(base: Sequence[Agency], n: int) -> list[Agency]:
    out = []
    for i in range(n):
        a = base[i % len(base)]
        round_ = i // len(base)
        declared = a.declared.replace("@", f".{round_}@", 1) if round_ else a.declared  # no false duplicates
        out.append(dataclasses.replace(a, id=f"{a.id}-{round_}", name=f"{a.name} {round_}" if round_ else a.name,
                                       seq=str(i + 1), declared=declared))
    return out


def _scan(verdicts: Sequence[Verdict], agencies: Sequence[Agency], number: int, groups: Sequence[str]) -> list[Verdict]:
    at = (datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=7))) + timedelta(days=14 * number)).isoformat()
    out = []
    for i, agency in enumerate(agencies):
        v = verdicts[i % len(verdicts)]
        group = v.group
        if (i * 7919 + number * 104729) % 1000 < CHURN * 1000:
            group = groups[(i + number) % len(groups)]
        out.append(dataclasses.replace(v, agency_id=agency.id, group=group, checked_at=at,
                                       evidence=dataclasses.replace(v.evidence, checked_at=at)))
    return out


def _bytes(directory: Path, name: str) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if (p.is_file() and p.name.startswith(name))
               or (p.is_file() and p.parent.name.startswith(name)))


def build_scale_store(
    base_agencies: Sequence[Agency],
    verdicts: Sequence[Verdict],
    directory: Path,
    progress: Callable[[str], None],
    *,
    agencies: int = SCALE_AGENCIES,
    scans: int = SCALE_SCANS,
) -> tuple[dict[str, Any], Path]:
    """Build the store in `directory` (scans 1..`scans`); (build figures, store path)."""
    out: dict[str, Any] = {}
    path = directory / "scale.json"
    everyone = _agencies(base_agencies, agencies)
    groups = sorted({v.group for v in verdicts}) or ["A1"]
    store = Store(path, history_limit=SCALE_HISTORY)
    store.merge_import(everyone, source="bench", operator="bench")
    t0 = time.perf_counter()
    for number in range(scans):
        if number % 10 == 0:
            progress(f"    scale store: scan {number + 1}/{scans}...")
        store.save_verdicts(_scan(verdicts, everyone, number, groups), batch_size=SAVE_BATCH)
        store.save_snapshot({"bench": {"A1": agencies}}, label="scan")
        if number == 0:
            t1 = time.perf_counter()
            Store(path, history_limit=SCALE_HISTORY).records(with_history=False, light=True)
            out["store_scale_records_first_scan_s"] = round(time.perf_counter() - t1, 3)
            t0 += time.perf_counter() - t1
    out["store_scale_build_s"] = round(time.perf_counter() - t0, 1)
    return out, path


def _cold_records(path: Path, times: int = 3) -> list[float]:
    """`records` for the list view in a fresh `Store` each time (a console opening the store)."""
    took = []
    for _ in range(times):
        fresh = Store(path, history_limit=SCALE_HISTORY)
        t0 = time.perf_counter()
        fresh.records(with_history=False, light=True)
        took.append(time.perf_counter() - t0)
    return took


def measure_scale_store(
    base_agencies: Sequence[Agency],
    verdicts: Sequence[Verdict],
    path: Path,
    *,
    agencies: int = SCALE_AGENCIES,
    scans: int = SCALE_SCANS,
) -> dict[str, Any]:
    """One more scan, a correction, a bulk "called" and the list view, timed on the built store."""
    out: dict[str, Any] = {}
    everyone = _agencies(base_agencies, agencies)
    groups = sorted({v.group for v in verdicts}) or ["A1"]
    store = Store(path, history_limit=SCALE_HISTORY)
    before = _bytes(path.parent, path.name)
    out["store_scale_bytes"] = before
    last = _scan(verdicts, everyone, scans, groups)
    out["store_scale_new_verdicts_bytes"] = sum(len(verdict_texts(v)[0].encode("utf-8")) for v in last)
    t0, c0 = time.perf_counter(), time.process_time()
    store.save_verdicts(last, batch_size=SAVE_BATCH)
    out["store_scale_persist_s"] = round(time.perf_counter() - t0, 3)
    out["store_scale_persist_cpu_s"] = round(time.process_time() - c0, 3)
    out["store_scale_growth_bytes"] = _bytes(path.parent, path.name) - before
    took = _cold_records(path)
    out["store_scale_records_s"] = round(statistics.median(took), 3)
    out["store_scale_records_best_s"] = round(min(took), 3)
    fresh = Store(path, history_limit=SCALE_HISTORY)
    fresh.records(with_history=False, light=True)  # a console that has the list up
    t0 = time.perf_counter()
    fresh.add_correction(everyone[0].id, "saraban@dla.go.th", "bench: the agency called back", "bench")
    out["store_scale_correction_s"] = round(time.perf_counter() - t0, 4)
    t0 = time.perf_counter()
    fresh.set_followups([a.id for a in everyone[:200]], CALLED_WAITING, "bench")
    out["store_scale_bulk_called_s"] = round(time.perf_counter() - t0, 4)
    t0 = time.perf_counter()  # what a console already open pays when another operator changed something
    fresh.records(with_history=False, light=True)
    out["store_scale_records_after_change_s"] = round(time.perf_counter() - t0, 3)
    return out


def store_scale(
    base_agencies: Sequence[Agency],
    verdicts: Sequence[Verdict],
    directory: Path,
    progress: Callable[[str], None],
    *,
    agencies: int = SCALE_AGENCIES,
    scans: int = SCALE_SCANS,
) -> tuple[dict[str, Any], str, Path]:
    """Build the store in `directory`, time what operators wait for; (figures, how it was built, store path)."""
    out: dict[str, Any] = dict.fromkeys(KEYS)
    built, path = build_scale_store(base_agencies, verdicts, directory, progress, agencies=agencies, scans=scans)
    out.update(built)
    out.update(measure_scale_store(base_agencies, verdicts, path, agencies=agencies, scans=scans))
    how = (
        f"{agencies:,} agencies (the bench scan's {len(verdicts):,} verdicts on the simulated internet spread over "
        f"them), {scans} scans saved as the runner saves them, 2 weeks apart, {CHURN:.0%} changing group per scan, "
        f"history_limit {SCALE_HISTORY}: built in {out['store_scale_build_s']} s (pid {os.getpid()})"
    )
    return out, how, path


async def _probe(path: Path, what: str, *args: str) -> Any:
    """The last JSON line of `records` (this module) or `tui-probe` (`console.bench.console_probe`)
    run on the store in a fresh process; None when it printed none."""
    import asyncio
    import json

    module = "console.bench_store" if what == "records" else "console.bench.console_probe"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, what, str(path), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await proc.communicate()
    lines = stdout.decode("utf-8", "replace").strip().splitlines()
    with contextlib.suppress(ValueError, IndexError):
        return json.loads(lines[-1])
    return None


async def run_scale(bench: Any) -> None:
    """The bench's "scale" part: build, time, then a console's memory on the store (a fresh process)."""
    import asyncio
    import shutil
    import tempfile

    if not bench.verdicts:
        bench.note("scale", "needs the scan's verdicts (the scan part was skipped)")
        return
    bench.progress(f"  store at scale: {SCALE_AGENCIES:,} agencies, {SCALE_SCANS} scans...")
    directory = Path(tempfile.mkdtemp(prefix="saraban-bench-scale-"))
    try:
        out, how, path = await asyncio.to_thread(store_scale, bench.agencies, bench.verdicts, directory, bench.progress)
        bench.out.update(out)
        bench.note("store_scale_build_s", how)
        # the list view again in a process of its own, as a console opening the store (this one runs
        # the simulated internet's threads, which the in-thread figure above shares the GIL with)
        took = await _probe(path, "records")
        if took:
            bench.out["store_scale_records_s"] = round(statistics.median(took), 3)
            bench.out["store_scale_records_best_s"] = round(min(took), 3)
            bench.note("store_scale_records_s", f"3 cold opens in a fresh process: {', '.join(f'{t:.3f}' for t in took)} s")
        if "tui" in bench.skip:
            return
        bench.progress("  store at scale: the console's memory on it...")
        probe = await _probe(path, "tui-probe", bench.config.language)
        if isinstance(probe, dict):
            bench.out["store_scale_console_rss_mb"] = probe.get("tui_rss_mb")
        else:
            bench.note("store_scale_console_rss_mb", "the console probe gave no figure")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def table_rows(out: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(label, value, unit, target) for the bench's human table."""
    def mb(value: Any) -> float | None:
        return None if value is None else round(value / 1e6, 1)

    return [
        ("20k agencies, 50 scans: size", mb(out.get("store_scale_bytes")), " MB", "target <= 150 MB"),
        ("  growth by one more scan", mb(out.get("store_scale_growth_bytes")), " MB",
         f"target ~ the new verdicts ({mb(out.get('store_scale_new_verdicts_bytes'))} MB) or less"),
        ("  persist one national scan", out.get("store_scale_persist_s"), " s",
         f"target <= 2 s (cpu {out.get('store_scale_persist_cpu_s')} s)"),
        ("  one correction", out.get("store_scale_correction_s"), " s", "target <= 0.05 s"),
        ("  bulk 'called' for 200", out.get("store_scale_bulk_called_s"), " s", "target <= 0.5 s"),
        ("  records for the list (after 1 scan)", out.get("store_scale_records_first_scan_s"), " s", ""),
        ("  records for the list (after 50)", out.get("store_scale_records_s"), " s",
         f"target <= 0.3 s, not growing with scans (median of 3 cold; best {out.get('store_scale_records_best_s')} s)"),
        ("  records again after a change", out.get("store_scale_records_after_change_s"), " s", "(console open)"),
        ("  console memory on it", out.get("store_scale_console_rss_mb"), " MB", "target <= 300 MB"),
    ]


def _main(argv: list[str]) -> int:
    """`build DIR FROM` (50 scans seeded with the agencies and verdicts of the store FROM, e.g. one the
    bench built) or `measure DIR` (on a copy of DIR's store, so it can be measured again): for
    measuring store changes without rebuilding for minutes each time."""
    import json
    import pickle

    if len(argv) == 2 and argv[0] == "records":  # the list view, cold, 3 times in this fresh process
        print(json.dumps(_cold_records(Path(argv[1]))))
        return 0
    if not ((len(argv) == 3 and argv[0] == "build") or (len(argv) == 2 and argv[0] == "measure")):
        print("usage: python -m console.bench_store build DIR FROM_STORE | measure DIR | records STORE", file=sys.stderr)
        return 2
    directory = Path(argv[1])
    seeds = directory / "seeds.pickle"  # our own file, written by `build`
    if argv[0] == "build":
        source = Store(argv[2]).records(with_history=False)
        base = [r.agency for r in source if r.verdict is not None]
        verdicts = [r.verdict for r in source if isinstance(r.verdict, Verdict)]
        directory.mkdir(parents=True, exist_ok=True)
        seeds.write_bytes(pickle.dumps((base, verdicts)))
        out, _ = build_scale_store(base, verdicts, directory / "built", lambda m: print(m, file=sys.stderr))
    else:
        base, verdicts = pickle.loads(seeds.read_bytes())  # written by `build` above
        copy = directory / "copy"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(directory / "built", copy)
        out = measure_scale_store(base, verdicts, copy / "scale.json")
        shutil.rmtree(copy, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
