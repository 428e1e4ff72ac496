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


# -- the list view builds its records fast; they must be the records the constructors build ---------
def _fields(obj: object) -> list[tuple[str, type, object]]:
    """Every field of a dataclass with its value's type (True == 1, but a bool is not an int here)."""
    import dataclasses

    return [(f.name, type(getattr(obj, f.name)), getattr(obj, f.name)) for f in dataclasses.fields(obj)]  # type: ignore[arg-type]


def test_frozen_maker_builds_what_the_constructor_builds() -> None:
    import dataclasses
    import pickle

    from checks.model import Agency
    from console.store.records import VerdictSummary, frozen_maker

    full = ("a-1", "อบต.หนองบัว", "x@y.go.th", "1", "เมือง", "ตาก", "อบต.", "055", "63", True, False, False, None, "ok", "2025")
    for values in (full, full[:3], full[:4]):  # every field given; only the required ones; some defaults
        made, built = frozen_maker(Agency)(*values), Agency(*values)
        assert type(made) is Agency and made == built and hash(made) == hash(built) and repr(made) == repr(built)
        assert _fields(made) == _fields(built)
        assert pickle.loads(pickle.dumps(made)) == built
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.name = "changed"  # type: ignore[misc]
    assert frozen_maker(Agency)("a", "n", "d", kind="k") == Agency("a", "n", "d", kind="k")
    with pytest.raises(TypeError):
        frozen_maker(Agency)("a")  # a missing field is refused as the constructor refuses it
    agency = Agency(*full)
    record = AgencyRecord(agency, None, (), (), (), "called_waiting", ({"at": "x"},), "", (("a-2", "2"),))
    made_record = frozen_maker(AgencyRecord)(agency, None, (), (), (), "called_waiting", ({"at": "x"},), "", (("a-2", "2"),))
    assert type(made_record) is AgencyRecord and _fields(made_record) == _fields(record)
    assert _fields(frozen_maker(AgencyRecord)(agency, None, (), (), (), None, ())) == _fields(
        AgencyRecord(agency, None, (), (), (), None, ())
    )  # the defaults (group change, duplicates)
    with pytest.raises(TypeError):
        frozen_maker(VerdictSummary)  # not frozen: its own constructor is fast already


def _read_from_files(path: Path, tmp_path: Path) -> list[AgencyRecord]:
    """The records of a copy of the store whose main index is stale and cannot be rebuilt (a read-only
    copy), read one by one: built from the files with the ordinary constructors (`Agency.from_json`,
    `AgencyRecord(...)`), as `record(id)` builds them."""
    import os

    copy = tmp_path / "files"
    shutil.copytree(path.parent, copy)
    main = copy / path.name
    os.utime(main, ns=(main.stat().st_atime_ns, main.stat().st_mtime_ns + 1_000_000_000))  # the index is stale
    (copy / (path.name + ".index")).chmod(0o700)
    main.chmod(0o400)
    copy.chmod(0o500)
    try:
        store = Store(main)
        assert not _index_fresh(store)
        return store.records(with_history=False)
    finally:
        copy.chmod(0o700)
        main.chmod(0o600)


def _index_fresh(store: Store) -> bool:
    from console.store import listindex
    from console.store.layer import stamp

    return listindex.fresh(listindex.index_path(store.index_dir, store.path), stamp(store.path))


def test_the_list_from_the_index_equals_the_records_built_from_the_files_field_by_field(tmp_path: Path) -> None:
    """The fast list view (`frozen_maker`, duplicate pairs worked out once) gives records equal, field by
    field, to those the ordinary constructors build from the files: defaults, possible duplicates before
    and after an operator's decision, corrections, notes, follow-ups."""
    import dataclasses

    store = Store(tmp_path / "store" / "saraban.json")
    rows = [make_agency(i) for i in range(1, 7)]
    rows[1] = make_agency(2, name=rows[0].name)  # tak-1 and tak-2: same name, district and province
    rows[2] = make_agency(3, name=rows[0].name, seq=None)  # tak-3 too, without a ลำดับที่
    rows[4] = make_agency(5, declared=rows[3].declared.upper(), upgraded=True)  # tak-4 and tak-5: one address
    store.merge_import(rows, source="tak.csv", operator="somchai")
    store.save_verdicts([make_verdict(f"tak-{i}", "D3") for i in (1, 2, 4, 5)])
    store.add_correction("tak-4", "saraban4@tak.go.th", "โทรแจ้ง", "somchai")
    store.add_note("tak-2", "โทรแล้ว ไม่มีคนรับ", "somchai")
    store.set_followup("tak-1", "called_waiting", "somchai")
    store.merge_import([*rows[:5], make_agency(6, declared="saraban6@tak.go.th")], source="tak2.csv", operator="somchai")

    def same(step: str) -> list[AgencyRecord]:
        light = Store(store.path).records(with_history=False, light=True)
        assert _index_fresh(store)
        plain = _read_from_files(store.path, tmp_path / step)
        assert [r.agency.id for r in light] == [r.agency.id for r in plain]
        for fast, slow in zip(light, plain, strict=True):
            assert _fields(fast.agency) == _fields(slow.agency)
            for f in dataclasses.fields(AgencyRecord):
                if f.name not in ("agency", "verdict"):
                    assert getattr(fast, f.name) == getattr(slow, f.name), (fast.agency.id, f.name)
            assert _seen(fast) == _seen(slow)
        return light

    dups = {r.agency.id: r.duplicate_of for r in same("before")}
    assert dups == {
        "tak-1": (("tak-2", "2"), ("tak-3", "")),
        "tak-2": (("tak-1", "1"), ("tak-3", "")),
        "tak-3": (("tak-1", "1"), ("tak-2", "2")),
        "tak-4": (("tak-5", "5"),),
        "tak-5": (("tak-4", "4"),),
        "tak-6": (),
    }
    store.confirm_different("tak-1", "tak-2", "somchai")
    dups = {r.agency.id: r.duplicate_of for r in same("different")}
    assert dups["tak-1"] == (("tak-3", ""),) and dups["tak-2"] == (("tak-3", ""),)
    assert dups["tak-3"] == (("tak-1", "1"), ("tak-2", "2")) and dups["tak-4"] == (("tak-5", "5"),)
    store.confirm_same("tak-4", "tak-5", "somchai")
    light = same("same")
    dups = {r.agency.id: r.duplicate_of for r in light}
    assert "tak-5" not in dups and dups["tak-4"] == ()
    assert [c.new_address for c in next(r for r in light if r.agency.id == "tak-4").corrections] == ["saraban4@tak.go.th"]


def test_columns_give_back_every_value_of_every_row() -> None:
    """The index writes rows as columns and pools strings that repeat: reading gives back the very
    values (types too: a pooled column is strings only, True is not 1, None stays None)."""
    from console.store.listindex import column_values, columns

    rows = [
        ("tak-1", "ตาก", True, None, 1, ""),
        ("tak-2", "ตาก", 1, "x", 1, ""),
        ("tak-3", "ลำปาง", False, "x", 2, ""),
        ("tak-4", "ตาก", True, "y", 1.0, ""),
    ]
    written = columns(rows, 6)
    assert isinstance(written[1], dict) and isinstance(written[5], dict)  # repeated strings: pooled
    assert written[0] == ["tak-1", "tak-2", "tak-3", "tak-4"]  # unique strings: as they are
    back = list(zip(*column_values({"columns": written}), strict=True))
    assert [[(type(v), v) for v in row] for row in back] == [[(type(v), v) for v in row] for row in rows]
    assert column_values({"columns": columns([], 6)}) == [[]] * 6


def test_an_index_of_another_format_is_rebuilt_not_misread(tmp_path: Path) -> None:
    """An index written by an older saraban (another format) is stale: opening rebuilds it, and a
    read-only store lists from its files; neither misreads it."""
    from console.store.listindex import FORMAT

    store = new_store(tmp_path, n=4)
    store.save_verdicts([make_verdict(f"tak-{i}", "D3") for i in (1, 2)])
    expected = _full_view(store)
    index_dir = store.path.with_name(store.path.name + ".index")
    for path in index_dir.iterdir():
        data = path.read_bytes()
        path.write_bytes(data.replace(f'"v":{FORMAT},'.encode(), f'"v":{FORMAT - 1},'.encode(), 1))
    folder = store.path.parent
    folder.chmod(0o500)  # read-only: nothing is rebuilt, the files are read
    try:
        assert [_seen(r) for r in Store(store.path).records(with_history=False, light=True)] == expected
        assert all(f'"v":{FORMAT - 1},'.encode() in p.read_bytes() for p in index_dir.iterdir())
    finally:
        folder.chmod(0o700)
    assert [_seen(r) for r in Store(store.path).records(with_history=False, light=True)] == expected
    assert all(p.read_bytes().startswith(f'{{"v":{FORMAT},'.encode()) for p in index_dir.iterdir())


def test_an_index_whole_but_not_in_its_format_is_read_around(tmp_path: Path) -> None:
    """An index whose checksum and source hold but whose body does not fit the format (a writer's bug)
    is not trusted: the list comes from the files, the same as ever, and nothing raises."""
    from console.store import listindex
    from console.store.layer import stamp

    store = new_store(tmp_path, n=4)
    store.save_verdicts([make_verdict(f"tak-{i}", "D3") for i in (1, 2, 3)])
    expected = _full_view(store)
    sources = [store.path, *store.verdicts_dir.glob("*.json")]
    for source in sources:
        index = listindex.index_path(store.index_dir, source)
        body = listindex.read(index, stamp(source))
        assert body is not None
        body.pop("tail")
        if source == store.path:
            body["dups"] = [[0, 99]]  # a duplicate row that is not there
        else:
            body["columns"] = body["columns"][:-1]  # a column short
        listindex.write(index, stamp(source), body)
        assert listindex.fresh(index, stamp(source))
    assert [_seen(r) for r in Store(store.path).records(with_history=False, light=True)] == expected
