"""History apart from the current state: files that only grow by appending, or by whole new segments.

Per verdict shard NN, in ``<store>.history/``:

- ``NN.groups.jsonl.gz``  the group of every verdict ever saved ({"agency_id","group","checked_at"}),
  appended, never rewritten: the group of every scan is kept forever;
- ``NN.full.jsonl.gz``    every saved verdict in full (transcripts included), appended; retention
  (`prune`) replaces it by a whole new segment keeping the last N verdicts of each agency.
- ``snapshots.jsonl``     the group counts saved after each scan, appended.

Each append is one gzip member (a multi-member gzip file is still one gzip file): a batch costs one
small write, a national scan's history is about a tenth of its verdicts' size, and a crash can only
leave an unfinished last member, which readers skip. Neither a scan nor a list view reads these files;
only one agency's detail (one shard's file) and the trends read them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from console.store.atomic import PRIVATE, Modes, append_durably, atomic_write
from console.store.codec import dumps

SNAPSHOTS = "snapshots.jsonl"
_GZIP = 31  # zlib window bits for the gzip container


def full_path(directory: Path, index: int) -> Path:
    return directory / f"{index:02d}.full.jsonl.gz"


def groups_path(directory: Path, index: int) -> Path:
    return directory / f"{index:02d}.groups.jsonl.gz"


def member(lines: Iterable[str]) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP)
    data = ("".join(f"{line}\n" for line in lines)).encode("utf-8")
    return compressor.compress(data) + compressor.flush()


def read_lines(path: Path) -> Iterator[bytes]:
    """Every complete line of every complete gzip member; an unfinished last member is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    while data:
        decompressor = zlib.decompressobj(_GZIP)
        try:
            out = decompressor.decompress(data)
        except zlib.error:
            return  # garbage after the last good member: a torn append
        if not decompressor.eof:
            return
        yield from (line for line in out.split(b"\n") if line)
        data = decompressor.unused_data


def append(
    directory: Path,
    index: int,
    entries: list[tuple[str, str, str, str]],
    *,
    keep_full: bool,
    modes: Modes = PRIVATE,
) -> None:
    """Append (agency_id, verdict JSON text, group, checked_at) entries to shard `index`'s history."""
    if not entries:
        return
    groups = (dumps({"agency_id": aid, "group": group, "checked_at": at}) for aid, _, group, at in entries)
    append_durably(groups_path(directory, index), member(groups), modes=modes)
    if keep_full:
        append_durably(full_path(directory, index), member(text for _, text, _, _ in entries), modes=modes)


def _prefix(agency_id: str) -> bytes:
    return ('{"agency_id":' + json.dumps(agency_id, ensure_ascii=False) + ",").encode("utf-8")


def _agency_of(line: bytes) -> str | None:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    aid = data.get("agency_id") if isinstance(data, dict) else None
    return aid if isinstance(aid, str) else None


def verdict_texts(directory: Path, index: int, agency_id: str) -> list[str]:
    """The agency's kept full verdicts, newest first (a line that is not one is skipped)."""
    prefix = _prefix(agency_id)
    found = []
    for line in read_lines(full_path(directory, index)):
        if line.startswith(prefix) or (
            not line.startswith(b'{"agency_id":') and _agency_of(line) == agency_id
        ):
            found.append(line.decode("utf-8", "replace"))
    found.reverse()
    return found


def groups(directory: Path, index: int, agency_id: str) -> list[tuple[str, str]]:
    """(checked_at, group) of every verdict the agency ever had, oldest first, each once."""
    prefix = _prefix(agency_id)
    seen: dict[tuple[str, str], None] = {}
    for line in read_lines(groups_path(directory, index)):
        if not line.startswith(prefix):
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(data.get("group"), str) and isinstance(data.get("checked_at"), str):
            seen[(data["checked_at"], data["group"])] = None
    return list(seen)


def prune(directory: Path, index: int, keep: int, *, modes: Modes = PRIVATE) -> None:
    """Retention: replace the full file by a whole new segment with each agency's last `keep` verdicts."""
    path = full_path(directory, index)
    lines = list(read_lines(path))
    if not lines:
        return
    counts: dict[str | None, int] = {}
    kept: list[bytes] = []
    for line in reversed(lines):
        aid = _agency_of(line[: line.find(b",")] + b"}") if line.startswith(b'{"agency_id":') else None
        if aid is None:
            aid = _agency_of(line)
        counts[aid] = counts.get(aid, 0) + 1
        if counts[aid] <= keep:
            kept.append(line)
    kept.reverse()
    if len(kept) == len(lines):
        return
    atomic_write(path, member(line.decode("utf-8", "replace") for line in kept), modes=modes)


def append_snapshot(directory: Path, snapshot: dict, *, modes: Modes = PRIVATE) -> None:
    append_durably(directory / SNAPSHOTS, (dumps(snapshot) + "\n").encode("utf-8"), modes=modes)


def snapshots(directory: Path) -> list[dict]:
    """Saved group counts, oldest first; a torn last line is skipped."""
    try:
        raw = (directory / SNAPSHOTS).read_bytes()
    except FileNotFoundError:
        return []
    found = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            found.append(data)
    return found
