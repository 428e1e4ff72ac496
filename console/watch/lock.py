"""One watcher per store: a `filelock` on `<store>.watch.lock` plus a small owner file saying who holds it.

The lock is the operating system's (released when the process dies, even by SIGKILL); the owner
file is only a message for the second watcher, so a stale one is harmless and is overwritten.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from checks.model import now_iso
from checks.text import strip_unsafe


class WatchLockHeld(Exception):
    """Another watcher runs on this store; the message says who."""

    def __init__(self, owner: Owner | None) -> None:
        self.owner = owner
        super().__init__(owner.describe() if owner else "another watcher (it did not say who)")


@dataclass(frozen=True, slots=True)
class Owner:
    pid: int
    host: str
    user: str
    since: str
    where: str  # "console" or "headless"

    def describe(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid} ({self.where}) since {self.since}"


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".watch.lock")


def owner_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".watch.owner")


def read_owner(store_path: Path) -> Owner | None:
    """Who says they hold the watch lock (None when nobody wrote it or it is unreadable)."""
    try:
        data = json.loads(owner_path(store_path).read_text(encoding="utf-8"))
        return Owner(
            int(data["pid"]),
            strip_unsafe(str(data["host"]))[:100],
            strip_unsafe(str(data["user"]))[:100],
            strip_unsafe(str(data["since"]))[:40],
            strip_unsafe(str(data.get("where", "")))[:20],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return str(os.getuid())


class WatchLock:
    """Held for the watcher's whole life; `acquire` raises WatchLockHeld naming the holder."""

    def __init__(self, store_path: Path, where: str) -> None:
        self.store_path = Path(store_path)
        self.where = where
        # filelock loads when the watcher starts, not with the console (its import is ~20 ms of CPU)
        from filelock import FileLock

        self._lock = FileLock(str(lock_path(self.store_path)), mode=0o600)
        self.owner: Owner | None = None

    def acquire(self) -> Owner:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise WatchLockHeld(read_owner(self.store_path)) from None
        owner = Owner(os.getpid(), socket.gethostname(), _user(), now_iso(), self.where)
        path = owner_path(self.store_path)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        payload = json.dumps(_owner_dict(owner))
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(temp, path)
        self.owner = owner
        return owner

    def release(self) -> None:
        if self.owner is None:
            return
        with contextlib.suppress(OSError):
            owner_path(self.store_path).unlink()
        self._lock.release()
        self.owner = None

    def __enter__(self) -> WatchLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _owner_dict(owner: Owner) -> dict[str, object]:
    return {"pid": owner.pid, "host": owner.host, "user": owner.user, "since": owner.since, "where": owner.where}
