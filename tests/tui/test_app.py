"""The console as an operator uses it: keys in, what the screen shows out (real Store, fake runner)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from tui_sample import EVIL, EVIL_SHOWN, Config, FakeRunner, agencies, build_store, verdict

from checks import events as ev
from checks.model import Agency
from console.tui.app import SarabanApp
from console.tui.widgets import AgencyTable

SIZE = (120, 40)


def screen_text(app: SarabanApp) -> str:
    """The characters on the terminal right now, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot: Pilot[Any], app: SarabanApp) -> None:
    """Let workers finish and the screen catch up (the table flushes every 300 ms)."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    app._flush()
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], app: SarabanApp, predicate: Callable[[], bool]) -> None:
    for _ in range(100):
        await settle(pilot, app)
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never held")


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type like a terminal does: each key carries its character (Pilot.press drops Thai tone marks)."""
    app = pilot.app
    for ch in text:
        key = ch if ch.isalnum() else _character_to_key(ch)
        app._driver.send_message(events.Key(key, ch))
        await pilot.pause()


def table(app: SarabanApp) -> AgencyTable:
    return app.query_one("#agencies", AgencyTable)


def shown_ids(app: SarabanApp) -> list[str]:
    t = table(app)
    return [t.coordinate_to_cell_key((i, 0))[0].value for i in range(t.row_count)]


async def select(pilot: Pilot[Any], app: SarabanApp, agency_id: str) -> None:
    t = table(app)
    t.focus()
    t.move_cursor(row=t.get_row_index(agency_id))
    await settle(pilot, app)


async def test_main_screen_shows_agencies_groups_and_detail(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "แสดง 8 จาก 8 หน่วยงาน" in text
        for name in ("องค์การบริหารส่วนจังหวัดตาก", "เทศบาลเมืองแม่สอด", "เทศบาลตำบลทุ่งหลวง"):
            assert name in text
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
        assert "ทดสอบแล้ว ใช้งานได้" in text
        assert "รูปแบบอีเมลไม่ถูกต้อง" in text  # Thai label of B3
        assert "แก้ไขอีเมลในประกาศ ม.๑๐ ให้ถูกต้อง" in text  # the rule's fix
        detail = app.query_one("#detail-body").render()
        plain = str(detail)
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


async def test_group_pane_selection_filters_table(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        groups = app.query_one("#groups")
        assert app.focused is groups
        index = groups._keys.index("group:B1")
        groups.highlighted = index
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]
        assert "กลุ่ม B1" in screen_text(app)
        # bucket B–E: everything that must fix something
        groups.highlighted = groups._keys.index("bucket:BE")
        await pilot.press("enter")
        await settle(pilot, app)
        assert set(shown_ids(app)) == {"tak-12", "tak-47", "tak-140", "tak-326", "tak-636"}
        await pilot.press("escape")  # back out of the groups pane focus / filter
        await pilot.press("escape")
        await settle(pilot, app)
        assert len(shown_ids(app)) == 8


async def test_filters_followup_and_province_via_scope(make_app: Callable[..., SarabanApp]) -> None:
    from console.tui.view import Scope

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


async def test_marks_then_bulk_recheck_asks_first(make_app: Callable[..., SarabanApp], runner: FakeRunner) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("space", "space")  # marks tak-1 and pyo-5 (the cursor moves down)
        await settle(pilot, app)
        assert app.marked == {"tak-1", "pyo-5"}
        assert "เลือกไว้ 2" in screen_text(app)
        assert "●" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert "ตรวจซ้ำ 2 หน่วยงาน?" in screen_text(app)
        await pilot.press("escape")  # cancelled: nothing runs
        await settle(pilot, app)
        assert runner.scans == []
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        assert runner.scans == [["tak-1", "pyo-5"]]
        assert not app.marked
        # pyo-5 was unchecked; the fake internet says its .go.th address works
        assert str(table(app).get_cell("pyo-5", "group")) == "A1"


async def test_marks_then_mark_called(make_app: Callable[..., SarabanApp], store: Any) -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-12")
        await pilot.press("space", "space")
        await pilot.press("w")
        await pilot.pause()
        assert "โทรแล้ว รอแก้ไข" in screen_text(app) and "2 หน่วยงาน?" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: store.record("tak-47").followup is not None)
        assert store.record("tak-12").followup == "called_waiting"
        assert store.record("tak-47").followup == "called_waiting"
        assert "โทรแล้ว" in str(table(app).get_cell("tak-12", "flags"))
        # w on one agency toggles without asking
        await select(pilot, app, "tak-12")
        await pilot.press("w")
        await wait_until(pilot, app, lambda: store.record("tak-12").followup is None)


async def test_recheck_selected_updates_row_and_detail(make_app: Callable[..., SarabanApp], runner: FakeRunner) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "pyo-5")
        assert str(table(app).get_cell("pyo-5", "group")) == "-"
        await pilot.press("r")
        await wait_until(pilot, app, lambda: str(table(app).get_cell("pyo-5", "group")) == "A1")
        assert runner.rechecks == ["pyo-5"]
        assert table(app).current_key() == "pyo-5"  # the cursor stayed on its row
        assert "กลุ่ม: A1  พร้อมใช้งาน" in screen_text(app)


async def test_recheck_everything_in_filter(make_app: Callable[..., SarabanApp], runner: FakeRunner) -> None:
    from console.tui.view import Scope

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.set_scope(Scope(district="แม่ระมาด"))
        await settle(pilot, app)
        await pilot.press("R")
        await pilot.pause()
        assert "ตรวจซ้ำ 2 หน่วยงาน?" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        assert runner.scans == [["tak-47", "tak-140"]]


async def test_correction_validates_as_you_type_then_saves_and_rechecks(
    make_app: Callable[..., SarabanApp], runner: FakeRunner, store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-636")
        await pilot.press("c")
        await pilot.pause()
        text = screen_text(app)
        assert "แก้ไขอีเมลของ องค์การบริหารส่วนตำบลหนองบัวเหนือ" in text
        # prefilled with the current (Thai-digit) address: the validator names the problem and a fix
        assert "ปัญหา:" in text
        assert "แนะนำ: saraban_663019@dla.go.th" in text
        await pilot.press("ctrl+s")  # take the suggestion
        await pilot.pause()
        assert "รูปแบบถูกต้อง: saraban_663019@dla.go.th" in screen_text(app)
        await pilot.press("tab")
        await type_text(pilot, "โทรแจ้ง")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: bool(store.record("tak-636").corrections))
        await settle(pilot, app)
        correction = store.record("tak-636").corrections[-1]
        assert (correction.old_address, correction.new_address) == ("saraban_๖๖๓๐๑๙@dla.go.th", "saraban_663019@dla.go.th")
        assert correction.reason == "โทรแจ้ง" and correction.operator == "สมชาย"
        assert runner.rechecks == ["tak-636"]
        assert str(table(app).get_cell("tak-636", "group")) == "A1"
        assert str(table(app).get_cell("tak-636", "address")) == "saraban_663019@dla.go.th"
        await pilot.press("3")
        detail = str(app.query_one("#detail-body").render())
        assert "อีเมลปัจจุบัน (แก้ไขแล้ว): saraban_663019@dla.go.th" in detail
        assert "saraban_๖๖๓๐๑๙@dla.go.th → saraban_663019@dla.go.th" in detail
        assert "กลุ่ม: A1" in detail


async def test_correction_invalid_address_needs_second_enter(make_app: Callable[..., SarabanApp], store: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-47")
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+u")
        await type_text(pilot, "saraban at thungluang")
        await pilot.pause()
        assert "ปัญหา:" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "แก้รูปแบบอีเมลก่อนบันทึก" in screen_text(app)
        assert not store.record("tak-47").corrections
        await pilot.press("escape")
        await settle(pilot, app)
        assert not store.record("tak-47").corrections
        assert "แก้ไขอีเมลของ" not in screen_text(app)


async def test_note_is_saved_and_shown(make_app: Callable[..., SarabanApp], store: Any) -> None:
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-47")
        await pilot.press("n")
        await pilot.pause()
        assert "บันทึกสำหรับ เทศบาลตำบลทุ่งหลวง" in screen_text(app)
        await type_text(pilot, "ปลัดรับสาย จะจดโดเมนใหม่")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: bool(store.record("tak-47").notes))
        assert store.record("tak-47").notes[0].text == "ปลัดรับสาย จะจดโดเมนใหม่"
        await settle(pilot, app)
        assert "สมชาย: ปลัดรับสาย จะจดโดเมนใหม่" in str(app.query_one("#detail-body").render())
        assert "มีบันทึก" in str(table(app).get_cell("tak-47", "flags"))


async def test_export_xlsx_default_path_read_back(make_app: Callable[..., SarabanApp], config: Config) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        text = screen_text(app)
        assert "ส่งออกรายชื่อที่ต้องติดตาม (5 รายการ)" in text
        # the province in the name: the list spans two provinces, so "all"
        expected = config.export_dir / "followup-all-2568-10-08.xlsx"
        assert app.screen.query_one("#export-input").value == str(expected)
        await pilot.press("enter")
        await wait_until(pilot, app, expected.exists)
        assert expected.stat().st_mode & 0o077 == 0  # phone numbers: not world-readable
        sheet = openpyxl.load_workbook(expected).active
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        names = {row[1] for row in rows[1:]} | {cell for row in rows[1:] for cell in row}
        assert "องค์การบริหารส่วนตำบลท่าสายลวด" in names
        assert "เทศบาลตำบลทุ่งหลวง" in names
        assert "องค์การบริหารส่วนจังหวัดตาก" not in names  # A1 needs no call
        assert len(rows) == 1 + 5
        await settle(pilot, app)
        assert "ส่งออก 5 รายการไปที่" in screen_text(app)


async def test_export_csv_for_one_province(make_app: Callable[..., SarabanApp], config: Config) -> None:
    from console.tui.view import Scope

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.set_scope(Scope(province="ตาก", district="แม่สอด"))
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one("#export-input")
        assert field.value.endswith("followup-ตาก-2568-10-08.xlsx")
        target = config.export_dir / "maesot.csv"
        field.value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, app, target.exists)
        content = target.read_text(encoding="utf-8-sig")
        assert "องค์การบริหารส่วนตำบลท่าสายลวด" in content and "เทศบาลเมืองแม่สอด" in content
        assert "พะวอ" not in content  # A2 needs no call


async def test_import_adds_agencies(make_app: Callable[..., SarabanApp], tmp_path: Path, store: Any) -> None:
    source = tmp_path / "new.tsv"
    header = Path(__file__).resolve().parents[1].joinpath("data", "tak-2568.tsv").read_text(encoding="utf-8").splitlines()[0]
    source.write_text(header + "\n๗๐๐\tองค์การบริหารส่วนตำบลแม่กุ\tแม่สอด\tตาก\t/\t/\tsaraban@maeku.go.th\t\n",
                      encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        await pilot.pause()
        assert "นำเข้ารายชื่อหน่วยงาน" in screen_text(app)
        await type_text(pilot, str(source))
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: len(app.records) == 9)
        assert "องค์การบริหารส่วนตำบลแม่กุ" in screen_text(app)
        assert "นำเข้าแล้ว: เพิ่ม 1" in screen_text(app)


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


async def test_help_screen_lists_real_bindings_and_keymap(store: Any, runner: FakeRunner, tmp_path: Path) -> None:
    config = Config(export_dir=tmp_path, keys={"recheck": "g"})
    app = SarabanApp(store, runner, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "ปุ่มลัด" in text
        for binding_id in ("recheck", "correct", "export", "language", "filter"):
            assert binding_id in text
        rows = {row[2]: row[0] for row in app.help_rows()}
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
        await pilot.pause()
        assert app.clipboard.startswith("องค์การบริหารส่วนตำบลท่าสายลวด")
        assert "กลุ่ม: B1 ใช้อีเมลส่วนตัว" in app.clipboard
        assert "คัดลอกสรุปของ" in screen_text(app)


async def test_scan_progress_streams_and_finishes(store: Any, config: Config) -> None:
    gate = asyncio.Event()
    runner = FakeRunner(
        store,
        gate=gate,
        hold_after=3,
        extra_events=[
            ev.RetryScheduled("x@slow.go.th", "mx.slow.go.th", 2, 300.0, "450 4.7.1 greylisted"),
            ev.ProberBlocked("mx.block.go.th", "554 5.7.1 blocked"),
        ],
    )
    app = SarabanApp(store, runner, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, app, lambda: app.scan_done == 3)
        app._flush()
        await pilot.pause()
        text = screen_text(app)
        assert "กำลังตรวจ" in text
        assert "3/8" in text
        assert "รอตรวจซ้ำ 1" in text
        assert "greylisted" in text
        assert "mx.block.go.th" in text
        # the console stays usable during the scan
        await pilot.press("slash")
        await type_text(pilot, "พะเยา")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: shown_ids(app) == ["pyo-5"])
        await pilot.press("escape")
        gate.set()
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        assert "ตรวจเสร็จ 8/8" in screen_text(app)
        assert str(table(app).get_cell("tak-47", "group")) == "D1"


async def test_pause_resume_and_stop(store: Any, config: Config) -> None:
    gate = asyncio.Event()
    runner = FakeRunner(store, gate=gate, hold_after=1)
    app = SarabanApp(store, runner, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, app, lambda: runner.running and app.scan_done == 1)
        await pilot.press("s")
        assert runner.paused and app.scan_state == "paused"
        await pilot.pause()
        assert "พักการตรวจ" in screen_text(app)
        await pilot.press("s")
        assert not runner.paused and app.scan_state == "running"
        await pilot.press("x")
        await wait_until(pilot, app, lambda: app.scan_state == "stopped")
        assert "หยุดแล้ว" in screen_text(app)


async def test_canary_failure_is_shown(store: Any, config: Config) -> None:
    gate = asyncio.Event()
    runner = FakeRunner(store, gate=gate, hold_after=0, extra_events=[ev.CanaryFailed("port 25 blocked", 4)])
    app = SarabanApp(store, runner, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, app, lambda: app.canary is not None)
        await settle(pilot, app)
        assert "port 25 blocked" in screen_text(app)
        gate.set()
        await wait_until(pilot, app, lambda: app.scan_state == "finished")


async def test_other_operators_changes_are_picked_up(make_app: Callable[..., SarabanApp], store: Any) -> None:
    from console.store import Store

    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-12")
        other = Store(store.path)
        other.add_note("tak-12", "ผู้ใช้อีกคนโทรแล้ว", "วิภา")
        app._poll()
        await wait_until(pilot, app, lambda: "ผู้ใช้อีกคนโทรแล้ว" in str(app.query_one("#detail-body").render()))
        assert table(app).current_key() == "tak-12"


async def test_narrow_terminal_one_pane_at_a_time(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.narrow
        text = screen_text(app)
        assert "องค์การบริหารส่วนจังหวัดตาก" in text
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
        assert "องค์การบริหารส่วนจังหวัดตาก" in screen_text(app)


async def test_quit(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_untrusted_text_is_shown_literally(tmp_path: Path, config: Config, size: tuple[int, int]) -> None:
    evil_agency = Agency("evil-1", EVIL, f"{EVIL}@x.go.th", "999", "แม่สอด", "ตาก", "เทศบาลตำบล", EVIL)
    store = build_store(tmp_path / "store.json", banner=EVIL, extra=[evil_agency])
    store.save_verdicts([verdict("evil-1", "D1", evil_agency.declared)])
    store.add_note("evil-1", EVIL, "สมชาย")
    runner = FakeRunner(store, extra_events=[ev.ProberBlocked(EVIL, EVIL), ev.ScanPaused(EVIL)])
    app = SarabanApp(store, runner, config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "evil-1")
        text = screen_text(app)
        assert "\x1b" not in text
        assert EVIL_SHOWN.strip()[:20] in text  # the name, literally, in the table and the detail
        await pilot.press("3")
        await settle(pilot, app)
        detail = str(app.query_one("#detail-body").render())
        assert EVIL_SHOWN.strip() in detail
        assert "\x1b" not in detail and "\x07" not in detail
        # the SMTP banner of another agency's evidence
        await select(pilot, app, "tak-326")
        detail = str(app.query_one("#detail-body").render())
        assert f"220 {EVIL_SHOWN.strip()}" in detail
        # events, notifications and the clipboard summary carry it literally too
        await select(pilot, app, "evil-1")
        await pilot.press("y")
        await pilot.press("s")
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        await pilot.press("slash")
        await type_text(pilot, "[bold]")
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["evil-1"]
        assert "\x1b" not in screen_text(app)
        assert app.is_running and app.return_code is None  # [@click=app.quit] did not quit
        assert "pwned" not in app.title
