"""Follow-up exports: the phone list (XLSX/CSV) and machine-readable JSON lines.

Exports hold phone numbers and untrusted text, so every file is created 0600, written to a temp file
and moved into place (a crash never leaves half a list), and every spreadsheet cell goes through
`cell_safe` (no formulas, no control characters that would crash openpyxl).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from checks.config import Rule
from checks.model import (
    FLAG_CATCH_ALL,
    FLAG_IMPLICIT_MX,
    FLAG_NO_STARTTLS,
    FLAG_PROBER_BLOCKED,
    FLAG_SUGGESTED_FIX,
    FLAG_TYPO_SUSPECT,
    Agency,
    Verdict,
)
from console.findings_text import rule_advice
from console.i18n import tr
from console.opdc import opdc_line
from console.rules import FIXED_VERIFIED, Record, current_address, group_of
from console.store.atomic import atomic_write
from console.thai import be_date, cell_safe, safe_text

FOLLOWUP_COLUMNS: tuple[str, ...] = (
    "ลำดับที่",
    "หน่วยงาน",
    "อำเภอ",
    "จังหวัด",
    "โทรศัพท์",
    "อีเมลตามประกาศ",
    "อีเมลปัจจุบัน",
    "กลุ่ม",
    "ความหมายกลุ่ม",
    "ปัญหา",
    "รายละเอียดปัญหา",
    "วิธีแก้ไข",
    "อีเมลที่แนะนำ",
    "ผลตรวจอีเมลที่แนะนำ",
    "ตรวจล่าสุด (พ.ศ.)",
    "ผลรอบ ก.พ.ร. เทียบปัจจุบัน",
    "หลักฐาน",
    "ข้อสังเกต",
    "สถานะการติดตาม",
    "บันทึก",
)
FOLLOWUP_COLUMNS_EN: tuple[str, ...] = (
    "No.",
    "Agency",
    "District",
    "Province",
    "Phone",
    "Declared address",
    "Current address",
    "Group",
    "Group meaning",
    "Problem",
    "Problem details",
    "Fix",
    "Suggested address",
    "Suggested address check",
    "Last checked",
    "OPDC round vs now",
    "Evidence",
    "Flags",
    "Follow-up",
    "Notes",
)

_TEXTS: dict[str, dict[str, str]] = {
    "th": {
        "unchecked": "ยังไม่ได้ตรวจ",
        "works": "ใช้ได้",
        "fails": "ใช้ไม่ได้",
        "also": "พบด้วย",
        FLAG_CATCH_ALL: "เซิร์ฟเวอร์รับทุกชื่อ (catch-all) ยืนยันกล่องจดหมายไม่ได้",
        FLAG_IMPLICIT_MX: "ไม่มีระเบียน MX (ใช้ระเบียน A ของโดเมน)",
        FLAG_NO_STARTTLS: "เซิร์ฟเวอร์ไม่รองรับ STARTTLS",
        FLAG_SUGGESTED_FIX: "มีอีเมลที่แนะนำ",
        FLAG_TYPO_SUSPECT: "อาจพิมพ์ชื่อโดเมนผิด",
        FLAG_PROBER_BLOCKED: "เครื่องตรวจถูกเซิร์ฟเวอร์ปฏิเสธ",
    },
    "en": {
        "unchecked": "Not checked yet",
        "works": "works",
        "fails": "does not work",
        "also": "also",
        FLAG_CATCH_ALL: "catch-all server: mailbox unconfirmed",
        FLAG_IMPLICIT_MX: "no MX record (domain address used)",
        FLAG_NO_STARTTLS: "no STARTTLS",
        FLAG_SUGGESTED_FIX: "suggested fix available",
        FLAG_TYPO_SUSPECT: "possible typo in the domain",
        FLAG_PROBER_BLOCKED: "the prober was refused",
    },
}


def followup_header(lang: str = "th") -> list[str]:
    return list(FOLLOWUP_COLUMNS_EN if lang == "en" else FOLLOWUP_COLUMNS)


def _fix_outcome(works: bool | None, texts: dict[str, str]) -> str:
    if works is None:
        return texts["unchecked"]
    return texts["works"] if works else texts["fails"]


def _when(iso: str) -> str:
    try:
        return be_date(iso, with_time=True)
    except ValueError:
        return iso


@dataclass(frozen=True)
class ExportRow:
    """One line of the follow-up list, in FOLLOWUP_COLUMNS order."""

    seq: int | str  # a number when the list's ลำดับที่ is one (so Excel sorts it), else as written
    name: str
    district: str
    province: str
    phone: str
    declared: str
    current: str  # only when a correction changed it: "" when it is the declared address
    group: str
    group_label: str
    problem: str
    details: str  # what exactly is wrong, from the findings (the Thai digits, the free-mail domain, the reply)
    fix: str
    suggested: str
    suggested_result: str
    checked: str
    opdc: str  # OPDC's own round beside ours: "ก.พ.ร. 07/10/2568: reject:ไม่พบmail — ตอนนี้: A1"
    evidence: str
    flags: str
    followup: str  # "called, waiting for the fix" when an operator marked it
    notes: str

    @classmethod
    def build(
        cls,
        agency: Agency,
        verdict: Verdict | None,
        current: str,
        notes: Sequence[str],
        rules: Sequence[Rule],
        *,
        lang: str = "th",
        followup: str | None = None,
    ) -> ExportRow:
        """From an agency, its verdict (None: not checked yet), its current address and the notes."""
        texts = _TEXTS["en" if lang == "en" else "th"]
        by_group = {r.group: r for r in rules}
        group = label = problem = details = fix = suggested = suggested_result = checked = evidence = ""
        flags: list[str] = []
        if verdict is None:
            problem = texts["unchecked"]
        else:
            group = verdict.group
            rule = by_group.get(group)
            if rule is not None:
                label = (rule.label_en or rule.label_th) if lang == "en" else rule.label_th
                problem, fix = rule_advice(rule, lang, (f.code for f in verdict.findings))
            else:
                label = group
            if verdict.suggested_fix is not None:
                suggested = verdict.suggested_fix.address
                suggested_result = _fix_outcome(verdict.suggested_fix.works, texts)
            checked = _when(verdict.checked_at or verdict.evidence.checked_at)
            evidence = verdict.evidence.one_line()
            details = _details(verdict, lang)
            flags = [texts.get(f, f) for f in verdict.flags]
            flags += _other_findings(verdict, rules, texts["also"], lang)
        seq = agency.seq or ""
        return cls(
            seq=int(seq) if seq.isascii() and seq.isdigit() and len(seq) < 16 else seq,
            name=agency.name,
            district=agency.district,
            province=agency.province,
            phone=agency.phone,
            declared=agency.declared,
            current="" if current.strip() == agency.declared.strip() else current,
            group=group,
            group_label=label,
            problem=problem,
            details=details,
            fix=fix,
            suggested=suggested,
            suggested_result=suggested_result,
            checked=checked,
            opdc=opdc_line(agency, group or None, lang),
            evidence=evidence,
            flags="; ".join(dict.fromkeys(flags)),
            followup=(tr("followup.fixed_verified" if followup == FIXED_VERIFIED else "followup.called", lang)
                      if followup else ""),
            notes="; ".join(safe_text(n).strip() for n in notes if n and n.strip()),
        )

    def cells(self) -> list[int | str]:
        return [
            self.seq, self.name, self.district, self.province, self.phone, self.declared, self.current,
            self.group, self.group_label, self.problem, self.details, self.fix, self.suggested,
            self.suggested_result, self.checked, self.opdc, self.evidence, self.flags, self.followup,
            self.notes,
        ]  # fmt: skip


_NOT_A_PROBLEM = frozenset({"mail_accepted", "parent_announcement"})


def _details(verdict: Verdict, lang: str) -> str:
    """The findings as plain sentences (console.findings_text), for the phone call."""
    from console.findings_text import finding_text

    sentences = [
        finding_text(f, lang, declared=verdict.evidence.declared)
        for f in verdict.findings
        if f.code not in _NOT_A_PROBLEM
    ]
    return "; ".join(dict.fromkeys(s for s in sentences if s))


def _other_findings(verdict: Verdict, rules: Sequence[Rule], also: str, lang: str) -> list[str]:
    """Findings that point at another problem group than the deciding one (B1 with a D3 beside it)."""
    out: list[str] = []
    codes = set(verdict.finding_codes)
    for rule in rules:
        if rule.group == verdict.group or rule.bucket == "A" or not rule.any_of:
            continue
        if codes.intersection(rule.any_of):
            label = (rule.label_en or rule.label_th) if lang == "en" else rule.label_th
            out.append(f"{also} {rule.group} {label}")
    return out


def followup_rows(
    items: Iterable[tuple[Any, ...]],
    rules: Sequence[Rule],
    *,
    lang: str = "th",
) -> list[list[str]]:
    """Rows for the phone list; item = (agency, verdict or None, current address, note texts[, follow-up state])."""
    rows: list[list[str]] = []
    for agency, verdict, current, notes, *rest in items:
        followup = rest[0] if rest else None
        rows.append(ExportRow.build(agency, verdict, current, notes, rules, lang=lang, followup=followup).cells())
    return rows


def record_item(rec: Record) -> tuple[Agency, Verdict | None, str, list[str], str | None]:
    """What the phone list needs of a store record (console and CLI alike). A verdict about an
    address the agency no longer uses is history: the row says "not checked yet", as the screen does."""
    verdict = rec.verdict if group_of(rec) is not None else None
    return (rec.agency, verdict, current_address(rec), [note.text for note in rec.notes or ()], rec.followup)


def followup_records(items: Iterable[tuple[Any, ...]], rules: Sequence[Rule], *, lang: str = "th") -> list[ExportRow]:
    """Like followup_rows, as ExportRow objects (the phone sheet takes a few of their fields)."""
    out: list[ExportRow] = []
    for agency, verdict, current, notes, *rest in items:
        followup = rest[0] if rest else None
        out.append(ExportRow.build(agency, verdict, current, notes, rules, lang=lang, followup=followup))
    return out


PHONE_COLUMNS: tuple[str, ...] = ("ลำดับที่", "หน่วยงาน", "อำเภอ", "โทรศัพท์", "อีเมล", "ปัญหา", "วิธีแก้ไข", "ผลการโทร")
PHONE_COLUMNS_EN: tuple[str, ...] = ("No.", "Agency", "District", "Phone", "Address", "Problem", "Fix", "Call outcome")
SHEET_FULL = {"th": "ติดตาม", "en": "Follow-up"}
SHEET_PHONE = {"th": "สำหรับโทร", "en": "Phone list"}


def phone_cells(row: ExportRow, lang: str = "th") -> list[int | str]:
    """The short phone sheet: who, where to call, what is wrong and what to ask for; an empty
    outcome column for the officer's pen."""
    address = row.current or row.declared
    problem = row.details or row.problem
    fix = row.fix
    if row.suggested:
        fix = f"{fix} ({'suggested' if lang == 'en' else 'แนะนำ'}: {row.suggested}"
        fix += f", {row.suggested_result})" if row.suggested_result else ")"
    return [row.seq, row.name, row.district, row.phone, address, problem, fix, ""]


def write_followup(
    path: str | Path, rows: Sequence[ExportRow], *, lang: str = "th", fmt: str | None = None
) -> None:
    """The follow-up list: XLSX with the full sheet and the short phone sheet beside it, both
    print-ready (A4 landscape, fitted to the page width, header row on every page); CSV (`fmt`
    "csv", or a .csv path): the full list."""
    header = followup_header(lang)
    full = [r.cells() for r in rows]
    if (fmt or Path(path).suffix.lstrip(".").lower()) == "csv":
        write_csv(path, header, full)
        return
    phone_header = list(PHONE_COLUMNS_EN if lang == "en" else PHONE_COLUMNS)
    key = "en" if lang == "en" else "th"
    write_xlsx_sheets(
        path,
        [
            Sheet(SHEET_FULL[key], header, full, print_ready=True, wrap_at=28, unwrapped=(6, 7, 13)),
            Sheet(
                SHEET_PHONE[key],
                phone_header,
                [phone_cells(r, lang) for r in rows],
                print_ready=True,
                wrap_at=34,
                widths=((len(phone_header), 30),),  # room to write the call's outcome by hand
                unwrapped=(5,),
            ),
        ],
    )


def export_suffix(path: Path) -> Path:
    """XLSX unless the operator asked for CSV: `ติดตาม` → `ติดตาม.xlsx`, `list.v2` → `list.v2.xlsx`."""
    if path.suffix.lower() in (".xlsx", ".csv"):
        return path
    return path.with_suffix(path.suffix + ".xlsx") if path.suffix else path.with_suffix(".xlsx")


def export_target(typed: str, default_name: str, *, xlsx_only: bool = False) -> tuple[Path, bool]:
    """Where an export typed as `typed` goes, and whether a file is already there (does file I/O):
    a directory gets `default_name`, a name without .xlsx/.csv gets .xlsx (`xlsx_only`: any name does,
    for exports that have no CSV form, so the file asked about is the file written)."""
    target = Path(typed).expanduser()
    if target.is_dir():
        target = target / default_name
    target = target.with_suffix(".xlsx") if xlsx_only else export_suffix(target)
    return target, target.exists()


# ------------------------------------------------------------------------------------------------
# Where an export may go: only a regular file that is not part of a store
# ------------------------------------------------------------------------------------------------


class ExportTargetError(Exception):
    """The export cannot go where asked; the message names the path and what to do. Nothing was written."""


_STORE_MARK = re.compile(rb'"app"\s*:\s*"saraban"')
_SNIFF_BYTES = 1 << 20


def store_files(store_path: Path) -> list[Path]:
    """The files a store at `store_path` owns (or will own): main, operator, locks, verdict shards."""
    base = Path(store_path).expanduser().absolute()
    paths = [base]
    with contextlib.suppress(OSError):
        paths += [entry for entry in base.parent.iterdir() if entry.name.startswith(base.name + ".")]
    return paths


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _looks_like_store(path: Path) -> bool:
    """A saraban store file by its content: JSON whose meta says app = "saraban"."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False
    return head.lstrip()[:1] == b"{" and _STORE_MARK.search(head) is not None


def check_target(path: Path, *, store_path: Path | None = None, force: bool = False) -> Path:
    """Refuse an export target that is not a regular file we may replace; returns the path to write.

    Refused: a missing or read-only folder, a folder, a device node, FIFO or socket, any file of the
    open store (by path and by identity, so links count) or anything that looks like a store file,
    and an existing file unless `force` (the console asks first; the CLI needs --force).
    """
    target = Path(path).expanduser()
    shown = safe_text(str(target))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ExportTargetError(f"{shown}: the folder {safe_text(str(parent))} does not exist; create it or choose another")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportTargetError(f"{shown}: the folder {safe_text(str(parent))} is not writable; choose another")
    if store_path is not None:
        owned = store_files(store_path)
        base = owned[0]
        verdicts = base.with_name(base.name + ".verdicts")
        identities = {i for i in map(_identity, owned) if i is not None}
        if verdicts.is_dir():
            with contextlib.suppress(OSError):
                identities |= {i for i in map(_identity, verdicts.iterdir()) if i is not None}
        same_folder = _identity(parent) == _identity(base.parent)
        if (
            (same_folder and (target.name == base.name or target.name.startswith(base.name + ".")))
            or _identity(target) in identities
            or (_identity(parent) is not None and _identity(parent) == _identity(verdicts))
        ):
            raise ExportTargetError(
                f"{shown} is part of the store {safe_text(str(owned[0]))}; exporting there would destroy it. "
                "Choose another file name"
            )
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ExportTargetError(f"{shown}: cannot look at it ({exc.strerror or exc}); choose another path") from exc
    if stat.S_ISDIR(st.st_mode):
        raise ExportTargetError(f"{shown} is a folder; give a file name inside it (e.g. {shown}/ติดตาม.xlsx)")
    if not stat.S_ISREG(st.st_mode):
        raise ExportTargetError(
            f"{shown} is not a regular file (a device, pipe or socket); export to an ordinary file"
        )
    if _looks_like_store(target):
        raise ExportTargetError(f"{shown} is a saraban store file; exporting there would destroy it. Choose another name")
    if not force:
        raise ExportTargetError(f"{shown} already exists; add --force to replace it, or choose another name")
    return target


# ------------------------------------------------------------------------------------------------
# Writing files: 0600, temp file + os.replace
# ------------------------------------------------------------------------------------------------


def _atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through `write` into a 0600 temp file beside `path`, fsync, then replace `path`
    (the store's one atomic writer)."""
    atomic_write(path, write)


def _display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me") else 1 for c in text)


# A font every Thai government PC has (the Cabinet's standard document font since 2010); LibreOffice
# on Debian maps it to its metric twin Laksaman (fonts-tlwg-laksaman), so the pages lay out the same.
PRINT_FONT = "TH Sarabun New"
PRINT_FONT_SIZE = 14
_WRAP_AT = 40  # a print-ready column wider than this wraps its text instead of widening the page
_UNWRAPPED_MAX = 48
_HEADER_WRAP = 12  # a print-ready header longer than this wraps over lines
_CHAR_RATIO = 1.2  # column-width units per print-font character (measured on LibreOffice's pages)
_LINE_CHAR = 1.08  # width units one character of wrapped print-font text takes, word breaks included
_LINE_CHAR_BOLD = 1.3
_MARK = re.compile(r"[/✓\s0-9๐-๙]{0,6}")  # a column of "/" marks or sequence numbers
_LINE_PT = 22.0  # one line of the print font, in points (Thai needs room above and below)
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n")


def _xlsx_value(value: Any) -> Any:
    """Numbers stay numbers; everything else becomes safe text, kept as typed (no "'" prefix:
    the cell is typed as a string, which is what makes it inert in XLSX)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return safe_text("" if value is None else str(value))


@dataclass(frozen=True)
class Sheet:
    """One sheet of an export: a header row and rows, optionally print-ready.

    `heading` lines go above the header (a title, the check date), each in its own merged row.
    `print_ready`: A4 landscape fitted to the page width, the header row repeated on every page,
    the Thai print font, long columns wrapped, page numbers in the footer.
    """

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    heading: Sequence[str] = ()
    print_ready: bool = False
    wrap_at: int = _WRAP_AT
    widths: tuple[tuple[int, int], ...] = ()  # (column number, width) fixed instead of fitted
    unwrapped: tuple[int, ...] = ()  # columns (addresses) fitted up to _UNWRAPPED_MAX: never cut on the phone


def _text_cell(cell: Any, value: str) -> None:
    cell.value = value
    cell.data_type = "s"  # never "f", whatever the text
    if value.lstrip(" \u00a0").startswith(_FORMULA_LEAD):
        cell.quotePrefix = True  # Excel keeps it text when someone edits the cell


def _text_width(value: object) -> int:
    return max((_display_width(line) for line in str(value).splitlines()), default=0)


def _lines(value: object, width: float, *, bold: bool = False) -> int:
    """How many lines a wrapped cell of `width` units takes (Thai breaks between words, so a line
    ends short of the width; bold is wider). Measured on LibreOffice's pages of the letter."""
    room = max(1.0, width - 2)
    per_char = _LINE_CHAR_BOLD if bold else _LINE_CHAR
    need = [_display_width(line) * per_char for line in str(value).splitlines() or [""]]
    return sum(max(1, math.ceil(n / room)) for n in need)


def _fill_sheet(wb: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_sheet_title(sheet.title))
    header = list(sheet.header)
    rows = [list(r) for r in sheet.rows]
    ncols = max([len(header), *(len(r) for r in rows)], default=0)
    top = len(sheet.heading) + 1  # the header's row number
    for i, line in enumerate(sheet.heading, start=1):
        _text_cell(ws.cell(row=i, column=1), safe_text(line))
        if ncols > 1:
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=ncols)
    widths = [0] * ncols
    for r_idx, row in enumerate([header, *rows], start=top):
        for c_idx, raw in enumerate(row, start=1):
            value = _xlsx_value(raw)
            cell = ws.cell(row=r_idx, column=c_idx)
            if isinstance(value, str):
                _text_cell(cell, value)
            else:
                cell.value = value
            width = _text_width(value)
            if r_idx == top and sheet.print_ready:
                width = min(width, _HEADER_WRAP)  # a long header wraps over lines, not the page
            widths[c_idx - 1] = max(widths[c_idx - 1], width)
    limit = sheet.wrap_at if sheet.print_ready else 60
    ratio = _CHAR_RATIO if sheet.print_ready else 1.0
    fixed = dict(sheet.widths)
    final: list[float] = []
    for i, w in enumerate(widths, start=1):
        cap = max(limit, _UNWRAPPED_MAX) if i in sheet.unwrapped else limit
        final.append(fixed.get(i, min(max(round(w * ratio) + 2, 6), cap)))
        ws.column_dimensions[get_column_letter(i)].width = final[-1]
    for cell in ws[top] if ncols else ():
        cell.font = Font(bold=True)
    if ncols:
        ws.freeze_panes = f"A{top + 1}"
        ws.auto_filter.ref = f"A{top}:{get_column_letter(ncols)}{top + len(rows)}"
    if sheet.print_ready:
        _print_setup(ws, top, len(rows), final)


def _print_setup(ws: Any, top: int, nrows: int, widths: Sequence[float]) -> None:
    """A4 landscape fitted to the page width, the header row on every page, the Thai print font,
    a grid, wrapped text and row heights that hold it (LibreOffice does not re-measure on opening)."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.page import PageMargins

    size = PRINT_FONT_SIZE
    body, bold = Font(name=PRINT_FONT, size=size), Font(name=PRINT_FONT, size=size, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    centred = Alignment(wrap_text=True, vertical="center", horizontal="center")
    mark_style = Alignment(vertical="top", horizontal="center")
    thin = Side(style="thin", color="808080")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    shade = PatternFill("solid", fgColor="E7E6E6")
    for r in range(1, top):
        ws.cell(row=r, column=1).font = Font(name=PRINT_FONT, size=size + 2, bold=r == 1)
        ws.row_dimensions[r].height = _LINE_PT + 4
    # a column of marks ("/") or short numbers is centred
    short = [
        all(_MARK.fullmatch(str(c.value or "")) for c in col)
        for col in ws.iter_cols(min_row=top + 1, max_row=top + nrows, max_col=len(widths))
    ]
    for row in ws.iter_rows(min_row=top, max_row=top + nrows, max_col=len(widths)):
        lines = 1
        for cell, width, mark in zip(row, widths, short, strict=False):
            cell.border = grid
            if cell.row == top:
                cell.font, cell.alignment, cell.fill = bold, centred, shade
            else:
                cell.font, cell.alignment = body, mark_style if mark and nrows else wrap
            if cell.value not in (None, ""):
                lines = max(lines, _lines(cell.value, width, bold=cell.row == top))
        ws.row_dimensions[row[0].row].height = lines * _LINE_PT + 6
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{top}:{top}"
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.2, footer=0.3)
    ws.oddFooter.center.text = "&P / &N"


def write_xlsx_sheets(path: str | Path, sheets: Sequence[Sheet | tuple[str, Sequence[Any], Iterable[Sequence[Any]]]]) -> None:
    """An XLSX with one sheet per `Sheet` (or (title, header, rows)): bold frozen header, autofilter,
    column widths; print-ready sheets also get the page setup.

    Text cells are safe_text and typed as strings, so nothing in the file is a formula; ints and
    floats stay numbers.
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        _fill_sheet(wb, spec if isinstance(spec, Sheet) else Sheet(*spec))
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    buffer = io.BytesIO()
    wb.save(buffer)  # in memory first: a full disk then fails one plain write, not inside zipfile
    _atomic_write(path, lambda fh: fh.write(buffer.getbuffer()))


def _sheet_title(title: str) -> str:
    clean = "".join(c for c in safe_text(title) if c not in "[]:*?/\\").strip("'") or "Sheet"
    return clean[:31]


def write_xlsx(
    path: str | Path, header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "ติดตาม"
) -> None:
    """One-sheet XLSX (the follow-up list), 0600, atomic, no formulas."""
    write_xlsx_sheets(path, [(sheet_title, header, rows)])


def write_csv(path: str | Path, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """CSV in utf-8-sig (so Excel shows Thai), every cell cell_safe, 0600, atomic."""

    def write(fh: IO[bytes]) -> None:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow([cell_safe(v) for v in header])
        for row in rows:
            writer.writerow([cell_safe(v) for v in row])
        text.flush()
        text.detach()

    _atomic_write(path, write)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _json_clean(value: Any) -> Any:
    """Replace lone surrogates (from decoded SMTP text) that cannot be written as UTF-8."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_json_clean(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    return value


def write_jsonl(path: str | Path, objects: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line, Thai kept readable (ensure_ascii=False), 0600, atomic."""

    def write(fh: IO[bytes]) -> None:
        for obj in objects:
            line = json.dumps(obj, ensure_ascii=False, default=str)
            try:
                data = line.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate somewhere: clean the object (rare, and slow)
                data = json.dumps(_json_clean(obj), ensure_ascii=False, default=str).encode("utf-8")
            fh.write(data + b"\n")

    _atomic_write(path, write)
