"""The agency table: every agency of the scope, one line each, drawn only for the lines on screen.

Built on Textual's public Line API (`ScrollView.render_line` returning a `Strip`) rather than
`DataTable`: a national list is 8,000-20,000 rows and each filter keystroke replaces them all, and
DataTable keeps per-row objects, measures every cell and recomputes offsets for all of them. Here a
rebuild stores the ordered keys and nothing else; a row's cells are asked of the app (`cells_of`)
only when the row is drawn, and kept until the row changes.

Cells are `rich.text.Text`, never markup strings, so agency names and addresses are shown literally.
Widths are Rich cell widths: Thai combining marks take no cell.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Sequence
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.tui.columns import CELL_PADDING, fit_columns

CellsOf = Callable[[str], Sequence[Text]]
FALLBACK_WIDTH = 76  # before the first layout: an 80-column terminal
HEADER_LINES = 1
_NULL = Style()
_LINE_CACHE_MAX = 400  # rendered lines kept (a screen is ~50): cleared wholesale when full
_CELL_CACHE_MAX = 2_000  # rows' cells kept across rebuilds (a search and its backspace): likewise
_COLUMN_SETS_KEPT = 4  # column sets whose rows' cells are kept (a search across provinces shows the
# province column, its backspace the district again: each keystroke switches between two sets)


def _no_cells(key: str) -> Sequence[Text]:
    return ()


def fit_cell(text: Text, width: int, console_render: Callable[[Text], list[Segment]]) -> list[Segment]:
    """One cell's segments exactly `width` cells wide, padded on both sides, in the text's own styles.

    Truncation is Rich's (cell widths, ellipsis), so a Thai mark never counts as a cell.
    """
    inner = max(width - 2 * CELL_PADDING, 0)
    shown = text.copy()
    if "\n" in shown.plain or "\t" in shown.plain:  # one line whatever it holds (same length: spans kept)
        shown.plain = shown.plain.replace("\n", " ").replace("\t", " ")
    shown.truncate(inner, overflow=text.overflow or "ellipsis")
    segments = console_render(shown)
    segments = Segment.adjust_line_length(segments, inner, style=_NULL)
    if CELL_PADDING:
        blank = Segment(" " * CELL_PADDING, _NULL)
        segments = [blank, *segments, blank]
    return segments


class AgencyTable(ScrollView, can_focus=True):
    """The agencies of the current scope, keyed by agency id so the cursor survives every update."""

    # The look of Textual's DataTable (same theme variables), so the console looks as it did.
    DEFAULT_CSS = """
    AgencyTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        scrollbar-gutter: stable;
        &:focus {
            background-tint: $foreground 5%;
            & > .agency-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .agency-table--header { background-tint: $foreground 5%; }
        }
        &:dark > .agency-table--even-row { background: $surface-darken-1 40%; }
        & > .agency-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .agency-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .agency-table--odd-row { }
        & > .agency-table--even-row { background: $surface-lighten-1 50%; }
        & > .agency-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "agency-table--header",
        "agency-table--odd-row",
        "agency-table--even-row",
        "agency-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        # Home and End go to the first and last agency (the columns always fit: nothing sideways)
        Binding("home,ctrl+home", "first", "Top", show=False),
        Binding("end,ctrl+end", "last", "Bottom", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor is on another agency (`key`), or the rows under it changed."""

        def __init__(self, table: AgencyTable, cursor_row: int, key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.key = key

        @property
        def control(self) -> AgencyTable:
            return self.table

    class RowSelected(RowHighlighted):
        """Enter (or a click on the cursor's row): the operator chose this agency."""

    class HeaderSelected(Message):
        """A click on a column header (the app sorts by it)."""

        def __init__(self, table: AgencyTable, column: str, column_index: int) -> None:
            super().__init__()
            self.table = table
            self.column = column
            self.column_index = column_index

        @property
        def control(self) -> AgencyTable:
            return self.table

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.column_ids: tuple[str, ...] = ()
        self._candidates: tuple[str, ...] = ()
        self._labels: dict[str, str] = {}
        self._prefer: tuple[str, ...] = ()
        self._fitted: tuple[tuple[str, int], ...] = ()
        self._keys: list[str] = []
        self._index: dict[str, int] | None = {}  # key -> row, made when first asked (None: not yet)
        self._cells_of: CellsOf = _no_cells
        self._cells: dict[str, Sequence[Text]] = {}  # made on first draw, dropped when the row changes
        self._cells_by_columns: dict[tuple[str, ...], dict[str, Sequence[Text]]] = {(): self._cells}
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._cursor = 0
        self._paint: _Paint | None = None
        self._text_styles: dict[str, Style] = {}

    # -- what the app asks -----------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """The shown agency ids, in display order."""
        return tuple(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def current_key(self) -> str | None:
        return self._keys[self._cursor] if self._keys else None

    def get_row_index(self, key: str) -> int:
        """The row showing agency `key` (KeyError when it is not shown)."""
        return self._row_index()[key]

    def _row_index(self) -> dict[str, int]:
        """Key -> row, made once per rebuild when first needed: a filter keystroke replaces every row
        and most keystrokes never ask."""
        if self._index is None:
            self._index = {key: i for i, key in enumerate(self._keys)}
        return self._index

    def get_cell(self, key: str, column: str) -> Text:
        """What the row of `key` shows in `column` (KeyError for a row or column not shown)."""
        if key not in self._row_index():
            raise KeyError(key)
        return self._row_cells(key)[self.column_ids.index(column)]

    def get_cell_at(self, coordinate: tuple[int, int]) -> Text:
        row, column = coordinate
        return self._row_cells(self._keys[row])[column]

    @property
    def fitted_columns(self) -> tuple[tuple[str, int], ...]:
        """The shown columns and their content widths (each cell has CELL_PADDING on both sides)."""
        return self._fitted

    # -- columns ---------------------------------------------------------------------------------
    def set_columns(self, candidates: Sequence[str], labels: dict[str, str], prefer: Sequence[str] = ()) -> None:
        """Offer these columns (and their header labels); the ones that fit the width are shown,
        optional ones in `prefer` first (see columns.fit_columns)."""
        self._candidates = tuple(candidates)
        self._labels = dict(labels)
        self._prefer = tuple(prefer)
        self._apply_fit(self._fit())

    def _fit(self) -> tuple[tuple[str, int], ...]:
        label_widths = {column: Text(label).cell_len for column, label in self._labels.items()}
        return fit_columns(self._available_width(), self._candidates, label_widths, self._prefer)

    def _available_width(self) -> int:
        """Cells for the columns: the scrollbar's gutter is always reserved (see DEFAULT_CSS)."""
        width = self.scrollable_content_region.width
        return width if width > 0 else FALLBACK_WIDTH

    def _apply_fit(self, fitted: tuple[tuple[str, int], ...]) -> None:
        self._fitted = fitted
        self.column_ids = tuple(c for c, _ in fitted)
        self._use_cells_of(self.column_ids)
        self._update_virtual_size()  # a drawn line is kept by its column widths (see render_line)
        self.refresh()

    def _use_cells_of(self, columns: tuple[str, ...]) -> None:
        """Rows are made for a column set: switch to that set's rows, kept from when it was shown last."""
        kept = self._cells_by_columns.pop(columns, None)
        if kept is None:
            kept = {}
            while len(self._cells_by_columns) >= _COLUMN_SETS_KEPT:
                del self._cells_by_columns[next(iter(self._cells_by_columns))]  # the longest unused
        self._cells_by_columns[columns] = self._cells = kept

    def _forget_rows(self, keys: Collection[str] | None) -> None:
        """Rows whose content changed (None: any row may have), in every column set's cells and lines."""
        if keys is None or sum(map(len, self._cells_by_columns.values())) > _CELL_CACHE_MAX:
            for cells in self._cells_by_columns.values():
                cells.clear()
            self._lines.clear()
            return
        for key in keys:
            for cells in self._cells_by_columns.values():
                cells.pop(key, None)
            self._drop_lines(key)

    def on_resize(self) -> None:
        """Refit the columns to the new width (the group column always stays in view)."""
        if self._candidates:
            fitted = self._fit()
            if fitted != self._fitted:
                self._apply_fit(fitted)
        self._lines.clear()

    def _update_virtual_size(self) -> None:
        """As many lines as rows (and the header). Nothing scrolls sideways (overflow-x: hidden, the
        columns are fitted to the width), so the width is left at 0: fitting the columns anew (the
        first layout, a resize, the language) then repaints the table without laying out the screen."""
        self.virtual_size = Size(0, len(self._keys) + HEADER_LINES)

    # -- rows ------------------------------------------------------------------------------------
    def rebuild(
        self, keys: Sequence[str], cells_of: CellsOf, keep: str | None = None, changed: Collection[str] | None = None
    ) -> None:
        """Show the rows `keys` in this order; the cursor stays on `keep` (or on its row number).

        `changed`: the rows whose content changed since they were last drawn (None: any row may
        have); the others keep their drawn cells, so a search keystroke redraws only new rows.
        The cursor's row keeps its line on screen when it moves in the order (a streamed result, a
        re-sort), so the operator's place never jumps. Costs O(rows) in C (a set of the keys).
        """
        if len(set(keys)) != len(keys):
            raise ValueError("an agency is given twice")
        keep = keep if keep is not None else self.current_key()
        had_rows = bool(self._keys)
        on_screen = self._cursor - round(self.scroll_y) if had_rows else None
        old_row = self._cursor
        self._keys = list(keys)
        self._index = None
        self._cells_of = cells_of
        self._forget_rows(changed)
        self._update_virtual_size()
        if not self._keys:
            self._cursor = 0
            self.scroll_to(y=0, animate=False, force=True)
            self.refresh()
            return
        row = min(old_row, len(self._keys) - 1)
        if keep:
            with contextlib.suppress(ValueError):  # not shown any more: the cursor keeps its row number
                row = self._keys.index(keep)  # one scan in C, cheaper than building the index
        self._cursor = row
        visible = self._visible_rows()
        if on_screen is not None and 0 <= on_screen < visible:
            self.scroll_to(y=max(row - on_screen, 0), animate=False, force=True)
        else:
            self._scroll_into_view()
        self.refresh()
        self.post_message(self.RowHighlighted(self, row, self._keys[row]))

    def update_row(self, key: str) -> bool:
        """Make the row `key` again from `cells_of` when next drawn; False when the row is not shown."""
        row = self._row_index().get(key)
        if row is None:
            return False
        self._forget_rows((key,))
        self._refresh_row(row)
        return True

    def _row_cells(self, key: str) -> Sequence[Text]:
        cells = self._cells.get(key)
        if cells is None:
            made = list(self._cells_of(key))
            made += [Text("", end="")] * (len(self.column_ids) - len(made))
            cells = self._cells[key] = made
        return cells

    # -- the cursor ------------------------------------------------------------------------------
    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on `row` (clamped to the rows); scrolls it into view unless `scroll` is False."""
        if not self._keys:
            return
        row = min(max(row, 0), len(self._keys) - 1)
        old, self._cursor = self._cursor, row
        if old != row:
            self._refresh_row(old)
            self._refresh_row(row)
            self.post_message(self.RowHighlighted(self, row, self._keys[row]))
        if scroll:
            self._scroll_into_view(animate)

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - HEADER_LINES, 1)

    def _scroll_into_view(self, animate: bool = False) -> None:
        top = round(self.scroll_y)
        visible = self._visible_rows()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=animate, force=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=animate, force=True)

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + HEADER_LINES)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        page = self._visible_rows()
        self.scroll_to(y=self.scroll_y - page, animate=False, force=True)
        self.move_cursor(row=self._cursor - page)

    def action_page_down(self) -> None:
        page = self._visible_rows()
        self.scroll_to(y=self.scroll_y + page, animate=False, force=True)
        self.move_cursor(row=self._cursor + page)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._keys) - 1)

    def action_select_cursor(self) -> None:
        if self._keys:
            self.post_message(self.RowSelected(self, self._cursor, self._keys[self._cursor]))

    def on_click(self, event: events.Click) -> None:
        """A header click sorts (the app decides); a row click moves the cursor, a second one selects."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y < HEADER_LINES:
            column = self._column_at(offset.x)
            if column is not None:
                self.post_message(self.HeaderSelected(self, self.column_ids[column], column))
            return
        row = round(self.scroll_y) + offset.y - HEADER_LINES
        if 0 <= row < len(self._keys):
            event.stop()
            if row == self._cursor:
                self.action_select_cursor()
            else:
                self.move_cursor(row=row)

    def _column_at(self, x: int) -> int | None:
        right = 0
        for index, (_, width) in enumerate(self._fitted):
            right += width + 2 * CELL_PADDING
            if x < right:
                return index
        return None

    # -- drawing ---------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # theme, focus or dark mode: every line is drawn anew
        self._paint = None
        self._text_styles.clear()

    def _styles(self) -> _Paint:
        """The table's styles for its current state (focus changes them), worked out once per state:
        asking Textual for a widget's style walks its ancestors, which cost more than drawing a row."""
        state = self.get_pseudo_class_state()
        paint = self._paint
        if paint is None or paint.state != state:
            component = self.get_component_styles
            cursor = self.get_component_rich_style("agency-table--cursor")
            paint = self._paint = _Paint(
                state,
                self.rich_style,
                component("agency-table--header").rich_style,
                component("agency-table--even-row").rich_style,
                component("agency-table--odd-row").rich_style,
                cursor,
                # the cell's own colour wins (group colours stay readable), the cursor's background wins
                Style.from_color(bgcolor=cursor.bgcolor),
            )
            self._lines.clear()
        return paint

    def _drop_lines(self, key: str) -> None:
        for cache_key in [k for k in self._lines if k[0] == key]:
            del self._lines[cache_key]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        paint = self._styles()
        if y < HEADER_LINES:
            return self._header_line(width, paint)
        row = round(self.scroll_y) + y - HEADER_LINES
        if not 0 <= row < len(self._keys):
            return Strip.blank(width, paint.base)
        key = self._keys[row]
        cursor = row == self._cursor
        cache_key = (key, row % 2, cursor, width, self._fitted)
        strip = self._lines.get(cache_key)
        if strip is None:
            if len(self._lines) >= _LINE_CACHE_MAX:
                self._lines.clear()
            strip = self._lines[cache_key] = self._row_line(key, row, cursor, width, paint)
        return strip

    def _fit_cell(self, text: Text, width: int) -> list[Segment]:
        """`fit_cell`, with a short cut for what most cells are: one style, short enough, one line."""
        plain = text.plain
        inner = width - 2 * CELL_PADDING
        length = cell_len(plain)
        if text.spans or length > inner or "\n" in plain or "\t" in plain:
            return fit_cell(text, width, self._render_text)
        style = self._text_styles.get(text.style) if isinstance(text.style, str) else text.style
        if style is None:
            style = self._text_styles[text.style] = self.app.console.get_style(text.style) if text.style else _NULL
        fill = inner - length + CELL_PADDING
        return [Segment(" " * CELL_PADDING, _NULL), Segment(plain, style), Segment(" " * fill, _NULL)]

    def _render_text(self, text: Text) -> list[Segment]:
        console = self.app.console
        segments = list(text.render(console, end=""))
        if text.style:  # Rich lays a Text's own style under its spans: do the same here
            segments = list(Segment.apply_style(segments, style=console.get_style(text.style)))
        return segments

    def _header_line(self, width: int, paint: _Paint) -> Strip:
        style = paint.header
        segments: list[Segment] = []
        for column, cells in self._fitted:
            label = Text(self._labels.get(column, column), style="bold", no_wrap=True, end="")
            segments += Segment.apply_style(fit_cell(label, cells + 2 * CELL_PADDING, self._render_text), style)
        used = sum(seg.cell_length for seg in segments)
        segments.append(Segment(" " * max(width - used, 0), style))
        return Strip(segments).adjust_cell_length(width, paint.base).simplify()

    def _row_line(self, key: str, row: int, cursor: bool, width: int, paint: _Paint) -> Strip:
        row_style = paint.odd if row % 2 else paint.even
        post: Style | None = None
        if cursor:
            row_style += paint.cursor
            post = paint.cursor_background
        segments: list[Segment] = []
        used = 0
        for text, (_, cells) in zip(self._row_cells(key), self._fitted, strict=False):
            fitted = self._fit_cell(text, cells + 2 * CELL_PADDING)
            segments += Segment.apply_style(fitted, style=row_style, post_style=post)
            used += cells + 2 * CELL_PADDING  # every fitted cell is exactly this wide
        if used <= width:  # the usual case: the line's width is known, nothing to measure or crop
            segments.append(Segment(" " * (width - used), row_style))
            return Strip(segments, width)
        return Strip(segments).adjust_cell_length(width, paint.base)


class _Paint(NamedTuple):
    """The styles a line is drawn with, for one state of the table (focused or not, theme)."""

    state: object
    base: Style
    header: Style
    even: Style
    odd: Style
    cursor: Style
    cursor_background: Style
