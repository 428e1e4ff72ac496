"""The province's letter attachment as the districts receive it: one sheet per district, the letter's
words, print-ready, and pages LibreOffice actually lays out (skipped where LibreOffice is absent)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from checks.address import read_address
from checks.classify import build_verdict
from checks.config import DEFAULT_RULES
from checks.model import (
    DNS_NXDOMAIN,
    DNS_OK,
    HOST_OK,
    PROBE_ACCEPTED,
    PROBE_DOMAIN_NOT_FOUND,
    PROBE_MAILBOX_REJECTED,
    PROBE_NO_MAIL_SERVER,
    Agency,
    DnsResult,
    HostAttempt,
    ProbeResult,
    SmtpReply,
)
from checks.policy import policy_findings
from console.config import AppConfig
from console.letter import letter_sheets, thai_long_date, write_letter
from console.store import AgencyRecord
from console.thai import thai_sort_key

CHECKED = "2026-12-03T10:15:00+07:00"
POLICY = AppConfig().engine.policy

# (seq, name, district, declared, what the probe of the declared address found, OPDC's round)
TAK = [
    ("47", "เทศบาลตำบลทุ่งหลวง", "แม่ระมาด", "saraban@tambonthungluang.co.th", PROBE_DOMAIN_NOT_FOUND, "reject:ไม่พบโดเมน"),
    ("326", "องค์การบริหารส่วนตำบลท่าสายลวด", "แม่สอด", "Tasailuadmeasod@gmail.com", PROBE_MAILBOX_REJECTED, "reject:ไม่พบmail"),
    ("636", "องค์การบริหารส่วนตำบลหนองบัวเหนือ", "เมืองตาก", "saraban_๖๖๓๐๑๙@dla.go.th", None, "reject:ไม่พบmail"),
    ("12", "องค์การบริหารส่วนตำบลแม่จะเรา", "แม่ระมาด", "saraban_maecharao@dla.go.th", PROBE_MAILBOX_REJECTED, "reject:ไม่พบmail"),
    ("9", "เทศบาลตำบลแม่ระมาด", "แม่ระมาด", "saraban@maeramat.go.th", PROBE_NO_MAIL_SERVER, ""),
    ("5", "องค์การบริหารส่วนตำบลขะเนจื้อ", "แม่ระมาด", "", None, "reject:ไม่พบmail"),
    ("401", "องค์การบริหารส่วนตำบลพระธาตุผาแดง", "แม่สอด", "pratat.padaeng@hotmail.com", PROBE_ACCEPTED, ""),
    ("402", "เทศบาลนครแม่สอด", "แม่สอด", "saraban@maesotcity.go.th", PROBE_MAILBOX_REJECTED, ""),
] + [
    (str(700 + i), f"องค์การบริหารส่วนตำบลทดสอบที่ {i} ชื่อยาวมากเพื่อดูการตัดบรรทัด", "อุ้มผาง",
     f"saraban_umphang{i}@dla.go.th", PROBE_MAILBOX_REJECTED, "reject:ไม่พบmail")
    for i in range(1, 31)
]  # fmt: skip


def _probe(address: str, outcome: str) -> ProbeResult:
    domain = address.rpartition("@")[2]
    if outcome == PROBE_DOMAIN_NOT_FOUND:
        return ProbeResult(address, outcome, DnsResult(domain, DNS_NXDOMAIN))
    if outcome == PROBE_NO_MAIL_SERVER:
        return ProbeResult(address, outcome, DnsResult(domain, DNS_OK))
    code = 250 if outcome == PROBE_ACCEPTED else 550
    reply = SmtpReply(code, "ok" if code == 250 else "5.1.1 user unknown", None if code == 250 else "5.1.1")
    attempt = HostAttempt(f"mx.{domain}", "192.0.2.1", 25, HOST_OK)
    return ProbeResult(address, outcome, DnsResult(domain, DNS_OK), reply, (attempt,))


def _record(seq: str, name: str, district: str, declared: str, outcome: str | None, opdc: str) -> AgencyRecord:
    agency = Agency(
        f"p-{seq}", name, declared, seq, district, "ตาก", order_announced=True,
        previous_result=opdc, previous_round="2025-10-07",
    )  # fmt: skip
    reading = read_address(declared)
    policy = policy_findings(reading.address, "", POLICY) if reading.address else []
    probe = _probe(reading.ascii_address or declared, outcome) if outcome and reading.ok else None
    fix = _probe(reading.suggestion, PROBE_ACCEPTED) if reading.suggestion else None
    verdict = build_verdict(agency, reading, policy, probe, fix, DEFAULT_RULES, checked_at=CHECKED)
    return AgencyRecord(agency, verdict, (), (), (), None, ())


def _records() -> list[AgencyRecord]:
    return [_record(*row) for row in TAK]


def _letter(tmp_path: Path) -> Path:
    path = tmp_path / "หนังสือแจ้งอำเภอ.xlsx"
    records = [r for r in _records() if r.verdict is not None and r.verdict.group not in ("A1", "A2")]
    assert write_letter(path, records, DEFAULT_RULES) == len(records)
    return path


def test_one_sheet_per_district_in_thai_order(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(_letter(tmp_path))
    # เมืองตาก sorts under ม (its leading vowel does not count), after แม่… which sorts under ม too
    assert wb.sheetnames == ["เมืองตาก", "แม่ระมาด", "แม่สอด", "อุ้มผาง"]
    assert thai_sort_key("เมืองตาก") < thai_sort_key("แม่ระมาด") < thai_sort_key("อุ้มผาง")


def test_header_words_digits_and_check_date_in_be(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(_letter(tmp_path))["แม่ระมาด"]
    heading = [ws.cell(row, 1).value for row in range(1, 5)]
    assert heading[2] == "อำเภอแม่ระมาด จังหวัดตาก — ๔ หน่วยงาน"
    assert heading[3] == "ผลการตรวจ ณ วันที่ ๓ ธันวาคม ๒๕๖๙"
    header = [c.value for c in ws[5]]
    assert header == [
        "ลำดับที่", "หน่วยงาน", "อำเภอ", "จังหวัด",
        "การนำประกาศ ม.๑๐ ลงในระบบ info.go.th", "การนำคำสั่ง ม.๑๖ ลงในระบบ info.go.th",
        "email ที่ระบุใน ม.๑๐", "ผลการส่ง mail ของ ก.พ.ร. ๐๗/๑๐/๒๕๖๘", "ปัญหาในการส่ง mail ๐๓/๑๒/๒๕๖๙", "วิธีแก้ไข",
    ]  # fmt: skip
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=6)]
    # sorted by ลำดับที่ as numbers, written in Thai digits
    assert [r[0] for r in rows] == ["๕", "๙", "๑๒", "๔๗"]
    by_seq = {r[0]: r for r in rows}
    assert by_seq["๔๗"][1] == "เทศบาลตำบลทุ่งหลวง" and by_seq["๔๗"][4:6] == ["/", "/"]
    # the letter's own words, the deciding group's finding (B2 before D1) first, the reject beside it
    assert by_seq["๔๗"][8] == "ไม่ใช่โดเมนของหน่วยงานรัฐ (tambonthungluang.co.th); reject:ไม่พบโดเมน"
    assert by_seq["๑๒"][8] == "reject:ไม่พบmail"
    assert by_seq["๙"][8] == "reject:โดเมน maeramat.go.th รับ mail ไม่ได้"
    assert by_seq["๙"][7] == "ส่งได้"  # OPDC's round delivered (a blank cell on the list); now it does not
    assert by_seq["๕"][8] == "ไม่ได้ระบุ email ในประกาศ ม.๑๐" and by_seq["๕"][7] == "reject:ไม่พบmail"
    assert by_seq["๑๒"][9].startswith("สร้างกล่องจดหมาย")


def test_thai_digit_address_gets_the_suggested_fix(tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(_letter(tmp_path))["เมืองตาก"]
    row = [c.value for c in ws[6]]
    assert row[6] == "saraban_๖๖๓๐๑๙@dla.go.th"
    assert row[8].startswith("รูปแบบ email ไม่ถูกต้อง") and "เลขไทย" in row[8]
    assert "แก้เป็น saraban_663019@dla.go.th (ตรวจแล้วส่งได้)" in row[9]


def test_print_settings(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(_letter(tmp_path))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$5:$5"  # the header row on every page
        assert ws.freeze_panes == "A6"
        header = list(ws[5])
        assert all(c.font.b and c.font.name == "TH Sarabun New" for c in header)
        assert all(c.font.name == "TH Sarabun New" for c in ws[6])
        widths = {c.value: ws.column_dimensions[c.column_letter].width for c in header}
        address = widths.pop("email ที่ระบุใน ม.๑๐")
        longest = max(len(str(ws.cell(r, 7).value or "")) for r in range(6, ws.max_row + 1))
        assert address >= longest  # an address is never cut in two: it is read out on the phone
        assert widths["หน่วยงาน"] >= 20 and max(widths.values()) <= 32  # long text wraps instead of widening the page
        assert ws.cell(6, 2).alignment.wrap_text


def test_month_names() -> None:
    from datetime import date

    assert thai_long_date(date(2025, 10, 7)) == "๗ ตุลาคม ๒๕๖๘"


def test_lists_without_the_slash_columns_leave_them_out(tmp_path: Path) -> None:
    from dataclasses import replace

    records = [r for r in _records()[:2]]
    records = [AgencyRecord(replace(r.agency, order_announced=None, previous_result="", previous_round=""),
                            r.verdict, (), (), (), None, ()) for r in records]  # fmt: skip
    header = letter_sheets(records, DEFAULT_RULES)[0].header
    assert "การนำคำสั่ง ม.๑๖ ลงในระบบ info.go.th" not in header
    assert not any("ก.พ.ร." in h for h in header)


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_prints_the_letter(tmp_path: Path) -> None:
    """LibreOffice lays the letter out on A4 landscape pages: every district starts its own page, the
    30-agency district runs over two pages, and the Thai text is in the PDF as text."""
    path = _letter(tmp_path)
    out = tmp_path / "pdf"
    done = subprocess.run(
        [
            _soffice() or "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        timeout=180,
    )
    pdf = out / (path.stem + ".pdf")
    assert pdf.exists(), done.stderr.decode(errors="replace")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    fields = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)
    pages = int(fields["Pages"])
    assert 5 <= pages <= 8, pages  # 3 one-page districts + อุ้มผาง (30 rows) on 2–3 pages
    width, _, height = fields["Page size"].split()[:3]
    assert float(width) > float(height), "landscape"
    assert abs(float(width) - 842) < 3 and abs(float(height) - 595) < 3, "A4"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, timeout=60).stdout
    # a Thai font drew the text (TH Sarabun New, or Debian's metric twin Laksaman), not boxes
    assert "Laksaman" in fonts or "Sarabun" in fonts, fonts
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60)
    assert "reject:ไม่พบโดเมน" in text.stdout
    assert "ลำดับที่" in text.stdout and text.stdout.count("ลำดับที่") >= pages  # header repeated on every page
