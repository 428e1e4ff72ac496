"""The one atomic file writer (the store and every export use it) and the file-level checks around it.

temp file in the same directory (O_EXCL, O_NOFOLLOW) → write → fsync → `os.replace` → fsync of the
directory. The mode is set explicitly with fchmod (the umask must neither widen nor narrow it) and, for
a shared store, the group too: an atomic replace makes a new inode, so nothing of the old file's mode
or group survives unless the writer sets it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PRIVATE_FILE = 0o600  # stores and exports hold phone numbers and operator notes
PRIVATE_DIR = 0o700
SHARED_FILE = 0o660
SHARED_DIR = 0o2770  # setgid: files created inside inherit the group


@dataclass(frozen=True)
class Modes:
    """How a store's files are created: private to one account, or shared by one Unix group."""

    file: int = PRIVATE_FILE
    dir: int = PRIVATE_DIR
    gid: int | None = None  # a shared store's group; None: private

    @property
    def shared(self) -> bool:
        return self.gid is not None


PRIVATE = Modes()


def temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_dir_quietly(directory: Path) -> None:
    with contextlib.suppress(OSError):  # the data is in place; a directory fsync failure is not fatal
        fsync_dir(directory)


def apply_modes(fd: int, modes: Modes) -> None:
    """Give an open file the store's mode and group (the group before the mode: chown clears setgid bits)."""
    if modes.gid is not None and os.fstat(fd).st_gid != modes.gid:
        os.fchown(fd, -1, modes.gid)
    os.fchmod(fd, modes.file)


def atomic_write(
    path: str | Path,
    data: bytes | Callable[[IO[bytes]], None],
    *,
    modes: Modes = PRIVATE,
    sync_dir: bool = True,
    durable: bool = True,
) -> None:
    """Replace `path` with `data` (bytes, or a function writing into the file) all at once.

    Raises OSError; the file at `path` is then exactly what it was. With `sync_dir=False` the caller
    fsyncs the directory (once for several files). `durable=False` skips every fsync: only for files
    whose readers detect a torn or lost write themselves (the list index, `console.store.listindex`)."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    tmp = directory / f"{temp_prefix(target)}{os.getpid()}-{os.urandom(4).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, modes.file)
    try:
        with os.fdopen(fd, "wb") as handle:
            apply_modes(handle.fileno(), modes)
            if isinstance(data, bytes | bytearray | memoryview):
                handle.write(data)
            else:
                data(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir and durable:
        sync_dir_quietly(directory)


def append_durably(path: Path, data: bytes, *, modes: Modes = PRIVATE) -> None:
    """Append `data` to `path` (created if absent) and fsync: for files that only ever grow.

    A crash may leave a partial last record; readers skip a record they cannot decode. A failed append
    (a full disk mid-record) is cut off again, so the file is what it was and later appends stay
    readable (a torn record in the middle would hide every record after it)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, modes.file)
    try:
        size = os.fstat(fd).st_size
        try:
            if size == 0:
                apply_modes(fd, modes)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # shrinking needs no space
            raise
    finally:
        os.close(fd)
