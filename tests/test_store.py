"""The shared JSON store: what an operator sees after imports, checks, corrections and notes,
also when several operator processes write at once."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import pytest

from checks.model import (
    Agency,
    DnsResult,
    Evidence,
    Exchange,
    Finding,
    HostAttempt,
    MailHost,
    ProbeResult,
    SmtpReply,
    SuggestedFix,
    Verdict,
)
from console.store import SCHEMA, Store, StoreError


# ---------------------------------------------------------------------------------------------
# Factories (realistic: Thai names, a full SMTP transcript ≈ 2 KB of JSON per verdict)
# ---------------------------------------------------------------------------------------------
def make_agency(i: int, **changes: object) -> Agency:
    data: dict[str, object] = {
        "id": f"tak-{i}",
        "name": f"องค์การบริหารส่วนตำบลหนองบัว{i}",
        "declared": f"saraban_{i}@dla.go.th",
        "seq": str(i),
        "district": "เมืองตาก",
        "province": "ตาก",
        "kind": "อบต.",
        "phone": "055-511-234",
        "code": f"{6300000000000 + i}",
    }
    data.update(changes)
    return Agency(**data)  # type: ignore[arg-type]


def make_verdict(agency_id: str, group: str = "D3", at: str = "2026-01-05T10:00:00+07:00") -> Verdict:
    address = f"saraban_{agency_id}@dla.go.th"
    rcpt = SmtpReply(550, f"5.1.1 <{address}>: Recipient address rejected: User unknown", "5.1.1")
    transcript = (
        Exchange("<connect>", SmtpReply(220, "mx1.dla.go.th ESMTP Postfix"), 12.3),
        Exchange(
            "EHLO probe.opdc.go.th", SmtpReply(250, "mx1.dla.go.th\nPIPELINING\nSTARTTLS\n8BITMIME"), 3.1
        ),
        Exchange("MAIL FROM:<postmaster@opdc.go.th>", SmtpReply(250, "2.1.0 Ok", "2.1.0"), 1.0),
        Exchange(f"RCPT TO:<{address}>", rcpt, 1.2),
        Exchange("RSET", SmtpReply(250, "2.0.0 Ok", "2.0.0"), 0.4),
    )
    dns = DnsResult("dla.go.th", "ok", (MailHost("mx1.dla.go.th", 10, ("203.113.25.10",)),), False, None, 5.2)
    attempt = HostAttempt("mx1.dla.go.th", "203.113.25.10", 25, "ok", True, None, True, transcript, 30.1)
    probe = ProbeResult(address, "mailbox_rejected", dns, rcpt, (attempt,), False, None, 1, 41.0)
    evidence = Evidence(address, address, probe, None, group, 7, at, 41.0)
    return Verdict(
        agency_id,
        group,
        (Finding("mailbox_not_found", "550 5.1.1 user unknown", {"code": 550}),),
        ("no_starttls",),
        evidence,
        SuggestedFix(f"saraban@{agency_id}.go.th", None, "test"),
        at,
    )


def new_store(tmp_path: Path, n: int = 3, **kwargs: object) -> Store:
    store = Store(tmp_path / "store" / "saraban.json", **kwargs)  # type: ignore[arg-type]
    store.merge_import([make_agency(i) for i in range(1, n + 1)], source="tak.csv", operator="somchai")
    return store


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------
def test_everything_saved_is_read_back_by_another_process_view(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    verdict = make_verdict("tak-2")
    assert store.save_verdicts([verdict]) == 1
    corr = store.add_correction("tak-2", "saraban_663019@dla.go.th", "เจ้าหน้าที่แจ้งทางโทรศัพท์", "somchai")
    store.set_correction_recheck(corr.id, "A1", "2026-01-06T09:00:00+07:00")
    note = store.add_note("tak-2", "โทรแล้ว\nรอแก้ไขประกาศ", "somsri")
    store.set_followup("tak-2", "called_waiting", "somsri")
    store.save_snapshot({"ตาก": {"A1": 5, "D3": 2}}, label="week 1")

    other = Store(store.path)  # a fresh instance reads only what is on disk
    rec = other.record("tak-2")
    assert rec.agency == make_agency(2)
    assert rec.verdict == verdict
    assert rec.history == ()
    assert [c.id for c in rec.corrections] == [corr.id]
    assert rec.corrections[0].old_address == "saraban_2@dla.go.th"
    assert rec.corrections[0].recheck_group == "A1"
    assert rec.corrections[0].recheck_at == "2026-01-06T09:00:00+07:00"
    assert rec.current_address == "saraban_663019@dla.go.th"
    assert rec.notes == (note,)
    assert rec.notes[0].text == "โทรแล้ว\nรอแก้ไขประกาศ"
    assert rec.followup == "called_waiting"
    snaps = other.snapshots()
    assert [(s["label"], s["counts"]) for s in snaps] == [("week 1", {"ตาก": {"A1": 5, "D3": 2}})]
    assert snaps[0]["at"]
    [imp] = other.imports()
    assert imp["source"] == "tak.csv" and imp["operator"] == "somchai"
    assert imp["counts"]["added"] == 3

    other.set_followup("tak-2", None, "somsri")
    assert store.record("tak-2").followup is None


def test_records_in_list_order_and_unknown_agency(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    agencies = [
        make_agency(10),
        make_agency(2),
        make_agency(1, seq=None, name="ข"),
        make_agency(3, seq=None, name="ก"),
    ]
    store.merge_import(agencies, source="x", operator="op")
    assert [r.agency.id for r in store.records()] == ["tak-2", "tak-10", "tak-3", "tak-1"]
    assert [a.id for a in store.agencies()] == ["tak-2", "tak-10", "tak-3", "tak-1"]
    with pytest.raises(KeyError):
        store.record("nope")
    with pytest.raises(KeyError):
        store.add_correction("nope", "a@b.go.th", "", "op")
    with pytest.raises(KeyError):
        store.set_correction_recheck("c-nope", "A1", "2026-01-01")


def test_records_without_history_for_fast_lists(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.save_verdicts([make_verdict("tak-1", at="2026-01-01")])
    store.save_verdicts([make_verdict("tak-1", at="2026-01-02")])
    assert len(store.records()[0].history) == 1
    fast = store.records(with_history=False)[0]
    assert fast.history == () and fast.verdict == make_verdict("tak-1", at="2026-01-02")


def test_operator_input_is_validated(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    note = store.add_note("tak-1", "a\x1b]0;pwned\x07b\tc\nd \ud800e\u0301", "op\x1b[31m")
    assert note.text == "ab\tc\nd \ufffdé"  # escape sequences go whole, parameters too
    assert note.operator == "op"
    assert Store(store.path).record("tak-1").notes[0].text == note.text
    corr = store.add_correction("tak-1", " saraban@tak.go.th\r\n", "line1\nline2", "op")
    assert corr.new_address == "saraban@tak.go.th"
    assert corr.reason == "line1\nline2"
    for bad in ("", "  \n"):
        with pytest.raises(ValueError):
            store.add_note("tak-1", bad, "op")
        with pytest.raises(ValueError):
            store.add_correction("tak-1", bad, "why", "op")
    with pytest.raises(ValueError):
        store.add_note("tak-1", "text", "")
    with pytest.raises(ValueError):
        store.add_note("tak-1", "x" * 10_001, "op")


def test_verdict_text_with_surrogates_and_controls_is_stored_safely(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    base = make_verdict("tak-1")
    bad_reply = SmtpReply(550, "no such user \udcff\x1b[2J here\nsecond line", "5.1.1")
    probe = ProbeResult("saraban_1@dla.go.th", "mailbox_rejected", base.evidence.probe.dns, bad_reply)  # type: ignore[union-attr]
    evidence = Evidence(base.evidence.declared, base.evidence.normalized, probe)
    # in one batch with clean verdicts (the batch is checked at once, then each of its verdicts exactly)
    store.save_verdicts([Verdict("tak-1", "D3", base.findings, (), evidence), make_verdict("tak-2"), make_verdict("tak-3")])
    on_disk = "".join(
        p.read_text(encoding="utf-8") for p in (store.path.parent / "saraban.json.verdicts").iterdir()
    ) + "".join(gzip.decompress(p.read_bytes()).decode("utf-8") for p in store.history_dir.glob("*.full.*"))
    assert "no such user" in on_disk and "\\u001b" not in on_disk and "\x1b" not in on_disk
    text = Store(store.path).record("tak-1").verdict.evidence.probe.rcpt.text  # type: ignore[union-attr]
    assert text == "no such user \ufffd here\nsecond line"
    assert Store(store.path).record("tak-2").verdict == make_verdict("tak-2")


# ---------------------------------------------------------------------------------------------
# merge_import
# ---------------------------------------------------------------------------------------------
def test_reimport_matches_reports_and_keeps_operator_data(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    first = store.merge_import(
        [make_agency(1), make_agency(2), make_agency(3), make_agency(4, province="เชียงใหม่")],
        source="v1.csv",
        operator="somchai",
    )
    assert sorted(first.added) == ["tak-1", "tak-2", "tak-3", "tak-4"]
    store.save_verdicts([make_verdict("tak-1")])
    corr = store.add_correction("tak-1", "saraban@tambon1.go.th", "โทรยืนยัน", "somchai")
    note = store.add_note("tak-1", "ติดต่อปลัด", "somchai")
    store.set_followup("tak-1", "called_waiting", "somchai")

    second = store.merge_import(
        [
            # same code, new list id, new declared address → matched by code, stored id kept
            make_agency(1, id="row-001", declared="saraban_663019@dla.go.th"),
            # no code, name written with extra spaces → matched by (name, district, province)
            make_agency(2, id="row-002", code="", name="องค์การบริหารส่วนตำบล  หนองบัว2 "),
            make_agency(5),  # new
        ],
        source="v2.csv",
        operator="somsri",
    )
    assert second.source == "v2.csv"
    assert second.added == ["tak-5"]
    assert second.changed == ["tak-1", "tak-2"]
    assert second.unchanged == []
    # only the province the list covers: tak-4 (เชียงใหม่) is not "missing" from a Tak list
    assert second.missing == ["tak-3"]

    rec = store.record("tak-1")
    assert rec.agency.declared == "saraban_663019@dla.go.th"
    assert rec.corrections == (corr,) and rec.notes == (note,) and rec.followup == "called_waiting"
    assert rec.verdict == make_verdict("tak-1")
    assert rec.current_address == "saraban@tambon1.go.th"  # the operator's correction still wins
    [change] = rec.source_changes
    assert change["old"] == "saraban_1@dla.go.th"
    assert change["new"] == "saraban_663019@dla.go.th"
    assert change["import_id"] == second.import_id and change["at"]
    assert store.record("tak-2").source_changes == ()  # name spacing changed, address did not
    assert {a.id for a in store.agencies()} == {
        "tak-1",
        "tak-2",
        "tak-3",
        "tak-4",
        "tak-5",
    }  # nothing deleted

    third = store.merge_import([make_agency(5)], source="v3.csv", operator="somsri")
    assert third.unchanged == ["tak-5"] and third.added == third.changed == []
    assert [i["source"] for i in store.imports()] == ["v1.csv", "v2.csv", "v3.csv"]
    assert store.imports()[1]["counts"] == {
        "added": 1,
        "changed": 2,
        "unchanged": 0,
        "missing": 1,
        "total": 3,
    }


def test_import_by_id_nfc_and_duplicate_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    store.merge_import([make_agency(1, code="", name="Cafe\u0301")], source="a", operator="op")
    report = store.merge_import(
        [
            make_agency(1, code="", name="Café"),  # same after NFC → unchanged
            make_agency(1, code="", name="Other"),  # duplicate row of the same id → kept apart
        ],
        source="b",
        operator="op",
    )
    assert report.unchanged == ["tak-1"]
    assert report.added == ["tak-1~2"]
    assert store.record("tak-1").agency.name == "Café"


# ---------------------------------------------------------------------------------------------
# History, find
# ---------------------------------------------------------------------------------------------
def test_history_is_newest_first_bounded_and_compact(tmp_path: Path) -> None:
    store = new_store(tmp_path, history_limit=3)
    days = [f"2026-01-0{d}T10:00:00+07:00" for d in range(1, 6)]
    for day in days:
        store.save_verdicts([make_verdict("tak-1", at=day)])
    store.save_verdicts([make_verdict("tak-1", at=days[-1])])  # same verdict again: no new history entry
    rec = Store(store.path, history_limit=3).record("tak-1")
    assert rec.verdict == make_verdict("tak-1", at=days[4])
    assert [v.checked_at for v in rec.history] == [days[3], days[2], days[1]]
    old = rec.history[0]
    assert old.group == "D3" and old.finding_codes == ["mailbox_not_found"]
    assert old.suggested_fix == make_verdict("tak-1").suggested_fix
    assert old.evidence.one_line() == make_verdict("tak-1").evidence.one_line()
    assert old.evidence.probe is not None and old.evidence.probe.attempts[0].transcript == ()


def test_bulk_save_counts_and_keeps_others(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=600)
    verdicts = [make_verdict(f"tak-{i}") for i in range(1, 601)]
    assert store.save_verdicts(verdicts, batch_size=50) == 600
    store.save_verdicts([make_verdict("tak-7", group="A1")])
    records = Store(store.path).records()
    assert len(records) == 600
    assert all(r.verdict is not None for r in records)
    assert store.record("tak-7").verdict.group == "A1"  # type: ignore[union-attr]
    assert [v.group for v in store.record("tak-7").history] == ["D3"]


def test_find_by_id_and_by_thai_digit_sequence(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    store.merge_import(
        [make_agency(47), make_agency(326), make_agency(1047, seq="47", province="ลำปาง")],
        source="t",
        operator="op",
    )
    assert {r.agency.id for r in store.find("๔๗")} == {"tak-47", "tak-1047"}
    assert {r.agency.id for r in store.find("47")} == {"tak-47", "tak-1047"}
    assert [r.agency.id for r in store.find("tak-326")] == ["tak-326"]
    assert [r.agency.id for r in store.find("๓๒๖")] == ["tak-326"]
    assert store.find("999") == []
    assert store.find("นครสวรรค์") == []
    assert store.find("") == []


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------
def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    data = json.loads(store.path.read_text(encoding="utf-8"))
    data["meta"]["1"]["schema"] = SCHEMA + 1
    store.path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before = store.path.read_bytes()
    with pytest.raises(StoreError) as err:
        Store(store.path)
    message = str(err.value)
    assert str(store.path) in message and f"schema {SCHEMA + 1}" in message and "upgrade" in message
    with pytest.raises(StoreError):
        store.add_note("tak-1", "x", "op")  # the open instance refuses too
    assert store.path.read_bytes() == before


def test_foreign_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"_default": {"1": {"name": "not ours"}}}', encoding="utf-8")
    with pytest.raises(StoreError, match="not a saraban store"):
        Store(path)
    path.write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(StoreError, match="not a saraban store"):
        Store(path)
    assert path.read_text(encoding="utf-8") == "[1, 2, 3]"


def test_operator_file_with_newer_schema_is_refused(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    data = json.loads(store.operator_path.read_text(encoding="utf-8"))
    data["meta"]["1"]["schema"] = 99
    store.operator_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreError, match=r"operator\.json.*schema 99"):
        Store(store.path)


@pytest.mark.parametrize(
    "damage", [b'{"meta": {"1": {"schema": 1, "app": "saraban"}}, "agen', b"\x00\x00garbage"]
)
def test_corrupt_file_is_refused_and_not_overwritten(tmp_path: Path, damage: bytes) -> None:
    store = new_store(tmp_path)
    store.path.write_bytes(damage)
    with pytest.raises(StoreError) as err:
        Store(store.path)
    assert str(store.path) in str(err.value) and "damaged" in str(err.value)
    with pytest.raises(StoreError):
        store.merge_import([make_agency(9)], source="x", operator="op")
    with pytest.raises(StoreError):
        store.records()
    assert store.path.read_bytes() == damage


def test_corrupt_verdict_shard_is_reported(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    store.save_verdicts([make_verdict("tak-1")])
    [shard] = sorted((tmp_path / "store" / "saraban.json.verdicts").glob("*.json"))
    shard.write_text("{broken", encoding="utf-8")
    with pytest.raises(StoreError, match=str(shard.name)):
        Store(store.path).records()
    with pytest.raises(StoreError):
        store.save_verdicts([make_verdict("tak-1", group="A1")])
    assert shard.read_text(encoding="utf-8") == "{broken"


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = new_store(tmp_path)
        store.save_verdicts([make_verdict("tak-1")])
        store.add_note("tak-1", "x", "op")
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"saraban.json", "saraban.json.operator.json", "saraban.json.lock"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_stale_temp_files_are_cleaned_at_open(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    stale = store.path.parent / ".saraban.json.tmp-999999-deadbeef"
    stale.write_text("half a file", encoding="utf-8")
    reopened = Store(store.path)
    assert not stale.exists()
    assert len(reopened.records()) == 3


def test_generation_changes_when_anyone_writes(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    other = Store(store.path)
    g0 = store.generation()
    assert store.generation() == g0
    other.add_note("tak-1", "x", "op")
    g1 = store.generation()
    assert g1[0] == g0[0] and g1[1] != g0[1]
    other.save_verdicts([make_verdict("tak-1")])
    g2 = store.generation()
    assert g2[0] != g1[0]
    assert store.record("tak-1").notes[0].text == "x"  # the poller sees the other instance's data


# ---------------------------------------------------------------------------------------------
# Write failures (read-only places: tests/reliability/test_store_crash.py)
# ---------------------------------------------------------------------------------------------
def test_write_failure_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = new_store(tmp_path)
    store.add_note("tak-1", "kept", "op")

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(StoreError, match="No space left"):
        store.add_note("tak-1", "lost", "op")
    monkeypatch.undo()
    assert [n.text for n in Store(store.path).record("tak-1").notes] == ["kept"]
    assert not list(store.path.parent.glob(".*tmp-*"))


def test_history_running_out_of_space_says_the_verdicts_were_saved_and_keeps_it_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = new_store(tmp_path)
    store.save_verdicts([make_verdict("tak-1", "D3", "2026-01-05T10:00:00+07:00")])
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:  # the disk fills in the middle of a history record
        if len(data) > 1:
            return real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(StoreError) as caught:
        store.save_verdicts([make_verdict("tak-1", "B3", "2026-01-06T10:00:00+07:00")])
    monkeypatch.undo()
    message = str(caught.value)
    assert "No space left on device" in message and "were saved" in message and "intact" in message
    assert Store(store.path).record("tak-1").verdict.group == "B3"  # what the message says was saved
    store.save_verdicts([make_verdict("tak-1", "A1", "2026-01-07T10:00:00+07:00")])
    # the torn record was cut off: the next scan's history line is readable after it
    assert [g for _, g in Store(store.path).group_history("tak-1")] == ["D3", "A1"]


# ---------------------------------------------------------------------------------------------
# Several processes
# ---------------------------------------------------------------------------------------------
def _correct_many(path: str, worker: int, count: int) -> None:
    store = Store(path)
    for i in range(count):
        store.add_correction(
            f"tak-{i % 5 + 1}", f"w{worker}-{i}@tak.go.th", f"worker {worker}", f"op{worker}"
        )


def _save_rounds(path: str, month: str, rounds: int) -> None:
    store = Store(path)
    for r in range(rounds):
        store.save_verdicts(
            [make_verdict(f"tak-{i}", at=f"{month}-{r + 1:02d}") for i in range(1, 201)], batch_size=40
        )


def _run_processes(*targets: tuple[object, tuple[object, ...]]) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=t, args=a) for t, a in targets]  # type: ignore[arg-type]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0


def test_two_processes_correcting_at_once_lose_nothing(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=5)
    _run_processes((_correct_many, (str(store.path), 1, 150)), (_correct_many, (str(store.path), 2, 150)))
    records = Store(store.path).records()
    corrections = [c for r in records for c in r.corrections]
    assert len(corrections) == 300
    assert {c.new_address for c in corrections} == {f"w{w}-{i}@tak.go.th" for w in (1, 2) for i in range(150)}
    for rec in records:  # every correction saw the one before it: no interleaved read-modify-write
        chain = [rec.agency.declared] + [c.new_address for c in rec.corrections]
        assert [c.old_address for c in rec.corrections] == chain[:-1]


def test_bulk_verdicts_and_corrections_at_once_lose_nothing(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=200)
    _run_processes(
        (_save_rounds, (str(store.path), "2026-02", 6)), (_correct_many, (str(store.path), 1, 150))
    )
    records = Store(store.path).records()
    assert sum(len(r.corrections) for r in records) == 150
    assert all(r.verdict is not None and r.verdict.checked_at == "2026-02-06" for r in records)
    expected = [f"2026-02-{d:02d}" for d in range(5, 0, -1)]
    assert all([v.checked_at for v in r.history] == expected for r in records)


def test_two_processes_saving_verdicts_for_the_same_agencies_lose_no_history(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=200)
    _run_processes(
        (_save_rounds, (str(store.path), "2026-02", 4)), (_save_rounds, (str(store.path), "2026-03", 4))
    )
    for rec in Store(store.path).records():
        seen = sorted(v.checked_at for v in (rec.verdict, *rec.history) if v is not None)
        assert seen == [f"2026-0{m}-0{d}" for m in (2, 3) for d in range(1, 5)]


def test_threads_sharing_one_store_are_serialised(tmp_path: Path) -> None:
    store = new_store(tmp_path, n=2)

    def work(worker: int) -> None:
        for i in range(40):
            store.add_correction(f"tak-{i % 2 + 1}", f"t{worker}-{i}@tak.go.th", "", "op")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = store.records()
    assert sum(len(r.corrections) for r in records) == 160
    for rec in records:
        chain = [rec.agency.declared] + [c.new_address for c in rec.corrections]
        assert [c.old_address for c in rec.corrections] == chain[:-1]


def test_group_change_time_is_known_without_the_history(tmp_path: Path) -> None:
    """'Changed since' in a list view: when the group last changed, from light records."""
    store = new_store(tmp_path)
    store.save_verdicts([make_verdict("tak-1", "D3", "2026-01-01T09:00:00+07:00")])
    store.save_verdicts([make_verdict("tak-1", "D3", "2026-01-02T09:00:00+07:00")])  # same group
    store.save_verdicts([make_verdict("tak-2", "D3", "2026-01-01T09:00:00+07:00")])
    store.save_verdicts([make_verdict("tak-2", "A1", "2026-01-03T09:00:00+07:00")])  # fixed
    light = {r.agency.id: r for r in Store(store.path).records(with_history=False, light=True)}
    assert light["tak-1"].group_changed_at == "2026-01-01T09:00:00+07:00"
    assert light["tak-2"].group_changed_at == "2026-01-03T09:00:00+07:00"
    assert light["tak-3"].group_changed_at is None  # never checked


def _schema1_store(tmp_path: Path, verdicts: list[Verdict], history_limit: int) -> Path:
    """A store as saraban wrote it before history was kept apart (schema 1, no group fields): agencies
    from `new_store`, then each agency's verdicts with the earlier ones in the shard's own history."""
    from console.store.codec import verdict_texts
    from console.store.layer import shard_of, stable_id

    path = new_store(tmp_path).path
    main = json.loads(path.read_text(encoding="utf-8"))
    main["meta"]["1"]["schema"] = 1
    path.write_text(json.dumps(main, ensure_ascii=False), encoding="utf-8")
    shards: dict[int, dict] = {}
    docs: dict[str, dict] = {}
    for verdict in verdicts:
        text, short = verdict_texts(verdict)
        doc = docs.get(verdict.agency_id)
        history = ([doc["compact"], *doc["history"]] if doc else [])[:history_limit]
        docs[verdict.agency_id] = {"agency_id": verdict.agency_id, "current": text, "compact": short, "history": history}
    directory = path.with_name(path.name + ".verdicts")
    directory.mkdir()
    for aid, doc in docs.items():
        shard = shards.setdefault(
            shard_of(aid), {"meta": {"1": {"schema": 1, "app": "saraban", "kind": "verdicts"}}, "verdicts": {}}
        )
        shard["verdicts"][str(stable_id(aid))] = doc
    for index, data in shards.items():
        (directory / f"{index:02d}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_group_change_time_of_verdicts_saved_before_it_was_kept(tmp_path: Path) -> None:
    """Older stores have no group_changed_at: it is worked out from the history when migrating, then kept."""
    days = (("D3", "01"), ("A1", "02"), ("A1", "03"))
    path = _schema1_store(tmp_path, [make_verdict("tak-1", g, f"2026-01-{d}T09:00:00+07:00") for g, d in days], 10)
    old = Store(path)
    assert old.notices and "upgraded" in old.notices[0]
    assert old.record("tak-1").group_changed_at == "2026-01-02T09:00:00+07:00"
    old.save_verdicts([make_verdict("tak-1", "A1", "2026-01-04T09:00:00+07:00")])
    assert Store(path).record("tak-1").group_changed_at == "2026-01-02T09:00:00+07:00"


def test_steady_group_beyond_the_kept_history_is_not_a_change(tmp_path: Path) -> None:
    """An old shard whose whole (truncated) history shows one group: no invented change date."""
    verdicts = [make_verdict("tak-1", "D3", f"2026-01-0{day}T09:00:00+07:00") for day in range(1, 7)]
    path = _schema1_store(tmp_path, verdicts, 3)
    old = Store(path, history_limit=3)
    assert old.record("tak-1").group_changed_at == ""  # unknown: not since any date we could name
    old.save_verdicts([make_verdict("tak-1", "D3", "2026-01-07T09:00:00+07:00")])
    assert Store(path, history_limit=3).record("tak-1").group_changed_at == ""
    old.save_verdicts([make_verdict("tak-1", "A1", "2026-01-08T09:00:00+07:00")])  # fixed at last
    assert Store(path, history_limit=3).record("tak-1").group_changed_at == "2026-01-08T09:00:00+07:00"


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": "\\ud800"}', '{"ไทย": "ตาก"}'.encode()])
def test_fast_parser_accepts_exactly_what_the_standard_library_accepts(raw: bytes) -> None:
    """orjson refuses some JSON that json accepts (NaN, lone surrogates): same result either way."""
    from console.store.codec import parse_json as _parse_json

    got, want = _parse_json(raw), json.loads(raw.decode("utf-8"))
    assert json.dumps(got) == json.dumps(want)


def test_exact_reads_keep_big_integers() -> None:
    """orjson would read 2**100 as a float: files with operator or imported data are read exactly."""
    from console.store.codec import parse_json as _parse_json

    assert _parse_json(b'{"n": 1267650600228229401496703205376}', fast=False) == {"n": 2**100}


def test_fast_parser_refuses_damage_like_the_standard_library() -> None:
    from console.store.codec import parse_json as _parse_json

    with pytest.raises(json.JSONDecodeError):
        _parse_json(b'{"verdicts": {"1": {"current": "x"}}} trailing garbage')
