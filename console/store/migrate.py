"""Migration of a store written by an earlier saraban, on first open, with a copy kept beside it.

Schema 1 kept each agency's history inside its verdict shard (every scan and every list view read and
rewrote it); schema 2 kept it apart (`console.store.history`) but each shard still held every agency's
full current verdict (a national scan parsed and rewrote 60 MB of them); schema 3 keeps only the compact
verdict in the shard and the full one in the history segments. The migration runs under both locks: it
first copies the store as it was into ``<store>.pre-migration/`` (marked complete last), then builds the
new files *from that copy* (so an interrupted migration simply runs again) and flips the main file's
schema last. A damaged history entry is left out of the new history (it stays in the copy).
"""

from __future__ import annotations

import contextlib
import shutil
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.store import history
from console.store.atomic import atomic_write
from console.store.codec import compact, derived_group_change, dump_bytes, dumps, group_and_time, parse_json
from console.store.errors import StoreError
from console.store.layer import SCHEMA, load_json, meta_of, table_of

if TYPE_CHECKING:
    from console.store.facade import Store

BACKUP_SUFFIX = ".pre-migration"
_COMPLETE = "COMPLETE"


def needs_migration(main: dict[str, Any]) -> bool:
    schema = (meta_of(main) or {}).get("schema")
    return isinstance(schema, int) and schema < SCHEMA


def _copy_tree(store: Store, backup: Path) -> None:
    """The store as it is, into `backup` (same file names), then the completion marker."""
    if (backup / _COMPLETE).exists():
        return
    shutil.rmtree(backup, ignore_errors=True)
    backup.mkdir(mode=0o700)
    for source in (store.path, store.operator_path):
        if source.exists():
            shutil.copy2(source, backup / source.name)
    for directory in (store.verdicts_dir, store.history_dir):
        if directory.is_dir():
            target = backup / directory.name
            target.mkdir(mode=0o700)
            for path in sorted(directory.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    shutil.copy2(path, target / path.name)
    atomic_write(backup / _COMPLETE, f"copied before migrating to schema {SCHEMA}\n".encode())


def migrate(store: Store) -> str:
    """Bring a schema-1 store to this version's layout; returns the message for the operator."""
    backup = store.path.with_name(store.path.name + BACKUP_SUFFIX)
    try:
        with store._transaction(store._lock), store._transaction(store._op_lock):
            main = load_json(store.path)
            if main is None or not needs_migration(main):
                return f"{store.path} was already migrated by another saraban; nothing more to do"
            _copy_tree(store, backup)
            if (meta_of(main) or {}).get("schema") == 1:
                _migrate_from(store, backup)  # to schema 2, in place
                _to_segments(store, store.verdicts_dir, store.history_dir)
            else:
                _to_segments(store, backup / store.verdicts_dir.name, backup / store.history_dir.name)
            _flip(store, int((meta_of(main) or {}).get("schema") or 1))
    except PermissionError as exc:
        raise StoreError(
            f"{store.path} was written by an earlier saraban and must be upgraded once, by an account "
            f"that may write it ({exc.strerror}). Nothing was changed."
        ) from exc
    except OSError as exc:
        raise StoreError(
            f"cannot upgrade {store.path}: {exc.strerror or exc}. Nothing was lost; the store is as it was."
        ) from exc
    return (
        f"the store {store.path} was upgraded to this saraban's layout (full verdicts and history kept apart "
        f"from the current state). A copy of it as it was is kept in {backup}; remove that copy once all is well."
    )


def _migrate_from(store: Store, backup: Path) -> None:
    modes = store.modes
    old_main = load_json(backup / store.path.name) or {}
    store._ensure_dir(store.history_dir)
    old_shards = backup / store.verdicts_dir.name
    if old_shards.is_dir():
        store._ensure_dir(store.verdicts_dir)
        for shard in sorted(old_shards.iterdir()):
            if shard.suffix != ".json" or not shard.stem.isdigit():
                continue
            data = load_json(shard, fast=True) or {}
            index = int(shard.stem)
            full: list[str] = []
            groups: list[str] = []
            docs = table_of(data, "verdicts")
            for key, doc in list(docs.items()):
                if not isinstance(doc, dict) or not isinstance(doc.get("agency_id"), str):
                    continue  # damage stays as it is, named by the reads
                aid = doc["agency_id"]
                kept_history = doc.get("history") if isinstance(doc.get("history"), list) else []
                texts = [t for t in reversed(kept_history) if isinstance(t, str)]
                current = doc.get("current") if isinstance(doc.get("current"), str) else None
                if current:
                    texts.append(current)
                for text in texts:
                    group, at = group_and_time(text)
                    if group is None or at is None or "\n" in text:
                        continue
                    full.append(text)
                    groups.append(dumps({"agency_id": aid, "group": group, "checked_at": at}))
                new = {k: v for k, v in doc.items() if k != "history"}
                if current and not isinstance(doc.get("group_changed_at"), str):
                    new["group_changed_at"] = derived_group_change(doc, store.history_limit)
                if current and not isinstance(doc.get("group"), str):
                    new["group"] = group_and_time(doc.get("compact") or current)[0]
                new["kept"] = len(texts)
                docs[key] = new
            atomic_write(history.legacy_full_path(store.history_dir, index), history.member(full), modes=modes)
            atomic_write(history.groups_path(store.history_dir, index), history.member(groups), modes=modes)
            meta = meta_of(data)
            if isinstance(meta, dict):
                data["meta"]["1"] = {**meta, "schema": 2}
            atomic_write(store._shard_path(index), dump_bytes(data), modes=modes)
    snapshots = [s for s in table_of(old_main, "snapshots").values() if isinstance(s, dict)]
    snapshots.sort(key=lambda s: str(s.get("at", "")))
    atomic_write(
        store.history_dir / history.SNAPSHOTS,
        "".join(dumps(s) + "\n" for s in snapshots).encode("utf-8"),
        modes=modes,
    )


def _to_segments(store: Store, shards_dir: Path, history_dir: Path) -> None:
    """Schema 2 → 3, reading the schema-2 shards and full-history files in the given directories: each
    shard's history and current verdicts become its segment 1, its documents compact with a pointer."""
    store._ensure_dir(store.history_dir)
    if not shards_dir.is_dir():
        return
    store._ensure_dir(store.verdicts_dir)
    for shard in sorted(shards_dir.iterdir()):
        if shard.suffix == ".json" and shard.stem.isdigit():
            _shard_to_segment(store, shard, history_dir)
    for path in sorted(history_dir.glob("*.groups.jsonl.gz")):
        target = store.history_dir / path.name
        if path != target:
            shutil.copy2(path, target)
    snapshots = history_dir / history.SNAPSHOTS
    if snapshots.exists() and snapshots != store.history_dir / history.SNAPSHOTS:
        shutil.copy2(snapshots, store.history_dir / history.SNAPSHOTS)


def _shard_to_segment(store: Store, shard: Path, history_dir: Path) -> None:
    """One schema-2 shard: its full history (and current verdicts) become segment 1, its documents
    schema 3's (compact, with a pointer and the count of full verdicts held)."""
    data = load_json(shard, fast=True) or {}
    index = int(shard.stem)
    lines = list(history.read_lines(history.legacy_full_path(history_dir, index)))
    last: dict[str, int] = {}  # agency → its newest line
    for position, line in enumerate(lines):
        if (aid := history.agency_of(line)) is not None:
            last[aid] = position
    docs = table_of(data, "verdicts")
    for key, doc in list(docs.items()):
        if isinstance(doc, dict) and isinstance(doc.get("agency_id"), str):  # damage stays, named by reads
            docs[key] = _schema3_doc(doc, lines, last)
    counts: dict[str, int] = {}
    for line in lines:
        if (aid := history.agency_of(line)) is not None:
            counts[aid] = counts.get(aid, 0) + 1
    for doc in docs.values():
        if isinstance(doc, dict) and doc.get("full") and isinstance(doc.get("agency_id"), str):
            doc["segs"] = [[1, counts.get(doc["agency_id"], 1)]]
    body = history.member(lines) if lines else b""
    atomic_write(history.segment_path(store.history_dir, index, 1), body, modes=store.modes)
    meta = meta_of(data)
    if isinstance(meta, dict):
        data["meta"]["1"] = {**meta, "schema": SCHEMA, "segments": [[1, len(body)]] if body else []}
    atomic_write(store._shard_path(index), dump_bytes(data), modes=store.modes)


def _schema3_doc(doc: dict[str, Any], lines: list[bytes], last: dict[str, int]) -> dict[str, Any]:
    """A schema-2 verdict document without its full text: the current verdict points at its line in
    segment 1 (appended when retention 0 kept none)."""
    aid = doc["agency_id"]
    new = {k: v for k, v in doc.items() if k not in ("current", "kept", "history")}
    current = doc.get("current") if isinstance(doc.get("current"), str) else None
    if not current:
        return new
    raw = current.encode("utf-8")
    if aid not in last or lines[last[aid]] != raw:
        lines.append(raw)  # history_limit 0 kept none: the current one is kept now
        last[aid] = len(lines) - 1
    new["full"] = [1, 0, last[aid]]
    new["crc"] = zlib.crc32(raw)
    if not isinstance(doc.get("compact"), str):
        with contextlib.suppress(ValueError, RecursionError, TypeError, AttributeError):
            new["compact"] = dumps(compact(parse_json(current)))
    return new


def _flip(store: Store, was: int) -> None:
    """The main file says the new schema last; then schema 2's full-history files go (the copy has them)."""
    main = load_json(store.path) or {}
    main.pop("snapshots", None)
    meta = meta_of(main)
    main["meta"]["1"] = {**(meta or {}), "schema": SCHEMA, "migrated_from": was}
    atomic_write(store.path, dump_bytes(main), modes=store.modes)
    for index in range(64):
        with contextlib.suppress(FileNotFoundError):
            history.legacy_full_path(store.history_dir, index).unlink()
