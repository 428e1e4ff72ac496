"""The demo's scratch directory (~30 MB for the national world): removed when the demo ends, on `q`,
and also when it is killed (SIGTERM) or loses its terminal (SIGHUP: an SSH connection dropped),
unless the operator asked to keep it.

A signal while the console runs asks the console to quit (its terminal is restored, then the
directory goes); a signal at any other moment, or a second one, ends the demo at once through the
same clean-up. A signal during the clean-up itself is ignored so the removal finishes.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP)


class Scratch:
    """A fresh directory, and how the demo is asked to stop when a signal comes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.signalled: int | None = None  # the signal that ended the demo, if one did
        self._stop: Callable[[], object] | None = None
        self._stopping = False
        self._cleaning = False

    def on_signal(self, stop: Callable[[], object] | None) -> None:
        """While `stop` is set (the console's exit), a first signal calls it in the event loop."""
        self._stop = stop

    def exit_code(self, default: int) -> int:
        """128 + the signal's number when a signal ended the demo (the shell's convention)."""
        return 128 + self.signalled if self.signalled is not None else default

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self._cleaning:
            return
        self.signalled = signum
        if self._stop is not None and not self._stopping:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                self._stopping = True
                loop.call_soon_threadsafe(self._stop)  # wakes the loop; the app quits as on `q`
                return
        raise SystemExit(128 + signum)


@contextmanager
def scratch_dir(*, keep: bool, prefix: str = "saraban-demo-") -> Iterator[Scratch]:
    """A new directory under the system's temp dir, removed at the end unless `keep`."""
    scratch = Scratch(Path(tempfile.mkdtemp(prefix=prefix)))
    in_main = threading.current_thread() is threading.main_thread()  # only there can Python take signals
    previous = {sig: signal.signal(sig, scratch._handle) for sig in STOP_SIGNALS} if in_main else {}
    try:
        yield scratch
    finally:
        scratch._cleaning = True
        try:
            if not keep:
                shutil.rmtree(scratch.path, ignore_errors=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
