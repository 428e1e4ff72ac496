"""The groups pane: counts and shares per bucket and group for the scope, the change since the
previous scan; choosing a line filters the table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from console.followup_text import followup_of_counts
from console.i18n import tr
from console.rules import Record
from console.tui.state import ConsoleState, group_line_key
from console.tui.text import be_long
from console.tui.view import GroupLine, group_columns, group_line_text, group_lines, snapshot_counts


def groups_view(
    state: ConsoleState, lang: str, in_scope: list[Record] | None = None
) -> tuple[list[GroupLine], str, str]:
    """The pane's lines, its footer (what the change is measured from) and the line to mark."""
    counts = state.group_counts(in_scope)
    previous_snapshot = state.previous_snapshot(counts)
    previous = snapshot_counts(previous_snapshot, state.scope.without_group()) if previous_snapshot else None
    lines = group_lines(counts, previous, state.ruleset, lang)
    total = sum(counts.values())  # every record in scope
    if total:
        phone = followup_of_counts(counts, state.ruleset)
        label = tr("groups.followup", lang)  # the pane is narrow: the waiting groups by code and count
        waiting = [e for e in phone.excluded if e.reason == "waiting"]
        if waiting:
            label += " " + tr("groups.followup_excl", lang, what=" ".join(f"{'/'.join(e.groups)} {e.count}" for e in waiting))
        at = next((i + 1 for i, line in enumerate(lines) if line.key == "bucket:BE"), len(lines))
        lines.insert(at, GroupLine("followup", tr("groups.followup_code", lang), label, phone.count, 100.0 * phone.count / total, None, "BE"))
    if previous_snapshot:
        footer = tr("groups.since", lang, at=be_long(str(previous_snapshot.get("at", "")), lang))
    else:
        footer = tr("groups.no_snapshot", lang)
    return lines, footer, group_line_key(state.scope)


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
        self._shown_width = 0
        self._line_counts: list[int] = []  # lines of each option (a long label wraps)
        self._prompts: list[Text] = []  # what each option shows now

    def on_resize(self) -> None:
        """Bars and labels fit the pane's width, which is only known once it is on screen."""
        if self._shown is not None and (self._bar_width(), self._label_width()) != (
            self._shown_bar_width, self._shown_width
        ):
            self.show(*self._shown)

    def _bar_width(self) -> int:
        """No bar in a narrow pane (120 columns): the group's label is what an officer reads, and the
        bar's cells would cut it ("ใช้อีเมลส่วน…"); the count and share stay."""
        width = self.size.width
        return 0 if width < 56 else 8 if width < 70 else 16

    def _label_width(self) -> int:
        """Cells for a line after its marker (▶), less the scrollbar when one is shown."""
        return max(0, self.scrollable_content_region.width - 1)

    def _refit(self) -> None:
        """Lines that wrapped may bring a scrollbar, which narrows the lines: fit them again once."""
        if self._shown is not None and self._label_width() != self._shown_width:
            self.show(*self._shown)

    def show(self, lines: Sequence[GroupLine], footer: str, selected: str | None) -> None:
        widths = (self._bar_width(), self._label_width())
        if self._shown == (lines, footer, selected) and widths == (self._shown_bar_width, self._shown_width):
            return  # nothing new: leave the list (and its cached lines) alone
        self._shown = (lines, footer, selected)
        self._shown_bar_width, self._shown_width = widths
        columns = group_columns(lines)
        prompts = [self._prompt(line, selected, columns) for line in lines]
        keys = [line.key for line in lines]
        heights = [prompt.plain.count("\n") + 1 for prompt in prompts]
        self.border_subtitle = Text(footer, style="dim", end="")  # in the border: one more line for groups
        if keys == self._keys and heights == self._line_counts and self.option_count == len(keys):
            # The same lines with new numbers (a search keystroke): new prompts in place, each as
            # high as before, so the list keeps its height and nothing is laid out again; a line
            # whose numbers did not change is left alone (not drawn again).
            for index, (prompt, old) in enumerate(zip(prompts, self._prompts, strict=True)):
                if prompt != old:
                    self.replace_option_prompt_at_index(index, prompt)
            self._prompts = prompts
            return
        highlighted = self.highlighted
        current = (
            self._keys[highlighted] if highlighted is not None and highlighted < len(self._keys) else None
        )
        self._keys, self._line_counts, self._prompts = keys, heights, prompts
        self.clear_options()
        self.add_options([Option(prompt, id=key) for prompt, key in zip(prompts, keys, strict=True)])
        self.call_after_refresh(self._refit)
        if current in self._keys:
            self.highlighted = self._keys.index(current)
        elif self._keys:
            self.highlighted = 0

    def _prompt(self, line: GroupLine, selected: str | None, columns: tuple[int, int]) -> Text:
        text = group_line_text(line, self._shown_bar_width, self._shown_width, columns)
        if selected is not None and line.key == selected:
            text.stylize("reverse", 0, 1)
            return Text("▶", style="bold", end="") + text
        return Text(" ", end="") + text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Chosen(event.option.id))
