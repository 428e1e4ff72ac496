"""The panes of the main screen. Widgets only display what the app hands them: they never do I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, OptionList, ProgressBar, RichLog, Static
from textual.widgets._data_table import Row
from textual.widgets.data_table import CellKey, ColumnKey, DuplicateKey, RowKey
from textual.widgets.option_list import Option

from console.tui.columns import fit_columns
from console.tui.view import GroupLine, group_line_text

_NULL_STYLE = Style()
FALLBACK_WIDTH = 76  # before the first layout: an 80-column terminal
_NOT_ONE_LINE = re.compile(r"[\n\t]")  # cells Rich would wrap or expand: left to DataTable's own renderer


class AgencyTable(DataTable[Text]):
    """The agencies of the current scope; rows are keyed by agency id so the cursor survives updates."""

    DEFAULT_CSS = """
    AgencyTable { height: 1fr; scrollbar-gutter: stable; }
    """
    # Home and End go to the first and last agency (DataTable maps them to sideways scrolling,
    # which this table never needs: its columns fit its width).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "Top", show=False),
        Binding("end", "scroll_bottom", "Bottom", show=False),
    ]

    # The rows in order and their line offsets, as DataTable would recompute them (O(rows)) after
    # every cell update; valid while the rows are the ones `rebuild` added. (Class attributes:
    # DataTable's own __init__ already asks for the row order.)
    _ordered: list[Row] | None = None
    _offsets: list[tuple[RowKey, int]] | None = None
    _clearing = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable", **kwargs
        )  # type: ignore[arg-type]
        self.column_ids: tuple[str, ...] = ()
        self._candidates: tuple[str, ...] = ()
        self._labels: dict[str, str] = {}
        self._fitted: tuple[tuple[str, int], ...] = ()
        self._keys: Sequence[str] = ()
        self._cells_of: CellsOf = _no_cells
        # Row bookkeeping kept between rebuilds: a filter keystroke re-adds thousands of rows, and
        # making (and freeing) their key and metadata objects each time was a third of its cost.
        self._row_objects: dict[str, tuple[RowKey, Row]] = {}

    def set_columns(self, candidates: Sequence[str], labels: dict[str, str]) -> None:
        """Offer these columns (and their header labels); the ones that fit the width are shown.

        Replaces the rows too: call `rebuild` afterwards.
        """
        self._candidates = tuple(candidates)
        self._labels = dict(labels)
        self._add_fitted_columns(self._fit())

    def _fit(self) -> tuple[tuple[str, int], ...]:
        """The offered columns that fit the width now, each at least as wide as its header."""
        label_widths = {column: Text(label).cell_len for column, label in self._labels.items()}
        return fit_columns(self._available_width(), self._candidates, label_widths)

    def _available_width(self) -> int:
        """Cells for the columns: the scrollbar's gutter is always reserved (see DEFAULT_CSS)."""
        width = self.scrollable_content_region.width
        return width if width > 0 else FALLBACK_WIDTH

    def _add_fitted_columns(self, fitted: Sequence[tuple[str, int]]) -> None:
        self.clear(columns=True)
        self._fitted = tuple(fitted)
        self.column_ids = tuple(column for column, _ in fitted)
        for column, width in fitted:
            label = Text(self._labels.get(column, column), style="bold", no_wrap=True, end="")
            self.add_column(label, width=width, key=column)

    def on_resize(self) -> None:
        """Fit the columns to the new width: widths change in place, a changed column set re-adds the rows."""
        if not self._candidates:
            return
        fitted = self._fit()
        if fitted == self._fitted:
            return
        if tuple(c for c, _ in fitted) == self.column_ids:
            for column, width in fitted:
                self.columns[ColumnKey(column)].width = width
            self._fitted = fitted
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()
            return
        keys = list(self._keys)
        keep = self.current_key()
        self._add_fitted_columns(fitted)
        self.rebuild(keys, self._cells_of, keep=keep)

    def clear(self, columns: bool = False) -> AgencyTable:
        # DataTable.clear() empties `_y_offsets`, which would first work them out for the old rows.
        self._ordered = None
        self._offsets = []
        self._clearing = True
        try:
            super().clear(columns)
        finally:
            self._clearing = False
            self._offsets = None
        return self

    def sort(self, *columns: Any, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> AgencyTable:
        self._ordered = self._offsets = None  # the app sorts records itself; stay correct if this is used
        super().sort(*columns, key=key, reverse=reverse)
        return self

    @property
    def ordered_rows(self) -> list[Row]:
        if self._ordered is not None and len(self._ordered) == len(self.rows):
            return self._ordered
        return DataTable.ordered_rows.fget(self)  # type: ignore[attr-defined,no-any-return]

    @property
    def _y_offsets(self) -> list[tuple[RowKey, int]]:
        if self._offsets is not None and (self._clearing or len(self._offsets) == len(self.rows)):
            return self._offsets
        return DataTable._y_offsets.fget(self)  # type: ignore[attr-defined,no-any-return]

    # Every column has a fixed width and every row is one line high and unlabelled, so there is
    # nothing to measure. Textual would otherwise measure all cells of every new row, and re-measure
    # a whole column each time an updated cell gets narrower: O(rows) per streamed result.
    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(())

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        self._require_update_dimensions = True

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's cell rendering, without Rich's general layout machinery for our one-line cells.

        Every rebuild (each filter keystroke) re-renders all visible cells; DataTable does it through
        console.render_lines(Styled(Padding(cell))) at ~0.15 ms a cell, most of a keystroke's redraw.
        A single-line Text only needs truncating, padding and styling; the result is the same
        characters in the same styles (tests/tui/test_table_render.py compares the two).
        """
        if row_index < 0 or column_index < 0 or self.fixed_rows or self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key) if row_key is not None else None
        cells = self._data.get(row_key) if row_key is not None else None
        cell = cells[column_key] if cells is not None and column_key is not None else None
        if row is None or row.height != 1 or not isinstance(cell, Text) or _NOT_ONE_LINE.search(cell.plain):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        pad = self.cell_padding
        inner = max(width - 2 * pad, 0)
        text = cell.copy()
        text.truncate(inner, overflow=cell.overflow or "fold")
        segments = list(text.render(self.app.console, end=""))
        if text.style:  # Rich turns a Text's own style into a span under its others when it lays it out
            segments = list(Segment.apply_style(segments, style=self.app.console.get_style(text.style)))
        segments = Segment.adjust_line_length(segments, inner, style=_NULL_STYLE)  # padding is unstyled
        if pad:
            blank = Segment(" " * pad, _NULL_STYLE)
            segments = [blank, *segments, blank]
        styled = Segment.apply_style(segments, style=pre_style, post_style=post_style)
        lines = [Segment.adjust_line_length(list(styled), width)]
        self._cell_render_cache[cache_key] = lines
        return lines

    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return row_key.value

    def rebuild(self, keys: Sequence[str], cells_of: CellsOf, keep: str | None = None) -> None:
        """Show the rows `keys` in this order; the cursor stays on `keep` (or on its row number).

        Cells are made by `cells_of(key)` only when a row is first drawn, so a rebuild of 8,000
        agencies costs a few milliseconds and only the rows on screen are ever formatted.
        """
        keep = keep if keep is not None else self.current_key()
        old_row = self.cursor_row
        # Where the cursor's row sits on screen: it stays on that line, so a streamed result that
        # moves the row (sorted by group, a group filter) never makes the viewport jump.
        on_screen = old_row - round(self.scroll_y) if self.row_count else None
        self.clear()
        self._cells_of = cells_of
        self._keys = keys
        self._add_rows_at_once(keys)
        if not keys:
            return
        if keep is not None and keep in self.rows:
            row = self.get_row_index(keep)
        else:
            row = min(max(old_row, 0), len(keys) - 1)
        self.move_cursor(row=row, animate=False, scroll=False)
        visible = max(self.scrollable_content_region.height - self.header_height, 1)
        top = row - on_screen if on_screen is not None and 0 <= on_screen < visible else None
        self.call_after_refresh(self._restore_view, row, top)

    def _restore_view(self, row: int, top: int | None) -> None:
        """After the new rows are measured: the same screen line for the cursor, else just in view."""
        if row != self.cursor_row:
            return  # the operator moved on meanwhile
        if top is None:
            self._scroll_cursor_into_view()
        else:
            self.scroll_to(y=max(top, 0), animate=False, force=True)

    def _add_rows_at_once(self, keys: Sequence[str]) -> None:
        """What `add_row` does for each row, done once for all of them, with lazily made cells.

        `add_row` recomputes the column order and re-sets the cursor (a reactive) per row: ~70 µs a
        row. Our rows are one line, unlabelled, with fixed columns, so the bookkeeping can be filled
        in one pass (Textual 8.x DataTable internals; falls back to `add_row` if they change).
        """
        cells_of = self._cells_of
        if len(set(keys)) != len(keys):
            raise DuplicateKey("a row key is given twice")
        try:
            columns = tuple(column.key for column in self.ordered_columns)
            if self.row_count:
                raise TypeError("bulk add only into an empty table")
            objects = self._row_objects
            locations = self._row_locations
            data = self._data
            rows = self.rows
            ordered: list[Row] = []
            for index, key in enumerate(keys):
                made = objects.get(key)
                if made is None:
                    row_key = RowKey(key)
                    made = objects[key] = (row_key, Row(row_key, 1, None, False))
                row_key, row = made
                locations[row_key] = index
                data[row_key] = LazyCells(key, columns, cells_of)  # type: ignore[assignment]
                rows[row_key] = row
                ordered.append(row)
        except (AttributeError, TypeError):  # internals moved: the slow, public way still works
            self.clear()
            for key in keys:
                self.add_row(*cells_of(key), key=key)
            return
        self._ordered = ordered
        self._offsets = [(row.key, 0) for row in ordered]
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self._update_count += 1
        self.check_idle()

    def update_row(self, key: str) -> bool:
        """Make the row `key` again from `cells_of` when next drawn; False when the row is not shown."""
        row_key = RowKey(key)
        if row_key not in self.rows:
            return False
        columns = tuple(column.key for column in self.ordered_columns)
        self._data[row_key] = LazyCells(key, columns, self._cells_of)  # type: ignore[assignment]
        self._update_count += 1  # the row render caches are keyed by this count
        self.refresh()
        return True


CellsOf = Callable[[str], Sequence[Text]]


def _no_cells(key: str) -> Sequence[Text]:
    return ()


class LazyCells(MutableMapping[ColumnKey, Text]):
    """One row's cells, made on first access: the DataTable asks only for the rows it draws."""

    __slots__ = ("_cells", "_cells_of", "_columns", "_key")

    def __init__(self, key: str, columns: tuple[ColumnKey, ...], cells_of: CellsOf) -> None:
        self._key = key
        self._columns = columns
        self._cells_of = cells_of
        self._cells: dict[ColumnKey, Text] | None = None

    def _made(self) -> dict[ColumnKey, Text]:
        if self._cells is None:
            values = list(self._cells_of(self._key))
            values += [Text("", end="")] * (len(self._columns) - len(values))
            self._cells = dict(zip(self._columns, values, strict=False))
        return self._cells

    def __getitem__(self, column: ColumnKey) -> Text:
        return self._made()[column]

    def __setitem__(self, column: ColumnKey, value: Text) -> None:
        self._made()[column] = value

    def __delitem__(self, column: ColumnKey) -> None:
        del self._made()[column]

    def __iter__(self) -> Iterator[ColumnKey]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._columns)


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
