"""The operator's place on screen survives streamed results, re-sorting rebuilds and new selections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui_helpers import settle, table
from tui_sample import Config, FakeRunner, verdict

from checks import events as ev
from checks.model import Agency
from console.store import Store
from console.tui.app import SarabanApp


def _many(tmp_path: Path, n: int = 300) -> Store:
    store = Store(tmp_path / "many.json")
    store.merge_import(
        [
            Agency(f"a-{i}", f"องค์การบริหารส่วนตำบลที่ {i}", f"saraban{i}@dla.go.th", str(i), "เมืองตาก", "ตาก", "อบต.")
            for i in range(1, n + 1)
        ],
        source="test",
        operator="สมชาย",
    )
    return store


def _line(app: SarabanApp) -> int:
    t = table(app)
    return t.cursor_row - round(t.scroll_y)


async def test_cursor_keeps_its_screen_line_when_results_move_rows(tmp_path: Path) -> None:
    store = _many(tmp_path)
    app = SarabanApp(store, FakeRunner(store), Config(export_dir=tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.set_sort("group", False)
        await settle(pilot, app)
        t = table(app)
        t.scroll_to(y=130, animate=False, immediate=True)
        t.move_cursor(row=140, scroll=False)  # scrolled down, cursor in the middle of the screen
        await settle(pilot, app)
        key, line = t.current_key(), _line(app)
        assert 0 < line < 20 and t.scroll_y > 0
        # results stream in for agencies below the cursor: checked groups sort before unchecked
        # rows, so by group they move above it and its row index moves
        for i in range(240, 300):
            rec = app.records[f"a-{i}"]
            app.on_scan_event(ev.AgencyChecked(rec.agency, verdict(f"a-{i}", "D3", rec.agency.declared), i, 300))
        app.flush_pending()
        await settle(pilot, app)
        assert t.current_key() == key
        assert t.cursor_row != 140  # it did move in the order...
        assert _line(app) == line  # ...but not on the screen


async def test_detail_pane_opens_at_the_top_for_each_agency(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        t = table(app)
        t.move_cursor(row=t.get_row_index("tak-326"))  # a long detail: evidence and transcript
        await settle(pilot, app)
        detail = app.query_one("#detail")
        detail.scroll_end(animate=False)
        await settle(pilot, app)
        assert detail.scroll_y > 0
        t.move_cursor(row=t.get_row_index("tak-636"))
        await settle(pilot, app)
        assert detail.scroll_y == 0


async def test_detail_pane_goes_to_the_top_when_the_verdict_changes(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        t = table(app)
        t.move_cursor(row=t.get_row_index("tak-326"))
        await settle(pilot, app)
        detail = app.query_one("#detail")
        detail.scroll_end(animate=False)
        await settle(pilot, app)
        rec = app.records["tak-326"]
        newer = replace(verdict("tak-326", "A1", rec.agency.declared), checked_at="2025-10-09T10:00:00+07:00")
        app.on_scan_event(ev.AgencyChecked(rec.agency, newer, 1, 1))
        app.flush_pending()
        await settle(pilot, app)
        assert detail.scroll_y == 0  # the new group line is in view, not a transcript line


async def test_progress_names_the_host_that_holds_the_scan_up(store: Any, tmp_path: Path) -> None:
    import asyncio

    from tui_helpers import screen_text, wait_until

    from checks.scheduler import Backlog

    gate = asyncio.Event()
    runner = FakeRunner(store, gate=gate, hold_after=2)
    host = "mx.dla.go.th[red]\x1b]2;pwned\x07\u202e"  # a name from DNS: shown literally, controls stripped
    runner.backlog = lambda: Backlog(95.0, host, 1795)  # type: ignore[attr-defined]
    app = SarabanApp(store, runner, Config(export_dir=tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, app, lambda: app.scan_done == 2)
        app.flush_pending()
        await pilot.pause()
        text = screen_text(app)
        assert "รอส่งไปที่ mx.dla.go.th[red] อีก 1,795 ที่อยู่" in text  # plain Thai, no "per-minute cap"
        assert "\x1b" not in text and "\u202e" not in text and "pwned" not in app.title
        assert "เหลือประมาณ 0:01:35" in text  # the host's limits, not the fast start, set the ETA
        gate.set()
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        assert "mx.dla.go.th" not in screen_text(app)
