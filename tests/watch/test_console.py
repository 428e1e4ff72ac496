"""The console side of issue 14: the trend chart, 'fixed — verified' in every console, read-only mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

import console.tui.app
from console.config import AppConfig
from console.runner import Runner
from console.store import Store
from console.tui.app import SarabanApp
from console.tui.view import Scope
from console.tui.widgets import AgencyTable
from tests.watch.trendstore import build_trend_store

SIZE = (120, 36)


class RecordingApp(SarabanApp):
    """The console, remembering what it told the operator in notifications."""

    CSS_PATH = Path(console.tui.app.__file__).with_name("app.tcss")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.told: list[str] = []

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.told.append(str(message))
        super().notify(message, *args, **kwargs)


def make_app(store: Store, **kwargs: Any) -> RecordingApp:
    config = AppConfig(store_path=Path(store.path), operator="somchai")
    return RecordingApp(store, Runner(store, config), config, **kwargs)


async def settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    for _ in range(3):
        others = [w for w in app.workers if w.group not in ("scan", "watch")]
        if others:
            await app.workers.wait_for_complete(others)
        await pilot.pause()


async def wait_for(pilot: Pilot[Any], predicate: Any, tries: int = 200) -> None:
    for _ in range(tries):
        await settle(pilot)
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never held")


def toasts(app: RecordingApp) -> str:
    return "\n".join(app.told)


def row_text(app: SarabanApp, agency_id: str) -> str:
    table = app.query_one("#agencies", AgencyTable)
    return " ".join(str(table.get_cell(agency_id, column)) for column, _ in table.fitted_columns)


def test_trend_chart_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    store = build_trend_store(tmp_path / "store.json")

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)

    assert snap_compare(make_app(store), terminal_size=SIZE, run_before=run)


async def test_trend_follows_the_province_filter(tmp_path: Path) -> None:
    store = build_trend_store(tmp_path / "store.json")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.snapshots))
        app.set_scope(Scope(province="น่าน"))
        await pilot.press("5")
        await settle(pilot)
        caption = str(app.screen.query_one("#trend-caption", Static).render())
        assert caption.startswith("[esc กลับ]  น่าน: 5 ครั้งที่ตรวจ · ล่าสุด 24/10/2568: A 80.0% · B–E 20.0% · W 0.0%")
        await pilot.press("escape")
        await settle(pilot)
        app.set_scope(Scope())
        await pilot.press("5")
        await settle(pilot)
        caption = str(app.screen.query_one("#trend-caption", Static).render())
        assert caption.startswith("[esc กลับ]  ทั้งหมด: 5 ครั้งที่ตรวจ")  # 164 A of 200 checked
        assert "A 82.0%" in caption


async def test_every_open_console_shows_a_fix_verified_elsewhere(tmp_path: Path) -> None:
    store = build_trend_store(tmp_path / "store.json")
    store.set_followup("tak-1", "called_waiting", "somchai")
    app = make_app(store)
    async with app.run_test(size=(170, 40)) as pilot:  # wide: the flags column is shown
        await wait_for(pilot, lambda: "tak-1" in app.records)
        assert "โทรแล้ว" in row_text(app, "tak-1")
        # the watcher (another process) verified the fix
        Store(store.path).set_followup("tak-1", "fixed_verified", "watch (somchai)")
        await wait_for(pilot, lambda: "แก้ไขแล้ว — ยืนยันโดยการตรวจซ้ำ: เทศบาลตำบลทุ่งหลวง" in toasts(app))
        await wait_for(pilot, lambda: "✓แก้แล้ว" in row_text(app, "tak-1"))


@pytest.mark.parametrize("key", ["c", "n", "w", "r", "R", "s", "e", "i", "W"])
async def test_read_only_console_refuses_every_write(tmp_path: Path, key: str) -> None:
    store = build_trend_store(tmp_path / "store.json")
    before = (store.generation(), [(r.followup, r.notes, r.corrections) for r in store.records()])
    app = make_app(store, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "tak-1" in app.records)
        screens = len(app.screen_stack)
        await pilot.press(key)
        await settle(pilot)
        assert len(app.screen_stack) == screens  # no dialog opened
        await pilot.press("enter")
        await settle(pilot)
    assert (store.generation(), [(r.followup, r.notes, r.corrections) for r in store.records()]) == before
    assert not Path(f"{store.path}.watch.owner").exists()


async def test_read_only_console_lists_no_write_key_or_command(tmp_path: Path) -> None:
    store = build_trend_store(tmp_path / "store.json")
    app = make_app(store, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ids = {row[2] for row in app.help_rows()}
        assert {"filter", "filters", "pane_trends", "language"} <= ids
        assert not ids & {"correct", "note", "called", "recheck", "recheck_scope", "scan", "export", "import", "watch"}
        titles = " ".join(entry.title if hasattr(entry, "title") else str(entry) for entry in app.palette_entries())
        assert "แก้ไขอีเมล" not in titles and "ส่งออก" not in titles
        await app.run_action("correct")  # sent anyway: refused
        await settle(pilot)
        assert len(app.screen_stack) == 1




async def test_w_runs_the_watcher_in_the_console_and_the_fix_shows(tmp_path: Path) -> None:
    from checks.sim.internet import SimInternet
    from console.watch.schedule import WatchConfig
    from tests.reliability.simkit import fast_config
    from tests.watch.simworld import create_mailbox, watch_world

    world = watch_world(greylist_seconds=3600)
    async with SimInternet(world) as sim:
        config = AppConfig(engine=fast_config(sim, retries=0), store_path=tmp_path / "store.json", operator="somchai",
                           watch=WatchConfig(waiting_interval=0.3, e_first_delay=3600, e_max_delay=3600, poll=0.1))
        store = Store(config.store_path)
        store.merge_import(world.agencies, source="test", operator="somchai")
        await Runner(store, config).scan()
        store.set_followup("wait-1", "called_waiting", "somchai")
        app = RecordingApp(store, Runner(store, config), config)
        async with app.run_test(size=(170, 40)) as pilot:
            await wait_for(pilot, lambda: "wait-1" in app.records)
            await pilot.press("W")
            await wait_for(pilot, lambda: "เฝ้าตรวจซ้ำ: เปิด" in str(app.query_one("#topbar").render()))
            create_mailbox(world, "saraban@tambonfixme.go.th")
            await wait_for(pilot, lambda: "แก้ไขแล้ว — ยืนยันโดยการตรวจซ้ำ: เทศบาลตำบลรอแก้" in toasts(app))
            await wait_for(pilot, lambda: "✓แก้แล้ว" in row_text(app, "wait-1"))
            assert Path(f"{store.path}.watch.owner").exists()
            await pilot.press("W")  # off: the lock is given back
            await wait_for(pilot, lambda: not Path(f"{store.path}.watch.owner").exists())
            await wait_for(pilot, lambda: "เฝ้าตรวจซ้ำ" not in str(app.query_one("#topbar").render()))
        assert store.record("wait-1").current_address == "saraban@tambonfixme.go.th"


async def test_w_says_who_already_watches_the_store(tmp_path: Path) -> None:
    from console.watch.lock import WatchLock

    store = build_trend_store(tmp_path / "store.json")
    holder = WatchLock(Path(store.path), "headless")
    owner = holder.acquire()
    try:
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("W")
            await settle(pilot)
            assert f"pid {owner.pid} (headless)" in toasts(app)
            assert "เฝ้าตรวจซ้ำ" not in str(app.query_one("#topbar").render())
    finally:
        holder.release()
