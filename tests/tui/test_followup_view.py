"""Issue 15's acceptance paths, key by key, at 120x40 and 80x24: the agencies she called listed, one
province's follow-up list exported, a phoned-in correction recorded and its new verdict seen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import openpyxl
import pytest
from textual.widgets import Checkbox, Select, Static
from tui_helpers import run_from_palette, screen_text, select, settle, shown_ids, table, type_text, wait_until
from tui_sample import Config

from console.config import ConsoleSettings
from console.tui.app import SarabanApp
from console.tui.screens import FilterScreen

SIZES = [(120, 40), (80, 24)]


@pytest.mark.parametrize("size", SIZES)
async def test_called_waiting_listed_in_three_keys(make_app: Callable[..., SarabanApp], store: Any, size: tuple[int, int]) -> None:
    """`w` on tak-47, then `/` รอแก้ไข Enter: the two agencies called (tak-326 from before) and nothing else."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-47")
        await pilot.press("w")
        await wait_until(pilot, app, lambda: store.record("tak-47").followup is not None)
        await pilot.press("slash")  # key 1
        await type_text(pilot, "รอแก้ไข")
        await pilot.press("enter")  # key 2
        await settle(pilot, app)
        assert sorted(shown_ids(app)) == ["tak-326", "tak-47"]
        if size[0] >= 120:  # a search of the follow-up words offers the follow-up column first
            assert str(table(app).get_cell("tak-47", "followup")) == "รอแก้ไข"


async def test_palette_and_filter_dialog_list_called_waiting(make_app: Callable[..., SarabanApp]) -> None:
    """The same list from the palette (ctrl+p รอแก้ไข Enter) and from the dialog's follow-up field."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await run_from_palette(pilot, app, "รอแก้ไข", "รอแก้ไข")
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]
        assert "การติดตาม: โทรแล้ว รอแก้ไข" in screen_text(app)  # the top bar names the filter
        await pilot.press("escape")  # Esc clears it (no province chosen: everything)
        await settle(pilot, app)
        assert len(shown_ids(app)) == 8
        await pilot.press("f")
        await settle(pilot, app)
        dialog = app.screen
        dialog.query_one("#filter-followup-status", Select).value = "waiting"
        await pilot.press("enter")  # Enter applies from the dropdown (closed) as the button says
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]


async def test_filter_dialog_enter_applies_glyph_and_fits_80x24(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await settle(pilot, app)
        text = screen_text(app)
        # every field is on screen at 80x24, the last ones included
        assert "ประเภท: ทั้งหมด" in text and "กลุ่มเปลี่ยนตั้งแต่" in text and "ตกลง" in text
        assert "▐ ▌" in text  # the unticked box is empty...
        box = app.screen.query_one("#filter-followup", Checkbox)
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert "▐✓▌" in screen_text(app)  # ...and the ticked one has a tick, not the same X
        await pilot.press("enter")  # Enter on the checkbox applies
        await settle(pilot, app)
        assert not isinstance(app.screen, FilterScreen)
        assert sorted(shown_ids(app)) == ["tak-12", "tak-140", "tak-326", "tak-47", "tak-636"]


@pytest.mark.parametrize("size", SIZES)
async def test_export_province_followup_list(make_app: Callable[..., SarabanApp], config: Config, size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await run_from_palette(pilot, app, "จังหวัด: ตาก", "ตาก")  # keys 1 and 2: ctrl+p, (typing), enter
        await settle(pilot, app)
        assert app.scope.province == "ตาก"
        await pilot.press("e")  # key 3
        await settle(pilot, app)
        expected = config.export_dir / "followup-ตาก-2568-10-08.xlsx"
        await pilot.press("enter")  # key 4
        await wait_until(pilot, app, expected.exists)
        rows = list(openpyxl.load_workbook(expected).active.iter_rows(values_only=True))
        provinces = {row[rows[0].index("จังหวัด")] for row in rows[1:]} if "จังหวัด" in rows[0] else {"ตาก"}
        assert provinces == {"ตาก"}
        names = {cell for row in rows[1:] for cell in row}
        assert "เทศบาลตำบลทุ่งหลวง" in names and "องค์การบริหารส่วนจังหวัดตาก" not in names


@pytest.mark.parametrize("size", SIZES)
async def test_phoned_in_correction_and_new_verdict_in_five_keys(
    make_app: Callable[..., SarabanApp], store: Any, size: tuple[int, int]
) -> None:
    """/ name Enter, c, ctrl+u address Enter: saved, rechecked, and the new group on screen."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")  # key 1
        await type_text(pilot, "ทุ่งหลวง")
        await pilot.press("enter")  # key 2
        await settle(pilot, app)
        assert table(app).current_key() == "tak-47"
        await pilot.press("c")  # key 3
        await settle(pilot, app)
        await pilot.press("ctrl+u")  # key 4
        await type_text(pilot, "saraban@tambonthungluang.go.th")
        await pilot.press("enter")  # key 5
        await wait_until(pilot, app, lambda: str(table(app).get_cell("tak-47", "group")) == "A1")
        assert store.record("tak-47").corrections[-1].new_address == "saraban@tambonthungluang.go.th"
        assert "A1" in screen_text(app)


async def test_esc_keeps_province_and_config_province_opens(
    tmp_path: Any, runner: Any, config: Config, make_app: Callable[..., SarabanApp]
) -> None:
    app = make_app(config=replace(config, console=ConsoleSettings(province="ตาก")))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert app.scope.province == "ตาก" and "pyo-5" not in shown_ids(app)
        await pilot.press("slash")
        await type_text(pilot, "ทุ่ง")
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("escape")  # the search goes, the province stays
        await settle(pilot, app)
        assert app.scope.province == "ตาก" and not app.scope.search
        assert len(shown_ids(app)) == 7


async def test_new_search_after_esc_starts_at_first_hit(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await type_text(pilot, "อบต")
        await pilot.press("enter")
        await settle(pilot, app)
        hits = shown_ids(app)
        assert len(hits) > 1
        await pilot.press("end")
        await settle(pilot, app)
        assert table(app).current_key() == hits[-1]
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.press("slash")
        await type_text(pilot, "อบต")
        await pilot.press("enter")
        await settle(pilot, app)
        assert table(app).current_key() == shown_ids(app)[0]


async def test_hits_from_two_provinces_show_the_province(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert "province" not in table(app).column_ids  # one list, district first
        await pilot.press("slash")
        await type_text(pilot, "saraban")
        await pilot.press("enter")
        await settle(pilot, app)
        provinces = {app.records[k].agency.province for k in shown_ids(app)}
        assert len(provinces) > 1
        assert "province" in table(app).column_ids


async def test_notes_above_the_transcript(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-326")
        text = screen_text(app)
        assert "ผู้ใหญ่บ้านรับเรื่อง" in text
        body = str(app.query_one("#detail-body", Static).content)
        assert body.index("ผู้ใหญ่บ้านรับเรื่อง") < body.index("หลักฐาน")
        assert "(mailbox" not in body and "(#" not in body  # no finding codes or rule numbers


async def test_one_followup_number_on_every_surface(
    store: Any, config: Config, make_app: Callable[..., SarabanApp], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The groups pane's phone line, the follow-up filter, the export dialog and `saraban report` say
    the same number, and each names the E agency (not yet verifiable) it leaves out."""
    from tui_sample import verdict

    from checks.model import Agency
    from console import cli

    store.merge_import(
        [Agency("tak-900", "อบต.รอคำตอบ", "saraban@tambonrokhamtop.go.th", "900", "เมืองตาก", "ตาก", "อบต.", "")],
        source="extra.xlsx", operator="สมชาย",
    )
    store.save_verdicts([verdict("tak-900", "E", "saraban@tambonrokhamtop.go.th")])
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        phone_line = next(line for line in text.splitlines() if "ต้องโทร" in line)
        assert " 5 " in phone_line and "ไม่รวม E 1" in phone_line
        app.set_scope(replace(app.scope, followup_only=True))  # the filter (ctrl+p / f / this pane line)
        await settle(pilot, app)
        assert len(shown_ids(app)) == 5
        await pilot.press("e")
        await settle(pilot, app)
        dialog = screen_text(app)
        assert "(5 รายการ)" in dialog
    # the export dialog counts the rows on screen (the filter): open it on everything to see E named
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await settle(pilot, app)
        dialog = screen_text(app)
        assert "(5 รายการ)" in dialog and "ไม่รวม E 1 รายการ (ยังตรวจสอบไม่ได้" in dialog
    monkeypatch.setattr(cli, "_open_store", lambda args, config: store)
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    assert cli.main(["report"]) == 0
    out = capsys.readouterr().out
    assert "ต้องติดตาม 5 รายการ (ไม่รวม E 1 รายการ (ยังตรวจสอบไม่ได้" in out
    assert cli.main(["export", "-o", str(config.export_dir / "x.xlsx")]) == 0
    assert "ต้องติดตาม 5 รายการ (ไม่รวม E 1 รายการ" in capsys.readouterr().err
