"""Stores shared by a Unix group: a setgid directory (2770) whose files are 0660 in that group.

The directory says which a store is: setgid and group-writable → shared by its group, so whoever
writes (a file replaced atomically is a new file) sets the group's mode again; else private (0700/0600).
`init_shared` makes (or converts) one.
"""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

from console.store.atomic import PRIVATE, SHARED_DIR, SHARED_FILE, Modes
from console.store.errors import StoreError, StorePermission


def modes_for(directory: Path) -> Modes:
    """The modes of a store living in `directory` (private when it does not exist yet)."""
    try:
        st = os.stat(directory)
    except OSError:
        return PRIVATE
    if st.st_mode & stat.S_ISGID and st.st_mode & stat.S_IWGRP:
        return Modes(file=SHARED_FILE, dir=SHARED_DIR, gid=st.st_gid)
    return PRIVATE


def _store_paths(store: Path) -> list[Path]:
    directory = store.parent
    prefix = store.name
    return sorted(p for p in directory.iterdir() if p.name == prefix or p.name.startswith(prefix + "."))


def init_shared(store: Path, group: str) -> list[Path]:
    """Make the store's directory GROUP's (2770) and every store file 0660 in GROUP; returns what changed.

    Also converts an existing private store. Only the store's own files are touched."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise StoreError(f"there is no Unix group {group!r}; create it first (groupadd {group})") from exc
    directory = store.parent
    changed: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.chown(directory, -1, gid)
        os.chmod(directory, SHARED_DIR)
        changed.append(directory)
        for path in _store_paths(store):
            if path.is_symlink():
                raise StoreError(
                    f"{path} is a symbolic link; a store never follows links (nothing more was changed)"
                )
            os.chown(path, -1, gid)
            if path.is_dir():
                os.chmod(path, SHARED_DIR)
                for inner in path.iterdir():
                    if inner.is_file() and not inner.is_symlink():
                        os.chown(inner, -1, gid)
                        os.chmod(inner, SHARED_FILE)
            else:
                os.chmod(path, SHARED_FILE)
            changed.append(path)
    except PermissionError as exc:
        raise StorePermission(
            f"no permission to give {exc.filename or directory} to group {group}: run this as the store's "
            f"owner (a member of {group}) or as root",
            group=group,
        ) from exc
    return changed
