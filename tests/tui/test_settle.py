"""The waiting helper itself: a superseded worker must not end the wait (or the test) early."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui_helpers import SIZE, settle

from console.tui.app import SarabanApp


async def test_settle_waits_for_the_worker_that_replaced_a_cancelled_one(
    make_app: Callable[..., SarabanApp],
) -> None:
    """The detail pane's load is exclusive: a newer selection or a write cancels the one under way.
    Waiting for the screen must then wait for the newer load, not stop with WorkerCancelled."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        old_gate, new_gate = asyncio.Event(), asyncio.Event()
        loaded: list[str] = []

        async def load(name: str, gate: asyncio.Event) -> None:
            await gate.wait()
            loaded.append(name)

        app.run_worker(load("old", old_gate), group="detail", exclusive=True)
        waiting = asyncio.create_task(settle(pilot, app))
        await pilot.pause()  # settle is now waiting for the old load
        app.run_worker(load("new", new_gate), group="detail", exclusive=True)  # cancels the old one
        await pilot.pause()
        assert not waiting.done(), "settle returned while the newer load was still running"
        new_gate.set()
        await waiting
        assert loaded == ["new"]
