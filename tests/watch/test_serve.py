"""`saraban serve` in a real browser: headless Chromium loads the read-only console, the groups appear,
keys that would write change nothing, a request without the token is refused, a closed tab ends its
console process."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.sim.internet import SimInternetThread
from console.config import AppConfig
from console.runner import Runner
from console.serve import ServeError, settings
from console.store import Store
from tests.watch.cdp import CHROMIUM, Browser, descendants
from tests.watch.simworld import watch_world

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def state(store: Store) -> tuple[object, ...]:
    return (store.generation(), [(r.followup, r.notes, r.corrections, r.verdict) for r in store.records()])


@pytest.fixture(scope="module")
def checked_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "store.json"
    world = watch_world(greylist_seconds=3600)
    with SimInternetThread(world) as sim:
        config = AppConfig(engine=sim.engine_config(retries=0), store_path=path)
        store = Store(path)
        store.merge_import(world.agencies, source="test", operator="somchai")
        asyncio.run(Runner(store, config).scan())
    return path


def start_serve(store: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--store", str(store), "serve", "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "open in a browser ...: URL" once it listens
    assert f":{port}/" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


@pytest.fixture
def server(checked_store: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    proc = start_serve(checked_store, port, "--token", TOKEN)
    yield proc, port
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_non_loopback_needs_a_token_and_a_weak_one_is_refused(tmp_path: Path) -> None:
    made = settings("0.0.0.0", 8000, None, tmp_path / "s.json", None, "th")
    assert made.token is not None and len(made.token) >= 24
    assert settings("127.0.0.1", 8000, None, tmp_path / "s.json", None, "th").token is None
    with pytest.raises(ServeError, match="at least 16"):
        settings("0.0.0.0", 8000, "short", tmp_path / "s.json", None, "th")


def test_requests_without_the_token_are_refused(server: tuple[subprocess.Popen[str], int]) -> None:
    _, port = server
    for path in ("/", "/ws", "/static/js/textual.js", "/?token=wrong-token-0123456789"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
        assert refused.value.code == 403
        assert "needs its token" in refused.value.read().decode()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={TOKEN}", timeout=10) as ok:
        assert ok.status == 200 and "saraban" in ok.read().decode()


def test_port_in_use_says_so(checked_store: Path, server: tuple[subprocess.Popen[str], int]) -> None:
    _, port = server
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    second = subprocess.run(
        [sys.executable, "-m", "console.cli", "--store", str(checked_store), "serve", "--port", str(port)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=30,
    )
    assert second.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in second.stderr and "Traceback" not in second.stderr


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_chromium_shows_the_read_only_console_and_writes_nothing(
    checked_store: Path, server: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    proc, port = server
    before = state(Store(checked_store))
    browser = Browser(tmp_path / "profile")
    try:
        target = browser.open(f"http://127.0.0.1:{port}/?token={TOKEN}")
        browser.wait_for_text("ไม่พบกล่องจดหมาย")  # the groups pane: D3 from the scan
        assert [cmd for _, cmd in descendants(proc.pid) if "--read-only" in cmd]  # this tab's own console
        browser.click(800, 500)  # focus the terminal
        browser.type("l")  # a read-only key works: the console switches to English
        browser.wait_for_text("Filter:")
        seen = len(browser.terminal_output())
        for key in ("c", "w", "n", "s", "r", "R", "e", "i", "W"):  # correct, called, note, scans, export, import, watch
            browser.type(key)
            browser.enter()  # would confirm whatever dialog the key opened
        browser.type("5")  # the trend chart opens: a read-only pane, and proof the keys above arrived
        browser.wait_for_text("whole store: 1 scans")
        browser.screenshot(tmp_path / "serve.png")
        after_keys = browser.terminal_output()[seen:]
        assert "Correct the address" not in after_keys and "แก้ไขอีเมลของ" not in after_keys
        browser.close_page(target)
        deadline = time.monotonic() + 30
        while [cmd for _, cmd in descendants(proc.pid) if "--read-only" in cmd] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [cmd for _, cmd in descendants(proc.pid) if "--read-only" in cmd]  # the tab's process ended
    finally:
        browser.close()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
    assert state(Store(checked_store)) == before
