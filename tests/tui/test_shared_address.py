"""The console paths of i14-letter: a correction to an address that is already another agency's is
warned about and asked (the same check as `saraban correct`, console/corrections.py), the reason may
be left empty as in the CLI, and the province's letter is written from the palette."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui_helpers import SIZE, open_on, run_from_palette, screen_text, settle, type_text, wait_until
from tui_sample import FakeRunner

from console.tui.app import SarabanApp


async def test_another_agencys_address_is_warned_about_then_recorded_on_confirm(
    make_app: Callable[..., SarabanApp], runner: FakeRunner, store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "tak-326", "c")
        await pilot.press("ctrl+a", "ctrl+k")  # clear the prefilled address
        await type_text(pilot, "saraban@takpao.go.th")  # the provincial organisation's address
        await pilot.press("enter")  # no reason typed: optional
        await pilot.pause()
        text = screen_text(app)
        assert "saraban@takpao.go.th เป็นอีเมลของหน่วยงานอื่นอยู่แล้ว" in text
        assert "องค์การบริหารส่วนจังหวัดตาก" in text and "บันทึกต่อหรือไม่" in text
        await pilot.press("escape")  # she noticed: nothing recorded
        await settle(pilot, app)
        assert not store.record("tak-326").corrections and runner.rechecks == []

        await open_on(pilot, app, "tak-326", "c")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "saraban@takpao.go.th")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # confirmed: it really is the address the agency gave
        await wait_until(pilot, app, lambda: bool(store.record("tak-326").corrections))
        correction = store.record("tak-326").corrections[-1]
        assert correction.new_address == "saraban@takpao.go.th" and correction.reason == ""
        assert runner.rechecks == ["tak-326"]


async def test_an_address_nobody_else_has_is_recorded_without_a_question(
    make_app: Callable[..., SarabanApp], runner: FakeRunner, store: Any
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "tak-326", "c")
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "saraban@tasailuad.go.th")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: bool(store.record("tak-326").corrections))
        assert "เป็นอีเมลของหน่วยงานอื่น" not in screen_text(app)


async def test_the_letter_from_the_palette(make_app: Callable[..., SarabanApp], config: Any) -> None:
    """ctrl+p, "หนังสือ", Enter, Enter: the province's attachment, one sheet per district."""
    import openpyxl

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await run_from_palette(pilot, app, "หนังสือแจ้งอำเภอ", "หนังสือแจ้งอำเภอ")
        await pilot.pause()
        assert "ไฟล์แนบหนังสือแจ้งอำเภอ" in screen_text(app)
        expected = config.export_dir / "letter-all-2568-10-08.xlsx"
        assert app.screen.query_one("#export-input").value == str(expected)
        await pilot.press("enter")
        await wait_until(pilot, app, expected.exists)
        wb = openpyxl.load_workbook(expected)
        assert "แม่สอด" in wb.sheetnames and all(ws.page_setup.orientation == "landscape" for ws in wb.worksheets)
        names = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
        assert "องค์การบริหารส่วนตำบลท่าสายลวด" in names
        assert "องค์การบริหารส่วนจังหวัดตาก" not in names  # A1: not in a letter about what to fix
