"""The store's facade: what cli, runner, console, report and export call. Reads are lock-free and cached;
writes go through the write layer (`console.store.layer`) in locked transactions.

The data is split so that a frequent bulk write never rewrites precious or unrelated data, and so that
what grows with every scan is never read or rewritten by a scan or a list view:

- ``<store>``                   meta, agencies (+ source changes), imports  (lock ``<store>.lock``)
- ``<store>.verdicts/NN.json``  each agency's current verdict, compact, and where its full one is
                                (segment, member offset, line); 64 shards by agency  (same lock)
- ``<store>.history/``          every full verdict (segments), the group of every scan, snapshots:
                                append-only (`console.store.history`, `console.store.segments`; same lock)
- ``<store>.operator.json``     corrections, notes, follow-up marks, duplicate decisions
                                (own lock ``<store>.operator.lock``)

A correction therefore rewrites only the small operator file and never waits behind a verdict batch.
Reads outside a transaction need no lock (files are only ever replaced whole, or appended to); parsed
results are cached per file identity (inode, mtime, size) so a polling console does not re-parse
unchanged files.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from tinydb.table import Document, Table

from checks.model import Agency, Verdict, now_iso
from console.store import codec, history, listindex, segments
from console.store.atomic import Modes, atomic_write, temp_prefix
from console.store.codec import bulk, encode_verdicts, parse_json
from console.store.duplicates import duplicate_groups, duplicate_pairs
from console.store.errors import StoreDamaged, StoreError
from console.store.history import Pointer, Segments
from console.store.layer import (
    KIND_MAIN,
    KIND_OPERATOR,
    KIND_VERDICTS,
    LOCK_TIMEOUT,
    NO_FILE,
    SCHEMA,
    SHARDS,
    AtomicJSONStorage,
    StoreLock,
    Txn,
    check_meta,
    check_store_file,
    head_meta,
    history_error,
    load_json,
    meta_of,
    permission_error,
    put_many,
    shard_of,
    slot,
    sorted_docs,
    stable_id,
    table_of,
    transaction,
    write_error,
)
from console.store.layer import stamp as file_stamp
from console.store.merge import merge_agencies
from console.store.migrate import needs_migration
from console.store.records import (
    AgencyRecord,
    Correction,
    ImportReport,
    Note,
    VerdictSummary,
    correction_doc,
    correction_from,
    frozen_maker,
    note_doc,
)
from console.store.segments import pointer_of, segments_of
from console.store.shapes import agency_of, problem, well_formed
from console.store.shared import modes_for
from console.store.text import (
    MAX_ADDRESS,
    MAX_NOTE,
    MAX_REASON,
    MAX_SHORT,
    THAI_DIGITS,
    clean_agency,
    clean_text,
    limited,
    order_key,
    required,
    seq_number,
)

_T = TypeVar("_T")
# A verdict on its way to a shard: full JSON, compact text, compact data, crc of the full JSON, group,
# checked_at, stable id
_Saved = tuple[bytes, str, dict[str, Any], int, str, str, int]


@dataclass
class _ShardChange:
    """What a verdict batch changes in one shard: documents by id, list-index rows, full verdicts to
    append (agency id, JSON bytes) and group-history lines (agency id, group, checked at)."""

    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, listindex.Row] = field(default_factory=dict)
    batch: list[tuple[str, bytes]] = field(default_factory=list)
    appended: list[tuple[str, str, str]] = field(default_factory=list)

MAX_BULK = 10_000  # agencies in one bulk action

# One agency in a verdict shard: its current verdict's compact form, where the full one is in the
# history segments, and when its group last changed (a first verdict counts as a change).
ShardEntry = tuple[str | None, Pointer | None, str | None]
# Members of history segments read during one call: (shard, segment, offset) → lines
Members = dict[tuple[int, int, int], list[bytes]]
# A shard's history read during one call: shard → (full-verdict lines, group lines)
HistoryLines = dict[int, tuple[list[bytes], list[bytes]]]


class ShardView(NamedTuple):
    entries: dict[str, ShardEntry]
    segments: Segments  # the shard's live history segments and how far each is committed
# A shard's list view: agency id → (verdict summary, when its group last changed)
LightShard = dict[str, tuple[VerdictSummary, str | None]]


def login_name() -> str:
    """The real Unix login of this process (what the audit trail records, whatever the config says)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


class Store:
    """The JSON store several operator processes share; every write is atomic and locked."""

    def __init__(
        self, path: Path | str, *, history_limit: int = 10, lock_timeout: float | None = None
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.history_limit = max(0, int(history_limit))
        self.operator_path = self.path.with_name(self.path.name + ".operator.json")
        self.verdicts_dir = self.path.with_name(self.path.name + ".verdicts")
        self.history_dir = self.path.with_name(self.path.name + ".history")
        self.index_dir = self.path.with_name(self.path.name + ".index")  # list indexes (console.store.listindex)
        self.modes: Modes = modes_for(self.path.parent)
        self.login = login_name()
        self.notices: list[str] = []  # said once to the operator (e.g. "migrated, backup kept at ...")
        wait = LOCK_TIMEOUT if lock_timeout is None else lock_timeout  # [general] lock_timeout
        self._lock = StoreLock(str(self.path) + ".lock", timeout=wait, mode=self.modes.file)
        self._op_lock = StoreLock(str(self.path) + ".operator.lock", timeout=wait, mode=self.modes.file)
        self._cache: dict[Path, tuple[tuple[int, int, int, int], Any]] = {}
        self._memo: dict[int, dict[Pointer, Verdict]] = {}
        self._memo_light: dict[int, dict[str, Verdict]] = {}
        self._raw_agencies: tuple[tuple[int, int, int, int], dict[str, Any]] | None = None
        self._light: dict[int, tuple[tuple[int, int, int, int], LightShard]] = {}
        self._problems: dict[tuple[Path, str], str] = {}
        self._open()

    # -- opening ---------------------------------------------------------------------------
    def _open(self) -> None:
        try:
            os.stat(self.path.parent)
            os.listdir(self.path.parent)
        except FileNotFoundError:
            pass
        except PermissionError as exc:
            raise permission_error(self.path, exc) from exc
        has_main = check_store_file(self.path)
        has_operator = check_store_file(self.operator_path)
        has_verdicts = check_store_file(self.verdicts_dir, directory=True)
        has_history = check_store_file(self.history_dir, directory=True)
        if not has_main and (has_operator or has_verdicts or has_history):
            present = (
                self.operator_path
                if has_operator
                else self.verdicts_dir
                if has_verdicts
                else self.history_dir
            )
            raise StoreDamaged(
                f"{self.path} is missing although {present} exists: this is damage, not a new store. "
                "Nothing was changed; restore the main file from a backup (or give the right --store path).",
                path=str(self.path),
            )
        operator = load_json(self.operator_path)
        main = self._main_at_open(operator is not None)
        check_meta(self.path, main, KIND_MAIN)
        check_meta(self.operator_path, operator, KIND_OPERATOR)
        if (
            main is not None
            and operator is None
            and (table_of(main, "agencies") or table_of(main, "imports"))
        ):
            raise StoreDamaged(
                f"{self.operator_path} (corrections and notes) is missing from a store that holds agencies. "
                "Nothing was changed; restore it from a backup. To go on without the corrections and notes, "
                "copy a backup's file or ask an administrator.",
                path=str(self.operator_path),
            )
        shards = (meta_of(main) or {}).get("shards", SHARDS)
        if shards != SHARDS:
            raise StoreError(
                f"{self.path} uses {shards} verdict shards; this saraban uses {SHARDS}. Nothing was changed; "
                "open it with the saraban version that wrote it."
            )
        if main is not None and needs_migration(main):
            from console.store.migrate import migrate

            self.notices.append(migrate(self))
            self._refresh_indexes()
            return
        if main is not None and "agencies" in main and file_stamp(self.path) != (0, 0, 0, 0):
            self._raw_agencies = (file_stamp(self.path), table_of(main, "agencies"))
        if main is not None and operator is not None and not self._stale_temps():
            self._refresh_indexes()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=self.modes.dir)
        except PermissionError as exc:
            raise permission_error(self.path, exc) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create the store directory {self.path.parent}: {exc.strerror or exc}"
            ) from exc
        try:
            with self._transaction(self._lock) as txn, self._transaction(self._op_lock) as op_txn:
                self._remove_stale_temps()
                txn.db(self.path, KIND_MAIN, shards=SHARDS)
                op_txn.db(self.operator_path, KIND_OPERATOR)
        except StoreError:
            if main is not None and operator is not None:
                return  # read-only place: reading still works, writes will say why they cannot
            raise

    def _main_at_open(self, has_operator: bool) -> dict[str, Any] | None:
        """The main file for the checks of opening. Its meta table alone when its list index vouches
        for the file as it is now (written from this very file version, which parsed whole): a console
        on 20,000 agencies need not parse 12 MB of agencies that the list index already holds."""
        stamp = file_stamp(self.path)
        if has_operator and stamp != NO_FILE and listindex.fresh(self._index_of(self.path), stamp):
            head = head_meta(self.path)
            if head is not None and (meta_of(head) or {}).get("schema") == SCHEMA:
                return head
        return load_json(self.path)

    def _temp_globs(self) -> list[tuple[Path, str]]:
        globs = [
            (self.path.parent, temp_prefix(self.path)),
            (self.path.parent, temp_prefix(self.operator_path)),
        ]
        for directory in (self.verdicts_dir, self.history_dir, self.index_dir):
            if directory.is_dir():
                globs.append((directory, "."))
        return globs

    def _stale_temps(self) -> list[Path]:
        found: list[Path] = []
        for directory, prefix in self._temp_globs():
            with contextlib.suppress(OSError):
                found.extend(
                    directory / name
                    for name in os.listdir(directory)
                    if name.startswith(prefix) and ".tmp-" in name
                )
        return found

    def _remove_stale_temps(self) -> None:
        """Only called with both locks held: nobody is writing, so every temp file is a crash leftover."""
        for tmp in self._stale_temps():
            with contextlib.suppress(OSError):
                tmp.unlink()

    # -- transactions ----------------------------------------------------------------------
    def _transaction(self, lock: StoreLock) -> contextlib.AbstractContextManager[Txn]:
        return transaction(lock, self.path.parent, self.modes)

    def _shard_path(self, index: int) -> Path:
        return self.verdicts_dir / f"{index:02d}.json"

    def _ensure_dir(self, directory: Path) -> None:
        if check_store_file(directory, directory=True):
            return
        try:
            directory.mkdir(mode=self.modes.dir)
            if self.modes.gid is not None:
                os.chown(directory, -1, self.modes.gid)
            os.chmod(directory, self.modes.dir)  # mkdir's mode passes through the umask
        except FileExistsError:
            check_store_file(directory, directory=True)
        except PermissionError as exc:
            raise permission_error(directory, exc) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create {directory}: {exc.strerror or exc}. Nothing was changed."
            ) from exc

    def side_dir(self, suffix: str) -> Path:
        """A directory beside the store (e.g. ".scans"), created with the store's modes (shared or private)."""
        directory = self.path.with_name(self.path.name + suffix)
        self._ensure_dir(directory)
        return directory

    # -- damage ----------------------------------------------------------------------------
    def _damage(self, path: Path, table: str, key: str, doc: object) -> None:
        self._problems[(path, key + table)] = self._damage_text(path, table, key, doc)

    @staticmethod
    def _damage_text(path: Path, table: str, key: str, doc: object) -> str:
        aid = agency_of(doc)
        why = problem(table, doc) or "unreadable"
        who = f"agency {aid}" if aid else f"document {key} of {table!r}"
        return (
            f"{path}: {who} is damaged ({why}); it was left untouched and is not shown. The other agencies "
            "are fine. Restore the file from a backup, or correct that entry by hand."
        )

    def _named(self, path: Path, bad: list[list[str]]) -> None:
        """The damage an index names (as reading its source would), replacing what was said of `path`."""
        for key in [k for k in self._problems if k[0] == path]:
            del self._problems[key]
        for key, message in bad:
            self._problems[(path, key)] = message

    def problems(self) -> list[str]:
        """Damaged entries found by the reads so far: file and agency named (the rest still works)."""
        return list(self._problems.values())

    def _refuse_damaged(self, txn: Txn, path: Path, table: str, agency_id: str) -> None:
        why = txn.storage(path).damaged_agency(table, agency_id)
        if why is not None:
            raise StoreDamaged(
                f"{path}: the entry for agency {agency_id} in {table!r} is damaged ({why}). Nothing was changed; "
                "restore the file from a backup, or correct that entry by hand. Other agencies can be changed.",
                path=str(path),
                agency_id=agency_id,
            )

    def _good(self, path: Path, data: dict[str, Any] | None, table: str) -> dict[str, Any]:
        good, bad = well_formed(table, table_of(data, table))
        for key in bad:
            self._damage(path, table, key, table_of(data, table)[key])
        return good

    # -- cached lock-free reads ------------------------------------------------------------
    def _read(self, path: Path, kind: str, build: Any) -> Any:
        """Parse `path` (or reuse the parse of the very same file version) and build a view of it."""
        stamp = file_stamp(path)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp and stamp != (0, 0, 0, 0):
            return cached[1]
        data = load_json(path, fast=kind == KIND_VERDICTS)  # a read-only view: the transaction reads exactly
        check_meta(path, data, kind)
        for key in [k for k in self._problems if k[0] == path]:
            del self._problems[key]
        view = build(data)
        if file_stamp(path) == stamp:  # not replaced while we parsed
            self._cache[path] = (stamp, view)
        return view

    def _main_view(self) -> dict[str, Any]:
        """Agencies (in list order, with source changes and possible duplicates) and imports: from the
        list index when it vouches for the main file as it is now, else from the main file itself."""
        stamp = file_stamp(self.path)
        cached = self._cache.get(self.path)
        if cached is not None and cached[0] == stamp and stamp != NO_FILE:
            return cached[1]
        if stamp != NO_FILE:
            body = listindex.read(self._index_of(self.path), stamp)
            if body is not None:
                with bulk():
                    view = listindex.main_view(body)
                if view is not None:
                    self._named(self.path, body["bad"])
                    self._cache[self.path] = (stamp, view)
                    return view

        def build(data: dict[str, Any] | None) -> dict[str, Any]:
            agencies: dict[str, tuple[Agency, tuple[dict, ...]]] = {}
            for doc in self._good(self.path, data, "agencies").values():
                agency = Agency.from_json(doc["agency"])
                agencies[agency.id] = (agency, tuple(doc.get("source_changes") or ()))
            order = sorted(agencies, key=lambda aid: order_key(agencies[aid][0]))
            return {
                "agencies": agencies,
                "order": order,
                "imports": sorted_docs(table_of(data, "imports")),
                "pairs": duplicate_pairs(duplicate_groups([agencies[aid][0] for aid in order]), agencies),
            }

        return self._read(self.path, KIND_MAIN, build)

    def _agency(self, agency_id: str) -> Agency | None:
        """One agency, no lock needed: from the cached view when it is current, else by its doc id
        straight from the file (a cold add_correction must not build 8,000 Agency objects)."""
        stamp = file_stamp(self.path)
        cached = self._cache.get(self.path)
        if cached is not None and cached[0] == stamp:
            entry = cached[1]["agencies"].get(agency_id)
            return entry[0] if entry else None
        if self._raw_agencies is not None and self._raw_agencies[0] == stamp:
            table = self._raw_agencies[1]
        else:
            data = load_json(self.path)
            check_meta(self.path, data, KIND_MAIN)
            table = table_of(data, "agencies")
            if file_stamp(self.path) == stamp:
                self._raw_agencies = (stamp, table)
        doc_id = stable_id(agency_id)
        while (doc := table.get(str(doc_id))) is not None:
            if agency_of(doc) == agency_id:
                why = problem("agencies", doc)
                if why is not None:
                    raise StoreDamaged(
                        f"{self.path}: agency {agency_id} is damaged ({why}). Nothing was changed; restore the "
                        "file from a backup, or correct that entry by hand. Other agencies can be changed.",
                        path=str(self.path),
                        agency_id=agency_id,
                    )
                return Agency.from_json(doc["agency"])
            doc_id += 1
        return None

    def _shard_view(self, index: int) -> ShardView:
        """agency id → (compact verdict text, where the full one is, group change); parsed only when asked for."""
        path = self._shard_path(index)

        def build(data: dict[str, Any] | None) -> ShardView:
            out: dict[str, ShardEntry] = {}
            for doc in self._good(path, data, "verdicts").values():
                short = doc.get("compact") or None
                out[doc["agency_id"]] = (short, pointer_of(doc), doc.get("group_changed_at") if short else None)
            # Parsed verdicts are reused by where they are (full) or their exact text (compact): after a
            # new scan most are ones already seen, so only new ones are parsed again.
            present = {entry[1] for entry in out.values()}
            self._memo[index] = {k: v for k, v in self._memo.get(index, {}).items() if k in present}
            shorts = {entry[0] for entry in out.values()}
            self._memo_light[index] = {k: v for k, v in self._memo_light.get(index, {}).items() if k in shorts}
            return ShardView(out, segments_of(data))

        return self._read(path, KIND_VERDICTS, build)

    def _full_text(self, index: int, agency_id: str, pointer: Pointer, members: Members | None = None) -> str | None:
        """The full current verdict from the history segment the shard points to; None when it cannot be
        read (a writer dropped that segment since this process read the shard: read the shard again once)."""
        for attempt in (0, 1):
            if attempt:
                self._cache.pop(self._shard_path(index), None)
                entry = self._shard_view(index).entries.get(agency_id)
                if entry is None or entry[1] is None or entry[1] == pointer:
                    break  # the shard still points there: the segment is lost or damaged
                pointer = entry[1]
            segment, offset, line = pointer
            key = (index, segment, offset)
            lines = members.get(key) if members is not None else None
            if lines is None:
                end = dict((s, e) for s, e in self._shard_view(index).segments).get(segment)
                try:
                    lines = history.read_member(history.segment_path(self.history_dir, index, segment), offset, end)
                except (OSError, ValueError):
                    continue
                if members is not None:
                    members[key] = lines
            if 0 <= line < len(lines):
                return lines[line].decode("utf-8", "replace")
        segment_file = history.segment_path(self.history_dir, index, pointer[0])
        self._problems[(segment_file, agency_id)] = (
            f"{segment_file}: the full verdict (with its SMTP transcript) of agency {agency_id} cannot be "
            "read; its compact verdict is shown. Recheck the agency, or restore the store's history from a backup."
        )
        return None

    # -- the list index (console.store.listindex) -------------------------------------------
    def _main_index_body(self, data: dict[str, Any], damaged: dict[str, Any]) -> dict[str, Any]:
        agencies: dict[str, tuple[Agency, tuple[dict, ...]]] = {}
        for doc in table_of(data, "agencies").values():
            agency = Agency.from_json(doc["agency"])
            agencies[agency.id] = (agency, tuple(doc.get("source_changes") or ()))
        listed = sorted(agencies.values(), key=lambda entry: order_key(entry[0]))
        bad = [(key + "agencies", self._damage_text(self.path, "agencies", key, doc)) for key, doc in damaged.items()]
        return listindex.main_body(
            listed, duplicate_groups([a for a, _ in listed]), sorted_docs(table_of(data, "imports")), bad
        )

    def _shard_index_body(
        self, path: Path, docs: dict[str, Any], damaged: dict[str, Any], known: dict[str, listindex.Row] | None = None
    ) -> dict[str, Any]:
        """A shard's index body; `known` rows (this batch's verdicts, the previous index) are not re-parsed."""
        bad = [(key + "verdicts", self._damage_text(path, "verdicts", key, doc)) for key, doc in damaged.items()]
        rows: list[listindex.Row] = []
        unreadable: list[str] = []
        for doc in docs.values():
            aid = doc["agency_id"]
            row = known.get(aid) if known else None
            if row is None:
                try:
                    row = listindex.doc_row(doc)
                except (ValueError, RecursionError, TypeError, KeyError, AttributeError) as exc:
                    unreadable.append(aid)
                    bad.append((aid, self._unreadable_text(path, aid, exc)))
                    continue
            if row is not None:
                rows.append(row)
        return listindex.shard_body(rows, bad, unreadable)

    @staticmethod
    def _unreadable_text(path: Path, agency_id: str, exc: BaseException) -> str:
        return (
            f"{path}: the verdict of agency {agency_id} is damaged ({type(exc).__name__}); it was left "
            "untouched. Recheck the agency to replace it, or restore the file from a backup."
        )

    def _index_of(self, source: Path) -> Path:
        return listindex.index_path(self.index_dir, source)

    def _write_index(self, source: Path, body: dict[str, Any]) -> None:
        """Write `source`'s list index (lock held); a failure only leaves it stale (readers read `source`)."""
        with contextlib.suppress(OSError, StoreError):
            self._ensure_dir(self.index_dir)
            listindex.write(self._index_of(source), file_stamp(source), body, modes=self.modes)

    def _write_shard_index(
        self, path: Path, storage: Any, before: tuple[int, int, int, int], rows: dict[str, listindex.Row]
    ) -> None:
        docs = table_of(storage.data(), "verdicts")
        known = rows
        if before != NO_FILE and any(doc["agency_id"] not in rows for doc in docs.values()):
            old = listindex.read(self._index_of(path), before)  # the rows of the verdicts not saved now
            if old is not None:
                known = {**listindex.shard_rows(old), **rows}
        body = self._shard_index_body(path, docs, storage.damaged.get("verdicts", {}), known)
        self._write_index(path, body)

    def _rebuild_index(self, source: Path) -> None:
        """Rebuild one list index from its source file (lock held)."""
        if source == self.path:
            data = load_json(self.path)
            check_meta(self.path, data, KIND_MAIN)
            table = table_of(data, "agencies")
            good, bad = well_formed("agencies", table)
            main = {"agencies": good, "imports": table_of(data, "imports")}
            self._write_index(source, self._main_index_body(main, {k: table[k] for k in bad}))
            return
        data = load_json(source, fast=True)
        check_meta(source, data, KIND_VERDICTS)
        docs = table_of(data, "verdicts")
        good, bad = well_formed("verdicts", docs)
        self._write_index(source, self._shard_index_body(source, good, {k: docs[k] for k in bad}))

    def _stale_indexes(self) -> list[Path]:
        sources = [self.path, *(self._shard_path(i) for i in range(SHARDS))]
        return [
            source
            for source in sources
            if (stamp := file_stamp(source)) != NO_FILE
            and not listindex.fresh(self._index_of(source), stamp)
        ]

    def _writable(self) -> bool:
        """Whether this store may be written at all: a read-only file or folder was made so on purpose,
        and even root (whom the modes do not stop) leaves it as it is."""
        try:
            return all(os.stat(p).st_mode & stat.S_IWUSR for p in (self.path.parent, self.path))
        except OSError:
            return False

    def _refresh_indexes(self) -> None:
        """Build missing or stale list indexes (a store an older saraban wrote, a crash between a file and
        its index, a copy) once, on opening, when this account may write; else readers read the sources."""
        try:
            if not self._writable() or not self._stale_indexes():
                return
            self._lock.file_lock.acquire(timeout=2.0)
        except (StoreError, OSError):  # filelock's Timeout is a TimeoutError, an OSError
            return
        try:
            with bulk():
                for source in self._stale_indexes():
                    self._rebuild_index(source)
        except (StoreError, OSError):
            pass  # unreadable or damaged: the reads say so, naming the file
        finally:
            self._lock.file_lock.release()

    def _light_shard(self, index: int) -> dict[str, tuple[VerdictSummary, str | None] | None]:
        """A shard's list view: agency id → (verdict summary, group change), None for an unreadable
        verdict (named in `problems()`); from the shard's index when it vouches for the shard as it is."""
        path = self._shard_path(index)
        stamp = file_stamp(path)
        cached = self._light.get(index)
        if cached is not None and cached[0] == stamp and stamp != NO_FILE:
            return cached[1]
        body = listindex.read(self._index_of(path), stamp) if stamp != NO_FILE else None
        summaries = listindex.shard_view(body) if body is not None else None
        if summaries is None and stamp != NO_FILE:  # stale, missing or malformed: the shard (slower, never wrong)
            data = load_json(path, fast=True)
            check_meta(path, data, KIND_VERDICTS)
            docs = table_of(data, "verdicts")
            good, bad = well_formed("verdicts", docs)
            body = self._shard_index_body(path, good, {k: docs[k] for k in bad})
            summaries = listindex.shard_view(body)
        view: dict[str, tuple[VerdictSummary, str | None] | None] = {}
        if body is not None:
            view.update(summaries or {})
            view.update(dict.fromkeys(body.get("unreadable") or ()))
            self._named(path, body["bad"])
        if file_stamp(path) == stamp:
            self._light[index] = (stamp, view)
        return view

    def _list_records(self) -> list[AgencyRecord]:
        """`records(with_history=False, light=True)`: what a list view needs, from the list indexes."""
        with bulk():
            main = self._main_view()
            operator = self._operator_view()
            light: dict[str, tuple[VerdictSummary, str | None] | None] = {}
            for index in range(SHARDS):
                light.update(self._light_shard(index))
            merged = operator["merged"]
            corrections, notes, followups = operator["corrections"], operator["notes"], operator["followups"]
            agencies, pairs = main["agencies"], main["pairs"]
            nothing: tuple[None, None] = (None, None)
            make = frozen_maker(AgencyRecord)  # AgencyRecord(...), five times faster for 20,000 records
            records = []
            for aid in main["order"]:
                if aid in merged:
                    continue
                entry = light.get(aid, nothing)
                if entry is None:
                    continue  # an unreadable verdict: named in problems()
                agency, changes = agencies[aid]
                corr, said = corrections.get(aid, ()), notes.get(aid, ())
                if merged:
                    corr, said = self._with_absorbed(operator, aid, corr, said)
                dups = self._duplicates_of(aid, main, operator) if aid in pairs else ()
                records.append(make(agency, entry[0], (), corr, said, followups.get(aid), changes, entry[1], dups))
            return records

    def _parse(
        self,
        index: int,
        entry: ShardEntry,
        *,
        light: bool = False,
        agency_id: str = "",
        members: Members | None = None,
    ) -> tuple[Verdict | None, str | None]:
        """A stored verdict, and its full JSON text when read. `light` gives its compact form (group,
        findings, flags, fix and the deciding reply, no transcripts): what a list view needs, from the
        shard alone; else the full verdict is read from the history segment the shard points to (if
        that is lost, the compact one is what is left)."""
        short, pointer, _ = entry
        if not short:
            return None, None
        try:
            if not light and pointer is not None:
                full = self._memo.setdefault(index, {}).get(pointer)
                if full is not None:
                    return full, None
                text = self._full_text(index, agency_id, pointer, members)
                if text is not None:
                    verdict = self._memo[index][pointer] = Verdict.from_json(parse_json(text))
                    return verdict, text
            memo = self._memo_light.setdefault(index, {})
            verdict = memo.get(short)
            if verdict is None:
                verdict = memo[short] = Verdict.from_json(parse_json(short))
            return verdict, None
        except (ValueError, RecursionError, TypeError, KeyError, AttributeError) as exc:
            path = self._shard_path(index)
            raise StoreDamaged(
                f"{path}: the verdict of agency {agency_id} is damaged ({type(exc).__name__}); it was left "
                "untouched. Recheck the agency to replace it, or restore the file from a backup.",
                path=str(path),
                agency_id=agency_id,
            ) from exc

    def _operator_view(self) -> dict[str, Any]:
        path = self.operator_path

        def build(data: dict[str, Any] | None) -> dict[str, Any]:
            corrections: dict[str, list[tuple[int, Correction]]] = {}
            for doc in self._good(path, data, "corrections").values():
                corr = correction_from(doc)
                corrections.setdefault(corr.agency_id, []).append((int(doc.get("n") or 0), corr))
            notes: dict[str, list[tuple[int, Note]]] = {}
            for doc in self._good(path, data, "notes").values():
                note = Note(
                    doc["id"],
                    doc["agency_id"],
                    doc["operator"],
                    doc["at"],
                    doc["text"],
                    doc.get("login") or "",
                )
                notes.setdefault(note.agency_id, []).append((int(doc.get("n") or 0), note))
            followups = {
                doc["agency_id"]: doc.get("state")
                for doc in self._good(path, data, "followups").values()
                if doc.get("state")
            }
            merged: dict[str, str] = {}
            distinct: set[frozenset[str]] = set()
            for doc in table_of(data, "identity").values():
                if not isinstance(doc, dict):
                    continue
                a, b = doc.get("a"), doc.get("b")
                if not (isinstance(a, str) and isinstance(b, str)):
                    continue
                if doc.get("decision") == "same":
                    merged[b] = a
                elif doc.get("decision") == "different":
                    distinct.add(frozenset((a, b)))
            return {
                "corrections": {
                    k: tuple(c for _, c in sorted(v, key=lambda item: (item[0], item[1].at)))
                    for k, v in corrections.items()
                },
                "notes": {
                    k: tuple(n for _, n in sorted(v, key=lambda item: (item[0], item[1].at)))
                    for k, v in notes.items()
                },
                "followups": followups,
                "merged": merged,
                "distinct": distinct,
                "decided": {aid for pair in distinct for aid in pair},  # the agencies a "different" names
            }

        return self._read(self.operator_path, KIND_OPERATOR, build)

    @staticmethod
    def _kept_id(operator: dict[str, Any], agency_id: str) -> str:
        """The agency an id stands for after 'same agency' merges (merges may chain)."""
        seen = {agency_id}
        while (kept := operator["merged"].get(agency_id)) is not None and kept not in seen:
            seen.add(kept)
            agency_id = kept
        return agency_id

    def _absorbed(self, operator: dict[str, Any], agency_id: str) -> list[str]:
        """Agencies an operator confirmed to be `agency_id` (merged into it), oldest decision first."""
        return [b for b in operator["merged"] if b != agency_id and self._kept_id(operator, b) == agency_id]

    def _build_record(
        self,
        agency_id: str,
        main: dict[str, Any],
        operator: dict[str, Any],
        *,
        with_history: bool = True,
        light: bool = False,
        shards: dict[int, ShardView] | None = None,
        members: Members | None = None,
        lines: HistoryLines | None = None,
    ) -> AgencyRecord:
        agency, source_changes = main["agencies"][agency_id]
        index = shard_of(agency_id)
        view = shards[index] if shards is not None else self._shard_view(index)
        entry = view.entries.get(agency_id, (None, None, None))
        verdict, text = self._parse(index, entry, light=light, agency_id=agency_id, members=members)
        absorbed = self._absorbed(operator, agency_id) if operator["merged"] else []
        corrections, notes = self._with_absorbed(
            operator, agency_id, operator["corrections"].get(agency_id, ()), operator["notes"].get(agency_id, ())
        )
        past = self._history(agency_id, [*absorbed], entry[1], text, members, lines) if with_history else ()
        duplicates = self._duplicates_of(agency_id, main, operator)
        return AgencyRecord(
            agency=agency,
            verdict=verdict,
            history=past,
            corrections=corrections,
            notes=notes,
            followup=operator["followups"].get(agency_id),
            source_changes=source_changes,
            group_changed_at=entry[2],
            duplicate_of=duplicates,
        )

    def _with_absorbed(
        self, operator: dict[str, Any], agency_id: str, corrections: tuple[Correction, ...], notes: tuple[Note, ...]
    ) -> tuple[tuple[Correction, ...], tuple[Note, ...]]:
        """The corrections and notes of an agency with those of the ones merged into it."""
        for other in self._absorbed(operator, agency_id) if operator["merged"] else ():
            corrections = tuple(
                sorted((*corrections, *operator["corrections"].get(other, ())), key=lambda c: c.at)
            )
            notes = tuple(sorted((*notes, *operator["notes"].get(other, ())), key=lambda n: n.at))
        return corrections, notes

    @staticmethod
    def _duplicates_of(agency_id: str, main: dict[str, Any], operator: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        """(id, ลำดับที่) of the agencies this one may duplicate, until an operator decided (the pairs are
        filtered only for an agency a decision names: most records of a list take them as they are)."""
        pairs = main["pairs"].get(agency_id, ())
        distinct, merged = operator["distinct"], operator["merged"]
        if pairs and (agency_id in operator["decided"] or (merged and any(p[0] in merged for p in pairs))):
            return tuple(p for p in pairs if frozenset((agency_id, p[0])) not in distinct and p[0] not in merged)
        return pairs

    def _history(
        self,
        agency_id: str,
        also: list[str],
        current: Pointer | None,
        current_text: str | None,
        members: Members | None = None,
        lines: HistoryLines | None = None,
    ) -> tuple[Verdict, ...]:
        """Earlier verdicts, newest first, compact, at most `history_limit` (read from the history segments;
        `lines` keeps each shard's history read once when many records are built)."""
        if not self.history_limit:
            return ()
        texts: list[str] = []
        recent: list[str] = []  # when the last verdicts were made: a segment kept for another agency's
        for aid in (agency_id, *also):  # sake may still hold much older ones of this agency
            index = shard_of(aid)
            full, groups = self._history_lines(index, lines)
            texts.extend(history.texts_of(full, aid))
            recent.extend(at for at, _ in history.groups_of(groups, aid))
        window = set(sorted(recent)[-(self.history_limit + 1) :]) if recent else None
        if current_text is None and current is not None:
            current_text = self._full_text(shard_of(agency_id), agency_id, current, members)
        verdicts: list[Verdict] = []
        seen: set[str] = set()
        for text in texts:
            if text == current_text or text in seen:
                continue
            seen.add(text)
            if window is not None and codec.group_and_time(text)[1] not in window:
                continue
            try:
                verdicts.append(Verdict.from_json(codec.compact(parse_json(text))))
            except (ValueError, RecursionError, TypeError, KeyError, AttributeError):
                continue  # a torn or damaged history line: the rest of the history still shows
        verdicts.sort(key=lambda v: v.checked_at, reverse=True)
        return tuple(verdicts[: self.history_limit])

    def _history_lines(self, index: int, lines: HistoryLines | None) -> tuple[list[bytes], list[bytes]]:
        """A shard's committed full-verdict lines and group lines (from `lines` when read already)."""
        found = lines.get(index) if lines is not None else None
        if found is None:
            found = (
                history.segment_lines(self.history_dir, index, self._shard_view(index).segments),
                history.group_lines(self.history_dir, index),
            )
            if lines is not None:
                lines[index] = found
        return found

    # -- reading ---------------------------------------------------------------------------
    def agencies(self) -> list[Agency]:
        """All agencies in list order (seq numeric, then name); merged duplicates are not listed."""
        main = self._main_view()
        merged = self._operator_view()["merged"]
        return [main["agencies"][aid][0] for aid in main["order"] if aid not in merged]

    def records(self, *, with_history: bool = True, light: bool = False) -> list[AgencyRecord]:
        """All agencies with verdict, history and operator data, in list order.

        Reads only the current state: `history` is filled from the history files only with
        `with_history=True` (one file per shard; use `record(id)` for one agency instead).
        `light=True` gives each verdict in its compact form (group, findings, flags, the suggested fix
        and the deciding reply; no transcripts): what a table needs, at a quarter of the cost.
        An agency whose stored entry is damaged is left out and named in `problems()`.
        With `light=True` and no history, each verdict is a `VerdictSummary` read from the list index.
        """
        if light and not with_history:
            return self._list_records()
        main = self._main_view()
        operator = self._operator_view()
        shards: dict[int, ShardView] = {}
        members: Members = {}  # each history member read once per call
        lines: HistoryLines = {}  # each shard's history read once per call (with_history)
        records = []
        for aid in main["order"]:
            if aid in operator["merged"]:
                continue
            index = shard_of(aid)
            if index not in shards:
                shards[index] = self._shard_view(index)  # each shard file is checked once per call
            try:
                records.append(
                    self._build_record(
                        aid, main, operator, with_history=with_history, light=light, shards=shards, members=members,
                        lines=lines,
                    )
                )
            except StoreDamaged as exc:
                self._problems[(self._shard_path(index), aid)] = str(exc)
        return records

    def record(self, agency_id: str) -> AgencyRecord:
        """One agency's record (a merged duplicate gives the agency it was merged into); KeyError when unknown."""
        main = self._main_view()
        operator = self._operator_view()
        agency_id = self._kept_id(operator, agency_id)
        if agency_id not in main["agencies"]:
            raise KeyError(agency_id)
        return self._build_record(agency_id, main, operator)

    def group_history(self, agency_id: str) -> list[tuple[str, str]]:
        """(checked_at, group) of every verdict the agency ever had, oldest first (kept forever)."""
        return history.groups(self.history_dir, shard_of(agency_id), agency_id)

    def find(self, key: str) -> list[AgencyRecord]:
        """Agencies an operator may mean by `key`: exact id, else the list's seq (ASCII or Thai digits) or code."""
        key = clean_text(key).strip()
        if not key:
            return []
        main = self._main_view()
        if key in main["agencies"]:
            return [self.record(key)]
        number = seq_number(key)
        if number is None:
            return []
        digits = key.translate(THAI_DIGITS)
        operator = self._operator_view()
        ids = [
            aid
            for aid in main["order"]
            if aid not in operator["merged"]
            and (
                seq_number(main["agencies"][aid][0].seq) == number or main["agencies"][aid][0].code == digits
            )
        ]
        return [self._build_record(aid, main, operator) for aid in ids]

    def snapshots(self) -> list[dict]:
        """Saved group counts, oldest first: {"at", "label", "counts"}."""
        path = self.history_dir / history.SNAPSHOTS
        stamp = file_stamp(path)
        cached = self._cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, history.snapshots(self.history_dir))
            self._cache[path] = cached
        return [
            {"at": s.get("at", ""), "label": s.get("label", ""), "counts": s.get("counts", {})}
            for s in cached[1]
        ]

    def imports(self) -> list[dict]:
        """Recorded imports, oldest first: {"import_id","at","source","operator","counts"}."""
        return [dict(i) for i in self._main_view()["imports"]]

    def generation(self) -> tuple[int, int]:
        """A cheap stamp of (agencies+verdicts, operator data); it changes whenever anyone writes."""
        data = hash(
            tuple(
                [
                    file_stamp(self.path),
                    file_stamp(self.history_dir / history.SNAPSHOTS),
                    *(file_stamp(self._shard_path(i)) for i in range(SHARDS)),
                ]
            )
        )
        return (data, hash(file_stamp(self.operator_path)))

    # -- imports ---------------------------------------------------------------------------
    def merge_import(self, agencies: Sequence[Agency], *, source: str, operator: str) -> ImportReport:
        """Merge a freshly read list (identity rule: `console.store.merge`); one transaction."""
        source = limited(clean_text(source).strip(), 1_000, "source")
        operator = required(operator, "operator", MAX_SHORT)
        incoming = [clean_agency(a) for a in agencies]
        for agency in incoming:
            if not agency.id:
                raise ValueError(f"an agency without id in {source!r}: {agency.name!r}")
        import_id = f"i-{uuid.uuid4().hex[:12]}"
        at = now_iso()
        with self._transaction(self._lock) as txn:
            db = txn.db(self.path, KIND_MAIN, shards=SHARDS)
            storage = txn.storage(self.path)
            reserved = storage.reserved("agencies")
            added, changed, unchanged, missing = merge_agencies(
                db.table("agencies"), incoming, import_id=import_id, at=at, reserved=reserved
            )
            db.table("imports").insert(
                {
                    "import_id": import_id,
                    "at": at,
                    "source": source,
                    "operator": operator,
                    "login": self.login,
                    "counts": {
                        "added": len(added),
                        "changed": len(changed),
                        "unchanged": len(unchanged),
                        "missing": len(missing),
                        "total": len(incoming),
                    },
                }
            )
            txn.after_commit.append(
                lambda: self._write_index(
                    self.path, self._main_index_body(storage.data(), storage.damaged.get("agencies", {}))
                )
            )
        return ImportReport(import_id, source, added, changed, unchanged, missing)

    # -- verdicts --------------------------------------------------------------------------
    def save_verdicts(self, verdicts: Iterable[Verdict], *, batch_size: int = 250) -> int:
        """Store verdicts in batched transactions: each full verdict is appended once to its shard's
        history segment, and the shard keeps its compact form and where the full one is.

        Verdicts are grouped by shard so a batch rewrites one or two small files, not the store.
        Saving a verdict equal to the current one changes nothing (safe to retry after a crash).
        A damaged entry is left untouched (named in `problems()`). Returns how many verdicts were handled.
        """
        with bulk():  # the whole save: between batches a collection would walk every verdict held here
            given = list(verdicts)
            items = [
                (v.agency_id, (raw, short, data, zlib.crc32(raw), v.group, v.checked_at, stable_id(v.agency_id)))
                for v, (raw, short, data) in zip(given, encode_verdicts(given), strict=True)
            ]
            if not items:
                return 0
            self._ensure_dir(self.verdicts_dir)
            self._ensure_dir(self.history_dir)
            saved = 0
            for batch in _shard_batches(items, max(1, int(batch_size)), lambda item: item[1][-1] % SHARDS):
                at = now_iso()
                by_shard: dict[int, list[tuple[str, _Saved]]] = {}
                for agency_id, parts in batch:
                    by_shard.setdefault(parts[-1] % SHARDS, []).append((agency_id, parts))
                with self._transaction(self._lock) as txn:
                    for index, entries in by_shard.items():
                        self._save_shard(txn, index, entries, at)
                saved += len(batch)
            return saved

    def _save_shard(self, txn: Txn, index: int, entries: list[tuple[str, _Saved]], at: str) -> None:
        """One shard's part of a verdict batch: the full verdicts appended to its history segment (before
        the commit: what the shard will point to is durable first), its file, then its list index and
        group history, and the segments retention drops (after the commit)."""
        path = self._shard_path(index)
        before = file_stamp(path)  # the lock is held: what this transaction reads
        db = txn.db(path, KIND_VERDICTS, shard=index)
        storage = txn.storage(path)
        stored = table_of(storage.data(), "verdicts")  # the good documents as read (no copies made)
        change = self._shard_changes(path, db.table("verdicts"), storage, stored, entries, at)
        if not change.batch:
            return
        plan = self._segment_plan(index, storage, stored, change)
        # whole documents replaced in the transaction's data (TinyDB's remove + insert would walk and
        # copy the shard's table twice more; the storage writes the same file at commit)
        whole = storage.data()
        table_raw = whole.setdefault("verdicts", {})
        for doc_id, doc in change.updates.items():
            table_raw[str(doc_id)] = doc
        storage.write(whole)
        segment = history.segment_path(self.history_dir, index, plan.segment)
        written: list[int] = []
        meta_table = db.table("meta")

        def append() -> None:  # this shard's segment only: shards do theirs at once (`layer.run_all`)
            data = history.member(plan.lines)
            try:
                history.write_member(segment, plan.offset, data, modes=self.modes)
            except PermissionError as exc:
                raise permission_error(segment, exc) from exc
            except OSError as exc:  # before the commit: nothing was changed
                raise write_error(segment, exc) from exc
            written.append(plan.offset + len(data))

        def record_end() -> None:
            meta_table.update({"segments": [*plan.kept, [plan.segment, written[0]]]}, doc_ids=[1])

        def after() -> None:  # once the shard is committed (still under the lock)
            self._write_shard_index(path, storage, before, change.rows)
            self._drop_segments(index, plan)
            self._append_groups(index, change.appended)

        txn.before_commit_apart.append(append)
        txn.before_commit.append(record_end)
        txn.after_commit_apart.append(after)

    def _shard_changes(
        self, path: Path, table: Table, storage: AtomicJSONStorage, stored: dict[str, Any],
        entries: list[tuple[str, _Saved]], at: str,
    ) -> _ShardChange:
        """The verdict documents a batch changes in one shard (an equal verdict changes nothing; a
        damaged entry is left untouched and named), with their list-index rows and history lines."""
        reserved = storage.reserved("verdicts")
        damaged = bool(storage.damaged.get("verdicts"))
        change = _ShardChange()
        for agency_id, (raw, short, data, crc, group, checked_at, sid) in entries:
            if damaged and storage.damaged_agency("verdicts", agency_id) is not None:
                self._problems[(path, agency_id)] = (
                    f"{path}: the verdict entry of agency {agency_id} is damaged; it was left "
                    "untouched and the new verdict was not saved. Restore the file from a backup."
                )
                continue
            found = stored.get(str(sid)) if sid not in change.updates and sid not in reserved else None
            if found is not None and found.get("agency_id") == agency_id:
                doc_id = sid  # its own slot (no hash collision): the common case, read without a copy
            else:
                doc_id, found = slot(table, "agency_id", agency_id, change.updates, reserved, start=sid)
            doc = found or {}
            if doc.get("compact") == short and doc.get("crc") == crc and doc.get("full"):
                continue
            changed = doc.get("group_changed_at")
            if group != doc.get("group") or not isinstance(changed, str) or not doc.get("compact"):
                changed = checked_at
            change.updates[doc_id] = {
                "agency_id": agency_id,
                "compact": short,
                "crc": crc,
                "group": group,
                "group_changed_at": changed,
                "saved_at": at,
                "full": doc.get("full"),
                "segs": doc.get("segs") or [],
            }
            try:  # noqa: SIM105 - suppress() costs a context manager per verdict, 20,000 per scan
                change.rows[agency_id] = listindex.verdict_row(agency_id, data, changed)
            except (KeyError, TypeError, AttributeError, ValueError):
                pass  # the index reads the shard's compact text instead (and names what is wrong)
            change.batch.append((agency_id, raw))
            change.appended.append((agency_id, group, checked_at))
        return change

    def _segment_plan(
        self, index: int, storage: AtomicJSONStorage, stored: dict[str, Any], change: _ShardChange
    ) -> segments.Plan:
        """Where the batch's full verdicts go, written into the changed documents (and into documents the
        retention moves: their pointers and per-segment counts)."""
        docs = {doc["agency_id"]: doc for doc in stored.values()}
        ids = {doc["agency_id"]: int(key) for key, doc in stored.items()}
        protected = {a for d in storage.damaged.get("verdicts", {}).values() if (a := agency_of(d))}
        try:
            plan = segments.plan(
                self.history_dir, index, segments_of(storage.data()), docs, change.batch, self.history_limit,
                protected,
            )
        except OSError as exc:
            raise write_error(self.history_dir, exc) from exc
        updates = change.updates
        ids.update((doc["agency_id"], doc_id) for doc_id, doc in updates.items())

        def updated(aid: str) -> dict[str, Any]:
            doc_id = ids[aid]
            if doc_id not in updates:
                updates[doc_id] = dict(docs[aid])
            return updates[doc_id]

        for aid, pointer in plan.pointers.items():
            updated(aid)["full"] = list(pointer) if pointer is not None else None
        for aid, counts in plan.segs.items():
            updated(aid)["segs"] = counts
        return plan

    def _drop_segments(self, index: int, plan: segments.Plan) -> None:
        """After the commit: the segments retention let go, and (with a new segment) a crash's leftovers."""
        for dropped in plan.drop:
            history.remove_segment(self.history_dir, index, dropped)
        if plan.offset == 0:  # a new segment: leftovers of a crash before a commit go too
            live = {s for s, _ in plan.kept} | {plan.segment}
            for old in history.segments_on_disk(self.history_dir, index):
                if old < plan.segment and old not in live:
                    history.remove_segment(self.history_dir, index, old)

    def _append_groups(self, index: int, entries: list[tuple[str, str, str]]) -> None:
        try:
            history.append_groups(self.history_dir, index, entries, modes=self.modes)
        except PermissionError as exc:
            raise permission_error(self.history_dir, exc) from exc
        except OSError as exc:  # after the commit: the verdicts are saved, say so
            raise history_error(self.history_dir, exc) from exc

    # -- operator data ---------------------------------------------------------------------
    def _require_agency(self, agency_id: str) -> Agency:
        agency = self._agency(agency_id)
        if agency is None:
            raise KeyError(agency_id)
        return agency

    def add_correction(self, agency_id: str, new_address: str, reason: str, operator: str) -> Correction:
        """Record old → new address with who, when and why; durable (fsynced) before it returns."""
        agency = self._require_agency(agency_id)
        new_address = required(new_address, "new address", MAX_ADDRESS)
        reason = limited(clean_text(reason, multiline=True).strip(), MAX_REASON, "reason")
        operator = required(operator, "operator", MAX_SHORT)
        corr_id = f"c-{uuid.uuid4().hex[:16]}"
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("corrections")
            self._refuse_damaged(txn, self.operator_path, "corrections", agency_id)
            existing = [dict(d) for d in table.all() if d.get("agency_id") == agency_id]
            existing.sort(key=lambda d: (int(d.get("n") or 0), d.get("at", "")))
            old_address = existing[-1]["new_address"] if existing else agency.declared
            corr = Correction(
                corr_id, agency_id, operator, now_iso(), old_address, new_address, reason, login=self.login
            )
            doc_id, _ = slot(
                table, "id", corr_id, reserved=txn.storage(self.operator_path).reserved("corrections")
            )
            doc = correction_doc(corr)
            doc["n"] = (int(existing[-1].get("n") or 0) + 1) if existing else 1
            table.insert(Document(doc, doc_id=doc_id))
        return corr

    def set_correction_recheck(self, correction_id: str, group: str, at: str) -> None:
        """Attach the outcome of rechecking a correction (the group it got, and when)."""
        group = required(group, "group", MAX_SHORT)
        at = required(at, "time", MAX_SHORT)
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("corrections")
            doc_id, doc = slot(table, "id", correction_id)
            if doc is None:
                raise KeyError(correction_id)
            put_many(table, {doc_id: {**doc, "recheck_group": group, "recheck_at": at}})

    def add_note(self, agency_id: str, text: str, operator: str) -> Note:
        """A free-text note (phone call outcome etc.); tabs and newlines kept, other controls dropped."""
        return self.add_notes([agency_id], text, operator)[0]

    def add_notes(self, agency_ids: Sequence[str], text: str, operator: str) -> list[Note]:
        """The same note on many agencies (e.g. 200 called today) in one write."""
        ids = self._bulk_ids(agency_ids)
        text = required(text, "note", MAX_NOTE, multiline=True)
        operator = required(operator, "operator", MAX_SHORT)
        at = now_iso()
        notes = [Note(f"n-{uuid.uuid4().hex[:16]}", aid, operator, at, text, self.login) for aid in ids]
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("notes")
            for aid in ids:
                self._refuse_damaged(txn, self.operator_path, "notes", aid)
            counts: dict[str, int] = {}
            for doc in table.all():
                counts[doc["agency_id"]] = counts.get(doc["agency_id"], 0) + 1
            reserved = txn.storage(self.operator_path).reserved("notes")
            updates: dict[int, dict[str, Any]] = {}
            for note in notes:
                doc_id, _ = slot(table, "id", note.id, updates, reserved)
                counts[note.agency_id] = counts.get(note.agency_id, 0) + 1
                updates[doc_id] = {**note_doc(note), "n": counts[note.agency_id]}
            table.insert_multiple(Document(doc, doc_id=doc_id) for doc_id, doc in updates.items())
        return notes

    def set_followup(self, agency_id: str, state: str | None, operator: str) -> None:
        """Mark (or with None clear) the follow-up state, e.g. "called_waiting"."""
        self.set_followups([agency_id], state, operator)

    def set_followups(self, agency_ids: Sequence[str], state: str | None, operator: str) -> None:
        """Mark (or clear) the follow-up state of many agencies (e.g. 200 "called") in one write."""
        ids = self._bulk_ids(agency_ids)
        operator = required(operator, "operator", MAX_SHORT)
        clean_state = limited(clean_text(state).strip(), MAX_SHORT, "state") if state is not None else ""
        at = now_iso()
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("followups")
            reserved = txn.storage(self.operator_path).reserved("followups")
            updates: dict[int, dict[str, Any]] = {}
            for aid in ids:
                self._refuse_damaged(txn, self.operator_path, "followups", aid)
                doc_id, _ = slot(table, "agency_id", aid, updates, reserved)
                updates[doc_id] = {
                    "agency_id": aid,
                    "state": clean_state or None,
                    "operator": operator,
                    "login": self.login,
                    "at": at,
                }
            put_many(table, updates)

    def _bulk_ids(self, agency_ids: Sequence[str]) -> list[str]:
        ids = list(dict.fromkeys(agency_ids))
        if len(ids) > MAX_BULK:
            raise ValueError(f"too many agencies at once ({len(ids)}; at most {MAX_BULK})")
        for aid in ids:
            self._require_agency(aid)
        return ids

    # -- duplicates ------------------------------------------------------------------------
    def confirm_same(self, keep_id: str, other_id: str, operator: str) -> None:
        """The operator says two rows are one agency: `other_id` is merged into `keep_id`; the
        corrections, notes and history of both stay, shown under `keep_id`, and a re-import keeps it so."""
        self._identity(keep_id, other_id, "same", operator)

    def confirm_different(self, a_id: str, b_id: str, operator: str) -> None:
        """The operator says two rows flagged as possible duplicates are different agencies: the flag
        goes away and stays away on re-import (the decision is kept by agency id)."""
        self._identity(a_id, b_id, "different", operator)

    def _identity(self, a_id: str, b_id: str, decision: str, operator: str) -> None:
        if a_id == b_id:
            raise ValueError("give two different agencies")
        self._require_agency(a_id)
        self._require_agency(b_id)
        operator = required(operator, "operator", MAX_SHORT)
        key = "\x1f".join(sorted((a_id, b_id)))
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("identity")
            doc_id, _ = slot(table, "key", key)
            doc = {
                "key": key,
                "a": a_id,
                "b": b_id,
                "decision": decision,
                "operator": operator,
                "login": self.login,
                "at": now_iso(),
            }
            put_many(table, {doc_id: doc})

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, counts: dict[str, dict[str, int]], *, label: str = "") -> None:
        """Keep today's group counts per province so progress can be compared over time (appended)."""
        clean_counts: dict[str, dict[str, int]] = {}
        for province, groups in counts.items():
            clean_counts[clean_text(province).strip()] = {
                clean_text(group).strip(): int(n) for group, n in groups.items()
            }
        label = limited(clean_text(label).strip(), MAX_SHORT, "label")
        self._ensure_dir(self.history_dir)
        with self._transaction(self._lock):
            try:
                history.append_snapshot(
                    self.history_dir,
                    {"at": now_iso(), "label": label, "counts": clean_counts},
                    modes=self.modes,
                )
            except PermissionError as exc:
                raise permission_error(self.history_dir, exc) from exc
            except OSError as exc:
                raise write_error(self.history_dir, exc) from exc

    # -- backup ----------------------------------------------------------------------------
    def backup(self, dest: Path | str) -> Path:
        """A consistent copy at `dest` (a new store path) while others keep working.

        Both locks are held while the files are copied, so the copy is one moment of the store:
        every write finished before the backup began is in it, none is half in it."""
        target = Path(dest).expanduser().absolute()
        if check_store_file(target) or target.with_name(target.name + ".operator.json").exists():
            raise StoreError(f"{target} already exists; give a new path for the backup (nothing was changed)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"cannot create {target.parent}: {exc.strerror or exc}") from exc
        pairs = [(self.path, target), (self.operator_path, target.with_name(target.name + ".operator.json"))]
        with self._transaction(self._lock), self._transaction(self._op_lock):
            for suffix in (".verdicts", ".history", ".scans"):
                directory = self.path.with_name(self.path.name + suffix)
                if directory.is_dir():
                    copy_dir = target.with_name(target.name + suffix)
                    copy_dir.mkdir(mode=0o700, exist_ok=True)
                    pairs.extend(
                        (p, copy_dir / p.name)
                        for p in sorted(directory.iterdir())
                        if p.is_file() and not p.name.startswith(".")
                    )
            try:
                for source, copy in pairs:
                    if source.exists():
                        with open(source, "rb") as handle:
                            atomic_write(
                                copy,
                                lambda out, handle=handle: shutil.copyfileobj(handle, out),
                                sync_dir=False,
                            )
            except OSError as exc:
                raise StoreError(f"cannot write the backup at {target}: {exc.strerror or exc}") from exc
        return target


def _shard_batches(
    items: list[tuple[str, _T]], batch_size: int, shard: Callable[[tuple[str, _T]], int] | None = None
) -> Iterator[list[tuple[str, _T]]]:
    """Batches of about `batch_size` that never split a shard needlessly (each file written once)."""
    groups: dict[int, list[tuple[str, _T]]] = {}
    for item in items:
        groups.setdefault(shard(item) if shard else shard_of(item[0]), []).append(item)  # keeps order within an agency
    batch: list[tuple[str, _T]] = []
    for index in sorted(groups):
        group = groups[index]
        if batch and len(batch) + len(group) > batch_size:
            yield batch
            batch = []
        if len(group) > batch_size:
            chunks = -(-len(group) // batch_size)
            size = -(-len(group) // chunks)
            for start in range(0, len(group), size):
                yield group[start : start + size]
            continue
        batch.extend(group)
    if batch:
        yield batch
