"""Snapshot tests of the console (pytest-textual-snapshot): fixed Thai data, frozen clock, fixed sizes.

Update after an intended visual change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from tui_sample import Config, FakeRunner

from checks import events as ev
from console.tui.app import SarabanApp
from console.tui.widgets import AgencyTable


async def _settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, SarabanApp)
    for _ in range(3):
        others = [w for w in app.workers if w.group != "scan"]
        if others:
            await app.workers.wait_for_complete(others)
        await pilot.pause()
    app.flush_pending()
    await pilot.pause()


def _select(agency_id: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        table = pilot.app.query_one("#agencies", AgencyTable)
        table.move_cursor(row=table.get_row_index(agency_id), animate=False)
        await _settle(pilot)

    return run


def _app(store: Any, config: Config, runner: Any = None) -> SarabanApp:
    from conftest import FROZEN_DT

    return SarabanApp(store, runner or FakeRunner(store), config, clock=lambda: FROZEN_DT)


def test_main_screen_80x24(snap_compare: Any, store: Any, config: Config) -> None:
    assert snap_compare(_app(store, config), terminal_size=(80, 24), run_before=_settle)


def test_main_screen_160x50(snap_compare: Any, store: Any, config: Config) -> None:
    assert snap_compare(_app(store, config), terminal_size=(160, 50), run_before=_select("tak-326"))


def test_detail_with_evidence(snap_compare: Any, store: Any, config: Config) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _select("tak-636")(pilot)
        await pilot.press("3")
        await _settle(pilot)

    assert snap_compare(_app(store, config), terminal_size=(100, 50), run_before=run)


def test_help_screen(snap_compare: Any, store: Any, config: Config) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(_app(store, config), terminal_size=(120, 40), run_before=run)


def test_scan_in_progress(snap_compare: Any, store: Any, config: Config) -> None:
    gate = asyncio.Event()
    runner = FakeRunner(
        store,
        gate=gate,
        # Half of eight: Textual's Bar quantises the percentage to half cells of the width it had when the
        # value arrived, so any other fraction can render one half cell apart depending on layout timing.
        hold_after=4,
        extra_events=[
            ev.RetryScheduled("saraban@slow.go.th", "mx.slow.go.th", 2, 300.0, "450 4.7.1 greylisted"),
            ev.ProberBlocked("mx.block.go.th", "554 5.7.1 Service unavailable; client host blocked"),
        ],
    )

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("s")
        app = pilot.app
        assert isinstance(app, SarabanApp)
        for _ in range(100):
            await _settle(pilot)
            if app.scan_done == 4:
                break
        await _settle(pilot)

    assert snap_compare(_app(store, config, runner), terminal_size=(120, 40), run_before=run)


def _followup_view() -> Callable[[Pilot[Any]], Any]:
    """The agencies she called: `/` รอแก้ไข Enter (issue 15)."""

    async def run(pilot: Pilot[Any]) -> None:
        from tui_helpers import type_text

        await _settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "รอแก้ไข")
        await pilot.press("enter")
        await _settle(pilot)

    return run


def test_followup_view_120x40(snap_compare: Any, store: Any, config: Config) -> None:
    assert snap_compare(_app(store, config), terminal_size=(120, 40), run_before=_followup_view())


def test_followup_view_80x24(snap_compare: Any, store: Any, config: Config) -> None:
    assert snap_compare(_app(store, config), terminal_size=(80, 24), run_before=_followup_view())


def test_filter_dialog_80x24(snap_compare: Any, store: Any, config: Config) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("f")
        await _settle(pilot)

    assert snap_compare(_app(store, config), terminal_size=(80, 24), run_before=run)
