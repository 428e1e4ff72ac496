"""The write layer: TinyDB on an atomic, lock-protected storage, and the lock-free file reads beside it.

Why it looks the way it does (see PITFALLS "TinyDB"): several operators may have the console open on
the same store, and a kill or power cut must never leave it unreadable. So every file goes through
`AtomicJSONStorage` (read by path at the start of a transaction, written once at its end with
`atomic.atomic_write`); each read-modify-write runs under a `filelock.FileLock` held for the whole
transaction, with fresh `TinyDB` instances (no per-process id counter or query cache survives between
transactions); document ids are derived from the key (agency id, correction id), never auto-ids.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import grp
import hashlib
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from checks.model import now_iso
from console.store.atomic import PRIVATE, Modes, atomic_write, sync_dir_quietly
from console.store.codec import dump_bytes, parse_json
from console.store.errors import (
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreNoSpace,
    StorePermission,
    StoreTooNew,
)
from console.store.shapes import agency_of, plain_verdict, problem, well_formed

if TYPE_CHECKING:
    from filelock import FileLock

# 3: a shard keeps only each agency's compact verdict and where its full one is in the history segments;
# 2: history apart from the current verdicts (console.store.history); 1 and 2 are migrated
SCHEMA = 3
APP = "saraban"
SHARDS = 64  # verdict shard files; recorded in the main meta so a future change is detectable
LOCK_TIMEOUT = 30.0  # seconds to wait for another process's transaction (default of [general] lock_timeout)

KIND_MAIN = "main"
KIND_OPERATOR = "operator"
KIND_VERDICTS = "verdicts"

Stamp = tuple[int, int, int, int]
NO_FILE: Stamp = (0, 0, 0, 0)


def stable_id(key: str) -> int:
    """A document id derived from a string key, so every process picks the same id for it."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return int.from_bytes(digest, "big") + 1


def shard_of(agency_id: str) -> int:
    return stable_id(agency_id) % SHARDS


def stamp(path: Path) -> Stamp:
    """File identity: every atomic replace makes a new inode, so this changes on every write."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return NO_FILE
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def shared_group_of(path: Path) -> tuple[int, str] | None:
    """(gid, name) of the shared (setgid) directory holding `path`, if any."""
    for directory in (path.parent, path.parent.parent):
        try:
            st = os.stat(directory)
        except OSError:
            continue
        if st.st_mode & stat.S_ISGID:
            try:
                name = grp.getgrgid(st.st_gid).gr_name
            except KeyError:
                name = str(st.st_gid)
            return st.st_gid, name
    return None


def permission_error(path: Path, exc: OSError | None = None) -> StorePermission:
    """No permission: for a shared store, name the group the account must join."""
    shared = shared_group_of(path)
    if shared is not None and shared[0] not in {os.getegid(), *os.getgroups()}:
        return StorePermission(
            f"no permission: ask an administrator to add you to {shared[1]} "
            f"(the store {path.parent} is shared by that Unix group; log in again after being added)",
            group=shared[1],
        )
    why = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return StorePermission(
        f"no permission to use {path}{why}. Nothing was changed; ask the store's owner or an "
        "administrator for access, or choose another store with --store."
    )


def check_store_file(path: Path, *, directory: bool = False) -> bool:
    """True when `path` exists as what a store file (or directory) must be; False when absent.

    Refused: a symbolic link (a store writes only where it was put), and anything that is not a
    regular file (a device, a FIFO) or, for `directory`, not a directory."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except PermissionError as exc:
        raise permission_error(path, exc) from exc
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise StoreDamaged(
            f"{path} is a symbolic link; saraban never follows links for its store files. Nothing was "
            "changed; put the real file or directory there, or point --store at where the store really is.",
            path=str(path),
        )
    if directory and not stat.S_ISDIR(st.st_mode):
        raise StoreDamaged(
            f"{path} should be a directory of the store but is not; nothing was changed", path=str(path)
        )
    if not directory and stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{path} is a directory, not a saraban store file; give the path of a store file")
    if not directory and not stat.S_ISREG(st.st_mode):
        raise StoreDamaged(
            f"{path} is not a regular file (a device, a FIFO or a socket), so it is not a saraban store. "
            "Nothing was changed; give the path of a store file.",
            path=str(path),
        )
    return True


def load_json(path: Path, *, fast: bool = False) -> dict[str, Any] | None:
    """Read a store file by path; None when absent. Never repairs anything. `fast`: verdict data
    (`codec.parse_json`; a transaction re-reads exactly a file where orjson met a float).

    An empty or whitespace-only file is damage (the commonest after a full disk), never a new store."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        raise permission_error(path, exc) from exc
    except OSError as exc:
        check_store_file(path)  # a link, a directory: the precise message
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}. Check the file's permissions.") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            check_store_file(path)
        try:
            raw = handle.read()
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise StoreDamaged(
            f"{path} is empty ({len(raw)} bytes), which is damage (a full disk, an interrupted copy), not a "
            "new store. It was left untouched; restore it from a backup (saraban backup makes one), or "
            "move the store's files aside to start an empty store.",
            path=str(path),
        )
    try:
        data = parse_json(raw, fast=fast)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"not valid JSON: {exc}"
        raise StoreDamaged(
            f"{path} is damaged ({reason}). It was left untouched; restore it from a "
            "backup, or move it aside to start an empty store.",
            path=str(path),
        ) from exc
    if not isinstance(data, dict):
        raise StoreDamaged(
            f"{path} is not a saraban store (its JSON is not an object); nothing was changed", path=str(path)
        )
    return data


def _holds_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if isinstance(value, dict):
        return any(_holds_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_float(v) for v in value)
    return False


def refuse_read_only(path: Path) -> None:
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


def write_error(path: Path, exc: OSError) -> StoreError:
    """The message for a failed store write (nothing was changed: the replace never happened)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreNoSpace(
            f"cannot write {path}: {exc.strerror or exc} (the disk is full). Nothing was changed and what was saved before is "
            "intact; free some space and try again."
        )
    return StoreError(
        f"cannot write {path}: {exc.strerror or exc}. Nothing was changed and what was saved before "
        f"is intact; check free disk space and that {path.parent} is writable, then try again."
    )


def history_error(path: Path, exc: OSError) -> StoreError:
    """The message for a history append that failed after the verdicts were committed: they are saved,
    only their history lines are not (the append was cut back, so the history file is as it was)."""
    cls = StoreNoSpace if exc.errno in (errno.ENOSPC, errno.EDQUOT) else StoreError
    return cls(
        f"cannot write {path}: {exc.strerror or exc}. The new verdicts were saved and everything saved "
        "before is intact; only their lines in the group history were not kept. Free some space (or make "
        f"{path} writable); the next save keeps history again and nothing needs to be redone."
    )


class AtomicJSONStorage(Storage):
    """TinyDB storage for one transaction: reads the file by path once, writes it once at commit.

    Never keeps a handle open (an open handle keeps reading the old file after another process's
    atomic replace) and never writes in place (a kill mid-write would leave trailing garbage).
    """

    def __init__(self, path: str, modes: Modes = PRIVATE, fast: bool = False) -> None:
        self.path = Path(path)
        self.modes = modes
        self.fast = fast  # verdict shards: orjson (re-read exactly when it met a float, `_split`)
        self._data: dict[str, Any] | None = None
        self._loaded = False
        self._dirty = False
        # malformed documents, set aside so TinyDB never sees them, written back exactly as found
        self.damaged: dict[str, dict[str, Any]] = {}

    def read(self) -> dict[str, Any] | None:
        if not self._loaded:
            data = load_json(self.path, fast=self.fast)
            split = self._split(data)
            if split is None:  # orjson read a float: what it makes of a huge integer; read it exactly
                data = load_json(self.path)
                split = self._split(data, exact=True)
            self.damaged = split or {}
            self._data = data
            self._loaded = True
        return self._data

    def _split(self, data: dict[str, Any] | None, *, exact: bool = False) -> dict[str, dict[str, Any]] | None:
        """Set the damaged documents of `data` apart (returned); None when a fast parse must be redone."""
        damaged: dict[str, dict[str, Any]] = {}
        for name, table in list((data or {}).items()):
            if not isinstance(table, dict):
                raise StoreDamaged(
                    f"{self.path} is damaged: its table {name!r} is not a table. It was left "
                    "untouched; restore it from a backup.",
                    path=str(self.path),
                )
            # a verdict document exactly as this store writes it is fine and holds no float
            odd = {k: d for k, d in table.items() if not (name == "verdicts" and type(d) is dict and plain_verdict(d))}
            if not exact and self.fast and _holds_float(odd):
                return None
            if name == "meta":
                continue
            _, bad = well_formed(name, odd)
            if bad:
                data[name] = {k: d for k, d in table.items() if k not in bad}  # type: ignore[index]
                damaged[name] = {key: table[key] for key in bad}
        return damaged

    def data(self) -> dict[str, Any]:
        """What the transaction read or wrote (damaged documents apart, in `damaged`)."""
        return self.read() or {}

    def reserved(self, table: str) -> set[int]:
        """Doc ids of a table's damaged documents: never reused."""
        return {int(k) for k in self.damaged.get(table, {}) if k.isdigit()}

    def damaged_agency(self, table: str, agency_id: str) -> str | None:
        """Why the table holds a damaged document about `agency_id`; None when it does not."""
        for doc in self.damaged.get(table, {}).values():
            if agency_of(doc) == agency_id:
                return problem(table, doc)
        return None

    def write(self, data: dict[str, Any]) -> None:
        self._data = data
        self._loaded = True
        self._dirty = True

    def commit(self, *, sync_dir: bool = True) -> bool:
        """Write the transaction's data if it changed; True when a file was replaced."""
        if self._dirty and self._data is not None:
            refuse_read_only(self.path)
            data = self._data
            if self.damaged:
                data = dict(data)
                for name, docs in self.damaged.items():
                    data[name] = {**docs, **data.get(name, {})}
            try:
                atomic_write(self.path, dump_bytes(data), modes=self.modes, sync_dir=sync_dir)
            except PermissionError as exc:
                raise permission_error(self.path, exc) from exc
            except OSError as exc:
                raise write_error(self.path, exc) from exc
            self._dirty = False
            return True
        return False

    def close(self) -> None:
        self._data = None
        self._loaded = False


_META_HEAD = b'{"meta":'


def head_meta(path: Path, size: int = 4096) -> dict[str, Any] | None:
    """The meta table of a store file as this store writes it (first), read from its first bytes
    only; None when the file does not begin that way or the table is not whole there (then read the
    file). For a file whose content something else vouches for (its list index, by identity)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(size)
    except OSError:
        return None
    if not head.startswith(_META_HEAD):
        return None
    try:
        table, _ = json.JSONDecoder().raw_decode(head.decode("utf-8", "ignore"), len(_META_HEAD))
    except ValueError:
        return None
    return {"meta": table} if isinstance(table, dict) else None


def meta_of(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    table = data.get("meta")
    if not isinstance(table, dict) or not table:
        return {}
    doc = table.get("1")
    return doc if isinstance(doc, dict) else {}


def check_meta(path: Path, data: dict[str, Any] | None, kind: str) -> None:
    """Refuse anything that is not a saraban store of a schema this code understands."""
    if data is None:
        return
    meta = meta_of(data) or {}
    if meta.get("app") != APP:
        raise StoreDamaged(
            f"{path} is not a saraban store (no saraban schema marker). Nothing was changed; "
            "point saraban at its own store file or at a new path.",
            path=str(path),
        )
    schema = meta.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise StoreDamaged(
            f"{path} has an unreadable schema version ({schema!r}); nothing was changed", path=str(path)
        )
    if schema > SCHEMA:
        raise StoreTooNew(
            f"{path} was written by a newer saraban (store schema {schema}; this version reads schema "
            f"{SCHEMA}). Nothing was changed; upgrade saraban to open it."
        )
    if schema < 1:
        raise StoreDamaged(
            f"{path} has an unknown store schema {schema}; nothing was changed", path=str(path)
        )
    if meta.get("kind", kind) != kind:
        raise StoreDamaged(
            f"{path} is a saraban {meta.get('kind')!r} file, not the {kind!r} file expected here; "
            "nothing was changed",
            path=str(path),
        )


def table_of(data: dict[str, Any] | None, name: str) -> dict[str, dict[str, Any]]:
    if not data:
        return {}
    table = data.get(name)
    return table if isinstance(table, dict) else {}


def sorted_docs(table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    def key(item: tuple[str, Any]) -> int:
        try:
            return int(item[0])
        except ValueError:
            return 0

    return [doc for _, doc in sorted(table.items(), key=key) if isinstance(doc, dict)]


def slot(
    table: Table,
    field: str,
    key: str,
    pending: dict[int, dict[str, Any]] | None = None,
    reserved: set[int] | frozenset[int] = frozenset(),
    start: int | None = None,
) -> tuple[int, dict[str, Any] | None]:
    """The stable doc id for `key` and its document (newest: `pending` writes of this transaction
    first). On the rare hash collision the next free id is used (open addressing); `reserved` ids
    (damaged documents) count as taken. `start` is `stable_id(key)` when the caller has it."""
    doc_id = stable_id(key) if start is None else start
    while True:
        if doc_id in reserved:
            doc_id += 1
            continue
        doc = pending.get(doc_id) if pending else None
        if doc is None:
            found = table.get(doc_id=doc_id)
            doc = dict(found) if found is not None else None
        if doc is None:
            return doc_id, None
        if doc.get(field) == key:
            return doc_id, doc
        doc_id += 1


def put_many(table: Table, docs: dict[int, dict[str, Any]]) -> None:
    """Replace whole documents in two table operations (each one is O(table), so batch them)."""
    if not docs:
        return
    table.remove(doc_ids=list(docs))
    table.insert_multiple(Document(doc, doc_id=doc_id) for doc_id, doc in docs.items())


def meta_doc(kind: str, **extra: Any) -> dict[str, Any]:
    return {"schema": SCHEMA, "app": APP, "kind": kind, "created_at": now_iso(), **extra}


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One pool for the process: starting threads for every step cost a national scan ~0.5 s on a
    loaded 2-core machine (each start waits to be scheduled)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="saraban-store")
        return _POOL


def run_all(steps: list[Callable[[], None]]) -> None:
    """Run independent steps at once: they write and fsync files and compress (all of which release
    the GIL), so a batch touching three shards waits for its disk once, not three times. The first
    failure is raised once every step has ended (each step is all-or-nothing on its own files).
    Steps never run `run_all` themselves (the pool is shared)."""
    if len(steps) <= 1:
        for step in steps:
            step()
        return
    pool = _pool()
    futures = [pool.submit(step) for step in steps[1:]]
    first: BaseException | None = None
    try:
        steps[0]()  # this thread works too
    except BaseException as exc:
        first = exc
    errors = [first, *(future.exception() for future in futures)]
    for error in errors:
        if error is not None:
            raise error


class Txn:
    """One transaction's TinyDB instances (fresh per transaction: no stale caches)."""

    def __init__(self, modes: Modes = PRIVATE) -> None:
        self.modes = modes
        self.dbs: dict[Path, TinyDB] = {}
        # run before the files are replaced (what they will point to must be durable first): the
        # independent steps at once, then the others in order
        self.before_commit_apart: list[Callable[[], None]] = []
        self.before_commit: list[Callable[[], None]] = []
        self.after_commit: list[Callable[[], None]] = []  # run once the files are replaced, lock still held
        self.after_commit_apart: list[Callable[[], None]] = []  # the same, independent of each other: at once

    def storage(self, path: Path) -> AtomicJSONStorage:
        return self.dbs[path].storage  # type: ignore[return-value]

    def db(self, path: Path, kind: str, **meta: Any) -> TinyDB:
        db = self.dbs.get(path)
        if db is None:
            db = TinyDB(str(path), storage=AtomicJSONStorage, modes=self.modes, fast=kind == KIND_VERDICTS)
            data = db.storage.read()
            check_meta(path, data, kind)
            if data is None:
                db.table("meta").insert(Document(meta_doc(kind, **meta), doc_id=1))
            self.dbs[path] = db
        return db

    def commit(self) -> None:
        directories: set[Path] = set()

        def commit_one(path: Path, db: TinyDB) -> None:
            if db.storage.commit(sync_dir=False):  # type: ignore[attr-defined]
                directories.add(path.parent)

        run_all([functools.partial(commit_one, path, db) for path, db in self.dbs.items()])
        for directory in directories:  # one directory fsync covers every rename into it
            sync_dir_quietly(directory)

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()


_LOCK_MADE = threading.Lock()


class StoreLock:
    """One of the store's `filelock.FileLock`s, made when a write first needs it: reading a store never
    locks, and importing filelock would cost the console's first screen ~20 ms of CPU."""

    def __init__(self, path: str, timeout: float, mode: int) -> None:
        self.path, self.timeout, self.mode = path, timeout, mode
        self._made: FileLock | None = None

    @property
    def file_lock(self) -> FileLock:
        if self._made is None:
            with _LOCK_MADE:  # writes run in worker threads: one FileLock per StoreLock, never two
                if self._made is None:
                    from filelock import FileLock

                    self._made = FileLock(self.path, timeout=self.timeout, mode=self.mode)
        return self._made


@contextlib.contextmanager
def transaction(store_lock: StoreLock, store_dir: Path, modes: Modes = PRIVATE) -> Iterator[Txn]:
    """Hold `store_lock` for a whole read-modify-write; commit every touched file at the end."""
    from filelock import Timeout

    lock = store_lock.file_lock
    try:
        lock.acquire()
    except Timeout as exc:
        raise StoreLocked(
            f"the store is busy: another saraban process has held {lock.lock_file} for {lock.timeout:g} s. "
            "Try again; if no other saraban is running, check for a hung process."
        ) from exc
    except PermissionError as exc:
        raise permission_error(Path(lock.lock_file), exc) from exc
    except OSError as exc:
        raise StoreError(
            f"cannot lock the store ({lock.lock_file}: {exc.strerror or exc}). Nothing was changed; "
            f"make {store_dir} writable or open a store in a writable place."
        ) from exc
    txn = Txn(modes)
    try:
        yield txn
        run_all(txn.before_commit_apart)
        for step in txn.before_commit:
            step()
        txn.commit()
        run_all(txn.after_commit_apart)
        for step in txn.after_commit:
            step()
    finally:
        txn.close()
        lock.release()
