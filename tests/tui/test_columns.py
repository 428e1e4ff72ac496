"""The agency table keeps the group column on screen at every width, and shows more as it widens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tui_helpers import settle, table

from console.tui.columns import ALL_COLUMNS, CELL_PADDING, fit_columns


@pytest.mark.parametrize("width", [30, 40, 50, 72, 76, 100, 102, 140, 200, 300])
def test_fitted_columns_fill_at_most_the_width_and_always_hold_the_group(width: int) -> None:
    fitted = fit_columns(width)
    names = [c for c, _ in fitted]
    assert {"name", "address", "group"} <= set(names)
    assert names == [c for c in ALL_COLUMNS if c in names]  # display order is kept
    total = sum(w + 2 * CELL_PADDING for _, w in fitted)
    assert total <= width  # nothing, the group least of all, is pushed off the edge


def test_wider_tables_show_more_columns() -> None:
    shown = [len(fit_columns(w)) for w in (72, 102, 140, 200)]
    assert shown == sorted(shown) and shown[0] < shown[-1] == len(ALL_COLUMNS)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (125, 40), (160, 50)])
async def test_group_column_is_visible_with_a_scrollbar(make_app: Callable[..., Any], size: tuple[int, int]) -> None:
    """More rows than lines (so the scrollbar is drawn): the group header and each group are on screen."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        t = table(app)
        t.styles.height = 6
        await settle(pilot, app)
        assert t.max_scroll_y > 0  # the scrollbar is there
        assert t.virtual_size.width <= t.scrollable_content_region.width  # nothing hidden sideways
        header = t.render_line(0).text
        assert "กลุ่ม" in header
        first = t.render_line(1).text
        group = str(t.get_cell_at((0, t.column_ids.index("group")))).strip()
        assert group and f" {group} " in f"{first} "


async def test_resize_refits_without_moving_the_cursor(make_app: Callable[..., Any]) -> None:
    app = make_app()
    async with app.run_test(size=(220, 50)) as pilot:
        await settle(pilot, app)
        t = table(app)
        assert "checked" in t.column_ids
        t.move_cursor(row=3)
        key = t.current_key()
        await pilot.resize_terminal(125, 40)
        await settle(pilot, app)
        assert "checked" not in t.column_ids and "group" in t.column_ids
        assert t.current_key() == key
        assert t.virtual_size.width <= t.scrollable_content_region.width


async def test_english_headers_are_not_cut(make_app: Callable[..., Any]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("l")
        await settle(pilot, app)
        header = table(app).render_line(0).text
        assert "Group" in header
