"""The panes of the main screen. Widgets only display what the app hands them: they never do I/O."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, ProgressBar, RichLog, Static
from textual.widgets.option_list import Option

from console.tui.agency_table import AgencyTable
from console.tui.view import GroupLine, group_line_text

__all__ = ["AgencyTable", "DetailPane", "GroupsPane", "ProgressPane", "TopBar"]


class GroupsPane(OptionList):
    """Counts and shares per group and bucket for the scope; selecting a line filters the table."""

    class Chosen(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self._keys: list[str] = []
        self._shown: tuple[Sequence[GroupLine], str, str | None] | None = None
        self._shown_bar_width = 0

    def on_resize(self) -> None:
        """Bars fit the pane's width, which is only known once it is on screen."""
        if self._shown is not None and self._bar_width() != self._shown_bar_width:
            self.show(*self._shown)

    def _bar_width(self) -> int:
        return 8 if self.size.width < 60 else 16

    def show(self, lines: Sequence[GroupLine], footer: str, selected: str | None) -> None:
        self._shown = (lines, footer, selected)
        self._shown_bar_width = self._bar_width()
        highlighted = self.highlighted
        current = (
            self._keys[highlighted] if highlighted is not None and highlighted < len(self._keys) else None
        )
        bar_width = self._shown_bar_width
        options: list[Option] = []
        self._keys = []
        for line in lines:
            text = group_line_text(line, bar_width)
            if selected is not None and line.key == selected:
                text.stylize("reverse", 0, 1)
                text = Text("▶", style="bold", end="") + text
            else:
                text = Text(" ", end="") + text
            options.append(Option(text, id=line.key))
            self._keys.append(line.key)
        self.border_subtitle = Text(footer, style="dim", end="")  # in the border: one more line for groups
        self.clear_options()
        self.add_options(options)
        if current in self._keys:
            self.highlighted = self._keys.index(current)
        elif self._keys:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Chosen(event.option.id))


class DetailPane(VerticalScroll):
    """The selected agency: addresses, group, problem and fix, findings, evidence, history, notes."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="detail-body", markup=False)

    def show(self, text: Text) -> None:
        self.query_one("#detail-body", Static).update(text)


class ProgressPane(Vertical):
    """A running scan: bar, rate, ETA, retries, canary, per-group tallies and a log of notable events."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="progress-state", markup=False)
        yield ProgressBar(id="progress-bar", show_eta=False)
        yield Static(id="progress-line", markup=False)
        yield Static(id="progress-canary", markup=False)
        yield Static(id="progress-tallies", markup=False)
        yield RichLog(id="progress-log", markup=False, highlight=False, max_lines=500, wrap=False)

    def show(
        self, state: Text, total: int | None, done: int, line: Text, canary: Text, tallies: Text
    ) -> None:
        self.query_one("#progress-state", Static).update(state)
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.display = total is not None  # an indeterminate bar animates forever: hide it when idle
        if total is not None:
            bar.update(total=max(total, 1), progress=done)
        self.query_one("#progress-line", Static).update(line)
        self.query_one("#progress-canary", Static).update(canary)
        self.query_one("#progress-tallies", Static).update(tallies)

    has_lines = False  # once something is logged the log stays on screen, scan or not

    def log_line(self, text: Text) -> None:
        self.has_lines = True
        self.query_one("#progress-log", RichLog).write(text)


class TopBar(Static):
    """One line: scope, counts, marks, scan state."""
