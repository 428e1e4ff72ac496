"""The detail pane: everything known about the selected agency (console.tui.view.detail_text)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class DetailPane(VerticalScroll):
    """The selected agency: addresses, group, problem and fix, findings, evidence, history, notes."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: tuple[str | None, str | None] = (None, None)
        self._text: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body", markup=False)

    def show(self, text: Text, about: tuple[str | None, str | None] | None = None) -> None:
        """Show `text`; `about` (agency id, verdict time): another agency or a new verdict starts at
        the top (group and problem), not wherever the previous text had been scrolled to."""
        if text != self._text:  # the same agency shown again (a keystroke that kept the cursor's row)
            self._text = text
            self.query_one("#detail-body", Static).update(text)
        if about is not None and about != self._shown:
            self._shown = about
            self.scroll_home(animate=False, immediate=True)
