"""The agency table: only the rows on screen are built, Thai widths are right, text stays literal,
and the keys an operator uses (Home, End, pages, Enter, sorting by `o`, `O` and a header click) work."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult
from tui_helpers import settle, shown_ids, table

from console.tui.agency_table import AgencyTable
from console.tui.app import SarabanApp
from console.tui.columns import CELL_PADDING
from console.tui.text import cell, one_line
from console.tui.view import seq_number

# Real names from the national list: tone marks and vowels above/below take no cell of their own.
THAI = [
    "องค์การบริหารส่วนตำบลหนองบัวเหนือ อำเภอเมืองตาก",
    "เทศบาลตำบลบ้านต๊ำ",
    "องค์การบริหารส่วนตำบลแม่ตื่น",
    "เทศบาลนครนนทบุรี",
    "สำนักงานคณะกรรมการพัฒนาระบบราชการ (สำนักงาน ก.พ.ร.)",
    "กรมส่งเสริมการปกครองท้องถิ่น",
]
HOSTILE = [
    "[bold]x[/] [@click=app.quit]y[/]",
    "[link=https://evil.example]เว็บ[/link]",
    "ｗｉｄｅ　全角 文字 そして 更に長い 文字列",  # double-width characters across the cut
    "",
    "x" * 200,
]
COLUMNS = ("mark", "seq", "name", "address", "group")


class TableApp(App[None]):
    """The table alone, so what it draws and what it asks for can be counted."""

    CSS = "AgencyTable { height: 1fr; }"
    made: ClassVar[list[str]] = []

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__()
        self.texts = list(texts)
        self.made = []

    def compose(self) -> ComposeResult:
        yield AgencyTable(id="t")

    def cells_of(self, key: str) -> list[Text]:
        self.made.append(key)
        text = self.texts[int(key) % len(self.texts)]
        return [Text(" ", end=""), cell(key), cell(text, "yellow"), cell(text), cell("B3", "bold red")]

    def show(self, count: int) -> AgencyTable:
        t = self.query_one(AgencyTable)
        t.set_columns(COLUMNS, {c: c.upper() for c in COLUMNS})
        t.rebuild([str(i) for i in range(count)], self.cells_of)
        return t


async def test_only_the_rows_on_screen_are_built() -> None:
    app = TableApp(THAI)
    async with app.run_test(size=(100, 30)) as pilot:
        t = app.show(20_000)
        await pilot.pause()
        assert t.row_count == 20_000
        on_screen = t.scrollable_content_region.height - 1  # one line is the header
        assert 0 < len(set(app.made)) <= on_screen
        app.made.clear()
        await pilot.press("end")
        await pilot.pause()
        assert t.current_key() == "19999"
        assert "19999" in app.made and len(set(app.made)) <= on_screen
        app.made.clear()
        t.rebuild([str(i) for i in range(19_999, -1, -1)], app.cells_of)  # a re-sort of every row
        await pilot.pause()
        assert len(set(app.made)) <= on_screen


async def test_a_search_and_its_backspace_do_not_make_drawn_rows_again() -> None:
    """A search across provinces shows the province column and its backspace the district again:
    rows drawn under each column set are kept for it, except a row whose record changed meanwhile."""
    app = TableApp(THAI)
    async with app.run_test(size=(100, 30)) as pilot:
        t = app.show(200)
        every = [str(i) for i in range(200)]
        await pilot.pause()
        first_screen = set(app.made)
        assert first_screen
        narrower = tuple(c for c in COLUMNS if c != "address")  # another column set, as a search's
        t.set_columns(narrower, {c: c.upper() for c in narrower})
        t.rebuild(every[::2], app.cells_of, changed=())  # the search's hits
        await pilot.pause()
        app.made.clear()
        t.set_columns(COLUMNS, {c: c.upper() for c in COLUMNS})  # backspace: every row, the first set
        t.rebuild(every, app.cells_of, keep="0", changed=())
        await pilot.pause()
        assert t.column_ids == COLUMNS
        assert app.made == []  # the same rows, drawn before under these columns
        t.set_columns(narrower, {c: c.upper() for c in narrower})
        t.rebuild(every[::2], app.cells_of, keep="0", changed={"2"})  # record 2 changed meanwhile
        await pilot.pause()
        assert app.made == ["2"]
        app.made.clear()
        t.set_columns(COLUMNS, {c: c.upper() for c in COLUMNS})
        t.rebuild(every, app.cells_of, keep="0", changed=())
        await pilot.pause()
        assert app.made == ["2"]  # made again for this column set too, not shown stale


async def test_every_line_is_the_table_width_and_thai_marks_take_no_cell() -> None:
    app = TableApp(THAI + HOSTILE)
    async with app.run_test(size=(90, 20)) as pilot:
        t = app.show(len(THAI + HOSTILE))
        await pilot.pause()
        width = t.size.width
        widths = dict(t.fitted_columns)
        for y in range(1, t.row_count + 1):
            strip = t.render_line(y)
            assert strip.cell_length == width
            key = t.keys[y - 1]
            source = one_line(app.texts[int(key) % len(app.texts)])
            x = 0
            for column in t.column_ids:
                span = widths[column] + 2 * CELL_PADDING
                shown = strip.crop(x, x + span).text
                x += span
                assert cell_len(shown) == span, (column, shown)
                if column != "name":
                    continue
                inner = shown[CELL_PADDING:].rstrip(" ")
                if cell_len(source) <= widths[column]:
                    assert inner == source  # fits: shown whole, marks and all
                else:
                    assert inner.endswith("…")
                    kept = inner[:-1].rstrip(" ")  # a wide letter that does not fit leaves a blank
                    assert source.startswith(kept)
                    following = source[len(kept)]
                    # never cut between a letter and its marks: a dropped mark would change the word
                    assert unicodedata.category(following) != "Mn", (source, kept)


async def test_untrusted_text_is_shown_literally() -> None:
    app = TableApp(HOSTILE)
    async with app.run_test(size=(160, 12)) as pilot:
        t = app.show(2)
        await pilot.pause()
        first = t.render_line(1).text
        assert "[bold]x[/] [@click=app.quit]y[/]" in first
        second = t.render_line(2).text
        assert "[link=https://evil.example]" in second
        assert not any(seg.style and seg.style.link for seg in t.render_line(2))


async def test_home_end_pages_and_enter(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        t = table(app)
        ids = shown_ids(app)
        await pilot.press("end")
        assert t.current_key() == ids[-1]
        await pilot.press("home")
        assert t.current_key() == ids[0]
        await pilot.press("pagedown")
        assert t.current_key() == ids[-1]  # fewer agencies than a page
        await pilot.press("pageup", "down")
        assert t.current_key() == ids[1]
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.selected_id == ids[1]
        assert app.pane == "detail"  # at 80 columns Enter opens the agency


def _seqs(app: SarabanApp) -> list[int]:
    return [seq_number(app.records[key]) for key in shown_ids(app)]


async def test_sorting_by_keys_and_by_a_header_click(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        t = table(app)
        assert _seqs(app) == sorted(_seqs(app))  # by number at start
        await pilot.press("O")
        await settle(pilot, app)
        assert _seqs(app) == sorted(_seqs(app), reverse=True)
        await pilot.press("o")  # the next column: by name
        await settle(pilot, app)
        assert app.sort_column == "name"
        # a click on the group header sorts by group: in the ruleset's order, unchecked last
        header = t.render_line(0).text
        x = cell_len(header[: header.index(" กลุ่ม")]) + 2  # in cells: marks before it take none
        await pilot.click(AgencyTable, offset=(x, 0))
        await settle(pilot, app)
        assert app.sort_column == "group"
        groups = [str(t.get_cell(key, "group")).strip() for key in shown_ids(app)]
        runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
        assert len(runs) == len(set(runs)) > 1 and runs[-1] == "-"  # each group together
        await pilot.click(AgencyTable, offset=(x, 0))  # again: reversed
        await settle(pilot, app)
        assert [str(t.get_cell(key, "group")).strip() for key in shown_ids(app)] == groups[::-1]


async def test_a_click_moves_the_cursor_and_a_second_opens_the_agency(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        t = table(app)
        ids = shown_ids(app)
        await pilot.click(AgencyTable, offset=(10, 3))  # header, then the third agency
        await settle(pilot, app)
        assert t.current_key() == ids[2] and app.pane == "agencies"
        await pilot.click(AgencyTable, offset=(10, 3))
        await settle(pilot, app)
        assert app.pane == "detail" and app.selected_id == ids[2]
