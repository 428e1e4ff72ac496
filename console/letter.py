"""The province's letter attachment: the table a province sends its districts, one sheet per district.

Shaped like the tables provinces forward today (see the Tak excerpt in the README): ลำดับที่ in Thai
digits, หน่วยงาน, อำเภอ, จังหวัด, the two "/" columns (ม.๑๐ announcement and ม.๑๖ order in info.go.th)
when the list carried them, the address as declared, the problem as the letters phrase it
("reject:ไม่พบโดเมน", "reject:ไม่พบmail", ...) and the fix, under a heading with the check date in BE.
Print-ready through console.export's writer: A4 landscape fitted to the page width, the header row on
every page, the Thai print font. The letter is a Thai official document: it is always in Thai.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from checks.config import Rule
from checks.model import Agency, Verdict
from console.export import Sheet, write_xlsx_sheets
from console.findings_text import finding_text
from console.opdc import DELIVERED, opdc_state
from console.rules import Ruleset, group_of, needs_followup
from console.thai import be_date, safe_text, thai_long_date, thai_sort_key, to_ascii_digits, to_thai_digits

if TYPE_CHECKING:
    from console.store import AgencyRecord


TITLE = "รายชื่อหน่วยงานที่ต้องแก้ไขไปรษณีย์อิเล็กทรอนิกส์ตามประกาศ ม.๑๐"
SUBTITLE = "ตามพระราชบัญญัติการปฏิบัติราชการทางอิเล็กทรอนิกส์ พ.ศ. ๒๕๖๕"
NO_DISTRICT = "ไม่ระบุอำเภอ"
COL_ANNOUNCED = "การนำประกาศ ม.๑๐ ลงในระบบ info.go.th"
COL_ORDER = "การนำคำสั่ง ม.๑๖ ลงในระบบ info.go.th"

# Each finding as the letters phrase it; the deciding group's findings come first.
PHRASES: dict[str, str] = {
    "domain_not_found": "reject:ไม่พบโดเมน",
    "no_mail_server": "reject:โดเมน {domain} รับ mail ไม่ได้",
    "mailbox_not_found": "reject:ไม่พบmail",
    "free_mail": "ใช้อีเมลส่วนตัว ({domain}) ซึ่งไม่อนุญาต",
    "non_government_domain": "ไม่ใช่โดเมนของหน่วยงานรัฐ ({domain})",
    "no_announcement": "ยังไม่มีประกาศ ม.๑๐ ใน info.go.th",
    "no_address": "ไม่ได้ระบุ email ในประกาศ ม.๑๐",
    "upgraded": "หน่วยงานได้รับการยกฐานะ/ควบรวม",
    "temporary_failure": "ยังตรวจสอบไม่ได้ (เซิร์ฟเวอร์ตอบชั่วคราว)",
    "prober_blocked": "ยังตรวจสอบไม่ได้ (เซิร์ฟเวอร์ปฏิเสธเครื่องตรวจ)",
}
_NOT_A_PROBLEM = frozenset({"mail_accepted", "parent_announcement", "typo_suspect"})


@dataclass(frozen=True)
class LetterRow:
    seq: str  # Thai digits
    name: str
    district: str
    province: str
    announced: str  # "/" when done
    order: str
    declared: str
    opdc: str  # OPDC's own round's result, as the list carried it
    problem: str
    fix: str


def _day(iso: str) -> date | None:
    try:
        return date.fromisoformat(to_ascii_digits(iso.strip())[:10])
    except ValueError:
        return None


def problem_phrase(verdict: Verdict, rules: Sequence[Rule]) -> str:
    """The problem as the letters phrase it, the deciding group's findings first."""
    rule = next((r for r in rules if r.group == verdict.group), None)
    deciding = set(rule.any_of) | set(rule.all_of) if rule is not None else set()
    findings = sorted(
        (f for f in verdict.findings if f.code not in _NOT_A_PROBLEM),
        key=lambda f: f.code not in deciding,
    )
    address = verdict.evidence.normalized or verdict.evidence.declared
    domain = safe_text(address.rpartition("@")[2]).strip()
    phrases: list[str] = []
    for finding in findings:
        if finding.code == "bad_syntax":
            detail = finding_text(finding, "th", declared=verdict.evidence.declared)
            phrases.append(f"รูปแบบ email ไม่ถูกต้อง: {detail}" if detail else "รูปแบบ email ไม่ถูกต้อง")
        elif finding.code in PHRASES:
            phrases.append(PHRASES[finding.code].format(domain=domain or "ที่ระบุ"))
        else:
            phrases.append(safe_text(finding.message or finding.code))
    if not phrases:
        phrases.append(rule.label_th if rule is not None else verdict.group)
    return "; ".join(dict.fromkeys(phrases))


def fix_phrase(verdict: Verdict, rules: Sequence[Rule]) -> str:
    """The rule's fix, with the suggested address (and whether it was probed and works)."""
    rule = next((r for r in rules if r.group == verdict.group), None)
    fix = rule.fix_th if rule is not None else ""
    if verdict.suggested_fix is not None:
        works = verdict.suggested_fix.works
        outcome = "ตรวจแล้วส่งได้" if works else ("ตรวจแล้วยังส่งไม่ได้" if works is False else "ยังไม่ได้ตรวจ")
        fix = f"{fix} — แก้เป็น {verdict.suggested_fix.address} ({outcome})".strip(" —")
    return fix


def letter_row(record: AgencyRecord, rules: Sequence[Rule], fallback_seq: int) -> LetterRow | None:
    """One line of the attachment; None for an agency without a verdict (nothing to write yet)."""
    verdict = record.verdict
    if verdict is None:
        return None
    agency = record.agency
    seq = agency.seq if agency.seq and agency.seq.isascii() and agency.seq.isdigit() else str(fallback_seq)
    declared = agency.declared
    if record.current_address.strip() != declared.strip():
        declared = f"{declared} (แจ้งใหม่: {record.current_address})"
    return LetterRow(
        seq=to_thai_digits(seq),
        name=agency.name,
        district=agency.district,
        province=agency.province,
        announced="/" if agency.announced else "",
        order="/" if agency.order_announced else "",
        declared=declared,
        opdc=_opdc_said(agency),
        problem=problem_phrase(verdict, rules),
        fix=fix_phrase(verdict, rules),
    )


def _opdc_said(agency: Agency) -> str:
    """What OPDC's round said, as the list wrote it; a blank there meant delivered."""
    state = opdc_state(agency)
    if state is None:
        return ""
    return safe_text(agency.previous_result).strip() or ("ส่งได้" if state == DELIVERED else "")


def _seq_key(record: AgencyRecord) -> tuple[int, int, str]:
    seq = to_ascii_digits(record.agency.seq or "")
    if seq.isascii() and seq.isdigit():
        return (0, int(seq), thai_sort_key(record.agency.name))
    return (1, 0, thai_sort_key(record.agency.name))


def _checked_days(records: Iterable[AgencyRecord]) -> list[date]:
    days = {
        d
        for r in records
        if r.verdict is not None and (d := _day(r.verdict.checked_at or r.verdict.evidence.checked_at))
    }
    return sorted(days)


def _date_line(days: Sequence[date]) -> str:
    if not days:
        return ""
    if days[0] == days[-1]:
        return f"ผลการตรวจ ณ วันที่ {thai_long_date(days[-1])}"
    return f"ผลการตรวจระหว่างวันที่ {thai_long_date(days[0])} ถึงวันที่ {thai_long_date(days[-1])}"


def _opdc_round(records: Iterable[AgencyRecord]) -> str:
    """OPDC's round date as the column header writes it (Thai digits, BE); "" when the lists had none."""
    rounds = sorted({r.agency.previous_round for r in records if r.agency.previous_round})
    if not rounds:
        return ""
    try:
        return be_date(rounds[-1], thai_digits=True)
    except ValueError:
        return ""


def letter_sheets(records: Sequence[AgencyRecord], rules: Sequence[Rule]) -> list[Sheet]:
    """One print-ready sheet per district (sorted in Thai order), rows sorted by ลำดับที่.

    The "/" columns appear when the lists carried them (an ม.๑๖ order column was read for some agency),
    OPDC's column when the lists carried OPDC's round.
    """
    checked = [r for r in records if group_of(r) is not None]  # not a verdict about an old address
    with_marks = any(r.agency.order_announced is not None for r in checked)
    with_opdc = any(opdc_state(r.agency) is not None for r in checked)
    opdc_round = _opdc_round(checked)
    by_area: dict[tuple[str, str], list[AgencyRecord]] = {}
    for record in checked:
        key = (record.agency.district.strip() or NO_DISTRICT, record.agency.province.strip())
        by_area.setdefault(key, []).append(record)
    district_names = [d for d, _ in by_area]
    sheets: list[Sheet] = []
    for (district, province), members in sorted(
        by_area.items(), key=lambda kv: (thai_sort_key(kv[0][0]), thai_sort_key(kv[0][1]))
    ):
        members.sort(key=_seq_key)
        days = _checked_days(members)
        ours = be_date(days[-1], thai_digits=True) if days else ""
        header = ["ลำดับที่", "หน่วยงาน", "อำเภอ", "จังหวัด"]
        if with_marks:
            header += [COL_ANNOUNCED, COL_ORDER]
        header.append("email ที่ระบุใน ม.๑๐")
        if with_opdc:
            header.append(f"ผลการส่ง mail ของ ก.พ.ร. {opdc_round}".strip())
        header += [f"ปัญหาในการส่ง mail {ours}".strip(), "วิธีแก้ไข"]
        rows: list[list[str]] = []
        for n, record in enumerate(members, start=1):
            row = letter_row(record, rules, n)
            if row is None:
                continue
            cells = [row.seq, row.name, row.district, row.province]
            if with_marks:
                cells += [row.announced, row.order]
            cells.append(row.declared)
            if with_opdc:
                cells.append(row.opdc)
            cells += [row.problem, row.fix]
            rows.append(cells)
        where = f"อำเภอ{district}" if district != NO_DISTRICT else NO_DISTRICT
        if province:
            where += f" จังหวัด{province}"
        heading = [TITLE, SUBTITLE, f"{where} — {to_thai_digits(str(len(rows)))} หน่วยงาน"]
        if days:
            heading.append(_date_line(days))
        title = district if district_names.count(district) == 1 else f"{district} {province}"
        address_column = header.index("email ที่ระบุใน ม.๑๐") + 1
        sheets.append(
            Sheet(title, header, rows, heading=heading, print_ready=True, wrap_at=32, unwrapped=(address_column,))
        )
    return sheets


def letter_records(records: Iterable[AgencyRecord], ruleset: Ruleset, *, chosen: bool = False) -> list[AgencyRecord]:
    """The agencies a letter lists: with a current verdict (not one about an address the agency no
    longer uses) and, unless the groups were `chosen` by the operator, that need follow-up."""
    return [r for r in records if group_of(r) is not None and (chosen or needs_followup(r, ruleset))]


def write_letter(path: str | Path, records: Sequence[AgencyRecord], rules: Sequence[Rule]) -> int:
    """Write the attachment (0600, atomic, no formulas); returns the number of agencies in it.

    `records` are the agencies to list (the caller picks them: those that need follow-up).
    """
    sheets = letter_sheets(records, rules)
    if not sheets:
        raise ValueError("no checked agency to list in the letter")
    write_xlsx_sheets(path, sheets)
    return sum(1 for r in records if r.verdict is not None)
