"""The operator's call on a row flagged "possible duplicate of row N": the same agency, or two.

The dialog names both rows and returns the answer; the app does the store write (the same
`Store.confirm_same` / `confirm_different` as `saraban same` / `saraban different`) in a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from checks.model import Agency
from console.i18n import tr
from console.rules import Record, current_address
from console.tui.text import one_line

Answer = Literal["same", "different"]


def duplicate_partner(rec: Record | None) -> str | None:
    """The id of the first row this record may duplicate (the store's flag), or None when unflagged."""
    pairs: Sequence[tuple[str, str]] = getattr(rec, "duplicate_of", None) or ()
    return pairs[0][0] if pairs else None


def row_text(label: str, rec: Record, lang: str) -> Text:
    """One row as the operator knows it: ลำดับที่, name, district, address (all shown literally)."""
    agency: Agency = rec.agency
    text = Text(end="")
    text.append(f"{label}  ", style="bold")
    text.append(f"{tr('col.seq', lang)} {one_line(agency.seq or '—')}\n", style="bold")
    text.append(f"  {one_line(agency.name)}\n")
    place = "  ".join(one_line(v) for v in (agency.district, agency.province) if v)
    text.append(f"  {tr('col.district', lang)} {place or '—'}\n")
    text.append(f"  {tr('col.address', lang)} {one_line(current_address(rec)) or '—'}")
    return text


class DuplicateScreen(ModalScreen[Answer | None]):
    """Both rows, and two answers: same agency (merge, both histories kept) or different (flag goes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(None)", show=False),
        Binding("1", "answer('same')", show=False),
        Binding("2", "answer('different')", show=False),
    ]

    def __init__(self, this: Record, other: Record, lang: str) -> None:
        super().__init__()
        self.this = this
        self.other = other
        self.lang = lang

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="duplicate-box", classes="dialog"):
            yield Static(Text(tr("dup.title", lang), style="bold", end=""), classes="dialog-title")
            yield Static(row_text(tr('dup.this', lang), self.this, lang), id="duplicate-this")
            yield Static(row_text(tr("dup.other", lang), self.other, lang), id="duplicate-other")
            other_row = one_line(self.other.agency.seq or self.other.agency.id)
            yield Static(Text(tr("dup.keeps", lang, other=other_row), end=""), id="duplicate-keeps")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Text(tr("dup.same", lang), end=""), id="duplicate-same", variant="primary")
                yield Button(Text(tr("dup.different", lang), end=""), id="duplicate-different")
            yield Static(Text(tr("dup.hint", lang), style="dim", end=""), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#duplicate-same", Button).focus()

    @on(Button.Pressed, "#duplicate-same")
    def same(self) -> None:
        self.dismiss("same")

    @on(Button.Pressed, "#duplicate-different")
    def different(self) -> None:
        self.dismiss("different")

    def action_answer(self, answer: Answer | None) -> None:
        self.dismiss(answer)
