"""SIGKILL a writer at random moments: the store must always open, and every correction the
writer reported as saved must be there (a correction is acknowledged only after it is durable).
Read-only places must give a clear StoreError and leave what was saved untouched."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from checks.model import Agency, Evidence, Finding, Verdict
from console.store import Store, StoreError

MAIN_DIR = Path(__file__).resolve().parents[2]

# Kills of the correction writer: at least KILLS and until INSIDE_WRITES of them landed inside a file write
# (about 1 kill in 20 does), at most MAX_KILLS; --slow always makes MAX_KILLS.
KILLS = 40
INSIDE_WRITES = 2
MAX_KILLS = 200
AGENCIES = 20


def _agency(i: int) -> Agency:
    return Agency(
        id=f"a-{i}", name=f"เทศบาลตำบลทดสอบ{i}", declared=f"saraban{i}@dla.go.th", seq=str(i), province="ตาก"
    )


def _verdict(agency_id: str, round_no: int) -> Verdict:
    at = f"2026-03-05T10:00:00+07:00 round {round_no:05d}"
    evidence = Evidence(
        f"{agency_id}@dla.go.th", f"{agency_id}@dla.go.th", rule="A1", rule_index=10, checked_at=at
    )
    filler = "ข้อความตอบกลับจากเซิร์ฟเวอร์ " * 20  # ~1.5 KB verdicts, like real evidence
    return Verdict(agency_id, "A1", (Finding("mail_accepted", filler),), (), evidence, None, at)


def _print_to(out_path: str) -> None:
    """Point this process's stdout at `out_path` (append), so prints survive the kill."""
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.close(fd)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def correction_writer(path: str, out_path: str, seed: int) -> None:
    """Loop add_correction; print each id only after add_correction has returned."""
    _print_to(out_path)
    store = Store(path)
    rng = random.Random(seed)
    n = 0
    while True:
        n += 1
        agency_id = f"a-{rng.randint(1, AGENCIES)}"
        corr = store.add_correction(agency_id, f"s{seed}-{n}@tak.go.th", f"run {seed}", "crash-test")
        print(corr.id, flush=True)


def verdict_writer(path: str, out_path: str, first_round: int) -> None:
    """Save whole rounds of verdicts in small batches; print the round after save_verdicts returns."""
    _print_to(out_path)
    store = Store(path)
    agencies = [a.id for a in store.agencies()]
    round_no = first_round
    while True:
        store.save_verdicts([_verdict(aid, round_no) for aid in agencies], batch_size=60)
        print(round_no, flush=True)
        round_no += 1


def _context() -> multiprocessing.context.BaseContext:
    """forkserver with the store preloaded: a writer starts in milliseconds, not a fresh interpreter."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["console.store", "checks.model", __name__])  # this module imports pytest
    return ctx


def _kill_at_random(
    ctx: multiprocessing.context.BaseContext, target: object, args: tuple, out: Path, delay: float
) -> None:
    """Start a writer, wait until it has acknowledged one more write (so it is in its loop), then
    let it run for `delay` seconds more and SIGKILL it: the kill lands somewhere inside a write."""
    size = out.stat().st_size if out.exists() else 0
    proc = ctx.Process(target=target, args=args, daemon=True)  # type: ignore[attr-defined]
    proc.start()
    give_up = time.monotonic() + 20
    while (out.stat().st_size if out.exists() else 0) == size:
        assert proc.is_alive(), f"writer died: exit code {proc.exitcode}"
        assert time.monotonic() < give_up, "writer made no progress"
        time.sleep(0.001)
    time.sleep(delay)
    proc.kill()  # SIGKILL: no cleanup, no atexit, no flush
    proc.join(10)
    assert proc.exitcode is not None and proc.exitcode < 0, f"writer ended by itself: {proc.exitcode}"


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _leftovers(store_path: Path) -> list[str]:
    """Temp files a killed writer left behind (a kill between creating and renaming one)."""
    return [p.name for p in store_path.parent.rglob("*") if ".tmp-" in p.name]


def test_killed_correction_writer_never_loses_an_acknowledged_correction(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "store" / "saraban.json"
    store = Store(path)
    store.merge_import([_agency(i) for i in range(1, AGENCIES + 1)], source="crash", operator="t")
    out = tmp_path / "acknowledged.txt"
    ctx = _context()
    rng = random.Random(20260105)
    interrupted = 0
    kills = 0
    least = MAX_KILLS if request.config.getoption("--slow") else KILLS
    while kills < MAX_KILLS and (kills < least or interrupted < INSIDE_WRITES):
        kill, kills = kills, kills + 1
        _kill_at_random(ctx, correction_writer, (str(path), str(out), kill), out, rng.uniform(0, 0.02))
        interrupted += bool(_leftovers(path))
        reopened = Store(path)  # must load, whatever moment the kill hit
        assert _leftovers(path) == []  # the crash's temp file was cleaned at open
        saved = {c.id for r in reopened.records(with_history=False) for c in r.corrections}
        acknowledged = _lines(out)
        missing = [cid for cid in acknowledged if cid not in saved]
        assert missing == [], f"after kill {kill}: acknowledged corrections lost: {missing[:5]}"
    assert len(_lines(out)) > kills  # the writers did get work done between kills
    print(f"{interrupted} of {kills} kills interrupted a file write")
    assert interrupted > 0, "no kill landed inside a write: the test did not test anything"
    # each agency's chain is intact: every correction saw the one saved before it
    for rec in Store(path).records(with_history=False):
        chain = [rec.agency.declared] + [c.new_address for c in rec.corrections]
        assert [c.old_address for c in rec.corrections] == chain[:-1]


def test_killed_bulk_verdict_save_leaves_a_loadable_consistent_store(tmp_path: Path) -> None:
    seed = 1
    path = tmp_path / "store" / "saraban.json"
    store = Store(path)
    agencies = [_agency(i) for i in range(1, 401)]  # 7 batches of 60 a round: kills land inside and between them
    store.merge_import(agencies, source="crash", operator="t")
    corr = store.add_correction("a-7", "saraban@tak.go.th", "before the crash", "t")
    out = tmp_path / f"rounds-{seed}.txt"
    ctx = _context()
    rng = random.Random(seed)
    next_round = 0
    for _kill in range(8):
        _kill_at_random(ctx, verdict_writer, (str(path), str(out), next_round), out, rng.uniform(0, 0.3))
        reopened = Store(path)
        assert _leftovers(path) == []
        records = reopened.records()
        assert len(records) == len(agencies)
        assert reopened.record("a-7").corrections == (corr,)
        done = [int(x) for x in _lines(out)]
        for rec in records:
            seen = [v.checked_at for v in ((rec.verdict,) if rec.verdict else ()) + rec.history]
            assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen), rec.agency.id
            if done:  # every round reported as saved is there for every agency
                assert (
                    rec.verdict is not None and rec.verdict.checked_at >= _verdict("x", max(done)).checked_at
                )
        next_round = max([next_round, *done]) + 1 + 1  # a round may have been half saved: start a new one


# ---------------------------------------------------------------------------------------------
# Read-only places: a clear StoreError, and what was saved stays as it was
# ---------------------------------------------------------------------------------------------
READ_ONLY_CHILD = textwrap.dedent(
    """
    import sys
    from console.store import Store, StoreError
    store = Store(sys.argv[1])
    assert len(store.records()) == 3, "reading must still work"
    assert store.record("a-1").notes[0].text == "kept"
    for attempt in (lambda: store.add_note("a-1", "new", "op"),
                    lambda: store.save_snapshot({}, label="x")):
        try:
            attempt()
        except StoreError as exc:
            print("STOREERROR", exc)
        else:
            print("NO ERROR")
    try:
        Store(sys.argv[2])
    except StoreError as exc:
        print("STOREERROR", exc)
    else:
        print("NO ERROR")
    """
)


def _drop_root_file_powers() -> None:
    """In the child before exec: root without CAP_DAC_OVERRIDE/READ_SEARCH/FOWNER obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _small_store(directory: Path) -> Store:
    store = Store(directory / "saraban.json")
    store.merge_import([_agency(i) for i in range(1, 4)], source="t", operator="op")
    store.add_note("a-1", "kept", "op")
    return store


def _contents(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def test_read_only_directory_gives_clear_error_and_keeps_data(tmp_path: Path) -> None:
    store_dir = tmp_path / "ro"
    _small_store(store_dir)
    before = _contents(store_dir)
    os.chmod(store_dir, 0o555)
    try:
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    READ_ONLY_CHILD,
                    str(store_dir / "saraban.json"),
                    str(store_dir / "new.json"),
                ],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "PYTHONPATH": str(MAIN_DIR)},
                preexec_fn=_drop_root_file_powers if os.geteuid() == 0 else None,
            )
        except subprocess.SubprocessError as exc:
            pytest.skip(f"cannot drop root's file capabilities here: {exc}")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 3 and all(line.startswith("STOREERROR") for line in lines), result.stdout
        assert str(store_dir) in lines[0] and "Nothing was changed" in lines[0]
        assert "new.json" in lines[2]
        assert _contents(store_dir) == before
    finally:
        os.chmod(store_dir, 0o700)
    assert Store(store_dir / "saraban.json").record("a-1").notes[0].text == "kept"


def test_read_only_store_files_are_respected_even_by_root(tmp_path: Path) -> None:
    store = _small_store(tmp_path)
    store.save_verdicts([_verdict("a-1", 1)])
    before = _contents(tmp_path)
    os.chmod(store.operator_path, 0o400)
    with pytest.raises(StoreError, match=r"operator\.json is read-only.*Nothing was changed.*chmod u\+w"):
        store.add_note("a-1", "new", "op")
    os.chmod(store.path, 0o400)
    with pytest.raises(StoreError, match=r"saraban\.json is read-only"):
        store.merge_import([_agency(9)], source="t", operator="op")
    [shard] = (tmp_path / "saraban.json.verdicts").iterdir()
    os.chmod(shard, 0o400)
    with pytest.raises(StoreError, match="is read-only"):
        store.save_verdicts([_verdict("a-1", 2)])
    assert _contents(tmp_path) == before
    reopened = Store(store.path)  # reading a read-only store works
    assert [n.text for n in reopened.record("a-1").notes] == ["kept"]
    assert reopened.record("a-1").verdict == _verdict("a-1", 1)
    for path in (store.operator_path, store.path, shard):
        os.chmod(path, 0o600)
    reopened.add_note("a-1", "after chmod", "op")
    assert [n.text for n in Store(store.path).record("a-1").notes] == ["kept", "after chmod"]
