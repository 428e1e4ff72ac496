"""`saraban watch` as systemd runs it: one line per event, SIGTERM finishes the sessions under way and
exits 0, SIGKILL leaves the store whole, and a second watcher is refused."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.sim.internet import SimInternetThread
from console.config import load_config
from console.runner import Runner
from console.store import Store
from console.watch.lock import WatchLock
from tests.watch.simworld import watch_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slow_store(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A checked store whose waiting agencies sit on a slow mail host (each reply 0.4 s), and its config."""
    world = watch_world(slow_reply=0.4, extra_waiting=6)
    with SimInternetThread(world) as sim:
        cfg = sim.engine_config()
        config_path = tmp_path / "config.toml"
        config_path.write_text(
            "[general]\noperator = \"somchai\"\nlanguage = \"en\"\n"
            f"[dns]\nnameservers = [\"127.0.0.1\"]\nport = {cfg.dns.port}\ntimeout = 1.0\nlifetime = 2.0\n"
            f"[smtp]\nport = {cfg.smtp.port}\nhelo_name = \"{cfg.smtp.helo_name}\"\n"
            f"mail_from = \"{cfg.smtp.mail_from}\"\ntimeout = 5.0\ndeadline = 30.0\nretries = 0\n"
            f"[canary]\nresolve = \"{cfg.canary.resolve}\"\nconnect = \"{cfg.canary.connect}\"\ninterval = 0.5\n"
            "[watch]\nwaiting_interval = 0.5\ne_first_delay = 3600\npoll = 0.2\n",
            encoding="utf-8",
        )
        store_path = tmp_path / "store.json"
        config = load_config(config_path)
        store = Store(store_path)
        store.merge_import(world.agencies, source="test", operator="somchai")
        asyncio.run(Runner(store, config).scan())
        for agency in world.agencies:
            if agency.id.startswith(("wait-", "load-")):
                store.set_followup(agency.id, "called_waiting", "somchai")
        yield store_path, config_path


def start_watch(store_path: Path, config_path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--store", str(store_path), "--config", str(config_path), "watch", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 30.0) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError(f"no line with {needle!r}; got {lines}")


def test_sigterm_finishes_the_sessions_under_way_and_exits_0(slow_store: tuple[Path, Path]) -> None:
    store_path, config_path = slow_store
    before = {r.agency.id: r.verdict.checked_at for r in Store(store_path).records()}
    proc = start_watch(store_path, config_path)
    try:
        lines = wait_for_line(proc, "rechecking")  # a round has started
        time.sleep(1.0)  # its one session to the slow host (~6 s of replies) is under way; not a timing assert
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += out.splitlines()
    assert proc.returncode == 0, err
    assert any("finishing the sessions under way" in line for line in lines)
    assert lines[-1].endswith("watcher stopped")
    assert "Traceback" not in err
    rechecked = [line for line in lines if " recheck " in line]
    assert rechecked, lines  # the sessions in flight delivered their verdicts...
    after = {r.agency.id: r.verdict.checked_at for r in Store(store_path).records()}
    logged = {line.split(" recheck ")[1].split()[0] for line in rechecked}
    assert all(after[a] > before[a] for a in logged)  # ...and they were saved before the exit


def test_sigkill_leaves_the_store_whole_and_the_lock_free(slow_store: tuple[Path, Path]) -> None:
    store_path, config_path = slow_store
    proc = start_watch(store_path, config_path)
    try:
        wait_for_line(proc, "rechecking")
        time.sleep(0.5)  # let some writes happen (not a timing assert)
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    store = Store(store_path)  # opens: nothing half-written
    records = store.records()
    assert len(records) == 10 and all(r.verdict is not None for r in records)
    assert {r.followup for r in records if r.agency.id.startswith("load-")} == {"called_waiting"}
    WatchLock(store_path, "test").acquire()  # the kernel released the dead watcher's lock


def test_a_second_watcher_says_who_holds_the_store(slow_store: tuple[Path, Path]) -> None:
    store_path, config_path = slow_store
    holder = WatchLock(store_path, "console")
    owner = holder.acquire()
    try:
        proc = start_watch(store_path, config_path, "--once")
        out, err = proc.communicate(timeout=30)
    finally:
        holder.release()
    assert proc.returncode == 2
    assert "another watcher already runs on this store" in err and f"pid {owner.pid}" in err and "(console)" in err
    assert out == ""
