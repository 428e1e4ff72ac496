"""History apart from the current state: files that only grow by appending, or by whole new segments.

Per verdict shard NN, in ``<store>.history/``:

- ``NN.groups.jsonl.gz``   the group of every verdict ever saved ({"agency_id","group","checked_at"}),
  appended, never rewritten: the group of every scan is kept forever;
- ``NN.full.S.jsonl.gz``   segment S of the shard's full verdicts (transcripts included): every saved
  verdict is appended once, and an agency's current verdict is read from here (its verdict document
  holds only the compact form and where the full one is: segment, member offset, line). Segments are
  append-only; retention drops whole old segments (or, rarely, writes the lines still needed into the
  next segment), never rewrites one;
- ``snapshots.jsonl``      the group counts saved after each scan, appended.

Each append is one gzip member (a multi-member gzip file is still one gzip file): a batch costs one
small write, and a national scan's history is about a tenth of its verdicts' size. A segment is
appended *before* the shard that points into it is committed, and the shard's meta records how far
each segment is committed: a reader reads no further, and the next writer cuts off what a crash left
beyond it. The groups file is appended after the commit (a crash loses a line, never shows one that
was not saved), and a torn last member is skipped by readers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from console.store.atomic import PRIVATE, Modes, append_durably, apply_modes
from console.store.codec import dumps

try:  # ISA-L writes the same gzip (the standard library reads it) ~5x faster: a national scan's members
    from isal import isal_zlib as _deflate

    LEVEL = 2  # measured on a national scan's 39 MB of verdicts in 64 members: 0.03 s CPU, 3.2 MB
except ImportError:  # optional: the standard library, slower
    _deflate = zlib  # type: ignore[assignment]
    LEVEL = 3  # 0.15 s CPU, 3.0 MB (level 6: 0.46 s, 2.3 MB)

SNAPSHOTS = "snapshots.jsonl"
_GZIP = 31  # zlib window bits for the gzip container
_BAD = (zlib.error, _deflate.error)
_SEGMENT = re.compile(r"^(\d{2})\.full\.(\d+)\.jsonl\.gz$")

# (segment, committed end) of a shard's live full-verdict segments, oldest first (the shard's meta)
Segments = list[list[int]]
# where a full verdict is: (segment, offset of its gzip member, line within the member)
Pointer = tuple[int, int, int]


def legacy_full_path(directory: Path, index: int) -> Path:
    """Schema 2's one full-history file per shard (read only by the migration)."""
    return directory / f"{index:02d}.full.jsonl.gz"


def segment_path(directory: Path, index: int, segment: int) -> Path:
    return directory / f"{index:02d}.full.{segment}.jsonl.gz"


def groups_path(directory: Path, index: int) -> Path:
    return directory / f"{index:02d}.groups.jsonl.gz"


def member(lines: Iterable[str | bytes], level: int = LEVEL) -> bytes:
    compressor = _deflate.compressobj(level, _deflate.DEFLATED, _GZIP)
    data = b"".join((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n" for line in lines)
    return compressor.compress(data) + compressor.flush()


def _members(data: bytes) -> Iterator[tuple[list[bytes], int]]:
    """(lines, bytes left from the member's start) of every complete gzip member; stops at an
    unfinished or damaged one (garbage after the last good member: a torn append)."""
    while data:
        left = len(data)
        decompressor = _deflate.decompressobj(_GZIP)
        try:
            out = decompressor.decompress(data)
        except _BAD:
            return
        if not decompressor.eof:
            return
        yield [line for line in out.split(b"\n") if line], left
        data = decompressor.unused_data


def read_lines(path: Path, end: int | None = None) -> Iterator[bytes]:
    """Every complete line of every complete gzip member (up to `end`); an unfinished one is skipped."""
    try:
        with open(path, "rb") as handle:
            data = handle.read() if end is None else handle.read(end)
    except FileNotFoundError:
        return
    for lines, _ in _members(data):
        yield from lines


def entries(path: Path, end: int) -> Iterator[tuple[int, list[bytes]]]:
    """(offset, lines) of every complete member of a segment up to its committed `end`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(end)
    except FileNotFoundError:
        return
    total = len(data)
    for lines, left in _members(data):
        yield total - left, lines


def read_member(path: Path, offset: int, end: int | None = None) -> list[bytes]:
    """The lines of the one gzip member at `offset` (one agency's detail reads ~1/300 of a segment).
    Raises FileNotFoundError (the segment was dropped since the caller read its shard) or ValueError."""
    decompressor = _deflate.decompressobj(_GZIP)
    out: list[bytes] = []
    with open(path, "rb") as handle:
        handle.seek(offset)
        left = None if end is None else end - offset
        while not decompressor.eof:
            chunk = handle.read(65536 if left is None else min(65536, left))
            if not chunk:
                raise ValueError(f"{path}: the member at {offset} is unfinished")
            if left is not None:
                left -= len(chunk)
            try:
                out.append(decompressor.decompress(chunk))
            except _BAD as exc:
                raise ValueError(f"{path}: the member at {offset} is damaged") from exc
    return [line for line in b"".join(out).split(b"\n") if line]


def write_member(path: Path, offset: int, data: bytes, *, modes: Modes = PRIVATE) -> None:
    """Put a member at `offset` of a segment (its committed end): whatever a crash left beyond the
    committed end is cut off first (the lock is held: nobody else writes), then append and fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, modes.file)
    try:
        size = os.fstat(fd).st_size
        if size == 0 or offset == 0:
            apply_modes(fd, modes)
        if size != offset:
            os.ftruncate(fd, offset)
        try:
            view = memoryview(data)
            position = offset
            while view:
                written = os.pwrite(fd, view, position)
                view, position = view[written:], position + written
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
            raise
    finally:
        os.close(fd)


def segment_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def segments_on_disk(directory: Path, index: int) -> list[int]:
    """The segment numbers of shard `index` present in `directory` (live or crash leftovers)."""
    prefix = f"{index:02d}.full."
    found = []
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if name.startswith(prefix) and (match := _SEGMENT.match(name)):
                found.append(int(match.group(2)))
    return sorted(found)


def remove_segment(directory: Path, index: int, segment: int) -> None:
    """Drop a segment nothing points to any more; if that fails it stays (a later rotation drops it)."""
    with contextlib.suppress(OSError):
        os.unlink(segment_path(directory, index, segment))


def append_groups(directory: Path, index: int, entries: list[tuple[str, str, str]], *, modes: Modes = PRIVATE) -> None:
    """Append (agency_id, group, checked_at) entries to shard `index`'s group history."""
    if entries:
        lines = (dumps({"agency_id": aid, "group": group, "checked_at": at}) for aid, group, at in entries)
        append_durably(groups_path(directory, index), member(lines), modes=modes)


def prefix(agency_id: str) -> bytes:
    return ('{"agency_id":' + json.dumps(agency_id, ensure_ascii=False) + ",").encode("utf-8")


def agency_of(line: bytes) -> str | None:
    """The agency a full verdict line is about (by its prefix when it has the usual one)."""
    if line.startswith(b'{"agency_id":"'):
        cut = line.find(b'",', 14)
        if cut > 0 and b"\\" not in line[14:cut]:
            return line[14:cut].decode("utf-8", "replace")
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    aid = data.get("agency_id") if isinstance(data, dict) else None
    return aid if isinstance(aid, str) else None


def segment_lines(directory: Path, index: int, segments: Segments) -> list[bytes]:
    """Every committed full-verdict line of a shard's live segments, oldest first."""
    return [line for segment, end in segments for line in read_lines(segment_path(directory, index, segment), end)]


def texts_of(lines: Iterable[bytes], agency_id: str) -> list[str]:
    """The agency's full verdicts among `lines`, newest first (a line that is not one is skipped)."""
    start = prefix(agency_id)
    found = [
        line.decode("utf-8", "replace")
        for line in lines
        if line.startswith(start) or (not line.startswith(b'{"agency_id":') and agency_of(line) == agency_id)
    ]
    found.reverse()
    return found


def verdict_texts(directory: Path, index: int, agency_id: str, segments: Segments) -> list[str]:
    """The agency's kept full verdicts, newest first."""
    return texts_of(segment_lines(directory, index, segments), agency_id)


def group_lines(directory: Path, index: int) -> list[bytes]:
    return list(read_lines(groups_path(directory, index)))


def groups_of(lines: Iterable[bytes], agency_id: str) -> list[tuple[str, str]]:
    """(checked_at, group) of every verdict the agency ever had among `lines`, oldest first, each once."""
    start = prefix(agency_id)
    seen: dict[tuple[str, str], None] = {}
    for line in lines:
        if not line.startswith(start):
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(data.get("group"), str) and isinstance(data.get("checked_at"), str):
            seen[(data["checked_at"], data["group"])] = None
    return list(seen)


def groups(directory: Path, index: int, agency_id: str) -> list[tuple[str, str]]:
    """(checked_at, group) of every verdict the agency ever had, oldest first, each once."""
    return groups_of(read_lines(groups_path(directory, index)), agency_id)


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
