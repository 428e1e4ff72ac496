"""What can go wrong with a store, as exceptions a caller can tell apart (the CLI maps them to exit 2).

Every message names the file (and the agency when one is at fault), says why, and what to do;
nothing was changed when one is raised.
"""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used as asked; the message says which file, why, and what to do."""


class StoreDamaged(StoreError):
    """A store file is unreadable, empty, of the wrong shape, or not a regular file: left untouched."""

    def __init__(self, message: str, *, path: str = "", agency_id: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.agency_id = agency_id


class StorePermission(StoreError):
    """This account may not read or write the store (a shared store: not in its Unix group)."""

    def __init__(self, message: str, *, group: str | None = None) -> None:
        super().__init__(message)
        self.group = group


class StoreLocked(StoreError):
    """Another process held the store's lock for longer than the timeout."""


class StoreTooNew(StoreError):
    """The store was written by a newer saraban: refused rather than misread."""


class StoreNoSpace(StoreError):
    """The disk is full (or over quota): nothing was changed."""


__all__ = ["StoreDamaged", "StoreError", "StoreLocked", "StoreNoSpace", "StorePermission", "StoreTooNew"]
