"""The console as an operator reads it: panes, search, filters, palette, help, language (real Store, fake runner)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_helpers import (
    SIZE,
    notices,
    press_down_to,
    screen_text,
    select,
    settle,
    shown_ids,
    table,
    type_text,
    wait_until,
)
from tui_sample import Config, FakeRunner

from console.tui.app import SarabanApp
from console.tui.widgets import GroupsPane


async def test_main_screen_shows_agencies_groups_and_detail(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "แสดง 8 จาก 8 หน่วยงาน" in text
        # the table abbreviates local units as offices write them (อบจ. ทม. ทต.); the detail has it whole
        for name in ("อบจ.ตาก", "ทม.แม่สอด", "ทต.ทุ่งหลวง"):
            assert name in text
        assert "องค์การบริหารส่วนจังหวัดตาก" in text  # the selected agency, in the detail pane
        # table sorted by ลำดับที่ numerically
        assert shown_ids(app)[:3] == ["tak-1", "pyo-5", "tak-12"]
        # groups with counts, shares and the change since the previous snapshot
        assert "B–E" in text and "62.5%" in text
        assert "เทียบกับรอบก่อน" in text
        # detail of the selected (first) agency
        assert "อีเมลที่ประกาศ: saraban@takpao.go.th" in text


async def test_detail_shows_suggested_fix_and_evidence(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-636")
        await pilot.press("3")
        text = screen_text(app)
        assert "saraban_๖๖๓๐๑๙@dla.go.th" in text
        assert "อีเมลที่แนะนำ: saraban_663019@dla.go.th" in text
        assert "รูปแบบอีเมลไม่ถูกต้อง" in text  # Thai label of B3
        plain = str(app.query_one("#detail-body").render())
        assert "ทดสอบแล้ว ใช้งานได้" in plain  # the suggested fix was probed and works
        assert "แก้ไขอีเมลในประกาศ ม.๑๐ ให้ถูกต้อง" in plain  # the rule's fix
        assert "RCPT TO:<saraban_663019@dla.go.th>" in plain
        assert "MX 10 mx.dla.go.th  [203.0.113.25]" in plain
        assert "250 2.1.5 Ok" in plain


async def test_search_filters_as_you_type_and_escape_clears(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await type_text(pilot, "แม่สอด")
        await wait_until(pilot, app, lambda: len(shown_ids(app)) == 3)
        assert set(shown_ids(app)) == {"tak-12", "tak-88", "tak-326"}
        assert "แสดง 3 จาก 8 หน่วยงาน" in screen_text(app)
        await pilot.press("enter")
        assert app.focused is table(app)
        # search covers addresses too
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "gmail")
        await wait_until(pilot, app, lambda: shown_ids(app) == ["tak-326"])
        await pilot.press("escape")
        await settle(pilot, app)
        assert len(shown_ids(app)) == 8


async def test_first_search_keystroke_filters_at_once_and_a_burst_ends_on_its_last_value(
    make_app: Callable[..., SarabanApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await pilot.press("๖")  # no waiting: the table follows the first key straight away
        # Thai ๖ and Arabic 6 are one digit to search: 6 in tak-88's and ๖ in tak-636's address, 326
        assert set(shown_ids(app)) == {"tak-88", "tak-326", "tak-636"}
        await pilot.press("backspace")
        await type_text(pilot, "แม่สอ")  # a burst: applied at most every SEARCH_DEBOUNCE, last value kept
        await wait_until(pilot, app, lambda: app.scope.search == "แม่สอ")
        assert set(shown_ids(app)) == {"tak-12", "tak-88", "tak-326"}


async def test_group_pane_selection_filters_table(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        groups = app.query_one("#groups", GroupsPane)
        assert app.focused is groups
        await press_down_to(pilot, groups, "group:B1")
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]
        assert "กลุ่ม B1" in screen_text(app)
        # bucket B–E: everything that must fix something
        await press_down_to(pilot, groups, "bucket:BE")
        await pilot.press("enter")
        await settle(pilot, app)
        assert set(shown_ids(app)) == {"tak-12", "tak-47", "tak-140", "tak-326", "tak-636"}
        await pilot.press("escape")  # back out of the groups pane focus / filter
        await pilot.press("escape")
        await settle(pilot, app)
        assert len(shown_ids(app)) == 8


async def test_filters_followup_and_province_via_scope(make_app: Callable[..., SarabanApp]) -> None:
    from console.rules import Scope

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.set_scope(Scope(followup_only=True))
        await settle(pilot, app)
        assert set(shown_ids(app)) == {"tak-12", "tak-47", "tak-140", "tak-326", "tak-636"}
        app.set_scope(Scope(province="พะเยา"))
        await settle(pilot, app)
        assert shown_ids(app) == ["pyo-5"]
        app.set_scope(Scope(district="แม่ระมาด"))
        await settle(pilot, app)
        assert set(shown_ids(app)) == {"tak-47", "tak-140"}
        app.set_scope(Scope(kind="เทศบาลเมือง"))
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-12"]
        # changed since: every first verdict is a change; nothing changed after the last check
        app.set_scope(Scope(changed_since="2025-10-08"))
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-12"]


async def test_filter_dialog_applies_province(make_app: Callable[..., SarabanApp]) -> None:
    from textual.widgets import Select

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#filter-province", Select).value = "พะเยา"
        await pilot.pause()
        app.screen.query_one("#filter-changed").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["pyo-5"]
        assert "จังหวัด พะเยา" in screen_text(app)


async def test_command_palette_runs_a_quick_filter(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("colon")
        await pilot.pause()
        await type_text(pilot, "จังหวัด: พะเยา")
        for _ in range(50):
            await pilot.pause(0.02)
            if "พะเยา" in screen_text(app) and "กรองจังหวัด" in screen_text(app):
                break
        assert "กรองจังหวัด: พะเยา" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["pyo-5"]


async def test_language_switch(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "หน่วยงาน" in screen_text(app) and "ค้นหา" in screen_text(app)
        await pilot.press("l")
        await settle(pilot, app)
        text = screen_text(app)
        assert "Agency" in text and "8 of 8 agencies" in text
        assert "Search" in text  # footer
        assert "Declared address: saraban@takpao.go.th" in text
        await pilot.press("l")
        await settle(pilot, app)
        assert "แสดง 8 จาก 8 หน่วยงาน" in screen_text(app)


async def test_help_screen_lists_real_bindings_and_keymap(
    store: Any, runner: FakeRunner, tmp_path: Path
) -> None:
    config = Config(export_dir=tmp_path, keys={"recheck": "g"})
    app = SarabanApp(store, runner, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await settle(pilot, app)
        text = screen_text(app)
        assert "ปุ่มลัด" in text
        for binding_id in ("recheck", "correct", "export", "language", "filter"):
            assert binding_id in text
        help_table = app.screen.query_one("#help-table")
        rows = {
            str(help_table.get_row_at(i)[2]): str(help_table.get_row_at(i)[0])
            for i in range(help_table.row_count)
        }
        assert rows["recheck"] == "g"  # remapped through config.keys
        assert rows["correct"] == "c"
        await pilot.press("escape")
        await pilot.pause()
        assert "ปุ่มลัด" not in screen_text(app)
        await select(pilot, app, "pyo-5")
        await pilot.press("g")
        await wait_until(pilot, app, lambda: runner.rechecks == ["pyo-5"])


async def test_copy_summary(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-326")
        await pilot.press("y")
        await settle(pilot, app)
        assert app.clipboard.startswith("องค์การบริหารส่วนตำบลท่าสายลวด")
        assert "กลุ่ม: B1 ใช้อีเมลส่วนตัว" in app.clipboard
        # from the full record: the findings carry their evidence (the list view's record has none)
        assert "gmail.com เป็นบริการอีเมลฟรี" in app.clipboard and "550" in app.clipboard
        assert "()" not in app.clipboard
        assert not any(line.startswith(("-", "=", "+", "@")) for line in app.clipboard.splitlines())
        assert "คัดลอกสรุปของ องค์การบริหารส่วนตำบลท่าสายลวด" in notices(app)


async def test_other_operators_changes_are_picked_up(make_app: Callable[..., SarabanApp], store: Any) -> None:
    from console.store import Store

    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-12")
        other = Store(store.path)
        other.add_note("tak-12", "ผู้ใช้อีกคนโทรแล้ว", "วิภา")
        app.poll()
        await wait_until(pilot, app, lambda: "ผู้ใช้อีกคนโทรแล้ว" in str(app.query_one("#detail-body").render()))
        assert table(app).current_key() == "tak-12"


async def test_narrow_terminal_one_pane_at_a_time(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.narrow
        text = screen_text(app)
        assert "อบจ.ตาก" in text
        assert "A1" in text  # the group column fits in 80 columns
        await select(pilot, app, "tak-326")
        await pilot.press("enter")  # open the detail
        await settle(pilot, app)
        text = screen_text(app)
        assert "อีเมลที่ประกาศ: Tasailuadmeasod@gmail.com" in text
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.pane == "agencies"
        await pilot.press("2")
        await settle(pilot, app)
        assert "62.5%" in screen_text(app)
        await pilot.press("4")
        await settle(pilot, app)
        assert "ไม่มีการตรวจที่กำลังทำงาน" in screen_text(app)
        await pilot.press("1")
        await settle(pilot, app)
        assert "อบจ.ตาก" in screen_text(app)


async def test_quit(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_no_color_terminal(make_app: Callable[..., SarabanApp], monkeypatch: Any) -> None:
    """Over SSH with NO_COLOR the console still shows everything (group codes are text, bars are blocks)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.no_color
        text = screen_text(app)
        assert "A1" in text and "B3" in text
        await pilot.press("2")
        await settle(pilot, app)
        assert "█" in screen_text(app)


async def test_command_palette_runs_an_action(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "English")
        for _ in range(50):
            await pilot.pause(0.02)
            if "English (l)" in screen_text(app):
                break
        assert "English (l)" in screen_text(app)  # the hit is on screen: Enter runs it, not something else
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.lang == "en"
        assert "8 of 8 agencies" in screen_text(app)


async def test_english_shows_common_era_dates(make_app: Callable[..., SarabanApp]) -> None:
    """Thai screens give Buddhist Era dates (as the letters do); English gives the Common Era."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-326")
        thai = str(app.query_one("#detail-body").render())
        assert "2568" in thai and "2025-10" not in thai
        await pilot.press("l")
        await settle(pilot, app)
        english = str(app.query_one("#detail-body").render())
        assert "2025-10-0" in english and "2568" not in english


async def test_abbreviated_names_are_searchable_both_ways(make_app: Callable[..., SarabanApp]) -> None:
    from console.rules import short_name

    assert short_name("องค์การบริหารส่วนตำบลหนองบัวเหนือ") == "อบต.หนองบัวเหนือ"
    assert short_name("กรมการพัฒนาชุมชน") == "กรมการพัฒนาชุมชน"  # not a local unit: as it is
    assert short_name("เทศบาลตำบล") == "เทศบาลตำบล"  # nothing after the prefix: keep it whole
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for typed in ("อบต.หนองบัว", "องค์การบริหารส่วนตำบลหนองบัว"):
            await pilot.press("slash")
            app.query_one("#search").value = ""
            await type_text(pilot, typed)
            await pilot.press("enter")
            await settle(pilot, app)
            assert shown_ids(app) == ["tak-636"], typed
