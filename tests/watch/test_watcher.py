"""The watcher on the simulated internet: a fix is noticed, verified and recorded; E gets its retry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from checks.sim.internet import SimInternet
from console.config import AppConfig
from console.runner import Runner
from console.store import Store
from console.watch.lock import WatchLock, WatchLockHeld
from console.watch.loop import Watcher
from console.watch.schedule import WatchConfig
from tests.reliability.simkit import fast_config
from tests.watch.simworld import create_mailbox, watch_world

FAST = WatchConfig(waiting_interval=0.3, e_first_delay=0.3, e_max_delay=0.3, poll=0.1)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Store, AppConfig, SimInternet, list[str]]]:
    world = watch_world()
    async with SimInternet(world) as sim:
        config = AppConfig(engine=fast_config(sim, retries=0), store_path=tmp_path / "store.json", operator="somchai",
                           watch=FAST)
        store = Store(config.store_path)
        store.merge_import(world.agencies, source="test", operator="somchai")
        await Runner(store, config).scan()
        lines: list[str] = []
        sim.world = world  # the test fixes mailboxes in this world while the sim runs
        yield store, config, sim, lines


def group(store: Store, agency_id: str) -> str | None:
    verdict = store.record(agency_id).verdict
    return verdict.group if verdict is not None else None


async def until(condition: object, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_waiting_agency_whose_mailbox_appears_is_verified_fixed_within_one_interval(setup) -> None:
    store, config, sim, lines = setup
    assert (group(store, "wait-1"), group(store, "wait-2"), group(store, "grey-1")) == ("D3", "D3", "E")
    for agency_id in ("wait-1", "wait-2"):
        store.set_followup(agency_id, "called_waiting", "somchai")
    broken_before = store.record("wait-2").verdict.checked_at
    watcher = Watcher(store, Runner(store, config), config.watch, config.engine.rules, operator="watch",
                      lang="en", log=lines.append)
    task = asyncio.create_task(watcher.run())
    try:
        create_mailbox(sim.world, "saraban@tambonfixme.go.th")  # the agency fixed it after the call
        await until(lambda: store.record("wait-1").followup == "fixed_verified" and group(store, "grey-1") == "A1")
    finally:
        watcher.stop()
        await task
    fixed = store.record("wait-1")
    assert fixed.verdict.group == "A1"
    assert fixed.current_address == "saraban@tambonfixme.go.th"  # the watcher never changes an address
    assert "250" in fixed.notes[-1].text and "mx.tambonfixme.go.th" in fixed.notes[-1].text
    assert any(line.startswith("fixed — verified by recheck: wait-1") for line in lines)
    # still broken: the last try is newer, no new alarm, still waiting
    broken = store.record("wait-2")
    assert broken.verdict.group == "D3" and broken.followup == "called_waiting"
    assert broken.verdict.checked_at >= broken_before and not broken.notes
    assert not any("fixed" in line and "wait-2" in line for line in lines)
    # the greylisted E agency got its retry and passed
    assert group(store, "grey-1") == "A1"
    assert any("grey-1" in line and "E → A1" in line and "E retry" in line for line in lines)


async def test_a_working_agency_is_never_rechecked(setup) -> None:
    store, config, _sim, lines = setup
    watcher = Watcher(store, Runner(store, config), replace(FAST, e_first_delay=3600, e_max_delay=3600),
                      config.engine.rules, operator="watch", lang="en", log=lines.append)
    before = store.record("ok-1").verdict.checked_at
    assert await watcher.run_once() == []
    assert store.record("ok-1").verdict.checked_at == before and lines == []
    assert watcher.next_at is not None  # the E agency's retry is planned


async def test_the_group_retried_later_is_the_rulesets_not_a_letter(tmp_path: Path) -> None:
    """A ruleset that calls its "not yet verifiable" group T: the watcher gives T agencies the E retry."""
    world = watch_world()
    lines: list[str] = []
    async with SimInternet(world) as sim:
        engine = fast_config(sim, retries=0)
        rules = tuple(replace(r, group="T") if r.group == "E" else r for r in engine.rules)
        engine = replace(engine, rules=rules, fallback_group="T")
        config = AppConfig(engine=engine, store_path=tmp_path / "store.json", operator="somchai", watch=FAST)
        store = Store(config.store_path)
        store.merge_import(world.agencies, source="test", operator="somchai")
        await Runner(store, config).scan()
        assert group(store, "grey-1") == "T"
        watcher = Watcher(store, Runner(store, config), config.watch, rules, operator="watch", lang="en",
                          log=lines.append)
        await asyncio.sleep(0.7)  # past the first retry delay (0.3 s) and the greylisting (0.6 s)
        await watcher.run_once()
    assert group(store, "grey-1") == "A1"
    assert any("grey-1" in line and "T → A1" in line and "E retry" in line for line in lines)


def test_a_second_watcher_is_refused_and_told_who_holds_the_store(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    first = WatchLock(path, "console")
    owner = first.acquire()
    try:
        with pytest.raises(WatchLockHeld) as held:
            WatchLock(path, "headless").acquire()
        assert f"pid {owner.pid}" in str(held.value) and "(console)" in str(held.value)
    finally:
        first.release()
    WatchLock(path, "headless").acquire()  # free again once released


async def test_a_watcher_that_loses_the_network_pauses_blames_nobody_and_resumes(setup) -> None:
    store, config, sim, lines = setup
    store.set_followup("wait-1", "called_waiting", "somchai")
    create_mailbox(sim.world, "saraban@tambonfixme.go.th")
    watcher = Watcher(store, Runner(store, config), replace(FAST, e_first_delay=3600, e_max_delay=3600),
                      config.engine.rules, operator="watch", lang="en", log=lines.append)
    await asyncio.sleep(0.35)  # past the waiting interval of the scan's verdict
    sim.set_network_down(True)  # our own outage, before the round starts
    try:
        round_ = asyncio.create_task(watcher.run_once())
        await until(lambda: any(line.startswith("rechecks paused") for line in lines))
        assert group(store, "wait-1") == "D3" and store.record("wait-1").followup == "called_waiting"
    finally:
        sim.set_network_down(False)
    fixed = await asyncio.wait_for(round_, 30)
    assert [f.agency_id for f in fixed] == ["wait-1"]
    assert "rechecks resumed" in lines
    assert not [line for line in lines if " recheck " in line and ("→ D" in line or "→ E" in line)]
