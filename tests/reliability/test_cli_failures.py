"""Issue 16, items 5 and 6: no traceback reaches an operator, and nothing from config, store or what an
operator typed reaches the terminal as an escape sequence.

Every subcommand is run as an operator runs it (its own process) against each failure a helpdesk
meets: a damaged store, a read-only place, a full disk, a missing folder, another process holding the
lock. Each one ends in one line naming the file and what to do, with exit 2 (a command that only
reads, run against a failure that only stops writes, succeeds: that is the right answer, not a crash).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from filelock import FileLock

from console.cli import main
from tests.reliability.hostile_kit import (
    AGENCIES,
    Result,
    fill,
    make_store,
    remount_read_only,
    run_cli,
    snapshot,
    store_files,
    tmpfs,
)
from tests.simconfig import LOCK_TIMEOUT

UNSAFE = ("\x1b", "\x9b", "\u202e", "\x07")


def commands(store: Path, place: Path, config: Path) -> dict[str, list[str]]:
    """Every subcommand, with its paths in `place` (the folder that fails)."""
    listing = place / "list.csv"
    base = ["--store", str(store), "--config", str(config)]
    return {
        "check": [*base, "check", "--all"],
        "check FILE": [*base, "check", str(listing), "--sim", "catalogue"],
        "import": [*base, "import", str(listing)],
        "correct": [*base, "correct", "1", "saraban1@tak.go.th", "--reason", "โทรแจ้ง", "--no-recheck"],
        "note": [*base, "note", "2", "โทรอีกครั้งพรุ่งนี้"],
        "export": [*base, "export", "--all", "-o", str(place / "out.xlsx")],
        "report": [*base, "report", "--xlsx", str(place / "report.xlsx")],
        "tui": [*base, "tui"],
        "watch": [*base, "watch", "--once"],
        "init": [*base, "init"],
        "backup": [*base, "backup", str(place / "copy.json")],
        "same": [*base, "same", "1", "2"],
        "different": [*base, "different", "1", "2"],
        "followup": [*base, "followup", "called_waiting", "1", "2"],
        "demo": [*base, "demo", "--no-tui", "--agencies", "5", "--delay-ms", "0"],
    }


def write_list(path: Path) -> None:
    lines = ["ลำดับที่,หน่วยงาน,อำเภอ,จังหวัด,email ที่ระบุใน ม.๑๐"]
    lines += [f"{i},เทศบาลตำบลทดสอบ{i},เมืองตาก,ตาก,saraban{i}@dla.go.th" for i in range(1, AGENCIES + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def assert_clean_failure(name: str, result: Result, *, reads_only: bool = False) -> None:
    text = result.out + result.err
    assert "Traceback" not in text, f"{name}: {text[-3000:]}"
    if reads_only and result.code == 0:
        return
    assert result.code == 2, f"{name}: exit {result.code}: {text[-2000:]}"
    message = [line for line in result.err.splitlines() if line.startswith("saraban:")]
    assert message, f"{name}: no message: {text[-2000:]}"
    assert len(message[0]) > 30, message  # says what happened and what to do


def run_all(cmds: dict[str, list[str]], names: list[str]) -> dict[str, Result]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(run_cli, *cmds[name]) for name in names}
        return {name: future.result() for name, future in futures.items()}


def test_a_damaged_store_is_a_message_for_every_command(tmp_path: Path, sim_config: Path) -> None:
    store = tmp_path / "store.json"
    make_store(store)
    write_list(tmp_path / "list.csv")
    operator_file = store.with_name("store.json.operator.json")
    kept = operator_file.read_bytes()
    store.write_bytes(store.read_bytes()[:100])  # cut short, as by a full disk or a copy interrupted
    cmds = commands(store, tmp_path, sim_config)
    names = ["check", "import", "correct", "note", "export", "report", "tui", "watch", "demo", "init", "backup",
             "same", "different", "followup"]  # fmt: skip
    for name, result in run_all(cmds, names).items():
        assert_clean_failure(name, result)
        assert "store.json" in result.err
    assert operator_file.read_bytes() == kept


def test_a_damaged_verdict_shard_is_a_message_for_every_command_that_reads_it(
    tmp_path: Path, sim_config: Path
) -> None:
    store = tmp_path / "store.json"
    make_store(store)
    shard = next(p for p in store_files(store) if p.parent.name.endswith(".verdicts"))
    shard.write_text('{"verdicts": {"1": ', encoding="utf-8")
    cmds = commands(store, tmp_path, sim_config)
    for name, result in run_all(cmds, ["check", "export", "report"]).items():
        assert_clean_failure(name, result)
        assert shard.name in result.err


def test_a_read_only_place_is_a_message_and_check_probes_nothing(tmp_path: Path, sim_config: Path) -> None:
    with tmpfs(tmp_path / "ro", "4m") as place:
        store = place / "store.json"
        make_store(store)
        write_list(place / "list.csv")
        before = snapshot(store_files(store))
        remount_read_only(place)
        cmds = commands(store, place, sim_config)
        started = time.monotonic()
        check = run_cli(*cmds["check"])
        assert_clean_failure("check", check)
        assert "Nothing was checked" in check.err and time.monotonic() - started < 30
        results = run_all(cmds, ["import", "correct", "note", "export", "report", "backup", "followup", "different"])
        for name, result in results.items():
            assert_clean_failure(name, result)
        assert snapshot(store_files(store)) == before


def test_a_full_disk_is_a_message_for_every_command_that_writes(tmp_path: Path, sim_config: Path) -> None:
    with tmpfs(tmp_path / "full", "2m") as place:
        store = place / "store.json"
        make_store(store)
        write_list(place / "list.csv")
        before = snapshot(store_files(store))
        fill(place)
        cmds = commands(store, place, sim_config)
        results = run_all(cmds, ["check", "import", "correct", "note", "export", "report", "backup", "followup"])
        for name, result in results.items():
            assert_clean_failure(name, result)
        assert "disk is full" in results["export"].err
        assert snapshot(store_files(store)) == before


def test_a_missing_folder_is_a_message_for_every_command(tmp_path: Path, sim_config: Path) -> None:
    store = tmp_path / "store.json"
    make_store(store)
    missing = tmp_path / "no" / "such" / "folder"
    cmds = commands(store, missing, sim_config)
    no_config = ["--store", str(store), "--config", str(missing / "config.toml")]
    cmds |= {
        "note (config)": [*no_config, "note", "2", "x"],
        "tui (config)": [*no_config, "tui"],
        "watch (config)": [*no_config, "watch", "--once"],
        "bench (config)": [*no_config, "bench", "--agencies", "5"],
        "demo (config)": [*no_config, "demo", "--no-tui"],
    }
    names = ["check FILE", "import", "export", "report", "note (config)", "tui (config)", "watch (config)", "bench (config)",
             "demo (config)"]  # fmt: skip
    for name, result in run_all(cmds, names).items():
        assert_clean_failure(name, result)
        assert "folder" in result.err or "no such" in result.err, (name, result.err)
    assert not missing.parent.exists()


def test_a_held_lock_is_a_message_after_the_wait(tmp_path: Path, sim_config: Path) -> None:
    store = tmp_path / "store.json"
    make_store(store)
    write_list(tmp_path / "list.csv")
    before = snapshot(store_files(store))
    cmds = commands(store, tmp_path, sim_config)
    held = (FileLock(str(store) + ".lock"), FileLock(str(store) + ".operator.lock"))
    with held[0], held[1], ThreadPoolExecutor(max_workers=6) as pool:  # all wait out the lock timeout together
        futures = {n: pool.submit(run_cli, *cmds[n]) for n in ("check", "import", "correct", "note", "export")}
        results = {n: f.result() for n, f in futures.items()}
    for name, result in results.items():
        assert_clean_failure(name, result, reads_only=name == "export")
        if name != "export":  # waited the config's lock_timeout, not the 30 s default
            assert "busy" in result.err and f"for {LOCK_TIMEOUT:g} s" in result.err, result.err
    assert results["export"].code == 0  # reads need no lock
    after = snapshot(store_files(store))
    assert {p: b for p, b in after.items() if "lock" not in p.name} == {
        p: b for p, b in before.items() if "lock" not in p.name
    }


# ------------------------------------------------------------------------------------------------
# What an operator types: blank, too long — a message naming the field, nothing saved
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.json"
    make_store(path)
    return path


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["note", "2", "   "], "note"),
        (["note", "2", "\x1b[2J"], "note"),
        (["note", "2", "ก" * 10_001], "note"),
        (["correct", "1", "a@tak.go.th", "--reason", "ก" * 2_001, "--no-recheck"], "reason"),
        (["correct", "1", "a" * 513 + "@tak.go.th", "--reason", "r", "--no-recheck"], "address"),
        (["correct", "1", "a@tak.go.th", "--reason", "r", "--operator", "ก" * 300, "--no-recheck"], "operator"),
        (["correct", "1", "a@tak.go.th", "--reason", "r", "--operator", "  ", "--no-recheck"], "operator"),
    ],
)
def test_typed_text_that_cannot_be_kept_is_a_message_and_nothing_is_saved(
    store: Path, capsys: pytest.CaptureFixture[str], argv: list[str], field: str
) -> None:
    before = snapshot(store_files(store))
    code = main(["--store", str(store), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert field in err and len(err.strip().splitlines()) == 1
    assert not any(ch in err for ch in UNSAFE)
    after = snapshot(store_files(store))
    assert {p: b for p, b in after.items() if "lock" not in p.name} == {
        p: b for p, b in before.items() if "lock" not in p.name
    }


# ------------------------------------------------------------------------------------------------
# Terminal-safe output: escaped visibly on the terminal, \u-escaped in JSON
# ------------------------------------------------------------------------------------------------
def test_an_operator_name_with_escapes_is_shown_escaped(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--store", str(store), "correct", "1", "a@tak.go.th", "--reason", "r", "--operator", "x\x1b]0;pwned\x07", "--no-recheck"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert not any(ch in out for ch in UNSAFE)
    assert "\\x1b]0;pwned\\x07" in out or "]0;pwned" not in out


def test_a_province_edited_into_the_store_is_shown_escaped_by_report(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(store.read_text(encoding="utf-8"))
    for doc in data["agencies"].values():
        doc["agency"]["province"] = "ตาก\x1b]0;pwned\x07\u202eกต"  # as if edited by hand
    store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for argv in (["report"], ["report", "--json"], ["export", "--format", "json", "-o", str(store.parent / "x.jsonl")]):
        code = main(["--store", str(store), *argv])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert not any(ch in captured.out + captured.err for ch in UNSAFE), argv


def test_check_json_carries_controls_escaped_and_readable(
    tmp_path: Path, sim_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = "saraban\u202e1@dla.go.th\x9b"
    listing = tmp_path / "list.csv"
    listing.write_text(f"หน่วยงาน,email ที่ระบุใน ม.๑๐\nเทศบาลตำบลทดสอบ,{declared}\n", encoding="utf-8")
    code = main(["--config", str(sim_config), "check", str(listing), "--sim", "catalogue", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert not any(ch in out for ch in UNSAFE)
    assert "\\u202e" in out and "\\u009b" in out
    assert json.loads(out.splitlines()[0])["declared"] == declared


def test_config_labels_with_escapes_never_reach_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\ngroup = "A1"\nlabel_th = "พร้อม\\u001b]0;pwned\\u0007"\nall_of = ["mail_accepted"]\nbucket = "A"\n', encoding="utf-8")
    store = tmp_path / "store.json"
    make_store(store)
    code = main(["--config", str(config), "--store", str(store), "report"])
    captured = capsys.readouterr()
    assert code == 2 and "label_th" in captured.err
    assert not any(ch in captured.out + captured.err for ch in UNSAFE)


def test_an_export_path_with_escapes_is_echoed_escaped(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = store.parent / "list\x1b]0;pwned\x07\u202e.csv"
    code = main(["--store", str(store), "export", "-o", str(target)])
    out = capsys.readouterr().out
    assert code == 0 and target.exists()
    assert not any(ch in out for ch in UNSAFE)
    assert "\\x1b]0;pwned\\x07\\u202e" in out
