"""Follow-up exports as the operator opens them: Thai intact, no formulas, private files, readable by LibreOffice."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from checks.config import DEFAULT_RULES
from checks.model import (
    DNS_NXDOMAIN,
    DNS_OK,
    FLAG_CATCH_ALL,
    FLAG_SUGGESTED_FIX,
    HOST_OK,
    PROBE_ACCEPTED,
    PROBE_DOMAIN_NOT_FOUND,
    PROBE_MAILBOX_REJECTED,
    Agency,
    DnsResult,
    Evidence,
    Finding,
    HostAttempt,
    ProbeResult,
    SmtpReply,
    SuggestedFix,
    Verdict,
)
from console.export import (
    FOLLOWUP_COLUMNS,
    FOLLOWUP_COLUMNS_EN,
    followup_header,
    followup_rows,
    write_csv,
    write_jsonl,
    write_xlsx,
)
from console.thai import be_date, cell_safe, safe_text, to_ascii_digits, to_thai_digits

COL = {name: i for i, name in enumerate(FOLLOWUP_COLUMNS)}

TUNGLUANG = Agency(
    "p-1", "เทศบาลตำบลทุ่งหลวง", "saraban@tambonthungluang.co.th", "47", "แม่ระมาด", "ตาก", phone="055-123456"
)
TASAI = Agency("p-2", "องค์การบริหารส่วนตำบลท่าสายลวด", "Tasailuadmeasod@gmail.com", "326", "แม่สอด", "ตาก")
NONGBUA = Agency("p-3", "องค์การบริหารส่วนตำบลหนองบัวเหนือ", "saraban_๖๖๓๐๑๙@dla.go.th", "636", "เมืองตาก", "ตาก")
EVIL = Agency(
    "p-4",
    '=HYPERLINK("http://evil.example","โทรหาเรา")',
    "+66 1234@x.go.th",
    None,
    "@เมือง\x1b[31m",
    "-ตาก\x07",
    phone="=1+1",
)


def _verdict_d1() -> Verdict:
    probe = ProbeResult(
        "saraban@tambonthungluang.co.th",
        PROBE_DOMAIN_NOT_FOUND,
        dns=DnsResult("tambonthungluang.co.th", DNS_NXDOMAIN),
    )
    evidence = Evidence("saraban@tambonthungluang.co.th", "saraban@tambonthungluang.co.th", probe, rule="D1")
    return Verdict(
        "p-1", "D1", (Finding("non_government_domain", "co.th"), Finding("domain_not_found", "NXDOMAIN")), (),
        evidence, checked_at="2025-10-07T09:30:00+07:00",
    )  # fmt: skip


def _verdict_b1() -> Verdict:
    rcpt = SmtpReply(550, "5.1.1 The email account that you tried to reach does not exist", "5.1.1")
    attempt = HostAttempt("gmail-smtp-in.l.google.com", "127.0.0.9", 25, HOST_OK)
    probe = ProbeResult(
        "Tasailuadmeasod@gmail.com", PROBE_MAILBOX_REJECTED, DnsResult("gmail.com", DNS_OK), rcpt, (attempt,)
    )
    evidence = Evidence("Tasailuadmeasod@gmail.com", "tasailuadmeasod@gmail.com", probe, rule="B1")
    return Verdict(
        "p-2", "B1", (Finding("free_mail", "gmail.com"), Finding("mailbox_not_found", "550 5.1.1")), (FLAG_CATCH_ALL,),
        evidence, checked_at="2025-10-07T09:31:00+07:00",
    )  # fmt: skip


def _verdict_b3() -> Verdict:
    fix_probe = ProbeResult(
        "saraban_663019@dla.go.th", PROBE_ACCEPTED, rcpt=SmtpReply(250, "2.1.5 Ok", "2.1.5")
    )
    evidence = Evidence("saraban_๖๖๓๐๑๙@dla.go.th", None, None, fix_probe, rule="B3")
    return Verdict(
        "p-3", "B3", (Finding("bad_syntax", "Thai digits"),), (FLAG_SUGGESTED_FIX,), evidence,
        SuggestedFix("saraban_663019@dla.go.th", True, "thai_digits"), checked_at="2025-11-22T14:05:00+07:00",
    )  # fmt: skip


def _items() -> list[tuple[Agency, Verdict | None, str, list[str]]]:
    return [
        (TUNGLUANG, _verdict_d1(), TUNGLUANG.declared, ["โทรแล้ว ไม่มีผู้รับสาย"]),
        (TASAI, _verdict_b1(), TASAI.declared, []),
        (NONGBUA, _verdict_b3(), "saraban_663019@dla.go.th", ["แจ้งแก้ประกาศแล้ว", "=2+2"]),
        (EVIL, None, "", ["@evil\x1b]0;title\x07"]),
    ]


# ------------------------------------------------------------------------------------------------
# thai helpers
# ------------------------------------------------------------------------------------------------


def test_thai_digits_and_be_dates() -> None:
    assert to_ascii_digits("saraban_๖๖๓๐๑๙") == "saraban_663019"
    assert to_thai_digits("07/10/2568") == "๐๗/๑๐/๒๕๖๘"
    assert be_date("2026-11-22") == "22/11/2569"
    assert be_date("2025-10-07T09:30:00+07:00", thai_digits=True) == "๐๗/๑๐/๒๕๖๘"
    assert be_date("2025-10-07T09:30:00Z", with_time=True) == "07/10/2568 09:30"
    assert be_date("") == ""
    with pytest.raises(ValueError):
        be_date("เมื่อวาน")


def test_safe_text_strips_what_a_terminal_would_obey() -> None:
    hostile = "a\x1b]0;retitled\x07b\x1b[2J\x1b[31mc\x9b31md\u202ee\u2066f\x00g\x7fh\ud800i\r\nj\tk"
    assert safe_text(hostile) == "abc31mdef" + "gh\ufffdi j\tk"
    assert safe_text("เ\u0e35") == "เ\u0e35"  # Thai untouched
    assert safe_text("e\u0301") == "é"  # NFC
    assert safe_text(None) == ""


@pytest.mark.parametrize("text", ["=1+1", "+66", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1"])
def test_cell_safe_neutralises_formula_starts(text: str) -> None:
    out = cell_safe(text)
    assert out.startswith("'")
    assert "\r" not in out and "\n" not in out


def test_cell_safe_leaves_ordinary_text() -> None:
    assert cell_safe("saraban@dla.go.th") == "saraban@dla.go.th"
    assert cell_safe("องค์การบริหารส่วนตำบล") == "องค์การบริหารส่วนตำบล"


# ------------------------------------------------------------------------------------------------
# follow-up rows
# ------------------------------------------------------------------------------------------------


def test_followup_rows_say_problem_fix_and_evidence_in_thai() -> None:
    d1, b1, b3, unchecked = followup_rows(_items(), DEFAULT_RULES)
    assert len(d1) == len(FOLLOWUP_COLUMNS) == 20
    # ลำดับที่ is a number (Excel sorts 47 before 326), the phone stays text
    assert d1[COL["ลำดับที่"]] == 47 and d1[COL["โทรศัพท์"]] == "055-123456"
    # nothing was corrected: the current address is not the declared one repeated
    assert d1[COL["อีเมลตามประกาศ"]] == TUNGLUANG.declared and d1[COL["อีเมลปัจจุบัน"]] == ""
    assert d1[COL["กลุ่ม"]] == "D1" and d1[COL["ความหมายกลุ่ม"]] == "ไม่พบโดเมน"
    assert d1[COL["ปัญหา"]] == "ไม่พบโดเมนของอีเมลในระบบ DNS"
    assert d1[COL["วิธีแก้ไข"]].startswith("แก้ไขชื่อโดเมน")
    assert d1[COL["หลักฐาน"]] == "DNS nxdomain: tambonthungluang.co.th"
    assert d1[COL["ตรวจล่าสุด (พ.ศ.)"]] == "07/10/2568 09:30"
    assert d1[COL["บันทึก"]] == "โทรแล้ว ไม่มีผู้รับสาย"
    assert "B2" in d1[COL["ข้อสังเกต"]]  # the other finding is shown beside the group

    assert b1[COL["กลุ่ม"]] == "B1"
    assert b1[COL["หลักฐาน"]].startswith("550 5.1.1") and "gmail-smtp-in.l.google.com" in b1[COL["หลักฐาน"]]
    assert "catch-all" in b1[COL["ข้อสังเกต"]] and "D3" in b1[COL["ข้อสังเกต"]]

    assert b3[COL["อีเมลตามประกาศ"]] == "saraban_๖๖๓๐๑๙@dla.go.th"
    assert b3[COL["อีเมลปัจจุบัน"]] == "saraban_663019@dla.go.th"
    assert b3[COL["อีเมลที่แนะนำ"]] == "saraban_663019@dla.go.th"
    assert b3[COL["ผลตรวจอีเมลที่แนะนำ"]] == "ใช้ได้"
    # what exactly is wrong, for the phone call: the Thai digits, named
    assert "อีเมลเขียนด้วยเลขไทย (๖, ๓, ๐, ๑, ๙)" in b3[COL["รายละเอียดปัญหา"]]
    assert "gmail.com เป็นบริการอีเมลฟรี" in b1[COL["รายละเอียดปัญหา"]]
    assert "ไม่พบกล่องจดหมาย" in b1[COL["รายละเอียดปัญหา"]]  # the D3 beside the B1, in words
    assert d1[COL["สถานะการติดตาม"]] == ""
    assert b3[COL["ตรวจล่าสุด (พ.ศ.)"]] == "22/11/2568 14:05"

    assert unchecked[COL["กลุ่ม"]] == "" and unchecked[COL["ปัญหา"]] == "ยังไม่ได้ตรวจ"
    assert unchecked[COL["ลำดับที่"]] == ""


def test_followup_rows_in_english() -> None:
    d1 = followup_rows(_items()[:1], DEFAULT_RULES, lang="en")[0]
    assert d1[8] == "Domain not found" and d1[9] == "The domain does not exist (NXDOMAIN)"
    assert followup_header("en") == list(FOLLOWUP_COLUMNS_EN)
    assert len(FOLLOWUP_COLUMNS_EN) == len(FOLLOWUP_COLUMNS)


def test_suggested_fix_outcomes() -> None:
    base = _verdict_b3()
    for works, text in ((False, "ใช้ไม่ได้"), (None, "ยังไม่ได้ตรวจ")):
        verdict = Verdict(base.agency_id, base.group, base.findings, base.flags, base.evidence,
                          SuggestedFix("saraban_663019@dla.go.th", works), base.checked_at)  # fmt: skip
        row = followup_rows([(NONGBUA, verdict, NONGBUA.declared, [])], DEFAULT_RULES)[0]
        assert row[COL["ผลตรวจอีเมลที่แนะนำ"]] == text


# ------------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _assert_no_formula_text(values: list[str]) -> None:
    for v in values:
        assert not v.startswith(("=", "+", "-", "@")), v
        assert "\x1b" not in v and "\x07" not in v


def test_xlsx_read_back(tmp_path: Path, loose_umask: object) -> None:
    path = tmp_path / "ติดตาม.xlsx"
    path.write_bytes(b"old world-readable file")
    path.chmod(0o644)
    rows = followup_rows(_items(), DEFAULT_RULES)
    write_xlsx(path, list(FOLLOWUP_COLUMNS), rows)
    assert _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["ติดตาม.xlsx"]  # no temp file left behind

    wb = openpyxl.load_workbook(path)
    ws = wb["ติดตาม"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:T{len(rows) + 1}"
    assert [c.value for c in ws[1]] == list(FOLLOWUP_COLUMNS)
    values: list[str] = []
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            values.append("" if cell.value is None else str(cell.value))
    assert ws.cell(2, 2).value == "เทศบาลตำบลทุ่งหลวง"
    assert ws.cell(2, 1).value == 47 and ws.cell(2, 1).data_type == "n"
    assert ws.cell(4, 6).value == "saraban_๖๖๓๐๑๙@dla.go.th"
    # XLSX cells are typed: text that looks like a formula is kept as written, as a string cell with
    # Excel's quote prefix (no "'" in the text: that belongs to CSV only)
    evil = [c for c in ws[5]]
    assert evil[1].value == '=HYPERLINK("http://evil.example","โทรหาเรา")'
    assert evil[4].value == "=1+1" and evil[5].value == "+66 1234@x.go.th"
    assert evil[2].value == "@เมือง" and evil[3].value == "-ตาก"
    for cell in evil[1:6]:
        assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    assert ws.column_dimensions["B"].width >= 20  # wide enough for a Thai agency name


def test_csv_read_back(tmp_path: Path, loose_umask: object) -> None:
    path = tmp_path / "ติดตาม.csv"
    write_csv(path, list(FOLLOWUP_COLUMNS), followup_rows(_items(), DEFAULT_RULES))
    assert _mode(path) == 0o600
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Thai
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == list(FOLLOWUP_COLUMNS)
    assert len(table) == 5
    _assert_no_formula_text([v for row in table for v in row])
    assert table[3][COL["อีเมลตามประกาศ"]] == "saraban_๖๖๓๐๑๙@dla.go.th"
    assert table[4][COL["บันทึก"]] == "'@evil"


def test_jsonl(tmp_path: Path, loose_umask: object) -> None:
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"name": "อบต. ก", "banner": "bad \udcff byte"}, {"n": 1}])
    assert _mode(path) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "อบต. ก" in lines[0]  # not \u-escaped
    assert json.loads(lines[0])["banner"] == "bad \ufffd byte"
    assert json.loads(lines[1]) == {"n": 1}


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.csv"
    path.write_text("old", encoding="utf-8")

    def rows() -> Iterator[list[str]]:
        yield ["ok"]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_csv(path, ["h"], rows())
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_export_without_formulas(tmp_path: Path) -> None:
    path = tmp_path / "followup.xlsx"
    write_xlsx(path, list(FOLLOWUP_COLUMNS), followup_rows(_items(), DEFAULT_RULES))
    out = tmp_path / "out"
    profile = tmp_path / "profile"
    subprocess.run(
        [
            _soffice() or "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",  # UTF-8
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with (out / "followup.csv").open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == list(FOLLOWUP_COLUMNS)
    assert table[1][1] == "เทศบาลตำบลทุ่งหลวง"
    evil = table[4]
    assert evil[1].startswith("=HYPERLINK") and evil[4] == "=1+1"  # read as text, never evaluated


# ------------------------------------------------------------------------------------------------
# the workbook she phones from: the full sheet and the short phone sheet beside it
# ------------------------------------------------------------------------------------------------
PHONE_AGENCY = Agency("p-5", "เทศบาลตำบลแม่ระมาด", "saraban@maeramat.go.th", "9", "แม่ระมาด", "ตาก", phone="+66 55 511 141")


def _verdict_d2_compact() -> Verdict:
    """A D2 as the console's list holds it (history form): the finding has no detail."""
    probe = ProbeResult("saraban@maeramat.go.th", "no_mail_server", DnsResult("maeramat.go.th", DNS_OK))
    evidence = Evidence("saraban@maeramat.go.th", "saraban@maeramat.go.th", probe, rule="D2")
    return Verdict("p-5", "D2", (Finding("no_mail_server", "the domain cannot receive mail"),), (), evidence,
                   checked_at="2025-11-22T14:05:00+07:00")  # fmt: skip


def test_d2_names_the_domain_even_from_a_compact_verdict() -> None:
    row = followup_rows([(PHONE_AGENCY, _verdict_d2_compact(), PHONE_AGENCY.declared, [])], DEFAULT_RULES)[0]
    assert row[COL["รายละเอียดปัญหา"]].startswith("โดเมน maeramat.go.th รับอีเมลไม่ได้")
    assert "โดเมนนี้" not in row[COL["รายละเอียดปัญหา"]]


def test_followup_workbook_has_a_phone_sheet_beside_the_full_one(tmp_path: Path) -> None:
    from console.export import PHONE_COLUMNS, followup_records, write_followup

    items = [*_items(), (PHONE_AGENCY, _verdict_d2_compact(), PHONE_AGENCY.declared, [], "called_waiting")]
    path = tmp_path / "ติดตาม.xlsx"
    write_followup(path, followup_records(items, DEFAULT_RULES))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["ติดตาม", "สำหรับโทร"]
    phone = wb["สำหรับโทร"]
    assert [c.value for c in phone[1]] == list(PHONE_COLUMNS)
    rows = [[c.value for c in row] for row in phone.iter_rows(min_row=2)]
    assert len(rows) == len(items)
    maeramat = rows[-1]
    assert maeramat[:5] == [9, "เทศบาลตำบลแม่ระมาด", "แม่ระมาด", "+66 55 511 141", "saraban@maeramat.go.th"]
    assert maeramat[5].startswith("โดเมน maeramat.go.th รับอีเมลไม่ได้")
    assert maeramat[6].startswith("ให้ผู้ดูแลระบบแก้ไขเซิร์ฟเวอร์อีเมล")
    assert maeramat[7] is None  # ผลการโทร: empty, for her pen
    # the phone is shown as typed: no "'" in the text (a string cell, quote-prefixed for Excel)
    cell = phone.cell(len(items) + 1, 4)
    assert cell.value == "+66 55 511 141" and cell.data_type == "s" and cell.quotePrefix
    # the Thai-digit agency: the corrected address is the one to call about, the suggestion beside the fix
    nongbua = rows[2]
    assert nongbua[4] == "saraban_663019@dla.go.th" and "แนะนำ: saraban_663019@dla.go.th, ใช้ได้" in nongbua[6]
    assert phone.column_dimensions["H"].width >= 30  # room to write the outcome by hand
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.print_title_rows == "$1:$1"
    full = wb["ติดตาม"]
    assert full.cell(6, COL["โทรศัพท์"] + 1).value == "+66 55 511 141"
    assert full.cell(6, COL["สถานะการติดตาม"] + 1).value == "โทรแล้ว รอแก้ไข"


def test_followup_csv_keeps_the_quote_for_csv_only(tmp_path: Path) -> None:
    from console.export import followup_records, write_followup

    path = tmp_path / "ติดตาม.csv"
    write_followup(path, followup_records([(PHONE_AGENCY, None, PHONE_AGENCY.declared, [])], DEFAULT_RULES))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[1][COL["โทรศัพท์"]] == "'+66 55 511 141"  # CSV has no cell types: the prefix is the protection
