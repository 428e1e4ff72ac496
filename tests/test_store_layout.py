"""The store for a whole helpdesk: history apart from the current state, migration, every row an agency,
damage told from a new store, backup and bulk actions, as an operator (or the CLI) sees them."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_store import make_agency, make_verdict, new_store

from checks.model import SmtpReply, Verdict
from console.store import SCHEMA, Store, StoreDamaged, StoreError, StoreTooNew
from console.store.migrate import BACKUP_SUFFIX

FIXTURE = Path(__file__).parent / "data" / "store-v1"


def saraban(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "--lang", "en", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


# ---------------------------------------------------------------------------------------------
# History apart from the current state
# ---------------------------------------------------------------------------------------------
def _shard_bytes(store: Store) -> int:
    return sum(p.stat().st_size for p in store.verdicts_dir.glob("*.json"))


def test_scans_append_history_and_never_grow_the_current_state(tmp_path: Path) -> None:
    store = new_store(tmp_path, history_limit=3)
    sizes = []
    for day in range(1, 9):
        group = "A1" if day == 8 else "D3"
        store.save_verdicts([make_verdict(f"tak-{i}", group, f"2026-01-0{day}T09:00:00+07:00") for i in (1, 2, 3)])
        sizes.append(_shard_bytes(store))
    assert max(sizes) - min(sizes) < 200  # the current verdicts stay one verdict per agency
    rec = store.record("tak-1")
    assert rec.verdict is not None and rec.verdict.group == "A1"
    # transcripts for the last 3 verdicts before the current one, newest first
    assert [v.checked_at[:10] for v in rec.history] == ["2026-01-07", "2026-01-06", "2026-01-05"]
    # the group of every scan, forever
    assert [g for _, g in store.group_history("tak-1")] == ["D3"] * 7 + ["A1"]
    assert rec.group_changed_at == "2026-01-08T09:00:00+07:00"
    # the list view needs none of it
    assert all(r.history == () for r in store.records(with_history=False, light=True))


def test_history_files_only_grow_or_are_replaced_whole(tmp_path: Path) -> None:
    store = new_store(tmp_path, history_limit=2)
    store.save_verdicts([make_verdict("tak-1", "D3", "2026-01-01T09:00:00+07:00")])
    groups = next(store.history_dir.glob("*.groups.jsonl.gz"))
    before = groups.read_bytes()
    for day in range(2, 9):
        store.save_verdicts([make_verdict("tak-1", "D3", f"2026-01-0{day}T09:00:00+07:00")])
        after = groups.read_bytes()
        assert after.startswith(before) and len(after) > len(before)
        before = after


def test_a_torn_history_append_loses_only_the_torn_entry(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    for day in (1, 2, 3):
        store.save_verdicts([make_verdict("tak-1", "D3", f"2026-01-0{day}T09:00:00+07:00")])
    full = next(store.history_dir.glob("*.full.*.jsonl.gz"))
    with open(full, "ab") as handle:
        handle.write(b"\x1f\x8b\x08\x00garbage")  # a crash in the middle of an append
    assert len(Store(store.path).record("tak-1").history) == 2
    store.save_verdicts([make_verdict("tak-1", "A1", "2026-01-04T09:00:00+07:00")])  # cuts the torn part off
    rec = Store(store.path).record("tak-1")
    assert rec.verdict.group == "A1" and len(rec.history) == 3
    assert b"garbage" not in gzip.decompress(full.read_bytes())


def _with_transcript(agency_id: str, group: str, at: str, banner: str) -> Verdict:
    """A verdict whose SMTP transcript says `banner` (so each scan's transcript can be told apart)."""
    verdict = make_verdict(agency_id, group, at)
    attempt = verdict.evidence.probe.attempts[0]
    first = dataclasses.replace(attempt.transcript[0], reply=SmtpReply(220, banner))
    attempt = dataclasses.replace(attempt, transcript=(first, *attempt.transcript[1:]))
    probe = dataclasses.replace(verdict.evidence.probe, attempts=(attempt,))
    return dataclasses.replace(verdict, evidence=dataclasses.replace(verdict.evidence, probe=probe))


def _banner(rec: object) -> str:
    return rec.verdict.evidence.probe.attempts[0].transcript[0].reply.text  # type: ignore[attr-defined]


def test_the_detail_shows_the_current_transcript_while_the_shards_hold_only_compact_verdicts(tmp_path: Path) -> None:
    store = new_store(tmp_path, history_limit=2)
    for day in range(1, 6):
        store.save_verdicts([_with_transcript(f"tak-{i}", "D3", f"2026-01-0{day}T09:00:00+07:00", f"banner {day}")
                             for i in (1, 2, 3)])
        assert _banner(Store(store.path, history_limit=2).record("tak-2")) == f"banner {day}"
    shards = b"".join(p.read_bytes() for p in store.verdicts_dir.glob("*.json"))
    assert b"banner" not in shards and b"EHLO" not in shards  # no transcript is parsed or rewritten by a scan
    listed = {r.agency.id: r for r in Store(store.path).records(with_history=False)}
    assert _banner(listed["tak-3"]) == "banner 5"  # export and report get full verdicts too
    out = tmp_path / "all.json"
    exported = saraban("--store", str(store.path), "export", "--all", "--format", "json", "-o", str(out))
    assert exported.returncode == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 3, exported.stderr


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_retention_never_loses_the_current_transcript(tmp_path: Path, limit: int) -> None:
    """Two agencies of one shard are checked every day, four others once each on different days: their
    segments are held, then (more than three held) what they still need is written forward."""
    from console.store.layer import shard_of

    store = new_store(tmp_path, n=400, history_limit=limit)
    mates = [f"tak-{i}" for i in range(2, 401) if shard_of(f"tak-{i}") == shard_of("tak-1")]
    daily, once = mates[:2], ["tak-1", *mates[2:5]]
    for day in range(1, 29):
        at = f"2026-02-{day:02d}T09:00:00+07:00"
        checked = [_with_transcript(aid, "D3", at, f"day {day}") for aid in daily]
        if day in (1, 6, 11, 16):
            aid = once[(day - 1) // 5]
            checked.append(_with_transcript(aid, "C1", at, f"{aid} once"))
        store.save_verdicts(checked)
        assert len(list(store.history_dir.glob("*.full.*.jsonl.gz"))) <= 5  # a few whole segments at most
    fresh = Store(store.path, history_limit=limit)
    for aid in once:
        assert _banner(fresh.record(aid)) == f"{aid} once"
    assert _banner(fresh.record(daily[0])) == "day 28"
    days = [v.checked_at[8:10] for v in fresh.record(daily[0]).history]  # the last `limit` verdicts (current too)
    assert days == [f"{d:02d}" for d in range(27, 27 - len(days), -1)] and max(0, limit - 1) <= len(days) <= limit
    assert len(fresh.group_history(daily[1])) == 28  # the group of every scan, forever


def test_a_crash_between_the_history_append_and_the_shard_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.store import layer

    store = new_store(tmp_path, history_limit=5)
    store.save_verdicts([_with_transcript("tak-1", "D3", "2026-01-01T09:00:00+07:00", "saved")])

    def crash(self: object) -> None:
        raise KeyboardInterrupt  # the process dies after the segment append, before any file is replaced

    with monkeypatch.context() as patched:
        patched.setattr(layer.Txn, "commit", crash)
        with pytest.raises(KeyboardInterrupt):
            store.save_verdicts([_with_transcript("tak-1", "A1", "2026-01-02T09:00:00+07:00", "never saved")])
    rec = Store(store.path, history_limit=5).record("tak-1")
    assert rec.verdict.group == "D3" and _banner(rec) == "saved" and rec.history == ()  # nothing unsaved shows
    assert [g for _, g in Store(store.path).group_history("tak-1")] == ["D3"]
    store.save_verdicts([_with_transcript("tak-1", "A1", "2026-01-02T09:00:00+07:00", "saved again")])
    rec = Store(store.path, history_limit=5).record("tak-1")
    assert _banner(rec) == "saved again" and [v.checked_at[:10] for v in rec.history] == ["2026-01-01"]
    for segment in store.history_dir.glob("*.full.*.jsonl.gz"):
        assert b"never saved" not in gzip.decompress(segment.read_bytes())  # the leftover was cut off


def test_a_lost_history_segment_leaves_the_compact_verdict_and_says_so(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.save_verdicts([_with_transcript("tak-1", "D3", "2026-01-01T09:00:00+07:00", "gone")])
    for segment in store.history_dir.glob("*.full.*.jsonl.gz"):
        segment.unlink()  # a bad restore, a hand deletion
    fresh = Store(store.path)
    rec = fresh.record("tak-1")
    assert rec.verdict.group == "D3" and rec.verdict.evidence.probe.attempts[0].transcript == ()
    assert any("tak-1" in p and "cannot be read" in p for p in fresh.problems())
    result = saraban("--store", str(store.path), "export", "--all", "--format", "json", "-o", str(tmp_path / "x.json"))
    assert result.returncode == 0 and "cannot be read" in result.stderr and "Traceback" not in result.stderr
    store.save_verdicts([_with_transcript("tak-1", "D3", "2026-01-02T09:00:00+07:00", "back")])  # a recheck mends it
    assert _banner(Store(store.path).record("tak-1")) == "back"


def test_saving_an_equal_verdict_again_changes_no_file(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    verdict = _with_transcript("tak-1", "D3", "2026-01-01T09:00:00+07:00", "once")
    store.save_verdicts([verdict])
    files = sorted(p for d in (store.verdicts_dir, store.history_dir) for p in d.iterdir())
    before = {p: p.read_bytes() for p in files}
    store.save_verdicts([verdict])
    assert {p: p.read_bytes() for p in sorted(p for d in (store.verdicts_dir, store.history_dir) for p in d.iterdir())} == before


# ---------------------------------------------------------------------------------------------
# Migration and versions
# ---------------------------------------------------------------------------------------------
def test_a_store_written_by_the_previous_version_is_migrated_with_a_copy_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "old" / "store.json"
    shutil.copytree(FIXTURE, path.parent)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}
    result = saraban("--store", str(path), "report", "--json")
    assert result.returncode == 0, result.stderr
    assert "upgraded" in result.stderr and BACKUP_SUFFIX in result.stderr
    assert json.loads(result.stdout)["total"] == 24
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    assert {p.name: p.read_bytes() for p in backup.iterdir() if p.is_file() and p.name != "COMPLETE"} == before
    store = Store(path)
    assert store.notices == []  # once
    corrected = store.record("nat-00001")
    assert corrected.corrections[0].new_address == "saraban@example.go.th"
    assert corrected.corrections[0].recheck_group == "A1"
    noted = store.record("nat-00007")
    assert noted.notes[0].text == "โทรแล้ว รอแก้ไข\nline two" and noted.followup == "called_waiting"
    assert len(noted.history) == 1 and len(store.group_history("nat-00007")) == 2
    assert len(store.snapshots()) == 2
    assert all(r.verdict is not None for r in store.records(with_history=False))


def test_a_store_written_before_schema_3_keeps_every_verdict_transcript_and_history(tmp_path: Path) -> None:
    """`store-v2-indexed` was written by saraban just before full verdicts left the shards (history_limit
    2, so retention had already pruned it); `.expected.json` is what that version showed of it."""
    fixture = FIXTURE.parent / "store-v2-indexed"
    expected = json.loads((FIXTURE.parent / "store-v2-indexed.expected.json").read_text(encoding="utf-8"))
    path = tmp_path / "old" / "store.json"
    shutil.copytree(fixture, path.parent)
    before = {p.relative_to(path.parent): p.read_bytes() for p in path.parent.rglob("*") if p.is_file()}
    result = saraban("--store", str(path), "report", "--json")
    assert result.returncode == 0, result.stderr
    assert "upgraded" in result.stderr and BACKUP_SUFFIX in result.stderr
    assert json.loads(result.stdout)["total"] == len(expected["agencies"])
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    kept = {p.relative_to(backup): p.read_bytes() for p in backup.rglob("*") if p.is_file() and p.name != "COMPLETE"}
    assert {str(k).replace(path.name, "", 1): v for k, v in kept.items()} == {
        str(k).replace(path.name, "", 1): v for k, v in before.items()
    }  # the store as it was, history included
    store = Store(path)
    assert store.notices == []  # once
    for aid, was in expected["agencies"].items():
        rec = store.record(aid)
        assert rec.verdict.to_json() == was["verdict"], aid  # every transcript
        assert [v.checked_at for v in rec.history] == was["history"], aid
        assert [list(g) for g in store.group_history(aid)] == was["groups"], aid
        assert [[c.id, c.new_address, c.recheck_group] for c in rec.corrections] == was["corrections"]
        assert [n.text for n in rec.notes] == was["notes"] and rec.followup == was["followup"]
        assert rec.group_changed_at == was["group_changed_at"]
    assert len(store.snapshots()) == expected["snapshots"]
    assert not list(store.history_dir.glob("*.full.jsonl.gz"))  # schema 2's files are only in the copy
    shards = b"".join(p.read_bytes() for p in store.verdicts_dir.glob("*.json"))
    assert b"EHLO" not in shards  # transcripts left the shards
    light = {r.agency.id: r.verdict.group for r in store.records(with_history=False, light=True)}
    assert light == {aid: was["verdict"]["group"] for aid, was in expected["agencies"].items()}


def test_a_store_from_a_newer_saraban_is_refused_not_misread(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    data = json.loads(store.path.read_text(encoding="utf-8"))
    data["meta"]["1"]["schema"] = SCHEMA + 1
    store.path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreTooNew, match="newer saraban"):
        Store(store.path)
    result = saraban("--store", str(store.path), "report")
    assert result.returncode == 2 and "newer saraban" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# Damage is told from a new store (issue 16)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["main", "operator"])
@pytest.mark.parametrize("content", [b"", b"  \n\t "])
def test_an_empty_store_file_is_damage_left_untouched(tmp_path: Path, which: str, content: bytes) -> None:
    store = new_store(tmp_path)
    store.add_note("tak-1", "called", "somchai")
    target = store.path if which == "main" else store.operator_path
    target.write_bytes(content)
    with pytest.raises(StoreDamaged, match="empty") as caught:
        Store(store.path)
    assert str(target) in str(caught.value) and "backup" in str(caught.value)
    result = saraban("--store", str(store.path), "note", "tak-1", "again")
    assert result.returncode == 2 and "empty" in result.stderr and "Traceback" not in result.stderr
    assert target.read_bytes() == content
    if which == "main":  # the notes are still in their own file
        assert "called" in store.operator_path.read_text(encoding="utf-8")


def test_a_missing_main_file_beside_the_others_is_damage(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.path.unlink()
    with pytest.raises(StoreDamaged, match="missing"):
        Store(store.path)
    assert not store.path.exists()


def test_symlinked_store_files_and_directories_are_refused(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.save_verdicts([make_verdict("tak-1")])
    elsewhere = tmp_path / "elsewhere"
    store.verdicts_dir.rename(elsewhere)
    store.verdicts_dir.symlink_to(elsewhere)
    with pytest.raises(StoreDamaged, match="symbolic link"):
        Store(store.path)
    link = tmp_path / "link.json"
    link.symlink_to(store.path)
    with pytest.raises(StoreDamaged, match="symbolic link"):
        Store(link)


def test_a_store_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(StoreDamaged, match="not a regular file"):
        Store(fifo)
    assert fifo.exists() and not fifo.is_file()


def _edit_shard(store: Store, agency_id: str, edit: object) -> Path:
    for shard in store.verdicts_dir.glob("*.json"):
        data = json.loads(shard.read_text(encoding="utf-8"))
        for key, doc in data["verdicts"].items():
            if doc.get("agency_id") == agency_id:
                data["verdicts"][key] = edit(doc) if callable(edit) else edit
                shard.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
                return shard
    raise AssertionError(agency_id)


@pytest.mark.parametrize(
    "edit",
    [
        "a string where a document belongs",
        lambda doc: {k: v for k, v in doc.items() if k != "agency_id"},
        lambda doc: {**doc, "kept": "@@DIGITS@@"},
        lambda doc: {**doc, "history": [{"not": "a verdict"}]},
    ],
    ids=["string", "no-agency-id", "5000-digits", "bad-history-entry"],
)
def test_wrong_shaped_content_is_damage_and_the_other_agencies_still_work(tmp_path: Path, edit: object) -> None:
    store = new_store(tmp_path, n=40)
    store.save_verdicts([make_verdict(f"tak-{i}") for i in range(1, 41)])
    shard = _edit_shard(store, "tak-1", edit)
    shard.write_bytes(shard.read_bytes().replace(b'"@@DIGITS@@"', b"1" + b"0" * 5000))  # a 5,000-digit number
    fresh = Store(store.path)
    records = fresh.records(with_history=False)
    assert len(records) == 40
    assert sum(r.verdict is None for r in records) == 1
    problems = fresh.problems()
    assert problems and str(shard) in problems[0]
    # the other agencies in that very shard stay writable, and the damage stays as it was
    other = next(a for a in (f"tak-{i}" for i in range(2, 41)) if fresh.record(a).verdict is not None)
    fresh.save_verdicts([make_verdict(other, "A1", "2026-02-01T09:00:00+07:00"), make_verdict("tak-1", "A1")])
    fresh.add_note("tak-1", "called", "somchai")
    assert Store(store.path).record(other).verdict.group == "A1"
    result = saraban("--store", str(store.path), "report")
    assert result.returncode == 0 and "damaged" in result.stderr and "Traceback" not in result.stderr


def test_a_damaged_note_refuses_notes_for_that_agency_only(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.add_note("tak-1", "first", "somchai")
    data = json.loads(store.operator_path.read_text(encoding="utf-8"))
    key = next(iter(data["notes"]))
    data["notes"][key]["text"] = 12
    store.operator_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    fresh = Store(store.path)
    with pytest.raises(StoreDamaged, match="tak-1"):
        fresh.add_note("tak-1", "second", "somchai")
    fresh.add_note("tak-2", "fine", "somchai")
    assert [n.text for n in Store(store.path).record("tak-2").notes] == ["fine"]
    assert json.loads(store.operator_path.read_text(encoding="utf-8"))["notes"][key]["text"] == 12
    result = saraban("--store", str(store.path), "note", "tak-1", "third")
    assert result.returncode == 2 and "tak-1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["deep", "digits"])
def test_a_file_that_cannot_be_parsed_at_all_is_named_as_damaged(tmp_path: Path, kind: str) -> None:
    store = new_store(tmp_path)
    raw = ("[" * 100_000 + "]" * 100_000) if kind == "deep" else '{"notes": ' + "9" * 5000 + "}"
    store.operator_path.write_text(raw, encoding="utf-8")
    with pytest.raises(StoreError, match=r"damaged|not a saraban store") as caught:
        Store(store.path)
    assert str(store.operator_path) in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Every row is an agency
# ---------------------------------------------------------------------------------------------
def test_duplicate_rows_are_all_agencies_flagged_until_the_operator_decides(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    rows = [
        make_agency(1, code=""),
        make_agency(2, code="", name=make_agency(1).name, declared="other@dla.go.th", id="tak-1~2"),
        make_agency(3, code=""),
        make_agency(4, code="", declared=make_agency(3).declared),  # same address: a copy-paste error?
    ]
    store.merge_import(rows, source="a.csv", operator="somchai")
    records = {r.agency.id: r for r in store.records(with_history=False)}
    assert len(records) == 4
    assert records["tak-1"].duplicate_of == (("tak-1~2", "2"),)
    assert records["tak-1~2"].duplicate_of == (("tak-1", "1"),)
    assert records["tak-3"].duplicate_of == (("tak-4", "4"),)
    out = tmp_path / "all.json"
    exported = saraban("--store", str(store.path), "export", "--all", "--format", "json", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    shown = {o["id"]: o["possible_duplicate_of"] for o in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert shown == {"tak-1": ["2"], "tak-1~2": ["1"], "tak-3": ["4"], "tak-4": ["3"]}
    store.confirm_different("tak-3", "tak-4", "somchai")
    store.add_note("tak-1~2", "called the second office", "somchai")
    store.save_verdicts([make_verdict("tak-1~2", "D3", "2026-01-01T09:00:00+07:00")])
    store.save_verdicts([make_verdict("tak-1~2", "A1", "2026-01-02T09:00:00+07:00")])
    store.confirm_same("tak-1", "tak-1~2", "somchai")
    store.merge_import(rows, source="a.csv", operator="somchai")  # the flags stay away on re-import
    records = {r.agency.id: r for r in store.records(with_history=False)}
    assert set(records) == {"tak-1", "tak-3", "tak-4"}
    assert records["tak-3"].duplicate_of == () and records["tak-4"].duplicate_of == ()
    merged = store.record("tak-1")
    assert merged.duplicate_of == ()
    assert [n.text for n in merged.notes] == ["called the second office"]
    assert [v.checked_at[:10] for v in merged.history] == ["2026-01-02", "2026-01-01"]


def test_check_json_prints_one_line_for_every_row(tmp_path: Path) -> None:
    lines = ["ลำดับที่\tหน่วยงาน\tอำเภอ\tจังหวัด\tอีเมล"]
    for i in range(1, 7):
        lines.append(f"{i}\tเทศบาลตำบลทุ่งหลวง\tแม่ระมาด\tตาก\tbad address {i}")  # the same name six times
    lines.append("7\tอบต.แม่ตาว\tแม่สอด\tตาก\tsaraban@")
    source = tmp_path / "dups.tsv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = saraban("check", str(source), "--json", "--sim", "catalogue")  # no real probe without an identity
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(out) == 7 and len({o["id"] for o in out}) == 7


def test_identity_across_reimports(tmp_path: Path) -> None:
    """The README's identity rule, one case each: reordered, changed address, renamed, duplicate names."""
    store = Store(tmp_path / "s.json")
    first = [make_agency(i, code="") for i in range(1, 5)]
    first.append(make_agency(5, code="", name=first[0].name, id=f"{first[0].id}~2", declared="second@dla.go.th"))
    store.merge_import(first, source="v1", operator="somchai")
    for agency in first:
        store.add_note(agency.id, f"note for {agency.declared}", "somchai")

    def owner(declared: str) -> str:
        return next(r.agency.id for r in store.records(with_history=False) if r.agency.declared == declared)

    # reordered: same agencies, same ids; the two rows with the same name are told apart by address
    report = store.merge_import(list(reversed(first)), source="v2", operator="somchai")
    assert report.added == [] and report.missing == []
    for agency in first:
        assert [n.text for n in store.record(owner(agency.declared)).notes] == [f"note for {agency.declared}"]
    # changed address: same agency, change recorded
    changed = [make_agency(2, code="", declared="new2@dla.go.th") if a.id == "tak-2" else a for a in first]
    report = store.merge_import(changed, source="v3", operator="somchai")
    assert report.changed == ["tak-2"] and store.record("tak-2").source_changes[-1]["new"] == "new2@dla.go.th"
    # renamed (no code): same district, province and address, the old name no longer listed
    renamed = [make_agency(3, code="", name="เทศบาลตำบลหนองบัว3") if a.id == "tak-3" else a for a in changed]
    report = store.merge_import(renamed, source="v4", operator="somchai")
    assert report.added == [] and report.changed == ["tak-3"]
    assert store.record("tak-3").agency.name == "เทศบาลตำบลหนองบัว3" and store.record("tak-3").notes
    # duplicate names with swapped addresses: the address decides which stored agency a row is
    assert len(store.records(with_history=False)) == 5


# ---------------------------------------------------------------------------------------------
# Bulk actions, backup, the real login
# ---------------------------------------------------------------------------------------------
def test_bulk_called_and_notes_are_one_write_each(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=200)
    before = os.stat(store.operator_path).st_ino
    store.set_followups([f"tak-{i}" for i in range(1, 201)], "called_waiting", "somchai")
    after = os.stat(store.operator_path).st_ino
    assert after != before
    store.add_notes([f"tak-{i}" for i in range(1, 201)], "called 3 Dec", "somchai")
    records = store.records(with_history=False)
    assert all(r.followup == "called_waiting" and r.notes[0].text == "called 3 Dec" for r in records)
    result = saraban("--store", str(store.path), "followup", "-", "1", "2")
    assert result.returncode == 0, result.stderr
    assert Store(store.path).record("tak-1").followup is None and Store(store.path).record("tak-3").followup


def test_operator_data_records_the_real_login(tmp_path: Path) -> None:
    import pwd

    store = new_store(tmp_path)
    corr = store.add_correction("tak-1", "saraban@tambon1.go.th", "called", "anyone at all")
    note = store.add_note("tak-1", "called", "anyone at all")
    login = pwd.getpwuid(os.getuid()).pw_name
    assert corr.login == login and note.login == login
    rec = Store(store.path).record("tak-1")
    assert rec.corrections[0].login == login and rec.notes[0].login == login


def test_backup_is_a_store_that_opens_and_reports(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.save_verdicts([make_verdict("tak-1")])
    store.add_correction("tak-2", "saraban@tambon2.go.th", "called", "somchai")
    store.save_snapshot({"ตาก": {"D3": 1}}, label="scan")
    dest = tmp_path / "backup" / "copy.json"
    result = saraban("--store", str(store.path), "backup", str(dest))
    assert result.returncode == 0, result.stderr
    copy = Store(dest)
    assert copy.record("tak-1").verdict == make_verdict("tak-1")
    assert copy.record("tak-2").current_address == "saraban@tambon2.go.th"
    assert len(copy.snapshots()) == 1
    report = saraban("--store", str(dest), "report", "--json")
    assert report.returncode == 0 and json.loads(report.stdout)["total"] == 3
    again = saraban("--store", str(store.path), "backup", str(dest))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_backup_in_the_middle_of_a_scan_has_every_correction_made_before_it(tmp_path: Path) -> None:
    from checks.sim.worlds import national_world

    world = national_world(agencies=1500)
    path = tmp_path / "live" / "store.json"
    store = Store(path)
    store.merge_import(world.agencies, source="demo: national sample world", operator="somchai")
    scan = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--store", str(path), "demo", "--no-tui", "--agencies", "1500",
         "--delay-ms", "100"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        ids = [a.id for a in world.agencies]
        before = [store.add_correction(aid, f"saraban@{aid}.go.th", "called", "somchai") for aid in ids[:20]]
        while scan.poll() is None and not list(store.verdicts_dir.glob("*.json")):
            store.add_note(ids[0], "waiting for the first saved batch", "somchai")  # keeps writing meanwhile
        assert scan.poll() is None, "the scan ended before the backup: nothing was tested"
        copy = store.backup(tmp_path / "copy" / "store.json")  # begun while the scan is saving
        after = [store.add_correction(aid, f"later@{aid}.go.th", "called", "somchai") for aid in ids[20:25]]
    finally:
        _, err = scan.communicate(timeout=300)
    assert scan.returncode == 0, err
    restored = Store(copy)
    saved = {c.id for r in restored.records(with_history=False) for c in r.corrections}
    assert {c.id for c in before} <= saved
    assert not {c.id for c in after} & saved
    assert len(restored.records(with_history=False)) == 1500
    report = saraban("--store", str(copy), "report", "--json")
    assert report.returncode == 0, report.stderr
