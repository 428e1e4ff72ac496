"""The store's facade: what cli, runner, console, report and export call. Reads are lock-free and cached;
writes go through the write layer (`console.store.layer`) in locked transactions.

The data is split so that a frequent bulk write never rewrites precious or unrelated data:

- ``<store>``                   meta, agencies (+ source changes), imports, snapshots  (lock ``<store>.lock``)
- ``<store>.verdicts/NN.json``  current verdict + compact history, 64 shards by agency  (same lock)
- ``<store>.operator.json``     corrections, notes, follow-up marks  (own lock ``<store>.operator.lock``)

A correction therefore rewrites only the small operator file and never waits behind a verdict batch.
Reads outside a transaction need no lock (files are only ever replaced whole); parsed results are cached
per file identity (inode, mtime, size) so a polling console does not re-parse unchanged files.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock
from tinydb.table import Document

from checks.model import Agency, Verdict, now_iso
from console.store import codec
from console.store.atomic import PRIVATE, Modes, temp_prefix
from console.store.codec import derived_group_change, group_and_time, parse_json, verdict_texts
from console.store.errors import StoreError
from console.store.layer import (
    KIND_MAIN,
    KIND_OPERATOR,
    KIND_VERDICTS,
    LOCK_TIMEOUT,
    SHARDS,
    Txn,
    check_meta,
    load_json,
    meta_of,
    put_many,
    shard_of,
    slot,
    sorted_docs,
    stable_id,
    table_of,
    transaction,
)
from console.store.layer import (
    stamp as file_stamp,
)
from console.store.merge import merge_agencies
from console.store.records import (
    AgencyRecord,
    Correction,
    ImportReport,
    Note,
    correction_doc,
    correction_from,
    note_doc,
)
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

# One agency in a verdict shard: current verdict JSON, its compact form, compact history texts, and
# when its group last changed (a first verdict counts as a change).
ShardEntry = tuple[str | None, str | None, tuple[str, ...], str | None]


class Store:
    """The JSON store several operator processes share; every write is atomic and locked."""

    def __init__(self, path: Path | str, *, history_limit: int = 10) -> None:
        self.path = Path(path).expanduser().absolute()
        self.history_limit = max(0, int(history_limit))
        self.modes: Modes = PRIVATE
        self.operator_path = self.path.with_name(self.path.name + ".operator.json")
        self.verdicts_dir = self.path.with_name(self.path.name + ".verdicts")
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT, mode=self.modes.file)
        self._op_lock = FileLock(str(self.path) + ".operator.lock", timeout=LOCK_TIMEOUT, mode=self.modes.file)
        self._cache: dict[Path, tuple[tuple[int, int, int, int], Any]] = {}
        self._memo: dict[int, dict[str, Verdict]] = {}
        self._memo_light: dict[int, dict[str, Verdict]] = {}
        self._raw_agencies: tuple[tuple[int, int, int, int], dict[str, Any]] | None = None
        self._open()

    # -- opening ---------------------------------------------------------------------------
    def _open(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory; give the path of a store file (e.g. saraban.json)")
        stamp = file_stamp(self.path)
        main = load_json(self.path)
        check_meta(self.path, main, KIND_MAIN)
        if main is not None and file_stamp(self.path) == stamp:
            self._raw_agencies = (stamp, table_of(main, "agencies"))  # a first add_correction needs no re-read
        operator = load_json(self.operator_path)
        check_meta(self.operator_path, operator, KIND_OPERATOR)
        shards = (meta_of(main) or {}).get("shards", SHARDS)
        if shards != SHARDS:
            raise StoreError(
                f"{self.path} uses {shards} verdict shards; this saraban uses {SHARDS}. Nothing was changed; "
                "open it with the saraban version that wrote it."
            )
        if main is not None and operator is not None and not self._stale_temps():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=self.modes.dir)
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
            (self.path.parent, temp_prefix(self.path)),
            (self.path.parent, temp_prefix(self.operator_path)),
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
    def _transaction(self, lock: FileLock) -> contextlib.AbstractContextManager[Txn]:
        return transaction(lock, self.path.parent, self.modes)

    def _shard_path(self, index: int) -> Path:
        return self.verdicts_dir / f"{index:02d}.json"

    def _ensure_verdicts_dir(self) -> None:
        try:
            self.verdicts_dir.mkdir(mode=self.modes.dir, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create {self.verdicts_dir}: {exc.strerror or exc}. Nothing was changed."
            ) from exc

    # -- cached lock-free reads ------------------------------------------------------------
    def _read(self, path: Path, kind: str, build: Any) -> Any:
        """Parse `path` (or reuse the parse of the very same file version) and build a view of it."""
        stamp = file_stamp(path)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp and stamp != (0, 0, 0, 0):
            return cached[1]
        data = load_json(path, fast=kind == KIND_VERDICTS)  # a read-only view: the transaction reads exactly
        check_meta(path, data, kind)
        view = build(data)
        if file_stamp(path) == stamp:  # not replaced while we parsed
            self._cache[path] = (stamp, view)
        return view

    def _main_view(self) -> dict[str, Any]:
        def build(data: dict[str, Any] | None) -> dict[str, Any]:
            agencies: dict[str, tuple[Agency, tuple[dict, ...]]] = {}
            for doc in table_of(data, "agencies").values():
                agency = Agency.from_json(doc.get("agency") or {})
                agencies[agency.id] = (agency, tuple(doc.get("source_changes") or ()))
            order = sorted(agencies, key=lambda aid: order_key(agencies[aid][0]))
            return {
                "agencies": agencies,
                "order": order,
                "imports": sorted_docs(table_of(data, "imports")),
                "snapshots": sorted_docs(table_of(data, "snapshots")),
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
            if (doc.get("agency") or {}).get("id") == agency_id:
                return Agency.from_json(doc["agency"])
            doc_id += 1
        return None

    def _shard_view(self, index: int) -> dict[str, ShardEntry]:
        """agency id → (current verdict JSON text, its compact form, history texts); parsed only when asked for."""

        def build(data: dict[str, Any] | None) -> dict[str, ShardEntry]:
            out: dict[str, ShardEntry] = {}
            present: set[str] = set()
            for doc in table_of(data, "verdicts").values():
                current = doc.get("current")
                compact = doc.get("compact")
                history = tuple(t for t in doc.get("history") or () if isinstance(t, str))
                text = current if isinstance(current, str) and current else None
                short = compact if text and isinstance(compact, str) and compact else None
                present.update(history)
                present.update(t for t in (text, short) if t)
                changed = doc.get("group_changed_at")
                if not isinstance(changed, str):
                    changed = derived_group_change(doc, self.history_limit) if text else None
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
                data = parse_json(key) if compact else codec.compact(parse_json(text))
                verdict = memo[key] = Verdict.from_json(data)
            return verdict
        verdict = self._memo[index][text] = Verdict.from_json(parse_json(text))
        return verdict

    def _history(self, index: int, texts: tuple[str, ...]) -> tuple[Verdict, ...]:
        return tuple(v for v in (self._parse(index, t) for t in texts) if v is not None)

    def _operator_view(self) -> dict[str, Any]:
        def build(data: dict[str, Any] | None) -> dict[str, Any]:
            corrections: dict[str, list[tuple[int, Correction]]] = {}
            for doc in table_of(data, "corrections").values():
                corr = correction_from(doc)
                corrections.setdefault(corr.agency_id, []).append((int(doc.get("n", 0)), corr))
            notes: dict[str, list[tuple[int, Note]]] = {}
            for doc in table_of(data, "notes").values():
                note = Note(doc["id"], doc["agency_id"], doc["operator"], doc["at"], doc["text"])
                notes.setdefault(note.agency_id, []).append((int(doc.get("n", 0)), note))
            followups = {
                doc["agency_id"]: doc.get("state")
                for doc in table_of(data, "followups").values()
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
        index = shard_of(agency_id)
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
            index = shard_of(aid)
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
        number = seq_number(key)
        if number is None:
            return []
        digits = key.translate(THAI_DIGITS)
        ids = [
            aid
            for aid in main["order"]
            if seq_number(main["agencies"][aid][0].seq) == number or main["agencies"][aid][0].code == digits
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
        data = hash(tuple([file_stamp(self.path), *(file_stamp(self._shard_path(i)) for i in range(SHARDS))]))
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
            added, changed, unchanged, missing = merge_agencies(
                db.table("agencies"), incoming, import_id=import_id, at=at
            )
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
        items = [(v.agency_id, (*verdict_texts(v), v.group, v.checked_at)) for v in verdicts]
        if not items:
            return 0
        self._ensure_verdicts_dir()
        saved = 0
        for batch in _shard_batches(items, max(1, int(batch_size))):
            at = now_iso()
            with self._transaction(self._lock) as txn:
                by_shard: dict[int, list[tuple[str, tuple[str, str, str, str]]]] = {}
                for agency_id, texts in batch:
                    by_shard.setdefault(shard_of(agency_id), []).append((agency_id, texts))
                for index, entries in by_shard.items():
                    table = txn.db(self._shard_path(index), KIND_VERDICTS, shard=index).table("verdicts")
                    updates: dict[int, dict[str, Any]] = {}
                    for agency_id, (text, compact, group, checked_at) in entries:
                        doc_id, found = slot(table, "agency_id", agency_id, updates)
                        doc = found or {}
                        if doc.get("current") == text:
                            continue
                        history = list(doc.get("history") or ())
                        if doc.get("current") and self.history_limit:
                            history.insert(0, doc.get("compact") or doc["current"])
                        previous = doc.get("group")
                        if not isinstance(previous, str) and doc.get("current"):
                            previous = group_and_time(doc.get("compact") or doc["current"])[0]
                        changed = doc.get("group_changed_at")
                        if not isinstance(changed, str) and doc.get("current"):
                            changed = derived_group_change(doc, self.history_limit)
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
                    put_many(table, updates)
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
        new_address = required(new_address, "new address", MAX_ADDRESS)
        reason = limited(clean_text(reason, multiline=True).strip(), MAX_REASON, "reason")
        operator = required(operator, "operator", MAX_SHORT)
        corr_id = f"c-{uuid.uuid4().hex[:16]}"
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("corrections")
            existing = [dict(d) for d in table.all() if d.get("agency_id") == agency_id]
            existing.sort(key=lambda d: (int(d.get("n", 0)), d.get("at", "")))
            old_address = existing[-1]["new_address"] if existing else agency.declared
            corr = Correction(corr_id, agency_id, operator, now_iso(), old_address, new_address, reason)
            doc_id, _ = slot(table, "id", corr_id)
            doc = correction_doc(corr)
            doc["n"] = (int(existing[-1].get("n", 0)) + 1) if existing else 1
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
        self._require_agency(agency_id)
        text = required(text, "note", MAX_NOTE, multiline=True)
        operator = required(operator, "operator", MAX_SHORT)
        note = Note(f"n-{uuid.uuid4().hex[:16]}", agency_id, operator, now_iso(), text)
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("notes")
            count = sum(1 for d in table.all() if d.get("agency_id") == agency_id)
            doc_id, _ = slot(table, "id", note.id)
            table.insert(Document({**note_doc(note), "n": count + 1}, doc_id=doc_id))
        return note

    def set_followup(self, agency_id: str, state: str | None, operator: str) -> None:
        """Mark (or with None clear) the follow-up state, e.g. "called_waiting"."""
        self._require_agency(agency_id)
        operator = required(operator, "operator", MAX_SHORT)
        clean_state = limited(clean_text(state).strip(), MAX_SHORT, "state") if state is not None else ""
        with self._transaction(self._op_lock) as txn:
            table = txn.db(self.operator_path, KIND_OPERATOR).table("followups")
            doc_id, _ = slot(table, "agency_id", agency_id)
            doc = {
                "agency_id": agency_id,
                "state": clean_state or None,
                "operator": operator,
                "at": now_iso(),
            }
            put_many(table, {doc_id: doc})

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, counts: dict[str, dict[str, int]], *, label: str = "") -> None:
        """Keep today's group counts per province so progress can be compared over time."""
        clean_counts: dict[str, dict[str, int]] = {}
        for province, groups in counts.items():
            clean_counts[clean_text(province).strip()] = {
                clean_text(group).strip(): int(n) for group, n in groups.items()
            }
        label = limited(clean_text(label).strip(), MAX_SHORT, "label")
        with self._transaction(self._lock) as txn:
            table = txn.db(self.path, KIND_MAIN, shards=SHARDS).table("snapshots")
            table.insert({"at": now_iso(), "label": label, "counts": clean_counts})


def _shard_batches(items: list[tuple[str, _T]], batch_size: int) -> Iterator[list[tuple[str, _T]]]:
    """Batches of about `batch_size` that never split a shard needlessly (each file written once)."""
    groups: dict[int, list[tuple[str, _T]]] = {}
    for item in items:
        groups.setdefault(shard_of(item[0]), []).append(item)  # keeps order within an agency
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


