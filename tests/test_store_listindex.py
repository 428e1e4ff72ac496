"""The list view's index (`console.store.listindex`): a store written before it gets one on opening, and
the list view gives the same answers from it as from the files it summarises, never stale ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_store import make_agency, make_verdict, new_store

from checks.config import EngineConfig
from console.rules import Ruleset, bucket_of, group_of, is_stale, needs_followup
from console.store import AgencyRecord, Store

FIXTURE = Path(__file__).parent / "data" / "store-v2"  # written by saraban before the list index
RULESET = Ruleset.of(EngineConfig())


def _fixture(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "store")
    return tmp_path / "store" / "store.json"


def _seen(rec: AgencyRecord) -> tuple:
    """What the table, the rules and a phone list read of a record."""
    v = rec.verdict
    verdict = None
    if v is not None:
        probe = v.evidence.probe
        verdict = (
            v.group,
            [(f.code, f.message) for f in v.findings],
            tuple(v.flags),
            v.suggested_fix,
            v.checked_at,
            v.evidence.declared,
            v.evidence.normalized,
            v.evidence.rule,
            v.evidence.one_line(),
            (probe.outcome, probe.rcpt, [a.host for a in probe.attempts]) if probe else None,
        )
    rules = (group_of(rec), is_stale(rec), bucket_of(rec, RULESET), needs_followup(rec, RULESET))
    return (
        rec.agency,
        verdict,
        rec.corrections,
        rec.notes,
        rec.followup,
        rec.source_changes,
        rec.group_changed_at,
        rec.duplicate_of,
        rec.current_address,
        rules,
    )


def _full_view(store: Store) -> list[tuple]:
    """The same records read from the source files with full verdicts (no index involved)."""
    return [_seen(rec) for rec in store.records(with_history=False)]


def test_a_store_written_before_the_index_opens_and_lists_the_same(tmp_path: Path) -> None:
    path = _fixture(tmp_path)
    store = Store(path, history_limit=3)
    index = path.with_name("store.json.index")
    shards = sorted(p.stem for p in path.with_name("store.json.verdicts").glob("*.json"))
    assert sorted(p.stem for p in index.glob("*.list")) == sorted(["main", *shards])  # built on opening
    light = Store(path, history_limit=3).records(with_history=False, light=True)
    assert [_seen(rec) for rec in light] == _full_view(store)
    assert {rec.agency.id for rec in light if rec.duplicate_of} == {"tak-1", "tak-7"}  # tak-2/8: "different"
    assert [rec.followup for rec in light if rec.followup] == ["called_waiting", "called_waiting"]
    assert store.problems() == []


def test_the_list_follows_every_write_and_agrees_with_the_full_records(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=5)
    store.save_verdicts([make_verdict(f"tak-{i}", "D3") for i in range(1, 5)])
    other = Store(store.path)  # a console open beside the writer
    assert [_seen(r) for r in other.records(with_history=False, light=True)] == _full_view(store)
    store.save_verdicts([make_verdict("tak-2", "A1", "2026-02-01T09:00:00+07:00")])  # one recheck
    store.add_correction("tak-3", "saraban3@tak.go.th", "โทรแจ้ง", "somchai")
    store.merge_import([make_agency(i) for i in range(1, 7)], source="tak.csv", operator="somchai")
    light = other.records(with_history=False, light=True)
    assert [_seen(r) for r in light] == _full_view(store)
    assert {r.agency.id: r.verdict.group for r in light if r.verdict} == {
        "tak-1": "D3",
        "tak-2": "A1",
        "tak-3": "D3",
        "tak-4": "D3",
    }


def test_an_index_older_than_its_file_is_never_used(tmp_path: Path) -> None:
    """A crash between a shard and its index, or a shard restored from a copy: the shard decides."""
    store = new_store(tmp_path, n=3)
    store.save_verdicts([make_verdict("tak-1", "D3", "2026-01-01T09:00:00+07:00")])
    index_dir = store.path.with_name(store.path.name + ".index")
    saved = {p: p.read_bytes() for p in index_dir.iterdir()}
    store.save_verdicts([make_verdict("tak-1", "A1", "2026-01-02T09:00:00+07:00")])
    for p, content in saved.items():  # the indexes as they were before the second save
        p.write_bytes(content)
    assert Store(store.path).records(with_history=False, light=True)[0].verdict.group == "A1"
    for p in index_dir.iterdir():  # and a damaged index is only ever stale
        p.write_bytes(p.read_bytes()[:-7] + b"garbage")
    fresh = Store(store.path)
    assert [_seen(r) for r in fresh.records(with_history=False, light=True)] == _full_view(store)


def test_damage_is_named_the_same_with_the_index(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=3)
    store.save_verdicts([make_verdict(f"tak-{i}", "D3") for i in (1, 2, 3)])
    shard = next(p for p in store.verdicts_dir.glob("*.json") if '"tak-2"' in p.read_text(encoding="utf-8"))
    text = shard.read_text(encoding="utf-8")
    shard.write_text(text.replace('"agency_id":"tak-2","compact":"', '"agency_id":"tak-2","compact":7,"x":"', 1))
    for opened in (Store(store.path), Store(store.path)):  # the first rebuilds the index, the second reads it
        ids = [r.agency.id for r in opened.records(with_history=False, light=True)]
        assert "tak-1" in ids and "tak-3" in ids
        problems = opened.problems()
        assert len(problems) == 1 and "tak-2" in problems[0] and str(shard) in problems[0]


def test_the_compact_form_read_from_objects_is_the_compact_form_of_the_json() -> None:
    """A save builds the compact form from the verdict objects (fast); an index rebuild builds it from
    the stored JSON. Both must give the same rows, or a rebuilt index would list something else."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "tui"))
    from tui_sample import verdicts

    from console.store.codec import compact, compact_of

    samples = list(verdicts().values())
    assert any(v.evidence.probe is not None and v.evidence.probe.attempts for v in samples)
    assert any(v.suggested_fix is not None for v in samples)
    for verdict in samples:
        assert compact_of(verdict) == compact(verdict.to_json()), verdict.agency_id


def _rewrite_in_place(path: Path, old: bytes, new: bytes) -> None:
    """Change a file's bytes keeping its identity (inode, size, modification time): what an index
    vouching for the file by identity cannot see."""
    assert len(old) == len(new)
    before = path.stat()
    data = path.read_bytes()
    assert old in data
    with open(path, "r+b") as handle:
        handle.write(data.replace(old, new, 1))
    import os

    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_ino == before.st_ino and path.stat().st_size == before.st_size


def test_the_list_comes_from_the_index_while_it_vouches_for_the_main_files_identity(tmp_path: Path) -> None:
    """The rule opening now relies on (a console on 20,000 agencies no longer parses the 12 MB main
    file at opening, only its meta table): the list comes from the index while it vouches for the
    file's identity, and from the file again as soon as the file's identity changes."""
    store = new_store(tmp_path, n=3)
    store.save_verdicts([make_verdict("tak-1", "D3")])
    Store(store.path).records(with_history=False, light=True)  # the main file's index is written
    _rewrite_in_place(store.path, "หนองบัว2".encode(), "หนองบัว9".encode())
    names = [r.agency.name for r in Store(store.path).records(with_history=False, light=True)]
    assert names == ["องค์การบริหารส่วนตำบลหนองบัว1", "องค์การบริหารส่วนตำบลหนองบัว2", "องค์การบริหารส่วนตำบลหนองบัว3"]
    store.path.touch()  # any real write changes the file's identity: the file itself is read again
    names = [r.agency.name for r in Store(store.path).records(with_history=False, light=True)]
    assert "องค์การบริหารส่วนตำบลหนองบัว9" in names


def test_a_store_from_a_newer_saraban_is_refused_even_when_its_index_vouches_for_it(tmp_path: Path) -> None:
    from console.store import StoreTooNew
    from console.store.layer import SCHEMA

    store = new_store(tmp_path, n=2)
    Store(store.path).records(with_history=False, light=True)
    _rewrite_in_place(store.path, f'"schema":{SCHEMA},'.encode(), f'"schema":{SCHEMA + 1},'.encode())
    # refused with the version named, not misread or called damaged
    with pytest.raises(StoreTooNew, match="newer saraban"):
        Store(store.path)


def test_head_meta_reads_only_a_meta_table_written_first(tmp_path: Path) -> None:
    from console.store.layer import head_meta

    path = tmp_path / "f.json"
    path.write_bytes(b'{"meta":{"1":{"schema":3,"kind":"main"}},"agencies":{"1":' + b"x" * 10_000)
    assert head_meta(path) == {"meta": {"1": {"schema": 3, "kind": "main"}}}
    path.write_bytes(b'{"agencies":{},"meta":{"1":{"schema":3}}}')  # another order: read the file
    assert head_meta(path) is None
    path.write_bytes(b'{"meta":{"1":{"schema":3,"note":"' + b"y" * 5000 + b'"}}}')  # not whole in the head
    assert head_meta(path) is None
    assert head_meta(tmp_path / "absent.json") is None
