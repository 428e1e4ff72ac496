"""The panes of the main screen. Widgets only display what the app hands them: they never do I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, OptionList, ProgressBar, RichLog, Static
from textual.widgets._data_table import Row
from textual.widgets.data_table import CellKey, DuplicateKey, RowKey
from textual.widgets.option_list import Option

from console.tui.view import COLUMN_WIDTHS, NARROW_WIDTHS, GroupLine, group_line_text


class AgencyTable(DataTable[Text]):
    """The agencies of the current scope; rows are keyed by agency id so the cursor survives updates."""

    DEFAULT_CSS = """
    AgencyTable { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable", **kwargs
        )  # type: ignore[arg-type]
        self.column_ids: tuple[str, ...] = ()

    def set_columns(self, columns: Sequence[str], labels: dict[str, str], narrow: bool) -> None:
        """Replace the columns (and the rows: call `rebuild` afterwards)."""
        self.clear(columns=True)
        self.column_ids = tuple(columns)
        for col in columns:
            width = NARROW_WIDTHS.get(col, COLUMN_WIDTHS[col]) if narrow else COLUMN_WIDTHS[col]
            self.add_column(
                Text(labels.get(col, col), style="bold", no_wrap=True, end=""), width=width, key=col
            )

    # Every column has a fixed width and every row is one line high, so there is nothing to measure.
    # Textual would otherwise measure all cells of every new row, and re-measure a whole column each
    # time an updated cell gets narrower: O(rows) per streamed result at 8,000 agencies.
    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        for row_key in new_rows:
            row = self.rows.get(row_key)
            if row is not None and row.label is not None:
                self._labelled_row_exists = True
        super()._update_dimensions(())

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        self._require_update_dimensions = True

    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return row_key.value

    def rebuild(self, rows: Sequence[tuple[str, Sequence[Text]]], keep: str | None = None) -> None:
        """One clear() and one pass of adds (never row-by-row removal); the cursor stays on `keep`."""
        keep = keep if keep is not None else self.current_key()
        old_row = self.cursor_row
        self.clear()
        self._add_rows_at_once(rows)
        if not rows:
            return
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=True)
        else:
            self.move_cursor(row=min(max(old_row, 0), len(rows) - 1), animate=False, scroll=True)

    def _add_rows_at_once(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """What `add_row` does for each row, done once for all of them.

        `add_row` recomputes the column order and re-sets the cursor (a reactive) per row: ~70 µs a
        row, most of a filter keystroke at 8,000 agencies. Our rows are one line, unlabelled, with
        fixed columns, so the bookkeeping can be filled in one pass (Textual 8.x DataTable internals;
        falls back to `add_row` if they change).
        """
        try:
            columns = [column.key for column in self.ordered_columns]
            start = self.row_count
            for offset, (key, cells) in enumerate(rows):
                row_key = RowKey(key)
                if row_key in self._row_locations:
                    raise DuplicateKey(f"The row key {row_key!r} already exists.")
                self._row_locations[row_key] = start + offset
                self._data[row_key] = dict(zip(columns, cells, strict=False))
                self.rows[row_key] = Row(row_key, 1, None, False)
                self._new_rows.add(row_key)
        except (AttributeError, TypeError):  # internals moved: the slow, public way still works
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self._update_count += 1
        self.check_idle()

    def update_row(self, key: str, cells: Sequence[Text]) -> bool:
        """Update one row in place by key; False when the row is not shown."""
        if key not in self.rows:
            return False
        for col, value in zip(self.column_ids, cells, strict=False):
            self.update_cell(key, col, value)
        return True


class GroupsPane(OptionList):
    """Counts and shares per group and bucket for the scope; selecting a line filters the table."""

    class Chosen(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self._keys: list[str] = []

    def show(self, lines: Sequence[GroupLine], footer: str, selected: str | None) -> None:
        highlighted = self.highlighted
        current = (
            self._keys[highlighted] if highlighted is not None and highlighted < len(self._keys) else None
        )
        bar_width = 8 if self.size.width < 60 else 16
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
        options.append(Option(Text(footer, style="dim", end=""), id="_footer", disabled=True))
        self.clear_options()
        self.add_options(options)
        if current in self._keys:
            self.highlighted = self._keys.index(current)
        elif self._keys:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id != "_footer":
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

    def log_line(self, text: Text) -> None:
        self.query_one("#progress-log", RichLog).write(text)


class TopBar(Static):
    """One line: scope, counts, marks, scan state."""
