"""Turning untrusted strings into things the screen shows literally.

Agency names, addresses, SMTP banners, DNS data and notes come from outside. They are passed through
`clean()` (console.thai.safe_text: strips ESC/C1/bidi controls) and then wrapped in `rich.text.Text`,
which is never parsed as markup. Markup is only ever used in constant templates of this package.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from console.thai import be_date as _be_date
from console.thai import safe_text
from console.thai_wrap import wrap


def clean(value: object) -> str:
    """Untrusted text made safe for a terminal: no escapes, no C0/C1 controls, no bidi overrides."""
    return safe_text(value)


def one_line(value: object) -> str:
    """`clean()` on a single line (tabs and newlines become spaces): table cells stay one row high."""
    return " ".join(clean(value).replace("\t", " ").split())


def lit(value: object, style: str = "") -> Text:
    """A literal Text: never parsed as markup, whatever the value contains."""
    return Text(clean(value), style=style, end="")


def cell(value: object, style: str = "") -> Text:
    """A single-line literal table cell."""
    return Text(one_line(value), style=style, end="", no_wrap=True, overflow="ellipsis")


def be_short(iso: str | None, lang: str = "th") -> str:
    """A compact timestamp for table cells: 07/10/2568 14:05 (Buddhist Era); in English 2025-10-07 14:05."""
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return one_line(iso)
    if lang == "en":
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}"
    return f"{dt.day:02d}/{dt.month:02d}/{dt.year + 543} {dt.hour:02d}:{dt.minute:02d}"


def be_long(iso: str | None, lang: str = "th") -> str:
    """The shared Buddhist Era rendering (console.thai.be_date) for the detail pane; CE in English."""
    if not iso:
        return ""
    if lang == "en":
        return be_short(iso, lang)
    try:
        text = _be_date(iso, with_time=True)
    except ValueError:
        return be_short(iso)
    return one_line(text) if text else be_short(iso)


def field(obj: object, name: str, default: object = None) -> object:
    """Read `name` from a dataclass-like object or a dict (store entries may be either)."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def wrap_label(value: object, width: int) -> tuple[str, ...]:
    """A label (untrusted: cleaned) in lines of at most `width` cells, broken between words."""
    return wrap(one_line(value), width)
