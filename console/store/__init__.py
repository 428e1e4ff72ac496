"""The operators' store: agencies, verdicts, history, corrections, notes, snapshots and imports.

One module per job: `text` (cleaning), `codec` (verdicts as JSON text), `atomic` (the one atomic file
writer, exports use it too), `layer` (TinyDB on locked atomic transactions), `history` (the append-only
files: full verdicts in segments, groups, snapshots), `segments` (where a batch goes, what retention
drops), `listindex` (the list view's index), `merge` (the import merge), `migrate` (older layouts),
`records` (what is handed out), `facade` (the `Store` callers use), `errors` (what can go wrong).
"""

from console.store.errors import (
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreNoSpace,
    StorePermission,
    StoreTooNew,
)
from console.store.facade import Store
from console.store.layer import SCHEMA
from console.store.records import AgencyRecord, Correction, ImportReport, Note
from console.store.text import clean_text

__all__ = [
    "SCHEMA",
    "AgencyRecord",
    "Correction",
    "ImportReport",
    "Note",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreLocked",
    "StoreNoSpace",
    "StorePermission",
    "StoreTooNew",
    "clean_text",
]
