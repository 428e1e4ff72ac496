"""The list index: what a list view needs of every agency, small and cheap to read.

A cold `Store.records(light=True)` must not parse the 12 MB main file, 64 shards of full verdict texts
and 20,000 verdicts. So in ``<store>.index/`` a writer keeps a summary of the main file (``main.list``)
and of each verdict shard (``NN.list``): the agencies in list order with their possible duplicates
precomputed, and each verdict's group, findings, flags, fix and compact evidence, with repeated findings,
flag sets and fixes written once (pools).

An index is a cache the source file vouches for, not a second truth. It is written by the transaction
that replaced its source, under the same lock, right after the replace, and its header records the
source's identity (inode, mtime, size) and a checksum of its body. A reader uses it only when both still
hold: a crash between the two replaces, a copy, a restore, or a write by an older saraban all make it
stale, and the reader reads the source itself (slower, never wrong). Opening a writable store rebuilds
missing or stale indexes. Because a damaged index is only ever stale, it is not fsynced.

File: line 1 a JSON header {"v", "stamp", "len", "tail", "crc"}; then the body (orjson), then a tail
that is kept as bytes and parsed only when asked (a shard's compact probes, `records.ProbeBook`).
Rows are written as columns, and a column of strings that repeat (provinces, groups, scan times) as
each string once plus positions: half the text to parse, and one string object per value, not per row.
Format 1 wrote rows; its indexes are stale to this reader (rebuilt on opening, as for any stale index).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any

from checks.model import Agency, Finding, SuggestedFix
from console.store import codec
from console.store.atomic import PRIVATE, Modes, atomic_write
from console.store.codec import dump_bytes, parse_json
from console.store.duplicates import pair_of
from console.store.records import EvidenceSummary, ProbeBook, VerdictSummary, frozen_maker

FORMAT = 2  # 2: columns, repeated strings pooled; 1: rows
SUFFIX = ".list"
AGENCY_FIELDS = tuple(Agency.__dataclass_fields__)

Stamp = tuple[int, int, int, int]
# A verdict row before pooling: (agency id, group, findings ((code, message), ...), flags, fix
# (address, works, reason) or None, checked_at, declared, normalized, rule, rule_index, evidence
# checked_at, compact probe, compact fix probe, group_changed_at)
Row = tuple[Any, ...]
SHARD_WIDTH = 12  # the columns of a shard's index: a row without its probes (kept in the tail)


def index_path(directory: Path, source: Path) -> Path:
    """The index of a verdict shard ``NN.json`` is ``NN.list``; of the main file, ``main.list``."""
    if source.suffix == ".json" and source.stem.isdigit() and source.parent.name.endswith(".verdicts"):
        return directory / (source.stem + SUFFIX)
    return directory / ("main" + SUFFIX)


def _read_bytes(path: Path, limit: int = -1) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.readline(limit) if limit > 0 else handle.read()


def _identity(stamp: Stamp) -> list[int]:
    return list(stamp[:3])  # inode, mtime, size: every replace of the source changes them


def write(path: Path, source_stamp: Stamp, body: dict[str, Any], *, modes: Modes = PRIVATE) -> None:
    """Write an index; a body's "tail" (JSON-able) goes after it, read back as bytes."""
    body = dict(body)
    tail = dump_bytes(body.pop("tail")) if "tail" in body else b""
    data = dump_bytes(body) + tail
    header = {"v": FORMAT, "stamp": _identity(source_stamp), "len": len(data) - len(tail), "tail": len(tail)}
    header["crc"] = zlib.crc32(data)
    atomic_write(path, dump_bytes(header) + b"\n" + data, modes=modes, durable=False)


def _header(raw: bytes) -> dict[str, Any] | None:
    with contextlib.suppress(ValueError, RecursionError):
        header = parse_json(raw)
        if isinstance(header, dict) and header.get("v") == FORMAT:
            return header
    return None


def fresh(path: Path, source_stamp: Stamp) -> bool:
    """Whether the index at `path` was written for the source as it is now (its header only)."""
    try:
        header = _header(_read_bytes(path, 4096))
    except OSError:
        return False
    return header is not None and header.get("stamp") == _identity(source_stamp)


def read(path: Path, source_stamp: Stamp) -> dict[str, Any] | None:
    """The index body when it is whole and was written for the source as it is now; else None."""
    try:
        raw = _read_bytes(path)
    except OSError:
        return None
    cut = raw.find(b"\n")
    header = _header(raw[:cut]) if cut > 0 else None
    if header is None or header.get("stamp") != _identity(source_stamp):
        return None
    data = memoryview(raw)[cut + 1 :]
    size, tail = header.get("len"), header.get("tail", 0)
    if not isinstance(size, int) or size + tail != len(data) or header.get("crc") != zlib.crc32(data):
        return None
    with contextlib.suppress(ValueError, RecursionError):
        body = parse_json(bytes(data[:size]))
        if isinstance(body, dict):
            body["tail"] = bytes(data[size:])
            return body
    return None


# -- columns ------------------------------------------------------------------------------------
def _column(values: list[Any]) -> list[Any] | dict[str, list[Any]]:
    """A column as written: {"pool": each string once, "at": positions} when its strings repeat, else
    the values themselves (booleans, numbers and unique strings gain nothing from a pool)."""
    if set(map(type, values)) != {str}:
        return values
    pool = dict.fromkeys(values)
    if 2 * len(pool) > len(values):
        return values
    position = {value: n for n, value in enumerate(pool)}
    return {"pool": list(pool), "at": list(map(position.__getitem__, values))}


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any] | dict[str, list[Any]]]:
    """Rows of `width` values as the columns written."""
    return [_column(list(values)) for values in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _values(column: list[Any] | dict[str, list[Any]]) -> list[Any]:
    if isinstance(column, dict):
        return list(map(column["pool"].__getitem__, column["at"]))
    return column


def column_values(body: dict[str, Any]) -> list[list[Any]]:
    """The columns of an index body, each a list of values in row order."""
    return [_values(column) for column in body["columns"]]


# -- verdict shards -----------------------------------------------------------------------------
def verdict_row(agency_id: str, compact: dict[str, Any], changed: str | None) -> Row:
    """A verdict's row from its compact form (`codec.compact`). Raises on a malformed verdict
    (KeyError, TypeError, AttributeError, ValueError), as `Verdict.from_json` would."""
    evidence = compact.get("evidence") or {}
    fix = compact.get("suggested_fix")
    probe, fix_probe = evidence.get("probe"), evidence.get("fix_probe")
    return (
        agency_id,
        compact["group"],
        tuple((f["code"], f.get("message", "")) for f in compact.get("findings") or ()),
        tuple(compact.get("flags") or ()),
        (fix["address"], fix.get("works"), fix.get("reason", "")) if fix else None,
        compact.get("checked_at", ""),
        evidence.get("declared", ""),
        evidence.get("normalized"),
        evidence.get("rule", ""),
        int(evidence.get("rule_index", -1)),
        evidence.get("checked_at", ""),
        probe,
        fix_probe,
        changed,
    )


def doc_row(doc: dict[str, Any]) -> Row | None:
    """The row of a stored verdict document (None when it holds no verdict). Raises when malformed."""
    short = doc.get("compact")
    text = doc.get("current")  # schema 2, before its migration
    if not short and not text:
        return None
    data = parse_json(short) if short else codec.compact(parse_json(text))
    if not isinstance(data, dict):
        raise TypeError("not a verdict")
    return verdict_row(doc["agency_id"], data, doc.get("group_changed_at"))


def _pool(values: Iterable[Any], pool: dict[Any, int]) -> list[int]:
    return [pool.setdefault(value, len(pool)) for value in values]


def shard_body(
    rows: Iterable[Row], bad: Iterable[tuple[str, str]], unreadable: Iterable[str] = ()
) -> dict[str, Any]:
    """The index body of one shard: rows with findings, flag sets and fixes pooled; `bad` are the
    damaged entries as (problem key, message), named to the reader as reading the source would;
    `unreadable` the agencies whose verdict cannot be read (left out of the list, as before)."""
    findings: dict[Any, int] = {}
    flags: dict[Any, int] = {}
    fixes: dict[Any, int] = {}
    probes: dict[str, list[Any]] = {}
    out = []
    for aid, group, found, flagged, fix, at, declared, normalized, rule, index, ev_at, probe, fix_probe, changed in rows:
        out.append(
            (
                aid,
                group,
                findings.setdefault(found, len(findings)),
                flags.setdefault(flagged, len(flags)),
                -1 if fix is None else fixes.setdefault(fix, len(fixes)),
                at,
                declared,
                normalized,
                rule,
                index,
                ev_at,
                changed,
            )
        )
        if probe is not None or fix_probe is not None:
            probes[aid] = [probe, fix_probe]
    return {
        "findings": list(findings),
        "flags": list(flags),
        "fixes": list(fixes),
        "columns": columns(out, SHARD_WIDTH),
        "bad": [list(b) for b in bad],
        "unreadable": list(unreadable),
        "tail": probes,
    }


def _tail(body: dict[str, Any]) -> dict[str, Any]:
    tail = body.get("tail")
    if isinstance(tail, dict):
        return tail
    with contextlib.suppress(ValueError, RecursionError):
        parsed = parse_json(tail) if tail else {}
        if isinstance(parsed, dict):
            return parsed
    return {}


def shard_rows(body: dict[str, Any]) -> dict[str, Row]:
    """The rows of an index body, unpooled (to rewrite a shard's index when a few verdicts change)."""
    findings = [tuple(tuple(f) for f in entry) for entry in body["findings"]]
    flags = [tuple(entry) for entry in body["flags"]]
    fixes = [tuple(entry) for entry in body["fixes"]]
    probes = _tail(body)
    out: dict[str, Row] = {}
    rows = zip(*column_values(body), strict=True)
    for aid, group, fi, fl, fx, at, declared, normalized, rule, index, ev_at, changed in rows:
        probe, fix_probe = probes.get(aid) or (None, None)
        fix = fixes[fx] if fx >= 0 else None
        row = (aid, group, findings[fi], flags[fl], fix, at, declared, normalized, rule, index, ev_at)
        out[aid] = (*row, probe, fix_probe, changed)
    return out


MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError)  # a body that does not fit its format


def shard_view(body: dict[str, Any]) -> dict[str, tuple[VerdictSummary, str | None]] | None:
    """agency id → (verdict summary, when its group last changed), built from an index body column by
    column (`map` calls the constructors with no Python loop over the rows); None when the body does
    not fit the format (whole, but not as this saraban writes it: read the shard instead)."""
    try:
        return _build_shard_view(body)
    except MALFORMED:
        return None


def _build_shard_view(body: dict[str, Any]) -> dict[str, tuple[VerdictSummary, str | None]]:
    findings = [tuple(Finding(code, message, {}) for code, message in entry) for entry in body["findings"]]
    flags = [tuple(entry) for entry in body["flags"]]
    fixes = [*(SuggestedFix(*entry) for entry in body["fixes"]), None]  # a row's -1: no suggested fix
    tail = body.get("tail")
    book = ProbeBook(tail if isinstance(tail, bytes) else dump_bytes(tail or {}))
    aid, group, fi, fl, fx, at, declared, normalized, rule, index, ev_at, changed = column_values(body)
    evidence = map(EvidenceSummary, declared, normalized, rule, index, ev_at, aid, repeat(book))
    summaries = map(
        VerdictSummary,
        aid,
        group,
        map(findings.__getitem__, fi),
        map(flags.__getitem__, fl),
        evidence,
        map(fixes.__getitem__, fx),
        at,
    )
    return dict(zip(aid, zip(summaries, changed, strict=True), strict=True))


# -- the main file ------------------------------------------------------------------------------
def main_body(
    agencies: list[tuple[Agency, tuple[dict, ...]]],
    duplicates: dict[str, tuple[str, ...]],
    imports: list[dict[str, Any]],
    bad: Iterable[tuple[str, str]],
) -> dict[str, Any]:
    """The index body of the main file: agencies in list order (their fields as columns), source changes,
    possible duplicates (computed once here, at import, not at every read: [row, its duplicates' rows]),
    imports, damaged entries."""
    position = {agency.id: n for n, (agency, _) in enumerate(agencies)}
    rows = list(map(attrgetter(*AGENCY_FIELDS), [agency for agency, _ in agencies]))
    row_of = position.__getitem__
    return {
        "fields": list(AGENCY_FIELDS),
        "columns": columns(rows, len(AGENCY_FIELDS)),
        "changes": {agency.id: list(changes) for agency, changes in agencies if changes},
        "dups": [[row_of(aid), *map(row_of, ids)] for aid, ids in duplicates.items()],
        "imports": imports,
        "bad": [list(b) for b in bad],
    }


def main_view(body: dict[str, Any]) -> dict[str, Any] | None:
    """The facade's main view from an index body; None when it was written for other Agency fields or
    does not fit the format (read the main file instead)."""
    if body.get("fields") != list(AGENCY_FIELDS):
        return None
    try:
        return _build_main_view(body)
    except MALFORMED:
        return None


def _build_main_view(body: dict[str, Any]) -> dict[str, Any]:
    values = column_values(body)
    ids = values[0]
    built = list(map(frozen_maker(Agency), *values))  # our own index's rows: Agency(*row), five times faster
    nothing: tuple[dict, ...] = ()
    agencies = dict(zip(ids, [(agency, nothing) for agency in built], strict=True))
    for aid, changes in body["changes"].items():
        agencies[aid] = (agencies[aid][0], tuple(changes))
    pair_at = list(map(pair_of, built)).__getitem__  # one per agency, shared
    pairs = {ids[row]: tuple(map(pair_at, others)) for row, *others in body["dups"]}
    return {"agencies": agencies, "order": ids, "imports": body["imports"], "pairs": pairs}
