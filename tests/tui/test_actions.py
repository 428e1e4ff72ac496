"""The console's actions end to end: marks, rechecks, corrections, notes, exports, imports, scans, safety."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tui_helpers import (
    SIZE,
    notices,
    open_on,
    screen_text,
    select,
    settle,
    shown_ids,
    table,
    type_text,
    wait_until,
)
from tui_sample import EVIL, EVIL_SHOWN, Config, FakeRunner, build_store, verdict

from checks import events as ev
from checks.model import Agency
from console.tui.app import SarabanApp


async def test_marks_then_bulk_recheck_asks_first(
    make_app: Callable[..., SarabanApp], runner: FakeRunner
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("space")  # marks tak-1; the cursor stays on it, with a sign
        await settle(pilot, app)
        assert app.marked == {"tak-1"} and table(app).current_key() == "tak-1"
        assert "เลือกไว้ 1" in screen_text(app) and "●" in screen_text(app)
        await pilot.press("down", "space")  # ↓ space ↓ space marks neighbours, skipping none
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
        await pilot.press("space", "down", "space")
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


async def test_recheck_selected_updates_row_and_detail(
    make_app: Callable[..., SarabanApp], runner: FakeRunner
) -> None:
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
    from console.rules import Scope

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
        await open_on(pilot, app, "tak-636", "c")
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
        assert (correction.old_address, correction.new_address) == (
            "saraban_๖๖๓๐๑๙@dla.go.th",
            "saraban_663019@dla.go.th",
        )
        assert correction.reason == "โทรแจ้ง" and correction.operator == "สมชาย"
        assert runner.rechecks == ["tak-636"]
        assert str(table(app).get_cell("tak-636", "group")) == "A1"
        assert str(table(app).get_cell("tak-636", "address")) == "saraban_663019@dla.go.th"
        await pilot.press("3")
        detail = str(app.query_one("#detail-body").render())
        assert "อีเมลปัจจุบัน (แก้ไขแล้ว): saraban_663019@dla.go.th" in detail
        assert "saraban_๖๖๓๐๑๙@dla.go.th → saraban_663019@dla.go.th" in detail
        assert "กลุ่ม: A1" in detail


async def test_correction_invalid_address_needs_second_enter(
    make_app: Callable[..., SarabanApp], store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "tak-47", "c")
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
        await open_on(pilot, app, "tak-47", "n")
        assert "บันทึกสำหรับ เทศบาลตำบลทุ่งหลวง" in screen_text(app)
        await type_text(pilot, "ปลัดรับสาย จะจดโดเมนใหม่")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: bool(store.record("tak-47").notes))
        assert store.record("tak-47").notes[0].text == "ปลัดรับสาย จะจดโดเมนใหม่"
        await settle(pilot, app)
        assert "สมชาย: ปลัดรับสาย จะจดโดเมนใหม่" in str(app.query_one("#detail-body").render())
        assert "มีบันทึก" in str(table(app).get_cell("tak-47", "flags"))


async def test_export_xlsx_default_path_read_back(
    make_app: Callable[..., SarabanApp], config: Config
) -> None:
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
        header = rows[0]
        by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
        assert by_name["องค์การบริหารส่วนตำบลท่าสายลวด"]["สถานะการติดตาม"] == "โทรแล้ว รอแก้ไข"  # called already
        assert not by_name["เทศบาลตำบลทุ่งหลวง"]["สถานะการติดตาม"]
        assert "เลขไทย" in by_name["องค์การบริหารส่วนตำบลหนองบัวเหนือ"]["รายละเอียดปัญหา"]
        await settle(pilot, app)
        assert f"ส่งออก 5 รายการไปที่ {expected}" in notices(app)


async def test_export_csv_for_one_province(make_app: Callable[..., SarabanApp], config: Config) -> None:
    from console.rules import Scope

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
    header = (
        Path(__file__)
        .resolve()
        .parents[1]
        .joinpath("data", "tak-2568.tsv")
        .read_text(encoding="utf-8")
        .splitlines()[0]
    )
    source.write_text(
        header + "\n๗๐๐\tองค์การบริหารส่วนตำบลแม่กุ\tแม่สอด\tตาก\t/\t/\tsaraban@maeku.go.th\t\n", encoding="utf-8"
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        await pilot.pause()
        assert "นำเข้ารายชื่อหน่วยงาน" in screen_text(app)
        await type_text(pilot, str(source))
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: len(app.records) == 9)
        assert "อบต.แม่กุ" in screen_text(app)
        assert "นำเข้าแล้ว: เพิ่ม 1" in notices(app)


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
        app.flush_pending()
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


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_untrusted_text_is_shown_literally(
    tmp_path: Path, config: Config, size: tuple[int, int]
) -> None:
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
        assert EVIL_SHOWN.strip()[:14] in text  # the name, literally, in the table and the detail
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
        await wait_until(pilot, app, lambda: EVIL_SHOWN.strip() in app.clipboard)
        assert "\x1b" not in app.clipboard and "pwned" not in app.clipboard  # tmux: test_terminal.py
        await pilot.press("s")
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        await pilot.press("slash")
        await type_text(pilot, "[bold]")
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app) == ["evil-1"]
        assert "\x1b" not in screen_text(app)
        row = screen_text(app).splitlines().index(next(line for line in screen_text(app).splitlines() if "[@click" in line))
        for x in range(0, size[0] // 2, 2):  # click all along the row: a live [@click=app.quit] would quit
            await pilot.click(offset=(x, row))
        await settle(pilot, app)
        assert app.is_running and app.return_code is None


async def test_reload_does_not_roll_back_streamed_results(
    make_app: Callable[..., SarabanApp], store: Any
) -> None:
    """A poll that reads the store before the runner saved its batch must not flip rows back."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        agency = store.record("pyo-5").agency
        newer = verdict("pyo-5", "D2", agency.declared, at="2025-10-09T10:00:00+07:00")
        app.on_scan_event(ev.AgencyChecked(agency, newer, 1, 1))  # streamed, not saved yet
        app.apply_records(store.records())  # what a poll reads
        await settle(pilot, app)
        assert str(table(app).get_cell("pyo-5", "group")) == "D2"


async def test_a_correction_that_changes_nothing_is_not_saved(
    make_app: Callable[..., SarabanApp], store: Any, runner: FakeRunner
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "tak-12", "c")
        await pilot.press("enter")  # the dialog opens with the current address: Enter right away
        await pilot.pause()
        assert "ยังเป็นอีเมลเดิม" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert not store.record("tak-12").corrections and runner.rechecks == []


async def test_a_corrected_agency_stays_on_screen_in_the_phone_list_view(
    make_app: Callable[..., SarabanApp], store: Any
) -> None:
    """On the follow-up list, a fix that makes the agency A1 must be seen, not vanish from under the cursor."""
    from console.rules import Scope

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.set_scope(Scope(followup_only=True))
        await open_on(pilot, app, "tak-636", "c")
        await pilot.press("ctrl+s")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: str(table(app).get_cell("tak-636", "group")) == "A1")
        assert table(app).current_key() == "tak-636"
        assert "กลุ่ม: A1" in str(app.query_one("#detail-body").render())
        app.set_scope(Scope())  # another view...
        app.set_scope(Scope(followup_only=True))  # ...and back: now it has left the phone list
        await settle(pilot, app)
        assert "tak-636" not in shown_ids(app)
