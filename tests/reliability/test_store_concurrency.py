"""Several operators on one store: two consoles and one CLI scan working at once lose nothing.

And when the disk is full or the store's filesystem is read-only, every write gives a clear
StoreError and everything saved before stays readable (the store is never left half written).
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.model import Agency, Evidence, Finding, Verdict
from checks.sim.internet import SimInternetThread
from checks.sim.worlds import catalogue_world
from console.store import Store, StoreError
from tests.simconfig import write_sim_config

MAIN_DIR = Path(__file__).resolve().parents[2]

MIN_NOTES = 100  # per console
MIN_CORRECTIONS = 100  # per console
MAX_OPS = 3_000  # per console: a bound in case the scan hangs
OPERATOR_PAUSE = 0.01  # seconds between a console's writes: fast, but leaves the sim some CPU
READ_EVERY = 25  # a console re-reads the whole store every this many writes, like a polling screen


# ------------------------------------------------------------------------------------------------
# The two consoles (separate processes)
# ------------------------------------------------------------------------------------------------
def console_worker(store_path: str, worker: int, go: str, stop: str, out_path: str) -> None:
    """One operator's console: notes and corrections in turn until the scan has ended (at least the minimum).

    Every write is logged to `out_path` only after Store returned (acknowledged). Every READ_EVERY
    writes it re-reads the store and checks it sees all its own acknowledged writes. Failures are
    logged as "ERROR"/"MISSING" lines, so the test can show them.
    """
    with open(out_path, "a", encoding="utf-8") as out:
        try:
            store = Store(store_path)
            ids = [a.id for a in store.agencies()]
            rng = random.Random(worker)
            mine_notes: dict[str, str] = {}
            mine_corrections: dict[str, str] = {}
            deadline = time.monotonic() + 60
            while not Path(go).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("never told to start")
                time.sleep(0.005)
            ops = 0
            while ops < MAX_OPS and (
                len(mine_notes) < MIN_NOTES or len(mine_corrections) < MIN_CORRECTIONS or not Path(stop).exists()
            ):
                agency_id = rng.choice(ids)
                if len(mine_notes) <= len(mine_corrections):
                    note = store.add_note(agency_id, f"โทรแล้ว รอแก้ไข (console {worker}, #{len(mine_notes)})", f"op{worker}")
                    mine_notes[note.id] = agency_id
                    out.write(f"note {note.id} {agency_id}\n")
                else:
                    corr = store.add_correction(
                        agency_id, f"saraban.c{worker}n{len(mine_corrections)}@dla.go.th", "โทรแจ้งแก้ไข", f"op{worker}"
                    )
                    mine_corrections[corr.id] = agency_id
                    out.write(f"corr {corr.id} {agency_id}\n")
                out.flush()
                ops += 1
                if ops % READ_EVERY == 0:
                    records = store.records(with_history=False)
                    seen_notes = {n.id for r in records for n in r.notes}
                    seen_corrections = {c.id for r in records for c in r.corrections}
                    for missing in sorted(set(mine_notes) - seen_notes) + sorted(set(mine_corrections) - seen_corrections):
                        out.write(f"MISSING {missing} after {ops} writes\n")
                time.sleep(OPERATOR_PAUSE)
            out.write(f"DONE {len(mine_notes)} {len(mine_corrections)}\n")
        except BaseException:
            out.write("ERROR " + traceback.format_exc().replace("\n", " | ") + "\n")
            raise


def _log(path: Path) -> list[list[str]]:
    return [line.split(" ") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------------
# The CLI scan (a subprocess) against a simulated internet served from this process
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config TOML pointing DNS, SMTP and the canary at the catalogue world served by a thread here."""
    with SimInternetThread(catalogue_world()) as internet:
        cfg = internet.engine_config(dns_timeout=2.0, dns_lifetime=4.0)  # slack: three busy processes, 2 CPUs
        yield write_sim_config(tmp_path_factory.mktemp("cfg") / "config.toml", cfg, operator="scan")


SCAN = "import sys; from console.cli import main; sys.exit(main(sys.argv[1:]))"


def test_two_consoles_and_a_cli_scan_lose_nothing(tmp_path: Path, sim_config: Path) -> None:
    store_path = tmp_path / "store" / "saraban.json"
    world = catalogue_world()
    store = Store(store_path)
    store.merge_import(world.agencies, source="catalogue", operator="t")
    agencies = {a.id: a for a in store.agencies()}

    go, stop = tmp_path / "go", tmp_path / "stop"
    logs = [tmp_path / f"console-{w}.log" for w in (1, 2)]
    ctx = multiprocessing.get_context("spawn")
    consoles = [
        ctx.Process(target=console_worker, args=(str(store_path), w, str(go), str(stop), str(log)), daemon=True)
        for w, log in zip((1, 2), logs, strict=True)
    ]
    for proc in consoles:
        proc.start()
    started = time.monotonic()
    scan = subprocess.Popen(
        [sys.executable, "-c", SCAN, "--store", str(store_path), "--config", str(sim_config), "check", "--all", "--json"],
        cwd=MAIN_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )
    go.touch()
    try:
        out, err = scan.communicate(timeout=180)
    finally:
        stop.touch()
        if scan.poll() is None:
            scan.kill()
        for proc in consoles:
            proc.join(60)
            if proc.is_alive():
                proc.kill()
    scan_seconds = time.monotonic() - started

    # The consoles ran to the end and never missed one of their own acknowledged writes.
    entries = [_log(log) for log in logs]
    problems = [" ".join(e) for lines in entries for e in lines if e[0] in ("ERROR", "MISSING")]
    assert problems == [], problems[:5]
    assert [proc.exitcode for proc in consoles] == [0, 0]
    acked_notes = {e[1]: e[2] for lines in entries for e in lines if e[0] == "note"}
    acked_corrections = {e[1]: e[2] for lines in entries for e in lines if e[0] == "corr"}
    for lines in entries:
        assert sum(e[0] == "note" for e in lines) >= MIN_NOTES
        assert sum(e[0] == "corr" for e in lines) >= MIN_CORRECTIONS

    # The scan finished every agency and printed one JSON line each.
    assert scan.returncode == 0, err[-2_000:]
    printed = {r["id"]: r for r in map(__import__("json").loads, out.splitlines())}
    assert set(printed) == set(agencies)

    # Afterwards (a fresh process view): every note, correction and verdict is there, exactly once.
    records = {r.agency.id: r for r in Store(store_path).records(with_history=False)}
    assert set(records) == set(agencies), "no agency lost or duplicated"
    stored_notes = {n.id: n for r in records.values() for n in r.notes}
    stored_corrections = {c.id: c for r in records.values() for c in r.corrections}
    assert set(stored_notes) == set(acked_notes), "every acknowledged note, and nothing else"
    assert set(stored_corrections) == set(acked_corrections), "every acknowledged correction, and nothing else"
    assert all(stored_notes[i].agency_id == a for i, a in acked_notes.items())
    assert all(stored_corrections[i].agency_id == a for i, a in acked_corrections.items())
    for rec in records.values():
        # each correction saw the one saved before it, though two consoles wrote at once
        chain = [rec.agency.declared] + [c.new_address for c in rec.corrections]
        assert [c.old_address for c in rec.corrections] == chain[:-1], rec.agency.id
        assert rec.agency == agencies[rec.agency.id], "the imported agency is unchanged"
        assert rec.verdict is not None, f"{rec.agency.id} has no verdict"
        assert (rec.verdict.group, rec.verdict.checked_at) == (
            printed[rec.agency.id]["group"], printed[rec.agency.id]["checked_at"]
        ), "the verdict the scan reported is the one stored"
    snapshots = Store(store_path).snapshots()
    assert len(snapshots) == 1 and sum(n for g in snapshots[0]["counts"].values() for n in g.values()) == len(agencies)
    assert not [p.name for p in store_path.parent.rglob("*") if ".tmp-" in p.name], "temp files left behind"
    print(
        f"scan of {len(agencies)} agencies took {scan_seconds:.1f} s while two consoles wrote "
        f"{len(acked_notes)} notes and {len(acked_corrections)} corrections"
    )


# ------------------------------------------------------------------------------------------------
# A full disk and a read-only filesystem (a small tmpfs; needs mount rights, else skipped)
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KB tmpfs of our own, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs mount rights): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _tak() -> list[Agency]:
    return [
        Agency("a-47", "เทศบาลตำบลทุ่งหลวง", "saraban@tambonthungluang.co.th", "47", "แม่ระมาด", "ตาก"),
        Agency("a-326", "องค์การบริหารส่วนตำบลท่าสายลวด", "Tasailuadmeasod@gmail.com", "326", "แม่สอด", "ตาก"),
        Agency("a-636", "องค์การบริหารส่วนตำบลหนองบัวเหนือ", "saraban_๖๖๓๐๑๙@dla.go.th", "636", "เมืองตาก", "ตาก"),
    ]


def _verdict(agency_id: str, group: str, at: str) -> Verdict:
    evidence = Evidence(f"{agency_id}@dla.go.th", None, rule=group, checked_at=at)
    return Verdict(agency_id, group, (Finding("bad_syntax", "ตัวอย่าง " * 50),), (), evidence, None, at)


def _saved_state(store_path: Path) -> dict[str, tuple]:
    """What a fresh process reads: per agency (verdict group/time, note texts, correction addresses)."""
    return {
        r.agency.id: (
            (r.verdict.group, r.verdict.checked_at) if r.verdict else None,
            tuple(n.text for n in r.notes),
            tuple(c.new_address for c in r.corrections),
        )
        for r in Store(store_path).records()
    }


def _seed(store_path: Path) -> Store:
    store = Store(store_path)
    store.merge_import(_tak(), source="tak-2568.tsv", operator="somchai")
    store.add_note("a-326", "โทรแล้ว รอแก้ไข", "somchai")
    store.add_correction("a-636", "saraban_663019@dla.go.th", "โทรแจ้งแก้ไขแล้ว", "somchai")
    store.save_verdicts([_verdict(a.id, "B3", "2026-03-05T10:00:00+07:00") for a in _tak()])
    return store


def _every_write(store: Store) -> dict[str, object]:
    big = "บันทึกการโทร " * 600  # ~8 KB: more than a full disk has left
    return {
        "note": lambda: store.add_note("a-47", big, "somchai"),
        "correction": lambda: store.add_correction("a-47", "saraban@tambonthungluang.go.th", big[:1_900], "somchai"),
        "verdicts": lambda: store.save_verdicts([_verdict(a.id, "A1", "2026-03-06T09:00:00+07:00") for a in _tak()]),
        "import": lambda: store.merge_import([*_tak(), Agency("a-9", "อบต.ใหม่" * 300, "x@y.go.th", "9", "", "ตาก")],
                                             source="again", operator="somchai"),
        "snapshot": lambda: store.save_snapshot({"ตาก": {"B3": 3}}, label="x" * 150),
    }


def test_full_disk_gives_a_clear_error_and_keeps_what_was_saved(small_disk: Path) -> None:
    store_path = small_disk / "saraban.json"
    store = _seed(store_path)
    before = _saved_state(store_path)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)  # fill the disk to the last page (unbuffered)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    refused = []
    for what, write in _every_write(store).items():
        with pytest.raises(StoreError) as caught:
            write()  # type: ignore[operator]
        message = str(caught.value)
        assert "No space left on device" in message, f"{what}: {message}"
        assert "intact" in message or "Nothing was changed" in message, f"{what}: {message}"
        refused.append(what)
    assert refused == list(_every_write(store))
    assert _saved_state(store_path) == before, "a failed write changed what was saved"
    assert store.record("a-326").notes[0].text == "โทรแล้ว รอแก้ไข", "the open console still reads"
    assert not [p.name for p in small_disk.rglob("*") if ".tmp-" in p.name], "temp files left on the full disk"

    filler.unlink()  # space again: the same console can write without a restart
    store.add_note("a-47", "ว่างแล้ว", "somchai")
    assert _saved_state(store_path)["a-47"][1] == ("ว่างแล้ว",)


def test_read_only_filesystem_gives_a_clear_error_and_keeps_what_was_saved(small_disk: Path) -> None:
    store_path = small_disk / "saraban.json"
    store = _seed(store_path)
    before = _saved_state(store_path)
    done = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only: {done.stderr.strip()}")
    reopened = Store(store_path)  # another operator opens the read-only store: reading works
    assert _saved_state(store_path) == before
    for console in (store, reopened):
        for what, write in _every_write(console).items():
            with pytest.raises(StoreError) as caught:
                write()  # type: ignore[operator]
            message = str(caught.value)
            assert "Read-only file system" in message or "read-only" in message, f"{what}: {message}"
    assert _saved_state(store_path) == before
    with pytest.raises(StoreError):
        Store(small_disk / "new-store.json")  # a new store cannot be created there either
