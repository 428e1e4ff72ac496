"""Where a verdict batch's full texts go in a shard's history segments, and which segments retention drops.

Each agency's verdict document counts its full verdicts per live segment (``segs``: [[segment, n], ...]).
A batch is appended to the shard's newest segment, or starts the next one when an agency of the batch
already has `keep` verdicts there (so a segment holds about `keep` scans). An older segment is dropped,
whole, once every agency with verdicts in it has `keep` newer ones: nothing is rewritten. Only when more
than `MAX_OLD` older segments are still held (agencies rarely rechecked, or no longer listed) are the
lines still needed (each agency's last `keep`, its current one always among them) written once into the
new segment, and all older ones dropped: the rare, bounded rewrite.

`keep` is at least 1: an agency's current full verdict lives here, whatever the retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.store import history
from console.store.history import Pointer, Segments
from console.store.layer import meta_of

MAX_OLD = 3  # older segments held before the lines still needed are written forward


def pointer_of(doc: dict[str, Any]) -> Pointer | None:
    """Where a verdict document says its full verdict is; None when it says nothing usable."""
    full = doc.get("full")
    if isinstance(full, list) and len(full) == 3 and all(type(x) is int and x >= 0 for x in full):
        return (full[0], full[1], full[2])
    return None


def segments_of(data: dict[str, Any] | None) -> Segments:
    """A shard's live segments with their committed ends (its meta), oldest first."""
    raw = (meta_of(data) or {}).get("segments")
    if not isinstance(raw, list):
        return []
    return sorted(
        [item[0], item[1]]
        for item in raw
        if isinstance(item, list) and len(item) == 2 and all(type(x) is int and x >= 0 for x in item)
    )


def count_in(segs: list[list[int]], segment: int) -> int:
    return sum(n for s, n in segs if s == segment)


def newer(segs: list[list[int]], segment: int, gone: set[int]) -> int:
    return sum(n for s, n in segs if s > segment and s not in gone)


@dataclass
class Plan:
    """One shard's batch: the member to write (at `offset` of `segment`) and what changes with it."""

    segment: int
    offset: int
    lines: list[bytes] = field(default_factory=list)
    drop: list[int] = field(default_factory=list)  # segments removed once the shard is committed
    kept: Segments = field(default_factory=list)  # older live segments that stay, with their ends
    pointers: dict[str, Pointer | None] = field(default_factory=dict)  # agency → its current full verdict
    segs: dict[str, list[list[int]]] = field(default_factory=dict)  # agency → its counts afterwards


def plan(
    directory: Path,
    index: int,
    live: Segments,
    docs: dict[str, dict[str, Any]],
    batch: list[tuple[str, bytes]],
    keep: int,
    protected: set[str] = frozenset(),  # type: ignore[assignment]
) -> Plan:
    """`docs`: agency → its verdict document before this batch; `batch`: (agency, full text) in order;
    `protected`: agencies whose document is damaged (their lines are never dropped by a rewrite)."""
    keep = max(1, keep)
    current = live[-1][0] if live else 0
    adding: dict[str, int] = {}
    for aid, _ in batch:
        adding[aid] = adding.get(aid, 0) + 1
    end = live[-1][1] if live else 0
    rotate = (
        not live
        or any(count_in(docs.get(aid, {}).get("segs") or [], current) + n > keep for aid, n in adding.items())
        or history.segment_size(history.segment_path(directory, index, current)) < end  # damaged: start anew
    )
    if not rotate:
        out = Plan(current, end, kept=[list(s) for s in live[:-1]])
    else:
        out = Plan(current + 1, 0, kept=[list(s) for s in live])
    # counts afterwards: of every agency when segments may go, else only of the batch's (a shard holds
    # ~300 agencies and a national scan writes 64 shards)
    names = docs if rotate else adding
    segs = {aid: [list(p) for p in (docs.get(aid, {}).get("segs") or [])] for aid in names}
    if rotate:
        _retire(out, segs, keep, adding)
        if len(out.kept) > MAX_OLD:
            _write_forward(out, directory, index, docs, segs, keep, adding, protected)
    base = len(out.lines)
    for position, (aid, raw) in enumerate(batch):
        out.lines.append(raw)
        out.pointers[aid] = (out.segment, out.offset, base + position)
        mine = segs.setdefault(aid, [])
        if mine and mine[-1][0] == out.segment:
            mine[-1][1] += 1
        else:
            mine.append([out.segment, 1])
    for aid, mine in segs.items():
        if mine != (docs.get(aid, {}).get("segs") or []):
            out.segs[aid] = mine
    return out


def _retire(out: Plan, segs: dict[str, list[list[int]]], keep: int, adding: dict[str, int]) -> None:
    """Drop the older segments nobody needs, newest first (dropping one lowers what older ones have newer)."""
    gone: set[int] = set()
    for segment, _ in reversed(out.kept):
        needed = any(
            count_in(mine, segment) and newer(mine, segment, gone) + adding.get(aid, 0) < keep
            for aid, mine in segs.items()
        )
        if not needed:
            gone.add(segment)
    if gone:
        out.drop.extend(sorted(gone))
        out.kept = [s for s in out.kept if s[0] not in gone]
        for mine in segs.values():
            mine[:] = [p for p in mine if p[0] not in gone]


def _write_forward(
    out: Plan,
    directory: Path,
    index: int,
    docs: dict[str, dict[str, Any]],
    segs: dict[str, list[list[int]]],
    keep: int,
    adding: dict[str, int],
    protected: set[str],
) -> None:
    """Too many older segments held: the lines still needed go first into the new segment, in order."""
    found: dict[str, list[tuple[Pointer, bytes]]] = {}
    for segment, end in out.kept:
        path = history.segment_path(directory, index, segment)
        for offset, lines in history.entries(path, end):
            for position, line in enumerate(lines):
                aid = history.agency_of(line)
                if aid is not None:
                    found.setdefault(aid, []).append(((segment, offset, position), line))
    forwarded: dict[str, int] = {}
    for aid, lines in found.items():
        if aid in protected:
            wanted = lines
        elif aid in docs:
            room = keep - adding.get(aid, 0)
            wanted = lines[len(lines) - room :] if room > 0 else []
        else:
            continue  # no verdict document names it: nothing can point to it
        old = docs.get(aid, {}).get("full")
        old_pointer = tuple(old) if isinstance(old, list) else None
        if old_pointer is not None and aid not in adding:
            pointed = next((item for item in lines if item[0] == old_pointer), None)
            if pointed is not None and pointed not in wanted:
                wanted = [*wanted, pointed]
        for where, line in wanted:
            if where == old_pointer:
                out.pointers[aid] = (out.segment, out.offset, len(out.lines))
            out.lines.append(line)
        forwarded[aid] = len(wanted)
    for aid in set(segs) | set(forwarded):
        segs[aid] = [[out.segment, forwarded[aid]]] if forwarded.get(aid) else []
    for aid, doc in docs.items():
        if aid not in out.pointers and aid not in adding and doc.get("full"):
            out.pointers[aid] = None  # its segment was unreadable: the compact verdict is what is left
    out.drop.extend(s for s, _ in out.kept)
    out.kept = []
