"""Bugs found while rehousing the console (issue 12), each as the operator would meet it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, notices, select, settle, shown_ids, wait_until
from tui_sample import Config, build_store

from checks.config import CanaryConfig, DnsConfig, EngineConfig
from console.rules import Record, Scope, group_of
from console.runner import Runner
from console.store import Store
from console.tui.app import SarabanApp
from console.tui.factory import make_app
from console.tui.widgets import GroupsPane


class RacingStore(Store):
    """The store with another operator who writes right after this console has read something."""

    race: Callable[[], None] | None = None
    race_on: str = ""

    def _maybe_race(self, what: str) -> None:
        if self.race is not None and what == self.race_on:
            race, self.race = self.race, None
            race()

    def records(self, *, with_history: bool = True, light: bool = False) -> list[Any]:
        read = super().records(with_history=with_history, light=light)
        self._maybe_race("records")
        return read

    def record(self, agency_id: str) -> Any:
        read = super().record(agency_id)
        self._maybe_race("record")
        return read


@pytest.fixture
def racing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RacingStore:
    """The racing store; the console polls only when the test says so (`app.poll()`). With its 2 s timer a
    poll of its own could land between two steps (a slow machine) and show the other operator's note early."""
    import console.tui.app

    monkeypatch.setattr(console.tui.app, "POLL_SECONDS", 3600.0)
    build_store(tmp_path / "store.json")
    return RacingStore(tmp_path / "store.json")


def other_operator_notes(path: Path, agency_id: str) -> Callable[[], None]:
    return lambda: Store(path).add_note(agency_id, "อีกคนโทรแล้ว", "สมหญิง")


def notes_of(app: SarabanApp, agency_id: str) -> list[str]:
    rec: Record = app.records[agency_id]
    return [note.text for note in rec.notes]


async def test_a_write_while_the_console_reads_the_store_is_shown_at_the_next_poll(
    racing: RacingStore, make_app: Callable[..., SarabanApp]
) -> None:
    app = make_app(store=racing)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        racing.race, racing.race_on = other_operator_notes(racing.path, "tak-47"), "records"
        app.set_scope(Scope())  # nothing changes here: the next read is the poll's
        racing.add_note("tak-1", "ของเรา", "สมชาย")  # a write: the poll reads everything again
        app.poll()
        await wait_until(pilot, app, lambda: "ของเรา" in notes_of(app, "tak-1"))
        assert "อีกคนโทรแล้ว" not in notes_of(app, "tak-47")  # landed after the records were read
        app.poll()
        await wait_until(pilot, app, lambda: "อีกคนโทรแล้ว" in notes_of(app, "tak-47"))


async def test_a_write_while_one_agency_is_read_again_is_shown_at_the_next_poll(
    racing: RacingStore, make_app: Callable[..., SarabanApp]
) -> None:
    app = make_app(store=racing)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await select(pilot, app, "tak-326")
        racing.race, racing.race_on = other_operator_notes(racing.path, "tak-47"), "record"
        await pilot.press("r")  # recheck: this console reads tak-326 again, the other operator writes
        await wait_until(pilot, app, lambda: racing.race is None and not app.workers)
        app.poll()
        await wait_until(pilot, app, lambda: "อีกคนโทรแล้ว" in notes_of(app, "tak-47"))


async def test_gc_freeze_runs_once_not_on_every_reload(
    store: Store, make_app: Callable[..., SarabanApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert frozen == [1]
        for n in range(3):
            Store(store.path).add_note("tak-47", f"โทรครั้งที่ {n}", "สมหญิง")
            app.poll()
            await wait_until(pilot, app, lambda n=n: f"โทรครั้งที่ {n}" in notes_of(app, "tak-47"))
        assert frozen == [1]


async def test_the_filter_dialog_keeps_a_bucket_chosen_in_the_groups_pane(
    make_app: Callable[..., SarabanApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.query_one(GroupsPane).post_message(GroupsPane.Chosen("bucket:BE"))
        await settle(pilot, app)
        in_bucket = shown_ids(app)
        assert in_bucket and all(app.ruleset.bucket(group_of(app.records[i]) or "") == "BE" for i in in_bucket)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("ctrl+s")  # apply the dialog as it opened
        await settle(pilot, app)
        assert app.scope.bucket == "BE" and shown_ids(app) == in_bucket


async def test_the_export_folder_is_made_off_the_event_loop(
    make_app: Callable[..., SarabanApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_on: list[bool] = []
    mkdir = Path.mkdir

    def watched(self: Path, *args: Any, **kwargs: Any) -> None:
        made_on.append(threading.current_thread() is threading.main_thread())
        mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", watched)
    app = make_app()
    target = tmp_path / "new" / "folder" / "followup.xlsx"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.run_guarded(app.export_to(target, app.followup_items()), "export")
        await wait_until(pilot, app, target.exists)
    assert made_on and not any(made_on)  # never on the loop's thread


class SlowListStore(Store):
    """A store whose agency list takes until `release` is set to read (a network share, a big list)."""

    release = threading.Event()

    def records(self, *, with_history: bool = True, light: bool = False) -> list[Any]:
        if threading.current_thread() is not threading.main_thread() and light and not with_history:
            self.release.wait(10)
        return super().records(with_history=with_history, light=light)


async def test_x_stops_a_scan_that_is_still_reading_its_agencies(tmp_path: Path) -> None:
    """The real Runner; its DNS points at a closed port, so a scan that went ahead would fail the canary."""
    build_store(tmp_path / "store.json")
    store = SlowListStore(tmp_path / "store.json")
    SlowListStore.release = threading.Event()
    SlowListStore.release.set()  # the console's own first read
    closed = DnsConfig(nameservers=("127.0.0.1",), port=9, timeout=0.2, lifetime=0.4)
    engine = EngineConfig(dns=closed, canary=CanaryConfig(resolve="canary.opdc.go.th", timeout=0.5))
    config = Config(engine=engine, export_dir=tmp_path, store_path=store.path)
    app = make_app(config, store, Runner(store, config))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        before = {k: r.verdict.checked_at if r.verdict else None for k, r in app.records.items()}
        SlowListStore.release = threading.Event()
        await pilot.press("s")
        await pilot.pause()
        assert app.scan_state == "loading"
        await pilot.press("x")
        await pilot.pause()
        assert "ไม่มีการตรวจที่กำลังทำงาน" not in notices(app)
        SlowListStore.release.set()
        await wait_until(pilot, app, lambda: app.scan_state == "stopped")
        assert "หยุดการตรวจ (ผู้ใช้สั่งหยุด) ตรวจได้ 0/8" in notices(app)
        assert "canary" not in notices(app)
        after = {k: r.verdict.checked_at if r.verdict else None for k, r in ((k, Store(store.path).record(k)) for k in before)}
        assert after == before  # nothing was probed
