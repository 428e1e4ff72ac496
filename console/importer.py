"""Reading agency lists: CSV/TSV/TXT, XLSX, or an http(s) URL serving one of those.

Lists come from info.go.th exports and from spreadsheets provinces send around: Thai or English headers
in many spellings, Thai digits, "/" for done, a preamble above the header. The importer maps what it
recognises, keeps the declared address exactly as written (the engine must see the mistakes), and
reports bad rows by the row number a person sees in the file instead of failing the whole import.
Only a file that cannot be read at all raises `ListReadError`.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from checks.model import Agency
from console.import_guard import ListLimitError, RowGuess, check_xlsx, text_rows
from console.thai import collapse_spaces, safe_text, to_ascii_digits

# Agency fields a column can map to, plus the recognised-but-unused previous result column.
FIELDS: tuple[str, ...] = (
    "seq",
    "name",
    "district",
    "province",
    "declared",
    "phone",
    "kind",
    "status",
    "announced_by",
    "code",
    "announced",
    "order_announced",
    "previous_result",
)
PREVIOUS_RESULT = "previous_result"
IGNORED = "(ignored)"
_IGNORE_WORDS = frozenset({"", "-", "ignore", "ignored", "skip", "none", IGNORED, "ไม่ใช้"})

MAX_CELL_CHARS = 2_000
MAX_ROWS = 200_000  # 8,286 agencies nationally; anything far beyond that is not an agency list
HEADER_SCAN_ROWS = 10
_XLSX_MAX_UNZIPPED_FACTOR = 40  # a zip bomb guard: unzipped size allowed per byte of max_bytes

_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_XLSX_TYPES = ("spreadsheetml", "ms-excel.sheet.macroenabled")
_TEXT_TYPES = ("text/", "csv", "tab-separated")


class ListReadError(Exception):
    """The list cannot be read at all; nothing was imported. The message says what and what to do."""


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped or read with a doubt; `row` is the 1-based row number as a person sees it."""

    row: int
    field: str
    message: str


@dataclass(frozen=True)
class ImportResult:
    agencies: list[Agency]
    problems: list[RowProblem]
    mapping: dict[str, str]  # header as written → field, "(ignored)" or "previous_result (ignored)"
    source: str
    sheet: str | None


# ------------------------------------------------------------------------------------------------
# Header recognition
# ------------------------------------------------------------------------------------------------

_EXACT: dict[str, str] = {}
for _field, _names in {
    "seq": ("ลำดับที่", "ลำดับ", "ที่", "no", "no.", "seq", "seq.", "#", "number", "ลำดับ ที่"),
    "name": (
        "หน่วยงาน",
        "ชื่อหน่วยงาน",
        "ชื่อ หน่วยงาน",
        "ชื่อส่วนราชการ",
        "ส่วนราชการ",
        "agency",
        "agency name",
        "name",
        "organisation",
        "organization",
        "ชื่อ อปท.",
        "ชื่อ อปท",
        "อปท.",
        "อปท",
    ),
    "district": ("อำเภอ", "อำเภอ/เขต", "เขต/อำเภอ", "เขต", "district", "amphoe", "amphur", "amphoe/district"),
    "province": ("จังหวัด", "province", "changwat"),
    "phone": (
        "โทรศัพท์",
        "เบอร์โทร",
        "เบอร์โทรศัพท์",
        "หมายเลขโทรศัพท์",
        "โทร",
        "โทร.",
        "phone",
        "tel",
        "tel.",
        "telephone",
        "phone number",
    ),
    "kind": ("ประเภทหน่วยงาน", "ประเภท", "ประเภท อปท.", "kind", "type", "agency type", "agency kind"),
    "status": ("สถานะ", "สถานะหน่วยงาน", "status"),
    "announced_by": ("ประกาศจาก", "announced by", "announcement by", "announcement from"),
    "code": ("รหัสหน่วยงาน", "รหัส", "รหัส อปท.", "code", "agency code", "org code", "id"),
}.items():
    for _n in _names:
        _EXACT[_n] = _field

_SECTION_10 = re.compile(r"(?:ม\.|มาตรา|section|sec\.?|s\.)\s*10(?!\d)")
_SECTION_16 = re.compile(r"(?:ม\.|มาตรา|section|sec\.?|s\.)\s*16(?!\d)")
_EMAIL_WORDS = ("email", "e-mail", "e mail", "อีเมล", "อีเมล์", "ไปรษณีย์อิเล็กทรอนิกส์")


def normalize_header(text: object) -> str:
    """A header as compared: safe, NFC, ASCII digits, case-folded, spaces collapsed, no trailing ':'."""
    out = collapse_spaces(to_ascii_digits(safe_text(text)).casefold())
    out = out.rstrip(":：").strip()
    return re.sub(r"ม\.\s+(\d)", r"ม.\1", out)


def guess_field(header: object) -> str | None:
    """The field a header names, PREVIOUS_RESULT, or None when it is not recognised."""
    h = normalize_header(header)
    if not h:
        return None
    if "ปัญหา" in h or h.startswith(("ผลการส่ง", "ผลการตรวจ", "previous result", "send result")):
        return PREVIOUS_RESULT
    if any(w in h for w in _EMAIL_WORDS):
        return "declared"
    if h in _EXACT:
        return _EXACT[h]
    bare = re.sub(r"\s*[\(\[].*?[\)\]]\s*", " ", h).strip()
    if bare in _EXACT:
        return _EXACT[bare]
    if "ประกาศจาก" in h or "announced by" in h:
        return "announced_by"
    if _SECTION_16.search(h) or "คำสั่ง" in h:
        return "order_announced"
    if _SECTION_10.search(h) or "ประกาศ" in h:
        return "announced"
    if h.startswith("รหัสหน่วยงาน"):
        return "code"
    if h.startswith(("เบอร์โทร", "โทรศัพท์", "หมายเลขโทร")):
        return "phone"
    return None


_ROUND_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})")


def round_date(header: object) -> str:
    """The date a previous-result header names ("ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘"), as an ISO date;
    "" when it names none. Day first, Buddhist Era years (> 2400) and two-digit BE years understood."""
    m = _ROUND_DATE.search(to_ascii_digits(safe_text(header)))
    if m is None:
        return ""
    day, month, year = (int(g) for g in m.groups())
    if year < 100:
        year += 2500  # "๐๗/๑๐/๖๘": Thai offices write two-digit BE years
    if year > 2400:
        year -= 543
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def _column_letter_index(key: str) -> int | None:
    if re.fullmatch(r"[A-Za-z]{1,3}", key):
        n = 0
        for c in key.upper():
            n = n * 26 + ord(c) - 64
        return n - 1
    return None


def _parse_overrides(mapping: dict[str, str] | None, source: str) -> list[tuple[str, str]]:
    """Validated (COLUMN, FIELD or "") pairs from --map; "" means ignore the column."""
    out: list[tuple[str, str]] = []
    for column, target in (mapping or {}).items():
        t = normalize_header(target)
        if t in _IGNORE_WORDS:
            out.append((str(column), ""))
            continue
        if t not in FIELDS:
            raise ListReadError(
                f"{source}: --map {column}={target}: ไม่รู้จักช่องข้อมูล '{target}' "
                f"ใช้ได้: {', '.join(FIELDS)} หรือ ignore"
            )
        out.append((str(column), t))
    return out


def _map_header(
    headers: Sequence[str], overrides: list[tuple[str, str]]
) -> tuple[dict[int, str], dict[str, str], set[str]]:
    """Column index → field, the mapping to report, and the override keys that matched a column."""
    fields: dict[int, str] = {}
    labels: dict[int, str] = {}
    norm = [normalize_header(h) for h in headers]
    forced: dict[int, str] = {}
    used: set[str] = set()
    for key, target in overrides:
        nkey = normalize_header(key)
        idx: int | None = next((i for i, h in enumerate(norm) if h and h == nkey), None)
        if idx is None and re.fullmatch(r"\d+", to_ascii_digits(key.strip())):
            idx = int(to_ascii_digits(key.strip())) - 1
        if idx is None:
            idx = _column_letter_index(key.strip())
        if idx is not None and 0 <= idx < 16_384:
            forced[idx] = target
            used.add(key)
    taken: set[str] = {f for f in forced.values() if f}
    for i in range(max(len(headers), max(forced, default=-1) + 1)):
        if i in forced:
            if forced[i]:
                fields[i] = forced[i]
            labels[i] = forced[i] or IGNORED
            continue
        h = headers[i] if i < len(headers) else ""
        guess = guess_field(h)
        if guess is None or guess in taken:
            if i < len(norm) and norm[i]:  # columns without a header are not worth listing
                labels[i] = IGNORED
        else:
            fields[i] = guess
            labels[i] = guess
            taken.add(guess)
    report: dict[str, str] = {}
    for i, label in sorted(labels.items()):
        h = collapse_spaces(safe_text(headers[i])) if i < len(headers) else ""
        key = h or f"#{i + 1}"
        if key in report:
            key = f"{key} #{i + 1}"
        report[key] = label
    return fields, report, used


# ------------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------------

_TRUE = frozenset({"/", "✓", "✔", "☑", "มี", "yes", "y", "true", "1", "x", "ใช่", "done", "แล้ว", "มีแล้ว"})
_FALSE = frozenset({"", "-", "–", "—", "ไม่มี", "no", "n", "false", "0", "ไม่", "ไม่ใช่", "ยังไม่มี", "×", "✗", "✘"})


def cell_text(value: object) -> str:
    """A cell value as text: numbers without a spurious ".0", dates as ISO, None as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ", timespec="seconds")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def parse_done(value: object) -> bool | None:
    """A "done" marker: True, False, or None when the cell says nothing recognisable."""
    if isinstance(value, bool):
        return value
    t = collapse_spaces(to_ascii_digits(safe_text(cell_text(value))).casefold())
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    # Something else written in a "done" column (a date, a note) means it was done, unless it says "not".
    return not t.startswith(("ไม่", "ยังไม่", "no ", "not "))


def agency_id(name: str, district: str, province: str, code: str = "") -> str:
    """A stable id: the 13-digit agency code, else a hash of name/district/province (re-imports match)."""
    if re.fullmatch(r"[0-9]{13}", code, re.ASCII):
        return code
    key = "\x1f".join(collapse_spaces(unicodedata.normalize("NFC", s)) for s in (name, district, province))
    return "p-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _clean(value: object) -> str:
    return safe_text(cell_text(value)).strip()


def _clean_code(value: object) -> str:
    text = to_ascii_digits(_clean(value))
    compact = re.sub(r"[\s\-.]", "", text)
    return compact if re.fullmatch(r"[0-9]{13}", compact, re.ASCII) else text


def _clean_phone(value: object) -> str:
    # A Thai number typed into a numeric cell loses its leading 0 (0812345678 → 812345678).
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        digits = cell_text(value)
        if digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 9:
            return "0" + digits
    return _clean(value)


# ------------------------------------------------------------------------------------------------
# Rows → agencies
# ------------------------------------------------------------------------------------------------

Row = tuple[int, list[Any] | RowGuess]  # (row number as a person sees it, cell values or a doubt)


def _visible(text: str) -> bool:
    """True when the text has something a person can see (not only zero-width / format characters)."""
    return any(unicodedata.category(ch)[0] in "LNMPS" for ch in text)


def _is_empty(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _find_header(
    rows: list[Row], overrides: list[tuple[str, str]]
) -> tuple[int, dict[int, str], dict[str, str], set[str]] | None:
    """The first row within the first rows that maps at least name + declared."""
    for pos, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        if isinstance(cells, RowGuess):
            continue
        headers = [cell_text(c) for c in cells]
        fields, report, used = _map_header(headers, overrides)
        if {"name", "declared"} <= set(fields.values()):
            return pos, fields, report, used
    return None


def _build(
    rows: Iterator[Row], source: str, sheet: str | None, overrides: list[tuple[str, str]]
) -> ImportResult | None:
    """Agencies from rows, or None when no header row is recognised."""
    head: list[Row] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    found = _find_header(head, overrides)
    if found is None:
        return None
    pos, fields, report, used = found
    prev_col = next((i for i, f in fields.items() if f == PREVIOUS_RESULT), None)
    header_cells = head[pos][1]
    previous_round = (
        round_date(cell_text(header_cells[prev_col])) if prev_col is not None and prev_col < len(header_cells) else ""
    )
    missing = [k for k, _ in overrides if k not in used]
    if missing:
        header_row = head[pos][1]
        headers = [collapse_spaces(safe_text(cell_text(c))) for c in header_row if not isinstance(header_row, RowGuess)]
        raise ListReadError(
            f"{source}: ไม่พบคอลัมน์ {', '.join(missing)} ที่ระบุใน --map "
            f"(คอลัมน์ที่มี: {' | '.join(h for h in headers if h)}) ตรวจชื่อคอลัมน์แล้วลองใหม่"
        )

    agencies: list[Agency] = []
    problems: list[RowProblem] = []
    seen_keys: dict[str, int] = {}  # agency id → rows so far that gave it

    def data_rows() -> Iterator[Row]:
        yield from head[pos + 1 :]
        yield from rows

    count = 0
    for number, cells in data_rows():
        if isinstance(cells, RowGuess):
            problems.append(RowProblem(number, "row", cells.reason))
            continue
        if _is_empty(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ListReadError(f"{source}: มีมากกว่า {MAX_ROWS:,} แถว ไม่ใช่รายชื่อหน่วยงาน แบ่งไฟล์แล้วนำเข้าใหม่")
        values: dict[str, Any] = {}
        too_long = None
        for idx, field in fields.items():
            value = cells[idx] if idx < len(cells) else None
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                too_long = field
                break
            values[field] = value
        if too_long:
            problems.append(RowProblem(number, too_long, f"ข้อความยาวเกิน {MAX_CELL_CHARS:,} ตัวอักษร ข้ามแถวนี้"))
            continue
        agency, problem = _agency(number, values, previous_round)
        if problem:
            problems.append(problem)
            continue
        assert agency is not None
        # Every row is an agency: a row naming the same agency as an earlier one (same code, or same
        # name, district and province) is kept with its own id (…~2, ~3) and flagged by the store as a
        # possible duplicate; whether they are one agency is the operator's call (saraban same/different).
        seen = seen_keys.get(agency.id, 0) + 1
        seen_keys[agency.id] = seen
        if seen > 1:
            agency = replace(agency, id=f"{agency.id}~{seen}")
        agencies.append(agency)
    return ImportResult(agencies, problems, report, source, sheet)


# The line under a list that counts it ("รวม ๓๒ หน่วยงาน", "Total"): no address, no district.
_TOTALS_ROW = re.compile(r"^\s*(?:รวม|ยอดรวม|total\b|sum\b)", re.IGNORECASE)


def _agency(number: int, v: dict[str, Any], previous_round: str = "") -> tuple[Agency | None, RowProblem | None]:
    name = _clean(v.get("name"))
    if not _visible(name):
        return None, RowProblem(
            number,
            "name",
            "ไม่มีชื่อหน่วยงาน (หรือมีแต่อักขระที่มองไม่เห็น หรือเป็นสูตรที่ไม่มีค่า) ข้ามแถวนี้: "
            "ใส่ชื่อหน่วยงาน (วางแบบค่า ไม่ใช่สูตร) แล้วนำเข้าใหม่",
        )
    raw_declared = v.get("declared")
    if _TOTALS_ROW.match(name) and not _clean(raw_declared) and not _clean(v.get("district")):
        return None, RowProblem(number, "name", f"แถวสรุปยอด ({safe_text(name)[:40]}) ไม่ใช่หน่วยงาน ข้ามแถวนี้")
    declared = raw_declared if isinstance(raw_declared, str) else cell_text(raw_declared)
    seq = to_ascii_digits(_clean(v.get("seq"))) or None
    district = _clean(v.get("district"))
    province = _clean(v.get("province"))
    code = _clean_code(v.get("code")) if "code" in v else ""
    status = _clean(v.get("status")).casefold()
    by = _clean(v.get("announced_by")).casefold()
    announced = parse_done(v["announced"]) if "announced" in v else True
    order = parse_done(v["order_announced"]) if "order_announced" in v else None
    agency = Agency(
        id=agency_id(name, district, province, code),
        name=name,
        declared=declared,
        seq=seq,
        district=district,
        province=province,
        kind=_clean(v.get("kind")),
        phone=_clean_phone(v.get("phone")),
        code=code,
        upgraded=any(w in status for w in ("ยกฐานะ", "upgraded", "ควบรวม", "merged")),
        parent_announcement=any(w in by for w in ("ต้นสังกัด", "parent")),
        announced=announced is not False,
        order_announced=order,
        previous_result=collapse_spaces(_clean(v.get("previous_result"))),
        previous_round=previous_round if "previous_result" in v else "",
    )
    return agency, None


# ------------------------------------------------------------------------------------------------
# Formats
# ------------------------------------------------------------------------------------------------

_DELIMITERS = ("\t", ",", ";")


def decode_text(data: bytes, source: str, charset: str | None = None) -> str:
    """Bytes of a text list → str: BOM-marked UTF-16, declared charset, UTF-8 (BOM or not), else cp874."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ListReadError(
                f"{source}: อ่านไฟล์ UTF-16 ไม่ได้ ({e.reason}) บันทึกเป็น CSV UTF-8 แล้วลองใหม่"
            ) from e
    encodings = ["utf-8-sig", "cp874"]
    if charset:
        cs = charset.strip().strip('"').lower()
        if cs in ("tis-620", "tis620", "windows-874", "x-windows-874", "iso-8859-11"):
            cs = "cp874"
        if cs not in encodings:
            encodings.insert(0, cs)
    for enc in encodings:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if text.count("\x00") > len(text) // 100:
            break  # UTF-16 without a BOM, or binary: not a text list (a stray NUL is a row problem)
        return text
    raise ListReadError(
        f"{source}: ไม่ใช่ไฟล์ข้อความที่อ่านได้ (ไม่ใช่ UTF-8 หรือ TIS-620/cp874) บันทึกเป็น CSV UTF-8 หรือ XLSX แล้วนำเข้าใหม่"
    )


def _read_text(
    data: bytes, source: str, overrides: list[tuple[str, str]], charset: str | None
) -> ImportResult:
    text = decode_text(data, source, charset)
    if _is_web_page(text):
        raise _web_page(source)
    first_lines = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    # Try each delimiter; the one that yields a recognised header wins (tab, then comma, then semicolon).
    candidates = sorted(_DELIMITERS, key=lambda d: -first_lines.count(d))
    # Huge cells must become row problems, not a csv.Error that fails the whole file; the limit is
    # process-wide, so it is only ever raised, up to the size of the text itself.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    for delim in candidates:
        if delim not in first_lines:
            continue
        result = _build(text_rows(text, delim), source, None, overrides)
        if result is not None:
            return result
    raise _no_header(source)


_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|script|div|table)[\s>/]", re.I)


def _is_web_page(text: str) -> bool:
    """An HTML page (a login page, an error page, the page that links to the list), not a list."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    return head.startswith("<") and _HTML_TAG.search(head) is not None


def _web_page(source: str) -> ListReadError:
    return ListReadError(
        f"{source}: เป็นหน้าเว็บ ไม่ใช่รายชื่อ (a web page, not a list) "
        "เปิดหน้านั้นในเบราว์เซอร์แล้วดาวน์โหลดไฟล์ CSV หรือ XLSX มานำเข้า หรือใช้ URL ของไฟล์โดยตรง"
    )


def _no_header(source: str, sheets: Sequence[str] = ()) -> ListReadError:
    where = f" (ชีตที่ตรวจ: {', '.join(sheets)})" if sheets else ""
    return ListReadError(
        f"{source}: ไม่พบแถวหัวตารางใน {HEADER_SCAN_ROWS} แถวแรก{where} "
        "ต้องมีคอลัมน์ชื่อหน่วยงาน (เช่น 'หน่วยงาน') และอีเมล (เช่น 'email ที่ระบุใน ม.๑๐') "
        "แก้หัวตารางหรือระบุเองด้วย --map COLUMN=FIELD"
    )


def _check_zip(data: io.BytesIO | Path, source: str, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(data) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except Exception as e:  # zipfile raises many kinds on a damaged directory (NotImplementedError, UnicodeDecodeError…)
        raise ListReadError(
            f"{source}: ไฟล์ XLSX เสียหรือไม่ใช่ XLSX ({e}) เปิดใน Excel/LibreOffice แล้วบันทึกใหม่"
        ) from e
    if total > max_bytes * _XLSX_MAX_UNZIPPED_FACTOR:
        raise ListReadError(f"{source}: ไฟล์ XLSX ใหญ่เกินไปเมื่อคลายออก ({total:,} ไบต์) แบ่งไฟล์แล้วนำเข้าใหม่")
    if isinstance(data, io.BytesIO):
        data.seek(0)
    try:
        with zipfile.ZipFile(data) as zf:
            check_xlsx(zf)
    except ListLimitError as e:
        raise ListReadError(
            f"{source}: ไฟล์ XLSX เกินขีดจำกัด ไม่ใช่รายชื่อหน่วยงานตามปกติ ({safe_text(e)}) "
            "ลบแถว/คอลัมน์ที่ไม่ใช้หรือแบ่งไฟล์ แล้วนำเข้าใหม่"
        ) from e
    except Exception as e:  # a damaged member (bad CRC, unsupported compression...)
        raise ListReadError(
            f"{source}: ไฟล์ XLSX เสียหรือไม่ใช่ XLSX ({type(e).__name__}) เปิดใน Excel/LibreOffice แล้วบันทึกใหม่"
        ) from e


def _read_xlsx(
    data: io.BytesIO | Path, source: str, sheet: str | None, overrides: list[tuple[str, str]], max_bytes: int
) -> ImportResult:
    import openpyxl

    _check_zip(data, source, max_bytes)
    if isinstance(data, io.BytesIO):
        data.seek(0)
    try:
        wb = openpyxl.load_workbook(data, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on damaged files
        raise ListReadError(
            f"{source}: เปิดไฟล์ XLSX ไม่ได้ ({type(e).__name__}: {safe_text(e)}) "
            "เปิดใน Excel/LibreOffice แล้วบันทึกเป็น .xlsx ใหม่"
        ) from e
    try:
        names = list(wb.sheetnames)
        if sheet is not None and sheet not in names:
            raise ListReadError(
                f"{source}: ไม่มีชีต '{safe_text(sheet)}' ชีตที่มี: {', '.join(safe_text(n) for n in names)} "
                "ระบุชื่อชีตให้ถูกต้อง"
            )
        for name in [sheet] if sheet is not None else names:
            ws = wb[name]
            if not hasattr(ws, "iter_rows"):  # chartsheets
                continue
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # stored dimensions can be wrong; read what is there
            rows = ((n, list(cells)) for n, cells in enumerate(ws.iter_rows(min_row=1, values_only=True), 1))
            try:
                result = _build(rows, source, name, overrides)
            except ListReadError:
                raise
            except Exception as e:
                raise ListReadError(
                    f"{source}: อ่านชีต '{safe_text(name)}' ไม่ได้ ({type(e).__name__}) "
                    "เปิดใน Excel/LibreOffice แล้วบันทึกใหม่"
                ) from e
            if result is not None:
                return result
        raise _no_header(source, [safe_text(n) for n in ([sheet] if sheet is not None else names)])
    finally:
        wb.close()


def _kind(name: str, head: bytes, content_type: str = "") -> str:
    """ "xlsx" or "text" from the content type, the suffix, then the bytes themselves."""
    ct = content_type.lower()
    if any(t in ct for t in _XLSX_TYPES):
        return "xlsx"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if any(t in ct for t in _TEXT_TYPES):
        return "text"
    lower = name.lower().split("?")[0].split("#")[0]
    if lower.endswith(_XLSX_SUFFIXES):
        return "xlsx"
    if lower.endswith(".xls"):
        return "xls"
    return "text"


def public_url(url: str) -> str:
    """The URL without user info (`user:password@`): what may be shown, logged and recorded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _fetch(url: str, shown: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    """The body of a URL (redirects followed, size limited while streaming) and its Content-Type,
    within one deadline for the whole download: a server dripping a byte at a time cannot hold it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_fetch_async(url, shown, max_bytes, timeout))
    with ThreadPoolExecutor(max_workers=1) as pool:  # called on an event loop's thread: not on that loop
        return pool.submit(asyncio.run, _fetch_async(url, shown, max_bytes, timeout)).result()


async def _fetch_async(url: str, shown: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    try:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(follow_redirects=True, timeout=timeout) as client,
            client.stream("GET", url) as r,
        ):
            if r.status_code != 200:
                raise ListReadError(f"{shown}: เซิร์ฟเวอร์ตอบ HTTP {r.status_code} ตรวจที่อยู่ URL แล้วลองใหม่")
            length = r.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise ListReadError(_too_big(shown, max_bytes))
            chunks: list[bytes] = []
            size = 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ListReadError(_too_big(shown, max_bytes))
                chunks.append(chunk)
            return b"".join(chunks), r.headers.get("content-type", "")
    except (TimeoutError, httpx.TimeoutException) as e:
        raise ListReadError(
            f"{shown}: ดาวน์โหลดไม่เสร็จภายใน {timeout:g} วินาที (เซิร์ฟเวอร์ช้าหรือไม่ตอบ) "
            "ลองใหม่ภายหลังหรือดาวน์โหลดไฟล์มาก่อนแล้วนำเข้าจากไฟล์"
        ) from e
    except httpx.HTTPError as e:
        detail = safe_text(e).replace(url, shown)
        raise ListReadError(
            f"{shown}: ดาวน์โหลดไม่ได้ ({type(e).__name__}: {detail}) ตรวจ URL และเครือข่าย หรือดาวน์โหลดไฟล์มาก่อน"
        ) from e


def _too_big(source: str, max_bytes: int) -> str:
    return f"{source}: ไฟล์ใหญ่เกิน {max_bytes:,} ไบต์ แบ่งไฟล์หรือเพิ่มขีดจำกัดแล้วลองใหม่"


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset=([^;\s]+)", content_type, re.I)
    return m.group(1) if m else None


def read_agencies(
    source: str | Path,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    max_bytes: int = 50_000_000,
    timeout: float = 30.0,
) -> ImportResult:
    """Read an agency list from a file path or an http(s) URL.

    `mapping` overrides header recognition: {COLUMN: FIELD}, COLUMN being a header as written, a
    1-based column number or a column letter; FIELD one of FIELDS or "ignore".
    Raises ListReadError when nothing can be read; bad rows are returned as problems instead.
    """
    src = str(source)
    is_url = re.match(r"^https?://", src, re.I) is not None
    shown = safe_text(public_url(src) if is_url else src)
    overrides = _parse_overrides(mapping, shown)
    if is_url:
        data, content_type = _fetch(src, shown, max_bytes, timeout)
        kind = _kind(src, data[:8], content_type)
        if kind == "xls":
            raise _old_xls(shown)
        if kind == "xlsx":
            return _read_xlsx(io.BytesIO(data), shown, sheet, overrides, max_bytes)
        return _read_text(data, shown, overrides, _charset(content_type))
    if "://" in src:
        raise ListReadError(f"{shown}: รองรับเฉพาะไฟล์ในเครื่องและ URL แบบ http/https")

    path = Path(src)
    try:
        if not path.is_file():
            raise ListReadError(f"{shown}: ไม่พบไฟล์ (หรือไม่ใช่ไฟล์) ตรวจชื่อและตำแหน่งไฟล์แล้วลองใหม่")
        size = path.stat().st_size
        if size > max_bytes:
            raise ListReadError(_too_big(shown, max_bytes))
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError as e:
        raise ListReadError(f"{shown}: ไม่มีสิทธิ์อ่านไฟล์ ตรวจสิทธิ์ของไฟล์ (chmod) แล้วลองใหม่") from e
    except OSError as e:
        raise ListReadError(f"{shown}: อ่านไฟล์ไม่ได้ ({e.strerror or e}) ตรวจไฟล์แล้วลองใหม่") from e
    if len(data) > max_bytes:
        raise ListReadError(_too_big(shown, max_bytes))
    if not data.strip():
        raise ListReadError(f"{shown}: ไฟล์ว่าง ไม่มีข้อมูลให้นำเข้า")
    kind = _kind(path.name, data[:8])
    if kind == "xls":
        raise _old_xls(shown)
    if kind == "xlsx":
        return _read_xlsx(io.BytesIO(data), shown, sheet, overrides, max_bytes)
    if sheet is not None:
        raise ListReadError(f"{shown}: ไฟล์ข้อความไม่มีชีต ไม่ต้องระบุ --sheet")
    return _read_text(data, shown, overrides, None)


def _old_xls(source: str) -> ListReadError:
    return ListReadError(
        f"{source}: เป็นไฟล์ Excel รุ่นเก่า (.xls) ที่ไม่รองรับ เปิดแล้วบันทึกเป็น .xlsx หรือ CSV UTF-8 ก่อน"
    )


_OPTION = re.compile(r"(?:^|\s)--\S")


@dataclass(frozen=True)
class ImportRequest:
    """What the console's import prompt asked for: `PATH-OR-URL [--sheet NAME] [--map COLUMN=FIELD ...]`."""

    source: str
    sheet: str | None = None
    mapping: dict[str, str] | None = None


def parse_import_line(line: str) -> ImportRequest:
    """The console's one-line import request, with the same options as `saraban import`.

    Without an option the whole line is the path, as typed: Thai file names often hold spaces,
    apostrophes or backslashes. With --sheet/--map the line is split like a shell would.
    """
    import shlex

    bare = line.strip()
    if not _OPTION.search(bare):
        if len(bare) >= 2 and bare[0] == bare[-1] and bare[0] in "'\"":
            bare = bare[1:-1]
        if not bare:
            raise ListReadError("ยังไม่ได้ระบุไฟล์ที่จะนำเข้า")
        return ImportRequest(bare)
    try:
        words = shlex.split(line)
    except ValueError as e:
        raise ListReadError(f"อ่านคำสั่งนำเข้าไม่ได้ ({e}): ใส่เครื่องหมายคำพูดรอบชื่อไฟล์ที่มีช่องว่าง") from e
    source: str | None = None
    sheet: str | None = None
    mapping: dict[str, str] = {}
    it = iter(words)
    for word in it:
        if word in ("--sheet", "--map"):
            value = next(it, None)
            if value is None:
                raise ListReadError(f"{word}: ต้องมีค่าตามหลัง เช่น {word} {'รายชื่อ' if word == '--sheet' else 'E=declared'}")
            if word == "--sheet":
                sheet = value
            else:
                column, sep, target = value.partition("=")
                if not sep or not column.strip():
                    raise ListReadError(f"--map {value}: เขียนเป็น COLUMN=FIELD เช่น --map E=declared")
                mapping[column.strip()] = target.strip()
        elif word.startswith("--"):
            raise ListReadError(f"{word}: ไม่รู้จักตัวเลือกนี้ ใช้ได้เฉพาะ --sheet และ --map")
        elif source is None:
            source = word
        else:
            raise ListReadError(f"{word}: นำเข้าได้ครั้งละหนึ่งไฟล์ (ชื่อไฟล์ที่มีช่องว่างให้ใส่เครื่องหมายคำพูด)")
    if not source:
        raise ListReadError("ยังไม่ได้ระบุไฟล์ที่จะนำเข้า")
    return ImportRequest(source, sheet, mapping or None)
