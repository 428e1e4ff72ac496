"""Shared pieces of the hostile-input suite: a small store with every kind of file, the CLI run as an
operator runs it, and places that fail (a read-only or full file system, made as root on a tmpfs)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from checks.model import Agency, Evidence, Finding, Verdict
from console.store import Store

MAIN_DIR = Path(__file__).resolve().parents[2]
AGENCIES = 6
NOTE = "โทรแล้ว รอแก้ไข"


def agency(i: int) -> Agency:
    return Agency(
        id=f"a-{i}", name=f"เทศบาลตำบลทดสอบ{i}", declared=f"saraban{i}@dla.go.th", seq=str(i), province="ตาก",
        district="เมืองตาก",
    )  # fmt: skip


def verdict(agency_id: str) -> Verdict:
    at = "2026-03-05T10:00:00+07:00"
    evidence = Evidence(f"{agency_id}@dla.go.th", f"{agency_id}@dla.go.th", rule="A1", rule_index=10, checked_at=at)
    return Verdict(agency_id, "A1", (Finding("mail_accepted", "250 ok"),), (), evidence, None, at)


def make_store(path: Path) -> Store:
    """A store with agencies, verdicts (so shards exist), a correction and a note."""
    store = Store(path)
    store.merge_import([agency(i) for i in range(1, AGENCIES + 1)], source="test list", operator="somchai")
    store.save_verdicts([verdict(f"a-{i}") for i in range(1, AGENCIES + 1)])
    store.add_correction("a-1", "saraban1@tak.go.th", "โทรแจ้ง", "somchai")
    store.add_note("a-2", NOTE, "somchai")
    return store


def store_files(path: Path) -> list[Path]:
    """Every file of the store at `path` that exists: main, operator, locks, shards."""
    files = [p for p in path.parent.iterdir() if p == path or p.name.startswith(path.name + ".")]
    shards = path.with_name(path.name + ".verdicts")
    out = [p for p in files if p.is_file()]
    if shards.is_dir():
        out += sorted(p for p in shards.iterdir() if p.is_file())
    return out


def snapshot(paths: list[Path]) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*argv: str, timeout: float = 120.0, env: dict[str, str] | None = None) -> Result:
    """`saraban ARGV` in its own process, as an operator runs it (so a traceback shows on stderr)."""
    full_env = {**os.environ, "PYTHONPATH": str(MAIN_DIR), "NO_COLOR": "1", **(env or {})}
    full_env.pop("SARABAN_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=MAIN_DIR,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def is_root() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "2m") -> Iterator[Path]:
    """A small tmpfs mounted at `where` (root only: skipped otherwise), unmounted afterwards."""
    if not is_root() or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True, capture_output=True)


def fill(where: Path) -> None:
    """Fill the file system at `where` until it is full (ENOSPC)."""
    with open(where / "filler", "wb") as fh:
        block = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                fh.write(block)
                fh.flush()
    with contextlib.suppress(OSError):
        for n in range(10_000):  # and the last inodes' worth of small files
            (where / f"f{n}").write_bytes(b"x")


def mknod_null(path: Path) -> None:
    """A character device like /dev/null, created by the test under its temp dir (root only)."""
    if not is_root():
        pytest.skip("creating a device node needs root")
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod is not permitted here")


# ------------------------------------------------------------------------------------------------
# Zip bombs, built in about a second: each piece is deflated on its own (so pieces can be repeated
# without re-compressing) and the zip is laid out by hand.
# ------------------------------------------------------------------------------------------------
SHEET_HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"
STRINGS_HEAD = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
STRINGS_TAIL = b"</sst>"


def _deflated_piece(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_FULL_FLUSH)


def _member(name: str, pieces: list[tuple[bytes, int]], offset: int) -> tuple[bytes, bytes, bytes]:
    """(local header + data, central directory entry, nothing) for `pieces` = [(raw, times)]."""
    crc = 0
    size = 0
    data = bytearray()
    for raw, times in pieces:
        piece = _deflated_piece(raw)
        for _ in range(times):
            crc = zlib.crc32(raw, crc)
        size += len(raw) * times
        data += piece * times
    data += zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # the final (empty) block
    encoded = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0, 0, 0, 0, 0,
        offset,
    )  # fmt: skip
    return local + encoded + bytes(data), central + encoded, b""


def xlsx_bomb(path: Path, part: str, head: bytes, unit: bytes, tail: bytes, inflated: int) -> Path:
    """A real XLSX (openpyxl's own parts) whose `part` inflates to ~`inflated` bytes of `unit`."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "หน่วยงาน"  # a shared string, so the workbook has a sharedStrings part
    buffer = io.BytesIO()
    wb.save(buffer)
    members: list[tuple[str, list[tuple[bytes, int]]]] = []
    with zipfile.ZipFile(buffer) as src:
        for name in src.namelist():
            if name != part:
                members.append((name, [(src.read(name), 1)]))
    block = unit * ((1 << 20) // len(unit))
    members.append((part, [(head, 1), (block, max(1, inflated // len(block))), (tail, 1)]))
    body = bytearray()
    directory = bytearray()
    for name, pieces in members:
        local, central, _ = _member(name, pieces, len(body))
        body += local
        directory += central
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))
    return path
