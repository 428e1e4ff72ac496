"""The operators' store: agencies, verdicts, history, corrections, notes, snapshots and imports.

Why it looks the way it does (see PITFALLS "TinyDB"): several operators may have the console open on
the same store, and a kill or power cut must never leave it unreadable. So:

* every file goes through `AtomicJSONStorage`, a TinyDB storage that reads by path at the start of a
  transaction and writes once at its end: temp file in the same directory → flush → fsync →
  `os.replace` → fsync of the directory, mode 0600 set explicitly;
* each read-modify-write runs under a `filelock.FileLock` held for the whole transaction, with a
  fresh `TinyDB` (so no per-process id counter or query cache survives between transactions);
* document ids are derived from the agency id (or correction / note id), never auto-ids;
* the data is split so that a frequent bulk write never rewrites precious or unrelated data:

  - ``<store>``                   meta, agencies (+ source changes), imports, snapshots  (lock ``<store>.lock``)
  - ``<store>.verdicts/NN.json``  current verdict + compact history, 64 shards by agency  (same lock)
  - ``<store>.operator.json``     corrections, notes, follow-up marks  (own lock ``<store>.operator.lock``)

  A correction therefore rewrites only the small operator file and never waits behind a verdict batch.
* in a verdict shard each verdict is kept as its JSON *text* (a string inside the document): a
  national store holds ~90,000 verdicts and parsing/encoding them as nested objects on every batch
  costs seconds; as strings a batch only moves text, and a reader parses a verdict only when asked.
  History entries are compacted (no SMTP transcript, no DNS host list, only the deciding mail
  host); the compact form is computed once, when the verdict is saved.
* reads outside a transaction need no lock (files are only ever replaced whole); parsed results are
  cached per file identity (inode, mtime, size) so a polling console does not re-parse unchanged files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

try:
    import orjson as _orjson
except ImportError:  # optional: the standard library parses the same files, slower
    _orjson = None
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from checks.model import Agency, Verdict, now_iso
from checks.text import strip_unsafe

__all__ = [
    "AgencyRecord",
    "Correction",
    "ImportReport",
    "Note",
    "Store",
    "StoreError",
]

SCHEMA = 1
APP = "saraban"
SHARDS = 64  # verdict shard files; recorded in the main meta so a future change is detectable
LOCK_TIMEOUT = 30.0  # seconds to wait for another process's transaction
FILE_MODE = 0o600  # stores hold phone numbers and operator notes
DIR_MODE = 0o700

KIND_MAIN = "main"
KIND_OPERATOR = "operator"
KIND_VERDICTS = "verdicts"

MAX_ADDRESS = 512
MAX_REASON = 2_000
MAX_NOTE = 10_000
MAX_SHORT = 200  # operator names, follow-up states, labels, group names

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# C0 (tab and newline handled by the caller), DEL, C1
# Anything in JSON text that may need cleaning: escaped controls other than \t \n, raw DEL/C1, surrogates.
# False positives only cost the slow path.
_JSON_CONTROL_ESCAPES = ("\\u00", "\\b", "\\f", "\\r")  # how json.dumps writes C0 controls (bar \t, \n)
_RAW_CONTROL = re.compile("[\x7f-\x9f]")  # DEL and C1 pass json.dumps(ensure_ascii=False) raw
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_T = TypeVar("_T")


class StoreError(Exception):
    """The store cannot be used as asked; the message says which file, why, and what to do."""


# ---------------------------------------------------------------------------------------------
# Public record types
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Correction:
    """An operator typed the address an agency says it now uses: who, when, old → new, why."""

    id: str
    agency_id: str
    operator: str
    at: str
    old_address: str
    new_address: str
    reason: str
    recheck_group: str | None = None
    recheck_at: str | None = None


@dataclass(frozen=True)
class Note:
    id: str
    agency_id: str
    operator: str
    at: str
    text: str


@dataclass(frozen=True)
class AgencyRecord:
    """Everything the console shows about one agency."""

    agency: Agency
    verdict: Verdict | None
    history: tuple[Verdict, ...]  # newest first, bounded by Store.history_limit, compact evidence
    corrections: tuple[Correction, ...]  # oldest first
    notes: tuple[Note, ...]  # oldest first
    followup: str | None
    source_changes: tuple[dict, ...]  # {"at","old","new","import_id"}, oldest first
    # checked_at of the verdict that first gave the current group, known without reading the history;
    # "" when the group has not changed as far back as the store remembers; None: never checked
    group_changed_at: str | None = None

    @property
    def current_address(self) -> str:
        """The address to check: the latest correction's, else the one declared in the list."""
        if self.corrections:
            return self.corrections[-1].new_address
        return self.agency.declared


@dataclass(frozen=True)
class ImportReport:
    import_id: str
    source: str
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    missing: list[str]


# ---------------------------------------------------------------------------------------------
# Text hygiene
# ---------------------------------------------------------------------------------------------
def clean_text(value: object, *, multiline: bool = False) -> str:
    """Text made safe to store (see `checks.text.strip_unsafe`); newlines kept only if `multiline`.

    Why here too: `json.dumps(ensure_ascii=False)` cannot encode a lone surrogate (possible in SMTP text
    decoded with surrogateescape), and control characters must never reach an operator's terminal.
    """
    return strip_unsafe("" if value is None else str(value), newlines="keep" if multiline else "drop")


def _clean_json(value: Any) -> Any:
    """Clean every string (keys too) of a JSON-able structure, keeping newlines (SMTP replies)."""
    if isinstance(value, str):
        return clean_text(value, multiline=True)
    if isinstance(value, dict):
        return {clean_text(k, multiline=True): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def _is_clean_json(text: str) -> bool:
    """True when JSON text holds no control character, no lone surrogate and only NFC strings.

    False positives (e.g. an escaped backslash before "b") only cost the slow, always-correct path.
    """
    if any(escape in text for escape in _JSON_CONTROL_ESCAPES) or _RAW_CONTROL.search(text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return unicodedata.is_normalized("NFC", text)


# One agency in a verdict shard: current verdict JSON, its compact form, compact history texts, and
# when its group last changed (a first verdict counts as a change).
ShardEntry = tuple[str | None, str | None, tuple[str, ...], str | None]


# Verdict JSON as this store writes it (compact separators, to_json key order): the group comes
# right after the agency id and the verdict's own checked_at closes the object. Read by pattern so
# that an old shard's history can be walked without parsing ~80,000 texts; JSON is the fallback.
_TEXT_GROUP = re.compile(r'\{"agency_id":"(?:[^"\\]|\\.)*","group":"([^"\\]*)"')
_TEXT_CHECKED_AT = re.compile(r'"checked_at":"([^"\\]*)"\}\s*$')


def _group_and_time(text: str | None) -> tuple[str | None, str | None]:
    """Group and checked_at of a stored verdict text (compact or full); (None, None) if unreadable."""
    if not text:
        return None, None
    group = _TEXT_GROUP.match(text)
    at = _TEXT_CHECKED_AT.search(text)
    if group and at:
        return group.group(1), at.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    group, at = data.get("group"), data.get("checked_at")
    return (group if isinstance(group, str) else None), (at if isinstance(at, str) else None)


GROUP_CHANGE_UNKNOWN = ""  # the group has not changed within the kept history, which is truncated


def _derived_group_change(doc: dict[str, Any], history_limit: int) -> str | None:
    """For verdicts saved before `group_changed_at` was kept: walk the history, oldest first.

    The oldest kept entry counts as a change only when the history is complete (shorter than the
    limit): otherwise the group may have been the same for longer than the store remembers, and
    the answer is GROUP_CHANGE_UNKNOWN ("no change that we know of"), never a made-up date.
    """
    kept = [t for t in doc.get("history") or () if isinstance(t, str)]
    texts = [*reversed(kept), doc.get("compact") or doc.get("current")]
    truncated = history_limit > 0 and len(kept) >= history_limit
    previous: str | None = None
    changed: str | None = None
    for position, text in enumerate(texts):
        group, at = _group_and_time(text)
        if group is None:
            continue
        if group != previous and not (position == 0 and truncated):
            changed = at or changed
        previous = group
    if changed is None and truncated and previous is not None:
        return GROUP_CHANGE_UNKNOWN
    return changed


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _verdict_texts(verdict: Verdict) -> tuple[str, str]:
    """The verdict as clean JSON text, and its compact history form (computed once, stored beside it)."""
    data = verdict.to_json()
    text = _dumps(data)
    if not _is_clean_json(text):
        data = _clean_json(data)
        text = _dumps(data)
    return text, _dumps(_compact(data))


def _limited(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise ValueError(f"{what} is too long ({len(text)} characters; at most {limit})")
    return text


def _required(value: object, what: str, limit: int, *, multiline: bool = False) -> str:
    text = clean_text(value, multiline=multiline).strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    return _limited(text, limit, what)


def _clean_agency(agency: Agency) -> Agency:
    data = agency.to_json()
    for key, value in data.items():
        if isinstance(value, str):
            data[key] = clean_text(value).strip() if key != "declared" else clean_text(value)
    if data.get("seq") is not None:
        data["seq"] = clean_text(data["seq"]).translate(_THAI_DIGITS).strip() or None
    return Agency.from_json(data)


def _match_key(text: str) -> str:
    """Names are matched without any whitespace: Thai lists space the same name differently."""
    return _SPACES.sub("", unicodedata.normalize("NFC", text)).casefold()


def _seq_number(seq: str | None) -> int | None:
    if not seq:
        return None
    digits = seq.translate(_THAI_DIGITS).strip()
    if digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def _order_key(agency: Agency) -> tuple[int, int, str, str]:
    number = _seq_number(agency.seq)
    return (0 if number is not None else 1, number or 0, agency.name, agency.id)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def _stable_id(key: str) -> int:
    """A document id derived from a string key, so every process picks the same id for it."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return int.from_bytes(digest, "big") + 1


def _shard_of(agency_id: str) -> int:
    return _stable_id(agency_id) % SHARDS


def _stamp(path: Path) -> tuple[int, int, int, int]:
    """File identity: every atomic replace makes a new inode, so this changes on every write."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0, 0, 0)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def _parse_json(raw: bytes | str, *, fast: bool = True) -> Any:
    """orjson for verdict data when installed (a national store's shards parse ~5x faster: the
    console's first screen waits for them); the standard library decides whatever orjson refuses
    (NaN, a lone surrogate), so what is accepted and the errors for damaged files are the same.

    Only for what this store wrote from verdicts (`fast`): orjson reads an integer beyond 64 bits as
    a float, and a verdict has none; files with operator or imported data are read exactly.
    """
    if fast and _orjson is not None:
        try:
            return _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def _load_json(path: Path, *, fast: bool = False) -> dict[str, Any] | None:
    """Read a store file by path; None when absent or empty. Never repairs anything."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError as exc:
        raise StoreError(f"{path} is a directory, not a saraban store file") from exc
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}. Check the file's permissions.") from exc
    if not raw.strip():
        return None
    try:
        data = _parse_json(raw, fast=fast)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"{path} is damaged (not valid JSON: {exc}). It was left untouched; restore it from a "
            "backup, or move it aside to start an empty store."
        ) from exc
    if not isinstance(data, dict):
        raise StoreError(f"{path} is not a saraban store (its JSON is not an object); nothing was changed")
    return data


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _atomic_write(path: Path, payload: bytes, *, sync_dir: bool = True) -> None:
    """Temp file in the same directory → fsync → os.replace → fsync directory; mode 0600.

    With `sync_dir=False` the caller fsyncs the directory (once for several files)."""
    tmp = path.parent / f"{_temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise StoreError(
            f"cannot write {path}: {exc.strerror or exc}. Nothing was changed and what was saved before is "
            f"intact; make the directory {path.parent} writable (or choose another store) and try again."
        ) from exc
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # the umask must not widen it
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StoreError(
                f"cannot write {path}: {exc.strerror or exc}. Nothing was changed and what was saved before "
                "is intact; check free disk space and permissions, then try again."
            ) from exc
        raise
    if sync_dir:
        _sync_dir_quietly(path.parent)


def _sync_dir_quietly(directory: Path) -> None:
    with contextlib.suppress(OSError):  # the data is in place; a directory fsync failure is not fatal
        _fsync_dir(directory)


def _refuse_read_only(path: Path) -> None:
    """A store file without its owner's write bit was made read-only on purpose: respect that,
    even though an atomic rename (or root) could replace it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot check {path}: {exc.strerror or exc}. Nothing was changed.") from exc
    if not mode & stat.S_IWUSR:
        raise StoreError(
            f"{path} is read-only (mode {stat.S_IMODE(mode):04o}). Nothing was changed and what was saved "
            f"is intact; to allow changes run: chmod u+w '{path}'"
        )


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AtomicJSONStorage(Storage):
    """TinyDB storage for one transaction: reads the file by path once, writes it once at commit.

    Never keeps a handle open (an open handle keeps reading the old file after another process's
    atomic replace) and never writes in place (a kill mid-write would leave trailing garbage).
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._data: dict[str, Any] | None = None
        self._loaded = False
        self._dirty = False

    def read(self) -> dict[str, Any] | None:
        if not self._loaded:
            self._data = _load_json(self.path)
            self._loaded = True
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        self._data = data
        self._loaded = True
        self._dirty = True

    def commit(self, *, sync_dir: bool = True) -> bool:
        """Write the transaction's data if it changed; True when a file was replaced."""
        if self._dirty and self._data is not None:
            _refuse_read_only(self.path)
            _atomic_write(self.path, _dump(self._data), sync_dir=sync_dir)
            self._dirty = False
            return True
        return False

    def close(self) -> None:
        self._data = None
        self._loaded = False


def _meta_of(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    table = data.get("meta")
    if not isinstance(table, dict) or not table:
        return {}
    doc = table.get("1")
    return doc if isinstance(doc, dict) else {}


def _check_meta(path: Path, data: dict[str, Any] | None, kind: str) -> None:
    """Refuse anything that is not a saraban store of a schema this code understands."""
    if data is None:
        return
    meta = _meta_of(data) or {}
    if meta.get("app") != APP:
        raise StoreError(
            f"{path} is not a saraban store (no saraban schema marker). Nothing was changed; "
            "point saraban at its own store file or at a new path."
        )
    schema = meta.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise StoreError(f"{path} has an unreadable schema version ({schema!r}); nothing was changed")
    if schema > SCHEMA:
        raise StoreError(
            f"{path} was written by a newer saraban (store schema {schema}; this version reads schema "
            f"{SCHEMA}). Nothing was changed; upgrade saraban to open it."
        )
    if schema < 1:
        raise StoreError(f"{path} has an unknown store schema {schema}; nothing was changed")
    if meta.get("kind", kind) != kind:
        raise StoreError(
            f"{path} is a saraban {meta.get('kind')!r} file, not the {kind!r} file expected here; "
            "nothing was changed"
        )


def _table(data: dict[str, Any] | None, name: str) -> dict[str, dict[str, Any]]:
    if not data:
        return {}
    table = data.get(name)
    return table if isinstance(table, dict) else {}


def _sorted_docs(table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    def key(item: tuple[str, Any]) -> int:
        try:
            return int(item[0])
        except ValueError:
            return 0

    return [doc for _, doc in sorted(table.items(), key=key) if isinstance(doc, dict)]


def _slot(
    table: Table, field: str, key: str, pending: dict[int, dict[str, Any]] | None = None
) -> tuple[int, dict[str, Any] | None]:
    """The stable doc id for `key` and its document (newest: `pending` writes of this transaction
    first). On the rare hash collision the next free id is used (open addressing)."""
    doc_id = _stable_id(key)
    while True:
        doc = pending.get(doc_id) if pending else None
        if doc is None:
            found = table.get(doc_id=doc_id)
            doc = dict(found) if found is not None else None
        if doc is None:
            return doc_id, None
        if doc.get(field) == key:
            return doc_id, doc
        doc_id += 1


def _put_many(table: Table, docs: dict[int, dict[str, Any]]) -> None:
    """Replace whole documents in two table operations (each one is O(table), so batch them)."""
    if not docs:
        return
    table.remove(doc_ids=list(docs))
    table.insert_multiple(Document(doc, doc_id=doc_id) for doc_id, doc in docs.items())


def _meta_doc(kind: str, **extra: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "app": APP, "kind": kind, "created_at": now_iso(), **extra}


# ---------------------------------------------------------------------------------------------
# History compaction
# ---------------------------------------------------------------------------------------------
def _compact_probe(probe: dict[str, Any] | None) -> dict[str, Any] | None:
    if not probe:
        return None
    attempts = [a for a in probe.get("attempts") or () if isinstance(a, dict)]
    deciding = next(
        (a for a in reversed(attempts) if a.get("outcome") == "ok"), attempts[-1] if attempts else None
    )
    dns = probe.get("dns")
    return {
        "address": probe.get("address", ""),
        "outcome": probe.get("outcome", ""),
        "dns": {k: dns.get(k) for k in ("domain", "status", "implicit_mx", "error")} if dns else None,
        "rcpt": probe.get("rcpt"),
        "attempts": [{k: deciding.get(k) for k in ("host", "ip", "port", "outcome")}] if deciding else [],
        "catch_all": probe.get("catch_all"),
        "tries": probe.get("tries", 1),
    }


def _compact(verdict: dict[str, Any]) -> dict[str, Any]:
    """A history entry: group, findings, flags, fix and a one-line-sized evidence.

    Dropped: SMTP transcripts, DNS host lists, all but the deciding mail host, finding details and
    timings. `Evidence.one_line()` gives the same text as for the full verdict.
    """
    evidence = verdict.get("evidence") or {}
    return {
        "agency_id": verdict.get("agency_id", ""),
        "group": verdict.get("group", ""),
        "findings": [
            {"code": f.get("code", ""), "message": f.get("message", "")}
            for f in verdict.get("findings") or ()
        ],
        "flags": verdict.get("flags") or [],
        "evidence": {
            "declared": evidence.get("declared", ""),
            "normalized": evidence.get("normalized"),
            "probe": _compact_probe(evidence.get("probe")),
            "fix_probe": _compact_probe(evidence.get("fix_probe")),
            "rule": evidence.get("rule", ""),
            "rule_index": evidence.get("rule_index", -1),
            "checked_at": evidence.get("checked_at", ""),
        },
        "suggested_fix": verdict.get("suggested_fix"),
        "checked_at": verdict.get("checked_at", ""),
    }


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------
class _Txn:
    """One transaction's TinyDB instances (fresh per transaction: no stale caches)."""

    def __init__(self) -> None:
        self.dbs: dict[Path, TinyDB] = {}

    def db(self, path: Path, kind: str, **meta: Any) -> TinyDB:
        db = self.dbs.get(path)
        if db is None:
            db = TinyDB(str(path), storage=AtomicJSONStorage)
            data = db.storage.read()
            _check_meta(path, data, kind)
            if data is None:
                db.table("meta").insert(Document(_meta_doc(kind, **meta), doc_id=1))
            self.dbs[path] = db
        return db

    def commit(self) -> None:
        directories: set[Path] = set()
        for path, db in self.dbs.items():
            if db.storage.commit(sync_dir=False):  # type: ignore[attr-defined]
                directories.add(path.parent)
        for directory in directories:  # one directory fsync covers every rename into it
            _sync_dir_quietly(directory)

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()


class Store:
    """The JSON store several operator processes share; every write is atomic and locked."""

    def __init__(self, path: Path | str, *, history_limit: int = 10) -> None:
        self.path = Path(path).expanduser().absolute()
        self.history_limit = max(0, int(history_limit))
        self.operator_path = self.path.with_name(self.path.name + ".operator.json")
        self.verdicts_dir = self.path.with_name(self.path.name + ".verdicts")
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT, mode=FILE_MODE)
        self._op_lock = FileLock(str(self.path) + ".operator.lock", timeout=LOCK_TIMEOUT, mode=FILE_MODE)
        self._cache: dict[Path, tuple[tuple[int, int, int, int], Any]] = {}
        self._memo: dict[int, dict[str, Verdict]] = {}
        self._memo_light: dict[int, dict[str, Verdict]] = {}
        self._raw_agencies: tuple[tuple[int, int, int, int], dict[str, Any]] | None = None
        self._open()

    # -- opening ---------------------------------------------------------------------------
    def _open(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory; give the path of a store file (e.g. saraban.json)")
        stamp = _stamp(self.path)
        main = _load_json(self.path)
        _check_meta(self.path, main, KIND_MAIN)
        if main is not None and _stamp(self.path) == stamp:
            self._raw_agencies = (stamp, _table(main, "agencies"))  # a first add_correction needs no re-read
        operator = _load_json(self.operator_path)
        _check_meta(self.operator_path, operator, KIND_OPERATOR)
        shards = (_meta_of(main) or {}).get("shards", SHARDS)
        if shards != SHARDS:
            raise StoreError(
                f"{self.path} uses {shards} verdict shards; this saraban uses {SHARDS}. Nothing was changed; "
                "open it with the saraban version that wrote it."
            )
        if main is not None and operator is not None and not self._stale_temps():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
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

    def _temp_globs(self) -> list[tuple[Path, str]]:
        globs = [
            (self.path.parent, _temp_prefix(self.path)),
            (self.path.parent, _temp_prefix(self.operator_path)),
        ]
        if self.verdicts_dir.is_dir():
            globs.append((self.verdicts_dir, "."))
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
    @contextlib.contextmanager
    def _transaction(self, lock: FileLock) -> Iterator[_Txn]:
        try:
            lock.acquire()
        except Timeout as exc:
            raise StoreError(
                f"the store is busy: another saraban process has held {lock.lock_file} for {LOCK_TIMEOUT:.0f} s. "
                "Try again; if no other saraban is running, check for a hung process."
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot lock the store ({lock.lock_file}: {exc.strerror or exc}). Nothing was changed; "
                f"make {self.path.parent} writable or open a store in a writable place."
            ) from exc
        txn = _Txn()
        try:
            yield txn
            txn.commit()
        finally:
            txn.close()
            lock.release()

    def _shard_path(self, index: int) -> Path:
        return self.verdicts_dir / f"{index:02d}.json"

    def _ensure_verdicts_dir(self) -> None:
        try:
            self.verdicts_dir.mkdir(mode=DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create {self.verdicts_dir}: {exc.strerror or exc}. Nothing was changed."
            ) from exc

    # -- cached lock-free reads ------------------------------------------------------------
    def _read(self, path: Path, kind: str, build: Any) -> Any:
        """Parse `path` (or reuse the parse of the very same file version) and build a view of it."""
        stamp = _stamp(path)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp and stamp != (0, 0, 0, 0):
            return cached[1]
        data = _load_json(path, fast=kind == KIND_VERDICTS)  # a read-only view: the transaction reads exactly
        _check_meta(path, data, kind)
        view = build(data)
        if _stamp(path) == stamp:  # not replaced while we parsed
            self._cache[path] = (stamp, view)
        return view

    def _main_view(self) -> dict[str, Any]:
        def build(data: dict[str, Any] | None) -> dict[str, Any]:
            agencies: dict[str, tuple[Agency, tuple[dict, ...]]] = {}
            for doc in _table(data, "agencies").values():
                agency = Agency.from_json(doc.get("agency") or {})
                agencies[agency.id] = (agency, tuple(doc.get("source_changes") or ()))
            order = sorted(agencies, key=lambda aid: _order_key(agencies[aid][0]))
            return {
                "agencies": agencies,
                "order": order,
                "imports": _sorted_docs(_table(data, "imports")),
                "snapshots": _sorted_docs(_table(data, "snapshots")),
            }

        return self._read(self.path, KIND_MAIN, build)

    def _agency(self, agency_id: str) -> Agency | None:
        """One agency, no lock needed: from the cached view when it is current, else by its doc id
        straight from the file (a cold add_correction must not build 8,000 Agency objects)."""
        stamp = _stamp(self.path)
        cached = self._cache.get(self.path)
        if cached is not None and cached[0] == stamp:
            entry = cached[1]["agencies"].get(agency_id)
            return entry[0] if entry else None
        if self._raw_agencies is not None and self._raw_agencies[0] == stamp:
            table = self._raw_agencies[1]
        else:
            data = _load_json(self.path)
            _check_meta(self.path, data, KIND_MAIN)
            table = _table(data, "agencies")
            if _stamp(self.path) == stamp:
                self._raw_agencies = (stamp, table)
        doc_id = _stable_id(agency_id)
        while (doc := table.get(str(doc_id))) is not None:
            if (doc.get("agency") or {}).get("id") == agency_id:
                return Agency.from_json(doc["agency"])
            doc_id += 1
        return None

    def _shard_view(self, index: int) -> dict[str, ShardEntry]:
        """agency id → (current verdict JSON text, its compact form, history texts); parsed only when asked for."""

        def build(data: dict[str, Any] | None) -> dict[str, ShardEntry]:
            out: dict[str, ShardEntry] = {}
            present: set[str] = set()
            for doc in _table(data, "verdicts").values():
                current = doc.get("current")
                compact = doc.get("compact")
                history = tuple(t for t in doc.get("history") or () if isinstance(t, str))
                text = current if isinstance(current, str) and current else None
                short = compact if text and isinstance(compact, str) and compact else None
                present.update(history)
                present.update(t for t in (text, short) if t)
                changed = doc.get("group_changed_at")
                if not isinstance(changed, str):
                    changed = _derived_group_change(doc, self.history_limit) if text else None
                out[doc["agency_id"]] = (text, short, history, changed)
            # Parsed verdicts are reused by their exact JSON text: after a new scan most texts are
            # ones already seen, so only new ones are parsed again.
            for memo in (self._memo, self._memo_light):
                old = memo.get(index, {})
                memo[index] = {text: verdict for text, verdict in old.items() if text in present}
            return out

        return self._read(self._shard_path(index), KIND_VERDICTS, build)

    def _parse(
        self, index: int, text: str | None, *, light: bool = False, compact: str | None = None
    ) -> Verdict | None:
        """A stored verdict; `light` gives its compact form (group, findings, flags, fix and the deciding
        reply, no transcripts): what a list view needs, parsed from a quarter of the JSON."""
        if not text:
            return None
        full = self._memo.setdefault(index, {}).get(text)
        if full is not None:
            return full
        if light:
            memo = self._memo_light.setdefault(index, {})
            key = compact or text
            verdict = memo.get(key)
            if verdict is None:
                data = _parse_json(key) if compact else _compact(_parse_json(text))
                verdict = memo[key] = Verdict.from_json(data)
            return verdict
        verdict = self._memo[index][text] = Verdict.from_json(_parse_json(text))
        return verdict

    def _history(self, index: int, texts: tuple[str, ...]) -> tuple[Verdict, ...]:
        return tuple(v for v in (self._parse(index, t) for t in texts) if v is not None)

    def _operator_view(self) -> dict[str, Any]:
        def build(data: dict[str, Any] | None) -> dict[str, Any]:
            corrections: dict[str, list[tuple[int, Correction]]] = {}
            for doc in _table(data, "corrections").values():
                corr = _correction_from(doc)
                corrections.setdefault(corr.agency_id, []).append((int(doc.get("n", 0)), corr))
            notes: dict[str, list[tuple[int, Note]]] = {}
            for doc in _table(data, "notes").values():
                note = Note(doc["id"], doc["agency_id"], doc["operator"], doc["at"], doc["text"])
                notes.setdefault(note.agency_id, []).append((int(doc.get("n", 0)), note))
            followups = {
                doc["agency_id"]: doc.get("state")
                for doc in _table(data, "followups").values()
                if doc.get("state")
            }
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
            }

        return self._read(self.operator_path, KIND_OPERATOR, build)

    def _build_record(
        self,
        agency_id: str,
        main: dict[str, Any],
        operator: dict[str, Any],
        *,
        with_history: bool = True,
        light: bool = False,
        shards: dict[int, dict[str, ShardEntry]] | None = None,
    ) -> AgencyRecord:
        agency, source_changes = main["agencies"][agency_id]
        index = _shard_of(agency_id)
        view = shards[index] if shards is not None else self._shard_view(index)
        text, compact, texts, group_changed_at = view.get(agency_id, (None, None, (), None))
        return AgencyRecord(
            agency=agency,
            verdict=self._parse(index, text, light=light, compact=compact),
            history=self._history(index, texts) if with_history else (),
            corrections=operator["corrections"].get(agency_id, ()),
            notes=operator["notes"].get(agency_id, ()),
            followup=operator["followups"].get(agency_id),
            source_changes=source_changes,
            group_changed_at=group_changed_at,
        )

    # -- reading ---------------------------------------------------------------------------
    def agencies(self) -> list[Agency]:
        """All agencies in list order (seq numeric, then name)."""
        main = self._main_view()
        return [main["agencies"][aid][0] for aid in main["order"]]

    def records(self, *, with_history: bool = True, light: bool = False) -> list[AgencyRecord]:
        """All agencies with verdict, history and operator data, in list order.

        `with_history=False` leaves `history` empty: a list view of a national store then avoids
        parsing ~80,000 history entries (seconds on the first call; later calls reuse parses).
        `light=True` gives each verdict in its compact history form (group, findings, flags, the
        suggested fix and the deciding reply; no transcripts): what a table needs, at a quarter of the cost.
        Use `record(id)` for the full evidence of one agency.
        """
        main = self._main_view()
        operator = self._operator_view()
        shards: dict[int, dict[str, ShardEntry]] = {}
        records = []
        for aid in main["order"]:
            index = _shard_of(aid)
            if index not in shards:
                shards[index] = self._shard_view(index)  # each shard file is checked once per call
            records.append(
                self._build_record(aid, main, operator, with_history=with_history, light=light, shards=shards)
            )
        return records

    def record(self, agency_id: str) -> AgencyRecord:
        """One agency's record; KeyError when the store does not know it."""
        main = self._main_view()
        if agency_id not in main["agencies"]:
            raise KeyError(agency_id)
        return self._build_record(agency_id, main, self._operator_view())

    def find(self, key: str) -> list[AgencyRecord]:
        """Agencies an operator may mean by `key`: exact id, else the list's seq (ASCII or Thai digits) or code."""
        key = clean_text(key).strip()
        if not key:
            return []
        main = self._main_view()
        if key in main["agencies"]:
            return [self.record(key)]
        number = _seq_number(key)
        if number is None:
            return []
        digits = key.translate(_THAI_DIGITS)
        ids = [
            aid
            for aid in main["order"]
            if _seq_number(main["agencies"][aid][0].seq) == number or main["agencies"][aid][0].code == digits
        ]
        if not ids:
            return []
        operator = self._operator_view()
        return [self._build_record(aid, main, operator) for aid in ids]

    def snapshots(self) -> list[dict]:
        """Saved group counts, oldest first: {"at", "label", "counts"}."""
        return [
            {"at": s.get("at", ""), "label": s.get("label", ""), "counts": s.get("counts", {})}
            for s in self._main_view()["snapshots"]
        ]

    def imports(self) -> list[dict]:
        """Recorded imports, oldest first: {"import_id","at","source","operator","counts"}."""
        return [dict(i) for i in self._main_view()["imports"]]

    def generation(self) -> tuple[int, int]:
        """A cheap stamp of (agencies+verdicts, operator data); it changes whenever anyone writes."""
        data = hash(tuple([_stamp(self.path), *(_stamp(self._shard_path(i)) for i in range(SHARDS))]))
        return (data, hash(_stamp(self.operator_path)))

    # -- imports ---------------------------------------------------------------------------
    def merge_import(self, agencies: Sequence[Agency], *, source: str, operator: str) -> ImportReport:
        """Merge a freshly read list: match by code, else (name, district, province), else id.

        A matched agency keeps its stored id, so its verdicts, corrections and notes stay attached.
        A changed declared address is recorded in source_changes. Agencies absent from the list
        are kept (and reported as missing) only for the provinces the list covers.
        """
        source = _limited(clean_text(source).strip(), 1_000, "source")
        operator = _required(operator, "operator", MAX_SHORT)
        incoming = [_clean_agency(a) for a in agencies]
        for agency in incoming:
            if not agency.id:
                raise ValueError(f"an agency without id in {source!r}: {agency.name!r}")
        import_id = f"i-{uuid.uuid4().hex[:12]}"
        at = now_iso()
        added: list[str] = []
        changed: list[str] = []
        unchanged: list[str] = []
        with self._transaction(self._lock) as txn:
            db = txn.db(self.path, KIND_MAIN, shards=SHARDS)
            table = db.table("agencies")
            stored: dict[str, tuple[int, dict[str, Any]]] = {}
            for doc in table.all():
                stored[doc["agency"]["id"]] = (doc.doc_id, dict(doc))
            by_code: dict[str, str | None] = {}
            by_name: dict[tuple[str, str, str], str | None] = {}
            for aid, (_, doc) in stored.items():
                a = doc["agency"]
                if a.get("code"):
                    by_code[a["code"]] = None if a["code"] in by_code else aid  # ambiguous → None
                nk = (
                    _match_key(a.get("name", "")),
                    _match_key(a.get("district", "")),
                    _match_key(a.get("province", "")),
                )
                by_name[nk] = None if nk in by_name else aid
            claimed: set[str] = set()
            updates: dict[int, dict[str, Any]] = {}
            for agency in incoming:
                nk = (_match_key(agency.name), _match_key(agency.district), _match_key(agency.province))
                candidates = [
                    by_code.get(agency.code) if agency.code else None,
                    by_name.get(nk) if agency.name else None,
                    agency.id if agency.id in stored else None,
                ]
                match = next((c for c in candidates if c and c not in claimed), None)
                if match is not None:
                    claimed.add(match)
                    doc_id, doc = stored[match]
                    old = Agency.from_json(doc["agency"])
                    new = Agency.from_json({**agency.to_json(), "id": match})
                    if new == old:
                        unchanged.append(match)
                        continue
                    changes = list(doc.get("source_changes") or ())
                    if new.declared != old.declared:
                        changes.append(
                            {"at": at, "old": old.declared, "new": new.declared, "import_id": import_id}
                        )
                    updates[doc_id] = {
                        **doc,
                        "agency": new.to_json(),
                        "source_changes": changes,
                        "updated_at": at,
                        "import_id": import_id,
                    }
                    changed.append(match)
                    continue
                new_id = agency.id
                suffix = 2
                while new_id in stored or new_id in claimed:
                    new_id = f"{agency.id}~{suffix}"
                    suffix += 1
                claimed.add(new_id)
                doc = {
                    "agency": Agency.from_json({**agency.to_json(), "id": new_id}).to_json(),
                    "source_changes": [],
                    "added_at": at,
                    "updated_at": at,
                    "import_id": import_id,
                }
                doc_id = _stable_id(new_id)
                while table.get(doc_id=doc_id) is not None or doc_id in updates:
                    doc_id += 1
                updates[doc_id] = doc
                added.append(new_id)
            provinces = {_match_key(a.province) for a in incoming}
            everywhere = "" in provinces
            missing = [
                aid
                for aid, (_, doc) in stored.items()
                if aid not in claimed
                and (everywhere or _match_key(doc["agency"].get("province", "")) in provinces)
            ]
            _put_many(table, updates)
            db.table("imports").insert(
                {
                    "import_id": import_id,
                    "at": at,
                    "source": source,
                    "operator": operator,
                    "counts": {
                        "added": len(added),
                        "changed": len(changed),
                        "unchanged": len(unchanged),
                        "missing": len(missing),
                        "total": len(incoming),
                    },
                }
            )
        return ImportReport(import_id, source, added, changed, unchanged, missing)

    # -- verdicts --------------------------------------------------------------------------
    def save_verdicts(self, verdicts: Iterable[Verdict], *, batch_size: int = 250) -> int:
        """Store verdicts in batched transactions; the previous verdict moves into the history.

        Verdicts are grouped by shard so a batch rewrites one or two small files, not the store.
        Saving a verdict equal to the current one changes nothing (safe to retry after a crash).
        Returns how many verdicts were handled.
        """
        items = [(v.agency_id, (*_verdict_texts(v), v.group, v.checked_at)) for v in verdicts]
        if not items:
            return 0
        self._ensure_verdicts_dir()
        saved = 0
        for batch in _shard_batches(items, max(1, int(batch_size))):
            at = now_iso()
            with self._transaction(self._lock) as txn:
                by_shard: dict[int, list[tuple[str, tuple[str, str, str, str]]]] = {}
                for agency_id, texts in batch:
                    by_shard.setdefault(_shard_of(agency_id), []).append((agency_id, texts))
                for index, entries in by_shard.items():
                    table = txn.db(self._shard_path(index), KIND_VERDICTS, shard=index).table("verdicts")
                    updates: dict[int, dict[str, Any]] = {}
                    for agency_id, (text, compact, group, checked_at) in entries:
                        doc_id, found = _slot(table, "agency_id", agency_id, updates)
                        doc = found or {}
                        if doc.get("current") == text:
                            continue
                        history = list(doc.get("history") or ())
                        if doc.get("current") and self.history_limit:
                            history.insert(0, doc.get("compact") or doc["current"])
                        previous = doc.get("group")
                        if not isinstance(previous, str) and doc.get("current"):
                            previous = _group_and_time(doc.get("compact") or doc["current"])[0]
                        changed = doc.get("group_changed_at")
                        if not isinstance(changed, str) and doc.get("current"):
                            changed = _derived_group_change(doc, self.history_limit)
                        if group != previous or changed is None:
                            changed = checked_at
                        updates[doc_id] = {
                            "agency_id": agency_id,
                            "current": text,
                            "compact": compact,
                            "group": group,
                            "group_changed_at": changed,
                            "history": history[: self.history_limit],
                            "saved_at": at,
                        }
                    _put_many(table, updates)
            saved += len(batch)
        return saved

    # -- operator data ---------------------------------------------------------------------
    def _require_agency(self, agency_id: str) -> Agency:
        agency = self._agency(agency_id)
        if agency is None:
            raise KeyError(agency_id)
        return agency

    def add_correction(self, agency_id: str, new_address: str, reason: str, operator: str) -> Correction:
        """Record old → new address with who, when and why; durable (fsynced) before it returns."""
        agency = self._require_agency(agency_id)
        new_address = _required(new_address, "new address", MAX_ADDRESS)
        reason = _limited(clean_text(reason, multiline=True).strip(), MAX_REASON, "reason")
        operator = _required(operator, "operator", MAX_SHORT)
        corr_id = f"c-{uuid.uuid4().hex[:16]}"
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("corrections")
            existing = [dict(d) for d in table.all() if d.get("agency_id") == agency_id]
            existing.sort(key=lambda d: (int(d.get("n", 0)), d.get("at", "")))
            old_address = existing[-1]["new_address"] if existing else agency.declared
            corr = Correction(corr_id, agency_id, operator, now_iso(), old_address, new_address, reason)
            doc_id, _ = _slot(table, "id", corr_id)
            doc = _correction_doc(corr)
            doc["n"] = (int(existing[-1].get("n", 0)) + 1) if existing else 1
            table.insert(Document(doc, doc_id=doc_id))
        return corr

    def set_correction_recheck(self, correction_id: str, group: str, at: str) -> None:
        """Attach the outcome of rechecking a correction (the group it got, and when)."""
        group = _required(group, "group", MAX_SHORT)
        at = _required(at, "time", MAX_SHORT)
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("corrections")
            doc_id, doc = _slot(table, "id", correction_id)
            if doc is None:
                raise KeyError(correction_id)
            _put_many(table, {doc_id: {**doc, "recheck_group": group, "recheck_at": at}})

    def add_note(self, agency_id: str, text: str, operator: str) -> Note:
        """A free-text note (phone call outcome etc.); tabs and newlines kept, other controls dropped."""
        self._require_agency(agency_id)
        text = _required(text, "note", MAX_NOTE, multiline=True)
        operator = _required(operator, "operator", MAX_SHORT)
        note = Note(f"n-{uuid.uuid4().hex[:16]}", agency_id, operator, now_iso(), text)
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("notes")
            count = sum(1 for d in table.all() if d.get("agency_id") == agency_id)
            doc_id, _ = _slot(table, "id", note.id)
            table.insert(Document({**_note_doc(note), "n": count + 1}, doc_id=doc_id))
        return note

    def set_followup(self, agency_id: str, state: str | None, operator: str) -> None:
        """Mark (or with None clear) the follow-up state, e.g. "called_waiting"."""
        self._require_agency(agency_id)
        operator = _required(operator, "operator", MAX_SHORT)
        clean_state = _limited(clean_text(state).strip(), MAX_SHORT, "state") if state is not None else ""
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("followups")
            doc_id, _ = _slot(table, "agency_id", agency_id)
            doc = {
                "agency_id": agency_id,
                "state": clean_state or None,
                "operator": operator,
                "at": now_iso(),
            }
            _put_many(table, {doc_id: doc})

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, counts: dict[str, dict[str, int]], *, label: str = "") -> None:
        """Keep today's group counts per province so progress can be compared over time."""
        clean_counts: dict[str, dict[str, int]] = {}
        for province, groups in counts.items():
            clean_counts[clean_text(province).strip()] = {
                clean_text(group).strip(): int(n) for group, n in groups.items()
            }
        label = _limited(clean_text(label).strip(), MAX_SHORT, "label")
        with self._transaction(self._lock) as txn:
            table = txn.db(self.path, KIND_MAIN, shards=SHARDS).table("snapshots")
            table.insert({"at": now_iso(), "label": label, "counts": clean_counts})


def _shard_batches(items: list[tuple[str, _T]], batch_size: int) -> Iterator[list[tuple[str, _T]]]:
    """Batches of about `batch_size` that never split a shard needlessly (each file written once)."""
    groups: dict[int, list[tuple[str, _T]]] = {}
    for item in items:
        groups.setdefault(_shard_of(item[0]), []).append(item)  # keeps order within an agency
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


def _correction_doc(corr: Correction) -> dict[str, Any]:
    return {
        "id": corr.id,
        "agency_id": corr.agency_id,
        "operator": corr.operator,
        "at": corr.at,
        "old_address": corr.old_address,
        "new_address": corr.new_address,
        "reason": corr.reason,
        "recheck_group": corr.recheck_group,
        "recheck_at": corr.recheck_at,
    }


def _correction_from(doc: dict[str, Any]) -> Correction:
    return Correction(
        doc["id"],
        doc["agency_id"],
        doc.get("operator", ""),
        doc.get("at", ""),
        doc.get("old_address", ""),
        doc.get("new_address", ""),
        doc.get("reason", ""),
        doc.get("recheck_group"),
        doc.get("recheck_at"),
    )


def _note_doc(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "agency_id": note.agency_id,
        "operator": note.operator,
        "at": note.at,
        "text": note.text,
    }
