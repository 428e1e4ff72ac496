"""The agency table's own cell renderer draws exactly what Textual's DataTable would draw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual.widgets import DataTable

from console.tui.text import cell
from console.tui.widgets import AgencyTable

HOSTILE = [
    "องค์การบริหารส่วนตำบลหนองบัวเหนือ อำเภอเมืองตาก",  # Thai with combining marks, truncated
    "saraban_๖๖๓๐๑๙@dla.go.th",
    "[bold]x[/] [@click=app.quit]y[/]",
    "ｗｉｄｅ　全角 文字 そして 更に長い 文字列",  # double-width characters across the cut
    "",
    "a",
    "x" * 200,
]


def _cells(text: str) -> list[Text]:
    spans = Text(end="", no_wrap=True, overflow="ellipsis", style="italic")
    spans.append(text[:3], style="green")
    spans.append(text[3:], style="reverse")
    return [cell(text), cell(text, "yellow"), cell(text, "dim"), Text(text, style="bold red", end=""), spans]


def _chars(lines: list[list[Segment]]) -> list[tuple[str, Any]]:
    """Each character with its final style: segment boundaries may differ, what is drawn may not."""
    return [(ch, seg.style) for line in lines for seg in line for ch in seg.text]


async def test_fast_cells_match_datatable(make_app: Callable[..., Any]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        table = app.query_one("#agencies", AgencyTable)
        cells = [c for text in HOSTILE for c in _cells(text)]
        keys = [f"k{i}" for i in range(len(cells))]
        by_key = dict(zip(keys, cells, strict=True))
        columns = len(table.ordered_columns)
        table.rebuild(keys, lambda key: [by_key[key]] * columns)
        await pilot.pause()
        compared = 0
        for row_index in range(len(keys)):
            for column_index, column in enumerate(table.ordered_columns):
                width = column.get_render_width(table)
                for cursor, hover in ((False, False), (True, False), (False, True)):
                    style = table.rich_style
                    ours = table._render_cell(row_index, column_index, style, width, cursor, hover)
                    table._cell_render_cache.clear()
                    theirs = DataTable._render_cell(table, row_index, column_index, style, width, cursor, hover)
                    table._cell_render_cache.clear()
                    assert _chars(ours) == _chars(theirs), (keys[row_index], column.key, cursor, hover)
                    assert sum(seg.cell_length for seg in ours[0]) == width
                    compared += 1
        assert compared == len(keys) * columns * 3
