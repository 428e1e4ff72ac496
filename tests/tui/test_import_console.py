"""Importing from the console: the same options as `saraban import`, bad rows named, nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, notices, screen_text, select, settle, type_text, wait_until

from console.importer import ListReadError, parse_import_line
from console.tui.app import SarabanApp


@pytest.mark.parametrize(
    "typed", ["/tmp/รายชื่อ อปท ตาก.xlsx", "C:\\lists\\tak.csv", "/tmp/O'Brien list.csv", "  /tmp/a b.tsv  "]
)
def test_a_bare_path_is_taken_as_typed(typed: str) -> None:
    """Thai file names hold spaces; paths may hold backslashes or apostrophes: no shell splitting."""
    assert parse_import_line(typed).source == typed.strip()
    assert parse_import_line(f'"{typed.strip()}"').source == typed.strip()


def test_import_line_reads_path_sheet_and_maps() -> None:
    request = parse_import_line("'รายชื่อ ตาก.xlsx' --sheet อปท --map E=declared --map หมายเหตุ=")
    assert request.source == "รายชื่อ ตาก.xlsx" and request.sheet == "อปท"
    assert request.mapping == {"E": "declared", "หมายเหตุ": ""}


@pytest.mark.parametrize(
    ("line", "says"),
    [("", "ยังไม่ได้ระบุไฟล์"), ("a.csv --map E", "COLUMN=FIELD"), ("a.csv b.csv --sheet x", "ครั้งละหนึ่งไฟล์"),
     ("a.csv --force", "ไม่รู้จักตัวเลือก"), ("a.csv --sheet", "ต้องมีค่า"), ("'a.csv --sheet x", "เครื่องหมายคำพูด")],
)
def test_bad_import_lines_say_what_to_do(line: str, says: str) -> None:
    with pytest.raises(ListReadError, match=says):
        parse_import_line(line)


async def _import(pilot: Any, app: SarabanApp, line: str) -> None:
    await pilot.press("i")
    await pilot.pause()
    await type_text(pilot, line)
    await pilot.press("enter")


async def test_odd_headers_import_with_map_and_bad_rows_are_named(
    make_app: Callable[..., SarabanApp], tmp_path: Path
) -> None:
    source = tmp_path / "odd.csv"
    source.write_text(
        "ที่,ชื่อ อปท.,อ.,จ.,ติดต่อ\n"
        "700,องค์การบริหารส่วนตำบลแม่กุ,แม่สอด,ตาก,saraban@maeku.go.th\n"
        "701,,แม่สอด,ตาก,saraban@nobody.go.th\n",
        encoding="utf-8",
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await _import(pilot, app, f"{source} --map ชื่อ\\ อปท.=name --map ติดต่อ=declared --map อ.=district --map จ.=province")
        await wait_until(pilot, app, lambda: len(app.records) == 9)
        text = notices(app)
        assert "นำเข้าแล้ว: เพิ่ม 1" in text
        assert "แถว 3:" in text  # the row without a name is named, with its field
        await pilot.press("4")
        await settle(pilot, app)
        assert "แถว 3:" in screen_text(app)


async def test_a_file_with_no_agencies_changes_nothing(
    make_app: Callable[..., SarabanApp], tmp_path: Path, store: Any
) -> None:
    source = tmp_path / "empty-rows.csv"
    source.write_text("หน่วยงาน,email ที่ระบุใน ม.๑๐\n,\n", encoding="utf-8")
    before = [r.agency for r in store.records()]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await _import(pilot, app, str(source))
        await wait_until(pilot, app, lambda: "ไม่มีหน่วยงานที่อ่านได้ จึงไม่ได้นำเข้า" in notices(app))
        assert len(app.records) == 8
    assert [r.agency for r in store.records()] == before
    assert not store.imports() or all("empty-rows" not in str(i) for i in store.imports())


async def test_reimport_that_changes_an_address_marks_the_old_verdict_and_offers_a_check(
    make_app: Callable[..., SarabanApp], tmp_path: Path, store: Any, runner: Any
) -> None:
    """The province's new list gives tak-326 another address: its B1 is history, not its group."""
    rec = store.record("tak-326")
    source = tmp_path / "new.csv"
    source.write_text(
        "ลำดับที่,หน่วยงาน,อำเภอ,จังหวัด,email ที่ระบุใน ม.๑๐\n"
        f"{rec.agency.seq},{rec.agency.name},{rec.agency.district},{rec.agency.province},saraban@tasailuad.go.th\n",
        encoding="utf-8",
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert str(app.query_one("#agencies").get_cell("tak-326", "group")) == "B1"
        await _import(pilot, app, str(source))
        await wait_until(pilot, app, lambda: "ตรวจ 1 หน่วยงานที่เพิ่มใหม่หรือเปลี่ยนอีเมลตอนนี้?" in screen_text(app))
        await pilot.press("escape")  # not now
        await settle(pilot, app)
        assert str(app.query_one("#agencies").get_cell("tak-326", "group")) == "-"  # not B1 any more
        from console.tui.view import flag_labels

        assert flag_labels(app.records["tak-326"], "th")[0] == "อีเมลเปลี่ยน ต้องตรวจใหม่"
        await select(pilot, app, "tak-326")
        detail = str(app.query_one("#detail-body").render())
        assert "ผลด้านล่างเป็นของอีเมลเดิม (Tasailuadmeasod@gmail.com)" in detail
        await pilot.press("r")
        await wait_until(pilot, app, lambda: str(app.query_one("#agencies").get_cell("tak-326", "group")) == "A1")
        assert runner.rechecks == ["tak-326"]
