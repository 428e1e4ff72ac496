"""Limits and doubts for untrusted lists, before the importer believes a byte of them.

An XLSX is a zip of XML: a 1.5 MB file can inflate to a gigabyte of empty rows or hold fifty million
shared strings, and openpyxl would read them all. `check_xlsx` streams every part once through expat
(no tree is built) and stops at the first limit, in well under a second and a few MB of memory.

A CSV reader that guesses merges rows silently: one unbalanced quote swallows the lines after it, a
bare CR splits a row in two, a NUL byte is not text. `text_rows` reads one physical line at a time and
reports every row it would have had to guess about, with its line number, instead of merging it.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

# A national list is 8,286 agencies in ~20 columns (an XLSX of ~1 MB, ~7 MB of XML): these are far above.
MAX_PART_BYTES = 100_000_000  # one XML part, inflated
MAX_TOTAL_BYTES = 200_000_000  # all parts, inflated
MAX_MEMBERS = 10_000
MAX_SHEET_ROWS = 250_000  # rows per sheet, counted by element and by row number
MAX_COLUMN = 16_384  # Excel's last column (XFD); beyond it the file is not from a spreadsheet program
MAX_CELLS = 10_000_000  # cells a reader would produce (row by row up to each row's last column)
MAX_SHARED_STRINGS = 500_000
_CHUNK = 1 << 20


class ListLimitError(Exception):
    """The list is beyond a limit (or not well-formed); the message says which and what to do."""


def _column_index(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            n = n * 26 + ord(ch) - 96
        else:
            break
    return n


class _PartCounter:
    """expat callbacks counting rows, cells and shared strings of one part; raise at a limit."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.rows = 0
        self.max_row = 0
        self.row_max_col = 0
        self.cells_in_row = 0
        self.virtual_cells = 0
        self.strings = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            self.cells_in_row += 1
            ref = attrs.get("r")
            col = _column_index(ref) if ref else self.cells_in_row
            if col > MAX_COLUMN:
                raise ListLimitError(f"{self.part}: a cell beyond Excel's last column ({ref})")
            self.row_max_col = max(self.row_max_col, col, self.cells_in_row)
        elif local == "row":
            self._end_row()
            self.rows += 1
            ref = attrs.get("r", "")
            number = int(ref) if ref.isdigit() and len(ref) < 10 else self.max_row + 1
            self.max_row = max(self.max_row, number)
            if self.rows > MAX_SHEET_ROWS or self.max_row > MAX_SHEET_ROWS:
                raise ListLimitError(f"{self.part}: more than {MAX_SHEET_ROWS:,} rows")
        elif local == "si":
            self.strings += 1
            if self.strings > MAX_SHARED_STRINGS:
                raise ListLimitError(f"{self.part}: more than {MAX_SHARED_STRINGS:,} different texts")

    def _end_row(self) -> None:
        self.virtual_cells += self.row_max_col
        self.row_max_col = self.cells_in_row = 0
        if self.virtual_cells > MAX_CELLS:
            raise ListLimitError(f"{self.part}: more than {MAX_CELLS:,} cells")

    def finish(self) -> None:
        self._end_row()


def _refuse_doctype(*_: object) -> None:
    raise ListLimitError("a DTD inside the XML (spreadsheet programs never write one)")


def check_xlsx(zf: zipfile.ZipFile) -> None:
    """Stream every part of the zip once; raise ListLimitError at the first limit passed.

    Sizes are counted as inflated, not as the zip directory claims, and XML is parsed without
    building a tree, so a bomb costs the time to reach a limit and almost no memory.
    """
    members = zf.infolist()
    if len(members) > MAX_MEMBERS:
        raise ListLimitError(f"{len(members):,} parts in the zip (at most {MAX_MEMBERS:,})")
    total = 0
    for info in members:
        if info.is_dir():
            continue
        xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        counter = _PartCounter(info.filename)
        parser = expat.ParserCreate()
        parser.StartElementHandler = counter.start
        parser.StartDoctypeDeclHandler = _refuse_doctype
        part = 0
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                part += len(chunk)
                total += len(chunk)
                if part > MAX_PART_BYTES:
                    raise ListLimitError(f"{info.filename}: more than {MAX_PART_BYTES:,} bytes when unzipped")
                if total > MAX_TOTAL_BYTES:
                    raise ListLimitError(f"more than {MAX_TOTAL_BYTES:,} bytes when unzipped")
                if xml:
                    try:
                        parser.Parse(chunk, False)
                    except expat.ExpatError as exc:
                        raise ListLimitError(f"{info.filename}: not well-formed XML ({exc})") from exc
        if xml:
            try:
                parser.Parse(b"", True)
            except expat.ExpatError as exc:
                raise ListLimitError(f"{info.filename}: not well-formed XML ({exc})") from exc
            counter.finish()


# ------------------------------------------------------------------------------------------------
# Text lists: one physical line at a time, doubts reported
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowGuess:
    """A line the reader could only have read by guessing; `reason` says why (Thai, for the operator)
    and names the line of the file (rows are numbered as a spreadsheet shows them)."""

    reason: str


GUESS_NUL = "มีอักขระ NUL (ไบต์ศูนย์) ในแถว ข้ามแถวนี้: ลบอักขระนั้นหรือบันทึกไฟล์ใหม่จาก Excel แล้วนำเข้าใหม่"
GUESS_CR = "มีการขึ้นบรรทัดแบบ CR กลางแถว อ่านแล้วอาจแตกเป็นหลายแถว ข้ามแถวนี้: แก้ช่องนั้นแล้วนำเข้าใหม่"
GUESS_QUOTE = (
    'เครื่องหมายคำพูด (") ในแถวนี้ไม่ครบคู่ อ่านต่อไปจะรวมหลายแถวเป็นแถวเดียว ข้ามแถวนี้: '
    "ใส่เครื่องหมายคำพูดให้ครบคู่หรือลบออกแล้วนำเข้าใหม่"
)
_MAX_QUOTED_LINES = 10_000  # a cell spanning more lines than this is an open quote, not an address


def _lines(text: str) -> list[str]:
    """Physical lines with their line ends: split after LF (CRLF is one end); a CR anywhere else stays
    in its line, unless the file's lines end in CR (saved so by old Mac programs)."""
    if _line_end(text) == "\r":
        return re.findall(r"[^\r]*(?:\r|$)", text)[:-1] or [text]
    return re.findall(r"[^\n]*(?:\n|$)", text)[:-1] or [text]


def _line_end(text: str) -> str:
    """The line end the file uses: the commonest of CRLF, CR and LF outside quoted cells."""
    outside = "\x1f".join(text.split('"')[::2]) or text
    crlf = outside.count("\r\n")
    counts = {"\n": outside.count("\n") - crlf, "\r": outside.count("\r") - crlf, "\r\n": crlf}
    return max(counts, key=lambda end: counts[end]) if any(counts.values()) else "\n"


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _stray_quote(record: list[str], delimiter: str) -> bool:
    """A record read through a stray quote: a quoted cell that never closes, or one that runs over a
    line end and then closes in the middle of a cell (the "closing" quote opened a later cell)."""
    text = "\n".join(record)
    at, end = 0, len(text)
    field_start = True
    while at < end:
        ch = text[at]
        if field_start and ch == '"':
            close = at + 1
            while (close := text.find('"', close)) >= 0 and text.startswith('""', close):
                close += 2
            if close < 0:
                return True
            if "\n" in text[at:close] and text[close + 1 : close + 2] not in (delimiter, "\n", ""):
                return True
            at, field_start = close + 1, False
            continue
        field_start = ch in (delimiter, "\n")
        at += 1
    return False


def text_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | RowGuess]]:
    """(row number, cells) for each record, or (row number, RowGuess) for a record it cannot trust.

    Rows are numbered as a spreadsheet program shows them (a cell with a line break is one row);
    a RowGuess also names the line of the file. A quoted cell may span lines (an address typed with
    a line break), but when its quote never closes, or closes in the middle of a later cell, the quote
    was unbalanced: that line is reported and reading resumes on the next line, so
    one stray quote costs one row, not the rest of the file.
    """
    lines = _lines(text)
    i = 0
    number = 0
    while i < len(lines):
        line = lines[i]
        number += 1
        if "\x00" in line:
            yield number, _guess(GUESS_NUL, i + 1)
            i += 1
            continue
        feed = (lines[k] for k in range(i, min(len(lines), i + _MAX_QUOTED_LINES + 1)))
        reader = csv.reader(feed, delimiter=delimiter, strict=False)
        try:
            cells = next(reader, [])
        except csv.Error:  # a bare CR outside quotes: the line would split into rows
            yield number, _guess(GUESS_CR, i + 1)
            i += 1
            continue
        used = max(1, reader.line_num)
        if '"' in line and (used > _MAX_QUOTED_LINES or _stray_quote([_bare(s) for s in lines[i : i + used]], delimiter)):
            yield number, _guess(GUESS_QUOTE, i + 1)
            i += 1
            continue
        yield number, cells
        i += used


def _guess(reason: str, line: int) -> RowGuess:
    return RowGuess(f"บรรทัด {line} ของไฟล์: {reason}")
