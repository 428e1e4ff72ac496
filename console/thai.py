"""Thai text helpers: Thai digits, Buddhist Era dates, and making untrusted text safe to show or export.

Agency lists arrive with Thai digits (๐–๙) and BE dates; names, banners and addresses are untrusted and
must never reach a terminal as escape sequences or a spreadsheet as a formula. Every module that shows
or writes such text goes through `safe_text` (display) or `cell_safe` (spreadsheets).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from checks.text import strip_unsafe

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
ASCII_DIGITS = "0123456789"
_TO_ASCII = str.maketrans(THAI_DIGITS, ASCII_DIGITS)
_TO_THAI = str.maketrans(ASCII_DIGITS, THAI_DIGITS)
BE_OFFSET = 543

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_LEADING_SPACE = " \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u3000"


LEADING_VOWELS = "เแโใไ"  # written before the consonant they follow in speech (and in dictionary order)
_LEADING_VOWEL = re.compile(f"([{LEADING_VOWELS}])([\u0e01-\u0e2e])")


@lru_cache(maxsize=65536)
def thai_sort_key(text: str) -> str:
    """A sort key in Thai dictionary order: a leading vowel (เ แ โ ใ ไ) is written before its
    consonant but sorts after it, so เทศบาล files under ท, not after every อ and ฮ."""
    return _LEADING_VOWEL.sub(r"\2\1", text)


def to_ascii_digits(s: str) -> str:
    """Thai digits → ASCII digits; everything else unchanged."""
    return s.translate(_TO_ASCII)


def to_thai_digits(s: str) -> str:
    """ASCII digits → Thai digits (for Thai-style output); everything else unchanged."""
    return s.translate(_TO_THAI)


def has_thai_digits(s: str) -> bool:
    return any(c in THAI_DIGITS for c in s)


def _parse_when(iso: str | date | datetime) -> date | datetime:
    if isinstance(iso, (date, datetime)):
        return iso
    text = to_ascii_digits(str(iso).strip())
    if not text:
        raise ValueError("empty date")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return date.fromisoformat(text[:10])


THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip


def thai_long_date(day: date) -> str:
    """ "๓ ธันวาคม ๒๕๖๙": the date as a Thai letter writes it (beside be_date, the one BE rule)."""
    return to_thai_digits(f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + BE_OFFSET}")


def be_date(iso: str | date | datetime, *, thai_digits: bool = False, with_time: bool = False) -> str:
    """An ISO date/datetime as a Thai Buddhist Era date, "22/11/2569" (optionally " 14:05").

    Empty input gives "". Unparseable input raises ValueError. Aware datetimes are shown in their
    own offset (what the checker recorded), not converted.
    """
    if isinstance(iso, str) and not iso.strip():
        return ""
    when = _parse_when(iso)
    out = f"{when.day:02d}/{when.month:02d}/{when.year + BE_OFFSET}"
    if with_time and isinstance(when, datetime):
        out += f" {when.hour:02d}:{when.minute:02d}"
    return to_thai_digits(out) if thai_digits else out


def safe_text(s: object) -> str:
    """Untrusted text made safe to display or store on one line (see `checks.text.strip_unsafe`).

    Line breaks become a space (so words do not run together); tab is kept; None gives "".
    """
    if s is None:
        return ""
    return strip_unsafe(s if isinstance(s, str) else str(s), newlines="space")


def cell_safe(s: object) -> str:
    """Text for a spreadsheet cell (XLSX or CSV): safe_text, and never read as a formula.

    A leading = + - @ (or tab/CR/LF) makes Excel and LibreOffice evaluate the cell; prefix "'". Leading
    spaces do not protect it (a CSV import with "trim spaces" brings the = back to the front).
    """
    text = safe_text(s)
    if text.startswith(_FORMULA_START) or text.lstrip(_LEADING_SPACE).startswith(_FORMULA_START):
        return "'" + text
    return text


def collapse_spaces(s: str) -> str:
    """All runs of whitespace (incl. NBSP and Thai-unfriendly tabs) → one space, stripped."""
    return " ".join(s.split())
