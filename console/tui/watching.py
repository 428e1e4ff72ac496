"""The watcher inside a console: `W` turns it on and off, the top bar says when it next runs.

The watcher runs in the console's own event loop with its own Runner; it holds back while the
console's scan runs (one prober at a time keeps the politeness limits), and the store's watch lock
keeps it from running beside `saraban watch` or another console's watcher.
Every console on the store, watcher or not, notices "fixed — verified" in the records it reloads.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

from console.config import AppConfig
from console.i18n import tr
from console.rules import FIXED_VERIFIED
from console.runner import Runner
from console.store import AgencyRecord, Store
from console.watch.lock import WatchLock
from console.watch.loop import Fixed, Watcher


def newly_fixed(old: Mapping[str, AgencyRecord], new: Mapping[str, AgencyRecord]) -> list[AgencyRecord]:
    """Agencies that became "fixed — verified" between two loads (not those already fixed before)."""
    if not old:  # the first load: nothing became anything
        return []
    return [
        rec
        for key, rec in new.items()
        if rec.followup == FIXED_VERIFIED and key in old and old[key].followup != FIXED_VERIFIED
    ]


class ConsoleWatch:
    """On/off switch around a `Watcher` and the store's watch lock."""

    def __init__(
        self,
        store: Store,
        config: AppConfig,
        *,
        busy: Callable[[], bool],
        log: Callable[[str], None] | None = None,
        on_fixed: Callable[[Fixed], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.busy = busy
        self.log = log
        self.on_fixed = on_fixed
        self.clock = clock
        self.watcher: Watcher | None = None
        self._lock: WatchLock | None = None

    @property
    def on(self) -> bool:
        return self.watcher is not None

    def start(self) -> Coroutine[Any, Any, None]:
        """Take the lock (WatchLockHeld names who has it) and return the loop to run in a worker."""
        lock = WatchLock(self.store.path, "console")
        lock.acquire()
        self._lock = lock
        extra: dict[str, Any] = {"clock": self.clock} if self.clock is not None else {}
        self.watcher = Watcher(
            self.store,
            Runner(self.store, self.config),
            self.config.watch,
            self.config.engine.rules,
            operator=f"watch ({self.config.operator})",
            lang=self.config.language,
            log=self.log,
            on_fixed=self.on_fixed,
            hold=self.busy,
            **extra,
        )
        return self._run(self.watcher)

    async def _run(self, watcher: Watcher) -> None:
        try:
            await watcher.run()
        finally:
            self._release()

    def stop(self) -> None:
        """Finish the sessions under way, then end (the lock is released when the loop returns)."""
        if self.watcher is not None:
            self.watcher.stop()

    def _release(self) -> None:
        self.watcher = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def round_running(self) -> bool:
        return self.watcher is not None and self.watcher.busy > 0

    def toggle_pause(self) -> bool:
        """The pause key while a round runs: pause or resume it as a scan; True when now paused."""
        watcher = self.watcher
        if watcher is None:
            return False
        if watcher.paused:
            watcher.resume()
        else:
            watcher.pause()
        return watcher.paused

    def status(self, lang: str) -> str | None:
        """The top bar's words: None when off."""
        watcher = self.watcher
        if watcher is None:
            return None
        if watcher.busy and watcher.paused:
            return tr("bar.watch_paused", lang, n=watcher.busy)
        if watcher.busy:
            return tr("bar.watch_busy", lang, n=watcher.busy)
        if watcher.next_at is None:
            return tr("bar.watch_idle", lang)
        return tr("bar.watch_on", lang, when=watcher.next_at.astimezone().strftime("%H:%M"))
