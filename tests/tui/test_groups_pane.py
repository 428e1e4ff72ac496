"""The groups pane as an operator uses it (issue 12 figures: it is drawn on Textual's Line API with a
cache of drawn lines instead of OptionList): the keyboard and the mouse choose a line, the highlight
follows its group when the numbers change, and a search keystroke redraws only the lines it changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.content import Content
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions
from tui_helpers import SIZE, press_down_to, screen_text, settle, shown_ids, type_text, wait_until

from console.tui.app import SarabanApp
from console.tui.view import GroupLine, group_columns, group_line_text
from console.tui.widgets import GroupsPane

LINES = [
    GroupLine("all", "∑", "All agencies", 1200, 100.0, None, ""),
    GroupLine("bucket:A", "A", "A  Ready", 700, 58.3, None, "A"),
    GroupLine("group:A1", "A1", "Ready", 650, 54.2, None, "A"),
    GroupLine("group:A2", "A2", "Ready (parent's announcement)", 50, 4.2, None, "A"),
    GroupLine("bucket:BE", "B–E", "B–E  Must fix", 500, 41.7, None, "BE"),
    GroupLine("group:B1", "B1", "No MX record", 300, 25.0, None, "BE"),
    GroupLine("group:B2", "B2", "Not a government domain", 200, 16.7, None, "BE"),
]


class PaneApp(App[None]):
    """The pane alone, as wide as beside the table at 120 columns."""

    CSS = "GroupsPane { width: 44; border: round $primary; padding: 0; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield GroupsPane(id="groups")

    def on_groups_pane_chosen(self, event: GroupsPane.Chosen) -> None:
        self.chosen.append(event.key)


def with_count(lines: Sequence[GroupLine], key: str, count: int) -> list[GroupLine]:
    return [replace(line, count=count) if line.key == key else line for line in lines]


async def test_arrow_keys_move_the_highlight_and_enter_chooses_the_line(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        pane = app.query_one("#groups", GroupsPane)
        assert app.focused is pane
        keys = pane.keys
        assert pane.highlighted_key == keys[0]
        await pilot.press("down", "down")
        assert pane.highlighted_key == keys[2]
        await pilot.press("up")
        assert pane.highlighted_key == keys[1]
        await pilot.press("end")
        assert pane.highlighted_key == keys[-1]
        await pilot.press("home")
        assert pane.highlighted_key == keys[0]
        await pilot.press("up")  # round the top, as the OptionList it replaced
        assert pane.highlighted_key == keys[-1]
        await press_down_to(pilot, pane, "group:B1")
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]  # the one B1 agency
        assert "กลุ่ม B1" in screen_text(app)


async def test_a_click_on_a_line_chooses_it(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        pane = app.query_one("#groups", GroupsPane)
        region = pane.content_region
        rows = screen_rows(app)
        # the pane is right of the table's border (││); Thai marks make string and cell offsets differ
        (y,) = [y for y in range(region.y, region.bottom) if rows[y].split("││", 1)[-1].split()[:1] == ["B1"]]
        await pilot.click(offset=(region.x + 2, y))
        await settle(pilot, app)
        assert pane.highlighted_key == "group:B1"
        assert shown_ids(app) == ["tak-326"]


async def test_the_highlighted_group_stays_highlighted_when_a_search_changes_the_lines(
    make_app: Callable[..., SarabanApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        pane = app.query_one("#groups", GroupsPane)
        await press_down_to(pilot, pane, "group:B1")
        before = pane.keys
        await pilot.press("slash")
        await type_text(pilot, "แม่สอ")  # three agencies, tak-326 (B1) among them: fewer lines above B1
        await wait_until(pilot, app, lambda: app.scope.search == "แม่สอ")
        await settle(pilot, app)
        assert pane.keys != before and pane.keys.index("group:B1") != before.index("group:B1")
        assert pane.highlighted_key == "group:B1"


async def test_new_counts_keep_the_highlight_on_its_group() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(GroupsPane)
        pane.show(LINES, "since the last scan", None)
        await pilot.pause()
        pane.highlight("group:B1")
        pane.show(with_count(LINES, "group:B2", 199), "since the last scan", None)  # same lines, new numbers
        await pilot.pause()
        assert pane.highlighted_key == "group:B1"
        extra = GroupLine("group:A3", "A3", "Ready (ministry)", 5, 0.4, None, "A")
        pane.show([*LINES[:4], extra, *LINES[4:]], "since the last scan", None)  # a line more above B1
        await pilot.pause()
        assert pane.highlighted_key == "group:B1"
        await pilot.press("enter")
        assert app.chosen == ["group:B1"]


async def test_a_line_whose_numbers_did_not_change_is_not_drawn_again() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(GroupsPane)
        pane.show(LINES, "since the last scan", None)
        await pilot.pause()
        drawn = pane.cache_misses
        assert drawn >= len(LINES)
        pane.show(with_count(LINES, "group:B2", 199), "since the last scan", None)  # a keystroke: one line changed
        await pilot.pause()
        assert pane.cache_misses == drawn + 1
        hits = pane.cache_hits
        pane.show(LINES, "since the last scan", None)  # and its backspace: every line was drawn before
        await pilot.pause()
        assert pane.cache_misses == drawn + 1
        assert pane.cache_hits > hits
        assert "199" not in pane_text(app) and "200" in pane_text(app)


async def test_a_wrapped_label_is_one_entry() -> None:
    """A label too long for the pane goes on under itself; the two lines are one entry for the
    keyboard (Down skips the second line) and for a click on either line."""
    app = PaneApp()
    long = GroupLine("group:B3", "B3", "Invalid address format that a helpdesk must correct first", 7, 0.6, None, "BE")
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(GroupsPane)
        pane.show([*LINES, long, LINES[0]], "since the last scan", None)
        await pilot.pause()
        pane.focus()
        pane.highlight("group:B3")
        await pilot.press("down")
        assert pane.highlighted_key == "all"
        region = pane.content_region
        rows = screen_rows(app)
        (first,) = [y for y in range(region.y, region.bottom) if "B3" in rows[y][region.x : region.right]]
        await pilot.click(offset=(region.x + 30, first + 1))  # the label's second line
        assert app.chosen == ["group:B3"]


async def test_the_line_under_the_mouse_is_shown_apart() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(GroupsPane)
        pane.show(LINES, "since the last scan", None)
        await pilot.pause()

        def backgrounds() -> list[object]:  # line 0 is highlighted: the others as drawn
            return [{seg.style.bgcolor for seg in pane.render_line(y) if seg.style} for y in range(1, 4)]

        plain = backgrounds()
        assert plain[0] == plain[1] == plain[2]
        await pilot.hover(offset=(pane.content_region.x + 3, pane.content_region.y + 2))
        hovered = backgrounds()
        assert hovered[0] == hovered[2] == plain[0] and hovered[1] != plain[1]
        await pilot.hover(offset=(0, 19))  # off the pane
        assert backgrounds() == plain


async def test_a_line_is_drawn_as_textual_draws_its_text() -> None:
    """The pane draws its cached lines itself (not through OptionList): each must be what
    Textual's own Content rendering gives, segment for segment, highlighted, marked or wrapped."""
    app = PaneApp()
    long = GroupLine("group:B3", "B3", "Invalid address format that a helpdesk must correct first", 7, 0.6, None, "BE")
    lines = [*LINES, long]
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(GroupsPane)
        pane.show(lines, "since the last scan", "group:B1")  # B1 is the table's filter: marked ▶
        await pilot.pause()
        pane.highlight("group:B3")
        width = pane.scrollable_content_region.width
        columns = group_columns(lines)
        expected: list[Strip] = []
        for line in lines:
            text = group_line_text(line, 0, width - 1, columns)  # no bar in a pane this narrow
            if line.key == "group:B1":
                text.stylize("reverse", 0, 1)
                text = Text("▶", style="bold", end="") + text
            else:
                text = Text(" ", end="") + text
            component = ["groups-pane--option-highlighted"] if line.key == "group:B3" else []
            style = pane.get_visual_style("groups-pane--option", *component)
            options = RenderOptions(lambda s: s if isinstance(s, Style) else Style.parse(s), pane.styles)
            strips = Content.from_rich_text(text, console=app.console).render_strips(width, None, style, options)
            expected += [strip.extend_cell_length(width, style.rich_style) for strip in strips]
        drawn = [pane.render_line(y) for y in range(len(expected))]
        assert len(expected) > len(lines)  # long labels take two lines
        assert [list(strip) for strip in drawn] == [list(strip) for strip in expected]


async def test_page_keys_move_a_pane_of_lines_and_keep_the_highlight_in_view() -> None:
    lines = [GroupLine(f"group:X{i}", f"X{i}", f"Label {i}", 100 + i, 1.0, None, "A") for i in range(30)]
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:  # 10 lines of 30 in view: a scrollbar
        pane = app.query_one(GroupsPane)
        pane.show(lines, "since the last scan", None)
        await pilot.pause()
        assert "X0 " in pane_text(app) and "X20 " not in pane_text(app)
        await pilot.press("pagedown", "pagedown")
        assert pane.highlighted_key == "group:X20"
        assert "X20 " in pane_text(app) and "X0 " not in pane_text(app)
        await pilot.press("pageup")
        assert pane.highlighted_key == "group:X10"
        await pilot.press("end")
        assert pane.highlighted_key == "group:X29" and "X29 " in pane_text(app)


def pane_text(app: App[Any]) -> str:
    region = app.query_one(GroupsPane).content_region
    return "\n".join(row[region.x : region.right] for row in screen_rows(app)[region.y : region.bottom])


def screen_rows(app: App[Any]) -> list[str]:
    """The terminal's lines by row number (each line of `screen_text` ends in its own newline)."""
    rows = [row.rstrip("\n") for row in screen_text(app).split("\n\n")]  # type: ignore[arg-type]
    assert len(rows) == app.size.height, len(rows)
    return rows
