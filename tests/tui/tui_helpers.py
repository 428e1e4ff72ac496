"""Helpers for the console tests: what the screen shows, and waiting for workers without sleeping blindly."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from console.tui.app import SarabanApp
from console.tui.widgets import AgencyTable

SIZE = (120, 40)


def screen_text(app: SarabanApp) -> str:
    """The characters on the terminal right now, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for_workers(app: SarabanApp) -> None:
    """Wait until no worker but a scan is running, counting those started while we wait.

    A scan worker may be held at a gate on purpose, so it is left alone. An exclusive worker (the detail
    pane's load) is cancelled by design when a newer one replaces it: that one has ended, and we go on
    to wait for its replacement. `WorkerManager.wait_for_complete` cannot be used here: it raises on
    the first cancelled worker and stops waiting for the others. A worker that failed still raises.
    """
    while running := [w for w in app.workers if w.group != "scan" and not w.is_finished]:
        for worker in running:
            # superseded, not failed: the loop waits for its replacement
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()


async def settle(pilot: Pilot[Any], app: SarabanApp) -> None:
    """Let workers finish and the screen catch up (the table flushes every 300 ms)."""
    for _ in range(2):
        await wait_for_workers(app)
        await pilot.pause()
    app.flush_pending()
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
        app.post_message(events.Key(key, ch))
    await pilot.pause()


def notices(app: SarabanApp) -> str:
    """The notifications (toasts) the operator has been shown."""
    return "\n".join(str(n.message) for n in app._notifications)


def table(app: SarabanApp) -> AgencyTable:
    return app.query_one("#agencies", AgencyTable)


def shown_ids(app: SarabanApp) -> list[str]:
    return list(table(app).keys)


async def select(pilot: Pilot[Any], app: SarabanApp, agency_id: str) -> None:
    t = table(app)
    t.focus()
    t.move_cursor(row=t.get_row_index(agency_id))
    await settle(pilot, app)


async def open_on(pilot: Pilot[Any], app: SarabanApp, agency_id: str, key: str) -> None:
    """The operator's first moves: the screen settled, the agency selected, `key` pressed (a dialog opens)."""
    await settle(pilot, app)
    await select(pilot, app, agency_id)
    await pilot.press(key)
    await pilot.pause()
