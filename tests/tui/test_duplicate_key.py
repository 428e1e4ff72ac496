"""Issue 13 item 2 in the console: on a row flagged "possible duplicate of row N", `d` opens a dialog
naming both rows, and the operator says "same agency" (merge) or "different" (the flag goes away) with
the same store calls as `saraban same` / `saraban different`. At 120x40 and 80x24."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import screen_text, select, settle, shown_ids, wait_until
from tui_sample import FakeRunner, build_store

from checks.model import Agency
from console.config import AppConfig
from console.tui.app import SarabanApp

SIZES = [(120, 40), (80, 24)]
# Row 900 names the same agency as row 47 (name, district and province): the importer flags both.
TWIN = Agency("tak-900", "เทศบาลตำบลทุ่งหลวง", "saraban@thungluang.go.th", "900", "แม่ระมาด", "ตาก", "เทศบาลตำบล")


@pytest.fixture
def twin_store(tmp_path: Path) -> Any:
    return build_store(tmp_path / "twins" / "store.json", extra=[TWIN])


@pytest.fixture
def twin_app(make_app: Callable[..., SarabanApp], twin_store: Any, config: AppConfig) -> Callable[..., SarabanApp]:
    def make(**kwargs: Any) -> SarabanApp:
        return make_app(store=twin_store, runner=FakeRunner(twin_store, config=config), **kwargs)

    return make


def footer_line(app: SarabanApp) -> str:
    return screen_text(app).splitlines()[-1]


@pytest.mark.parametrize("size", SIZES)
async def test_different_clears_the_flag(
    twin_app: Callable[..., SarabanApp], twin_store: Any, size: tuple[int, int]
) -> None:
    app = twin_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-12")  # not flagged: no `d` in the footer
        assert "ซ้ำ?" not in footer_line(app)
        await select(pilot, app, "tak-900")
        assert "d ซ้ำ?" in footer_line(app)
        if size[0] >= 120:
            assert "อาจซ้ำกับแถว 47" in screen_text(app)  # the detail pane beside the table
        await pilot.press("d")
        await settle(pilot, app)
        dialog = screen_text(app)
        assert "สองแถวนี้เป็นหน่วยงานเดียวกันหรือไม่?" in dialog
        for seen in ("ลำดับที่ 900", "ลำดับที่ 47", "saraban@thungluang.go.th", "saraban@tambonthungluang.co.th",
                     "แม่ระมาด", "หน่วยงานเดียวกัน (รวม เก็บประวัติทั้งสอง)", "คนละหน่วยงาน",
                     "เก็บแถวนี้ไว้ แถว 47 รวมเข้ามา"):
            assert seen in dialog, seen
        assert dialog.count("เทศบาลตำบลทุ่งหลวง") >= 2
        await pilot.press("2")
        await wait_until(pilot, app, lambda: not twin_store.record("tak-900").duplicate_of)
        await settle(pilot, app)
        assert not twin_store.record("tak-47").duplicate_of
        assert "tak-900" in shown_ids(app) and "tak-47" in shown_ids(app)  # both stay agencies
        assert "ซ้ำ?" not in footer_line(app)  # the flag is gone from the screen
        assert "อาจซ้ำกับแถว" not in screen_text(app)


async def test_a_flagged_row_found_by_a_search_loses_its_key_once_decided(
    twin_app: Callable[..., SarabanApp], twin_store: Any
) -> None:
    """The row a search puts first is the selected one without a cursor move: after "different" on it,
    the footer must stop offering `d` (it kept showing it, stale, until the cursor moved)."""
    from tui_helpers import type_text

    app = twin_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await type_text(pilot, "saraban@thungluang.go")
        await pilot.press("enter")
        await settle(pilot, app)
        assert shown_ids(app)[0] == "tak-900" and "d ซ้ำ?" in footer_line(app)
        await pilot.press("d")
        await settle(pilot, app)
        await pilot.press("2")
        await wait_until(pilot, app, lambda: not twin_store.record("tak-900").duplicate_of)
        await settle(pilot, app)
        assert "อาจซ้ำกับแถว" not in screen_text(app)
        assert "ซ้ำ?" not in footer_line(app)


@pytest.mark.parametrize("size", SIZES)
async def test_same_merges_keeping_both_histories(
    twin_app: Callable[..., SarabanApp], twin_store: Any, size: tuple[int, int]
) -> None:
    twin_store.add_note("tak-900", "โทรแล้ว แถว 900", "สมชาย")
    app = twin_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-47")
        assert "d ซ้ำ?" in footer_line(app)
        await pilot.press("d")
        await settle(pilot, app)
        await pilot.press("enter")  # the focused answer: same agency
        await wait_until(pilot, app, lambda: "tak-900" not in shown_ids(app))
        kept = twin_store.record("tak-47")
        assert not kept.duplicate_of
        assert "โทรแล้ว แถว 900" in [n.text for n in kept.notes]  # the merged row's history stays
        assert "ซ้ำ?" not in footer_line(app)


async def test_escape_changes_nothing_and_help_lists_the_key(
    twin_app: Callable[..., SarabanApp], twin_store: Any
) -> None:
    app = twin_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-900")
        await pilot.press("d")
        await settle(pilot, app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert [other for other, _ in twin_store.record("tak-900").duplicate_of] == ["tak-47"]
        await select(pilot, app, "tak-12")  # the help names `d` on any row
        await pilot.press("question_mark")
        await settle(pilot, app)
        assert "ซ้ำหรือไม่: หน่วยงานเดียวกัน / คนละหน่วยงาน" in screen_text(app)


async def test_english_and_read_only(twin_app: Callable[..., SarabanApp], config: AppConfig) -> None:
    from dataclasses import replace

    app = twin_app(config=replace(config, language="en"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-900")
        assert "d dup?" in footer_line(app)
        await pilot.press("d")
        await settle(pilot, app)
        text = screen_text(app)
        assert "Are these two rows one agency?" in text and "Same agency (merge, keep both histories)" in text
    app = twin_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-900")
        assert "ซ้ำ?" not in footer_line(app)
        await pilot.press("d")
        await settle(pilot, app)
        assert "สองแถวนี้" not in screen_text(app)
