"""The groups pane: counts and shares per bucket and group for the scope, the change since the
previous scan; choosing a line filters the table.

Built on Textual's public Line API (`ScrollView.render_line` returning `Strip`s), like the agency
table, rather than `OptionList`: every search keystroke changes the counts of most lines, and
OptionList's only way to change a line (`replace_option_prompt_at_index`) drops every line it has
drawn, so all of them were converted, wrapped and styled again on each keystroke. Here a line is
drawn once per thing it shows (its numbers, its width, highlighted or not, focus): a line whose
numbers did not change, or came back (a letter typed then erased), is taken from the cache.

A line is drawn as OptionList drew it (`Content` made from the Rich `Text`, rendered in the
widget's styles by `Content.render_strips`), so the pane looks as it did. Labels are plain text,
never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions

from console.followup_text import followup_of_counts
from console.i18n import tr
from console.rules import Record
from console.tui.state import ConsoleState, group_line_key
from console.tui.text import be_long
from console.tui.view import GroupLine, group_columns, group_line_text, group_lines, snapshot_counts

_STRIPS_MAX = 512  # drawn entries kept (a pane shows ~16, a keystroke and its backspace twice that)
_PROMPTS_MAX = 512  # made prompts kept, likewise; both caches are cleared wholesale when full
_OPTION = "groups-pane--option"
_HIGHLIGHTED = "groups-pane--option-highlighted"
_HOVER = "groups-pane--option-hover"


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


@dataclass(frozen=True, slots=True)
class _Entry:
    """One group line of the pane; a long label makes it more than one line high."""

    key: str
    signature: tuple[object, ...]  # what it shows: equal signatures are drawn alike
    prompt: Content
    height: int


class _Frame(NamedTuple):
    """What every line drawn in one frame shares: the width, the first line shown, the styles."""

    width: int
    top: int
    option: Style
    highlighted: Style
    hover: Style


class GroupsPane(ScrollView, can_focus=True):
    """Counts and shares per group and bucket for the scope; choosing a line filters the table."""

    ALLOW_SELECT = False
    # OptionList's look (same theme variables), so the pane looks as it did when it was one.
    DEFAULT_CSS = """
    GroupsPane {
        height: auto;
        max-height: 100%;
        color: $foreground;
        overflow-x: hidden;
        border: tall $border-blurred;
        padding: 0 1;
        background: $surface;
        & > .groups-pane--option-highlighted {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            border: tall $border;
            background-tint: $foreground 5%;
            & > .groups-pane--option-highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .groups-pane--option-highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        & > .groups-pane--option-hover {
            background: $block-hover-background;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {_OPTION, _HIGHLIGHTED, _HOVER}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
        Binding("home", "first", "First", show=False),
        Binding("pagedown", "page_down", "Page Down", show=False),
        Binding("pageup", "page_up", "Page Up", show=False),
        Binding("up", "cursor_up", "Up", show=False),
    ]

    class Chosen(Message):
        """The operator chose the line `key` (Enter or a click): the table shows its agencies."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._entries: list[_Entry] = []
        self._rows: list[tuple[int, int]] = []  # per line of the pane: its entry, its line in the entry
        self._starts: list[int] = []  # the pane line each entry starts on
        self._highlighted: int | None = None
        self._hover: int | None = None
        self._shown: tuple[Sequence[GroupLine], str, str | None] | None = None
        self._shown_bar_width = 0
        self._shown_width = 0
        self._footer: str | None = None
        self._prompts: dict[tuple[object, ...], tuple[Content, int]] = {}
        self._strips: dict[tuple[object, ...], list[Strip]] = {}
        self._hits = 0
        self._misses = 0
        self._frame: _Frame | None = None

    # -- what the app and tests ask ----------------------------------------------------------------
    @property
    def keys(self) -> tuple[str, ...]:
        """The shown lines' keys ("all", "bucket:A", "group:B3", ...), top to bottom."""
        return tuple(entry.key for entry in self._entries)

    @property
    def highlighted_key(self) -> str | None:
        """The key of the highlighted line (the one Enter chooses), None when the pane is empty."""
        index = self._highlighted
        return self._entries[index].key if index is not None else None

    def highlight(self, key: str) -> None:
        """Highlight the line `key` (ValueError when no line has it) and scroll it into view."""
        self._set_highlight(self.keys.index(key))

    @property
    def cache_hits(self) -> int:
        """Lines drawn from the cache so far (not converted, wrapped and styled again)."""
        return self._hits

    @property
    def cache_misses(self) -> int:
        """Entries (a wrapped one is several lines) drawn anew so far: a new number, width,
        highlight or focus."""
        return self._misses

    # -- fitting the width -------------------------------------------------------------------------
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

    # -- the lines ---------------------------------------------------------------------------------
    def show(self, lines: Sequence[GroupLine], footer: str, selected: str | None) -> None:
        """Show these lines, `selected` marked (▶); the highlighted line keeps its key if still shown."""
        widths = (self._bar_width(), self._label_width())
        if self._shown == (lines, footer, selected) and widths == (self._shown_bar_width, self._shown_width):
            return  # nothing new
        self._shown = (lines, footer, selected)
        self._shown_bar_width, self._shown_width = widths
        if footer != self._footer:  # setting it repaints the whole pane: only when it changes
            self._footer = footer
            self.border_subtitle = Text(footer, style="dim", end="")  # in the border: one more line for groups
        columns = group_columns(lines)
        theme = self.app.ansi_theme  # Rich's named colours (green, red) become this theme's
        entries = [self._entry(line, selected, columns, theme) for line in lines]
        old, self._entries = self._entries, entries
        if [(e.key, e.height) for e in entries] == [(e.key, e.height) for e in old]:
            # The same lines with new numbers (a search keystroke): each as high as before, so
            # nothing is laid out again and only the lines whose numbers changed are repainted.
            changed = [i for i, (entry, before) in enumerate(zip(entries, old, strict=True)) if entry.signature != before.signature]
            self._refresh_entries(changed)
            return
        current = old[self._highlighted].key if self._highlighted is not None else None
        self._lay_out()
        keys = self.keys
        self._highlighted = None  # new lines: from the top, then to the highlighted one (as OptionList)
        self.scroll_to(y=0, animate=False, force=True)
        self._set_highlight(keys.index(current) if current in keys else 0 if keys else None)
        self.refresh()
        self.call_after_refresh(self._refit)

    def _entry(self, line: GroupLine, selected: str | None, columns: tuple[int, int], theme: object) -> _Entry:
        marked = selected is not None and line.key == selected
        signature = (line, marked, self._shown_bar_width, self._shown_width, columns, theme)
        made = self._prompts.get(signature)
        if made is None:
            text = self._prompt(line, marked, columns)
            if len(self._prompts) >= _PROMPTS_MAX:
                self._prompts.clear()
            content = Content.from_rich_text(text, console=self.app.console)
            made = self._prompts[signature] = (content, text.plain.count("\n") + 1)
        return _Entry(line.key, signature, *made)

    def _prompt(self, line: GroupLine, marked: bool, columns: tuple[int, int]) -> Text:
        text = group_line_text(line, self._shown_bar_width, self._shown_width, columns)
        if marked:
            text.stylize("reverse", 0, 1)
            return Text("▶", style="bold", end="") + text
        return Text(" ", end="") + text

    def _lay_out(self) -> None:
        """Which entry each line of the pane belongs to, and the pane's height in lines."""
        self._rows, self._starts = [], []
        for index, entry in enumerate(self._entries):
            self._starts.append(len(self._rows))
            self._rows.extend((index, line) for line in range(entry.height))
        self._hover = None
        self.virtual_size = Size(0, len(self._rows))

    # -- the highlight -----------------------------------------------------------------------------
    def _set_highlight(self, index: int | None) -> None:
        if index is not None:
            index = min(max(index, 0), len(self._entries) - 1) if self._entries else None
        old, self._highlighted = self._highlighted, index
        if old != index:  # as OptionList's reactive: scrolled to only when it moves
            self._refresh_entry(old)
            self._refresh_entry(index)
            self.scroll_to_highlight()

    def _refresh_entry(self, index: int | None) -> None:
        if index is not None:
            self._refresh_entries([index])

    def _refresh_entries(self, indices: Sequence[int]) -> None:
        """Repaint these entries' lines that are in view, and only them (a run of neighbours as one
        region): not the border below nor the scrollbar beside, which cost more than the lines."""
        top = self.scroll_offset.y
        view = self.scrollable_content_region
        spans: list[list[int]] = []  # [first, end) lines in view, neighbours joined
        for index in indices:
            if index >= len(self._entries):
                continue
            first = max(self._starts[index], top)
            end = min(self._starts[index] + self._entries[index].height, top + view.height)
            if first >= end:
                continue
            if spans and spans[-1][1] == first:
                spans[-1][1] = end
            else:
                spans.append([first, end])
        if spans:
            self.refresh(*(Region(0, first - top, view.width, end - first) for first, end in spans))

    def scroll_to_highlight(self, top: bool = False) -> None:
        """Scroll the highlighted entry (all its lines) into view."""
        index = self._highlighted
        if index is None or not self.is_mounted:
            return
        region = Region(0, self._starts[index], self.scrollable_content_region.width, self._entries[index].height)
        self.scroll_to_region(region, force=True, animate=False, top=top, immediate=True)

    def on_show(self) -> None:
        self.scroll_to_highlight()

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def _step(self, direction: int) -> None:
        """One line up or down, round the ends (as OptionList did)."""
        if not self._entries:
            return
        if self._highlighted is None:
            self._set_highlight(0 if direction > 0 else len(self._entries) - 1)
        else:
            self._set_highlight((self._highlighted + direction) % len(self._entries))

    def action_first(self) -> None:
        self._set_highlight(0)

    def action_last(self) -> None:
        self._set_highlight(len(self._entries) - 1)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def _page(self, direction: int) -> None:
        """A pane's height of lines up or down: the entry on the line that far away."""
        if not self._rows:
            return
        if self._highlighted is None:
            self._set_highlight(0 if direction < 0 else len(self._entries) - 1)
            return
        y = self._starts[self._highlighted] + direction * self.scrollable_content_region.height
        self._set_highlight(self._rows[min(max(y, 0), len(self._rows) - 1)][0])

    def action_select(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.Chosen(key))

    # -- the mouse ---------------------------------------------------------------------------------
    def _entry_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        row = self.scroll_offset.y + offset.y
        return self._rows[row][0] if 0 <= row < len(self._rows) else None

    def on_click(self, event: events.Click) -> None:
        """A click chooses the line under it (and highlights it)."""
        index = self._entry_at(event)
        if index is not None:
            event.stop()
            self._set_highlight(index)
            self.action_select()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._entry_at(event))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, index: int | None) -> None:
        old, self._hover = self._hover, index
        if old != index:
            self._refresh_entry(old)
            self._refresh_entry(index)

    # -- drawing -----------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # focus, theme: the lines' style is part of their cache key

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines' width and styles are worked out once for all the lines drawn now."""
        self._frame = self._make_frame()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _make_frame(self) -> _Frame:
        style = self.get_visual_style
        return _Frame(
            self.scrollable_content_region.width,
            self.scroll_offset.y,
            style(_OPTION),
            style(_OPTION, _HIGHLIGHTED),
            style(_OPTION, _HOVER),
        )

    def render_line(self, y: int) -> Strip:
        frame = self._frame or self._make_frame()
        width = frame.width
        row = frame.top + y
        if not 0 <= row < len(self._rows):
            return Strip.blank(width, frame.option.rich_style)
        index, line = self._rows[row]
        if index == self._highlighted:
            style = frame.highlighted
        elif index == self._hover:
            style = frame.hover
        else:
            style = frame.option
        entry = self._entries[index]
        cache_key = (entry.signature, width, style)
        strips = self._strips.get(cache_key)
        if strips is None:
            self._misses += 1
            if len(self._strips) >= _STRIPS_MAX:
                self._strips.clear()
            strips = self._strips[cache_key] = self._draw(entry, width, style)
        else:
            self._hits += 1
        return strips[line] if line < len(strips) else Strip.blank(width, style.rich_style)

    def _draw(self, entry: _Entry, width: int, style: Style) -> list[Strip]:
        """An entry's lines as OptionList drew an option (Content in the widget's text rules: no
        wrap, ellipsis), filled to the width in the line's style. `Content.render_strips` itself,
        not `Visual.to_strips`: that one also restyles links and a text selection, and the pane has
        neither (plain labels; ALLOW_SELECT is off)."""
        strips = entry.prompt.render_strips(width, None, style, RenderOptions(_get_style, self.styles))
        return [strip.extend_cell_length(width, style.rich_style) for strip in strips]


def _get_style(style: str | Style) -> Style:
    """Spans made from Rich Text hold Styles already; a name would be parsed (never markup)."""
    return style if isinstance(style, Style) else Style.parse(style)
