"""`saraban watch`: the watcher without a console, for systemd (one line per event on stdout).

SIGTERM (systemctl stop) and SIGINT finish the SMTP sessions under way, save their verdicts and exit 0;
SIGKILL leaves the store exactly as a killed scan does (every write is atomic, nothing half-written).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

from checks.model import now_iso
from console.config import AppConfig
from console.i18n import tr
from console.runner import Runner
from console.store import Store
from console.thai import safe_text
from console.watch.lock import WatchLock, WatchLockHeld
from console.watch.loop import Watcher


def stdout_line(line: str) -> None:
    """One event, one line, flushed at once (journald reads it as it comes)."""
    print(f"{now_iso()} {safe_text(line)}", flush=True)


async def watch(
    store: Store, config: AppConfig, *, once: bool = False, log: Callable[[str], None] = stdout_line
) -> None:
    lang = config.language
    watcher = Watcher(
        store,
        Runner(store, config),
        config.watch,
        config.engine.rules,
        operator=f"saraban watch ({config.operator})",
        lang=lang,
        log=log,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, watcher.stop)
    try:
        w = config.watch
        log(
            tr(
                "watch.started",
                lang,
                store=str(store.path),
                waiting=f"{w.waiting_interval / 60:g}",
                first=f"{w.e_first_delay / 60:g}",
                daily=tr("watch.daily", lang) if w.daily else "",
            )
        )
        if once:
            await watcher.run_once()
        else:
            await watcher.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log(tr("watch.stopped", lang))


def run(store: Store, config: AppConfig, *, once: bool = False) -> int:
    """Take the store's watch lock and watch; 2 when another watcher holds it (which one is said)."""
    lock = WatchLock(store.path, "headless")
    try:
        lock.acquire()
    except WatchLockHeld as held:
        print(f"saraban: {safe_text(tr('watch.held', config.language, owner=str(held)))}", file=sys.stderr)
        return 2
    try:
        asyncio.run(watch(store, config, once=once))
    finally:
        lock.release()
    return 0
