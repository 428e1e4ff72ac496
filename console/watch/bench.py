"""`saraban bench` figures for the watcher (issue 14): how little it costs idle, how fast a round is.

* watch_idle_cpu_percent: CPU of this process while a watcher on a national store waits between runs
  (after its first plan), as a percentage of one CPU — target < 2%;
* watch_recheck_s: one round rechecking 500 agencies marked "called, waiting for the fix", against
  the politeness lower bound of those 500 (the same formula as the scan's) — target < 1.3x.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from checks.config import EngineConfig
from checks.model import Agency, Verdict
from checks.sim.world import World
from console.config import AppConfig
from console.rules import CALLED_WAITING
from console.runner import Runner
from console.store import Store
from console.watch.loop import Watcher

WAITING = 500
IDLE_WINDOW_S = 15.0
KEYS: tuple[str, ...] = (
    "watch_idle_cpu_percent",
    "watch_idle_window_s",
    "watch_recheck_agencies",
    "watch_plan_s",
    "watch_recheck_s",
    "watch_recheck_lower_bound_s",
    "watch_recheck_ratio",
    "watch_recheck_done",
    "watch_round_s",
)
Bound = Callable[[World, Sequence[Agency], EngineConfig], float]


def _store_with(path: Path, agencies: Sequence[Agency], verdicts: Sequence[Verdict], waiting: Sequence[str]) -> Store:
    store = Store(path)
    store.merge_import(list(agencies), source="bench", operator="bench")
    store.save_verdicts(list(verdicts), batch_size=1000)
    for agency_id in waiting:
        store.set_followup(agency_id, CALLED_WAITING, "bench")
    return store


def pick_waiting(verdicts: Sequence[Verdict], n: int = WAITING) -> list[str]:
    """Agencies an operator would phone and wait for: the mailbox or domain is wrong (D), most common first."""
    order = {"D3": 0, "D1": 1, "D2": 2}
    chosen = sorted((v for v in verdicts if v.group in order), key=lambda v: (order[v.group], v.agency_id))
    return [v.agency_id for v in chosen[:n]]


async def watch_figures(
    world: World,
    verdicts: Sequence[Verdict],
    engine: EngineConfig,
    config: AppConfig,
    bound: Bound,
    reset: Callable[[], Any],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(KEYS)
    waiting = pick_waiting(verdicts)
    if not waiting:
        return out
    with tempfile.TemporaryDirectory(prefix="saraban-bench-watch-") as directory:
        progress(f"  watcher: a national store with {len(waiting)} agencies waiting...")
        store = await asyncio.to_thread(_store_with, Path(directory) / "store.json", world.agencies, verdicts, waiting)
        app_config = dataclasses.replace(config, engine=engine, store_path=Path(store.path))
        # idle: everything was checked just now, so nothing is due for half an hour
        idle = Watcher(store, Runner(store, app_config), config.watch, engine.rules, operator="bench")
        task = asyncio.create_task(idle.run())
        try:
            while idle.next_at is None and idle.last_round == 0 and not task.done():
                await asyncio.sleep(0.2)
            window = max(IDLE_WINDOW_S, 3 * config.watch.poll)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(window)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        finally:
            idle.stop()
            await task
        out["watch_idle_cpu_percent"] = round(100.0 * cpu / wall, 2)
        out["watch_idle_window_s"] = round(wall, 1)
        # a round: the 500 waiting agencies are due (the E agencies are not: one thing measured at a time)
        progress(f"  watcher: one round rechecking {len(waiting)} waiting agencies...")
        due_now = dataclasses.replace(config.watch, waiting_interval=1e-3, e_first_delay=1e9, e_max_delay=1e9, daily=False)
        await reset()
        await asyncio.sleep(0.01)
        watcher = Watcher(store, Runner(store, app_config), due_now, engine.rules, operator="bench")
        before = {r.agency.id: r.verdict for r in store.records(with_history=False, light=True)}
        t0 = time.perf_counter()
        await watcher.run_once()
        elapsed = time.perf_counter() - t0
        ids = set(waiting)
        lower = bound(world, [a for a in world.agencies if a.id in ids], engine)
        after = {r.agency.id: r.verdict for r in store.records(with_history=False, light=True)}
        done = sum(1 for a in waiting if after.get(a) != before.get(a))
        out["watch_recheck_agencies"] = len(waiting)
        out["watch_plan_s"] = round(watcher.last_plan_s, 2)
        out["watch_recheck_s"] = round(watcher.last_recheck_s, 2)
        out["watch_recheck_lower_bound_s"] = round(lower, 2)
        out["watch_recheck_ratio"] = round(watcher.last_recheck_s / lower, 2) if lower else None
        out["watch_round_s"] = round(elapsed, 2)
        out["watch_recheck_done"] = done
    return out


def table_rows(out: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(label, value, unit, target) for bench's table."""
    return [
        ("watcher idle between runs", out.get("watch_idle_cpu_percent"), " % CPU", "target < 2%"),
        ("watcher: plan (who is due)", out.get("watch_plan_s"), " s", ""),
        (f"watcher: recheck {out.get('watch_recheck_agencies') or WAITING} waiting", out.get("watch_recheck_s"), " s",
         f"{out.get('watch_recheck_done')} verdicts saved" if out.get("watch_recheck_done") is not None else ""),
        ("  lower bound of that recheck", out.get("watch_recheck_lower_bound_s"), " s", ""),
        ("  recheck / lower bound", out.get("watch_recheck_ratio"), "x", "target < 1.3x"),
        ("watcher: whole round", out.get("watch_round_s"), " s", ""),
    ]
