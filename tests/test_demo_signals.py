"""`saraban demo` killed (SIGTERM) or cut off (SIGHUP, an SSH drop) removes its /tmp directory, as `q`
does; with --keep the directory stays and its path is printed. Real subprocesses, real signals."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 60.0  # seconds for the demo to get going, and again to end after the signal


def _env(tmp_path: Path) -> dict[str, str]:
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    env = dict(os.environ)
    env.update(
        TMPDIR=str(scratch_parent),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        TERM="xterm-256color",
        PYTHONPATH=str(ROOT),
    )
    env.pop("NO_COLOR", None)
    return env


def _demo_dirs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob("saraban-demo-*"))


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def _store_written(tmp_path: Path) -> bool:
    return any((d / "store.json").exists() for d in _demo_dirs(tmp_path))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_cli_demo_killed_removes_its_directory(tmp_path: Path, sig: signal.Signals) -> None:
    """The terminal scan (--no-tui), killed in the middle of its scan."""
    command = [sys.executable, "-m", "console.cli", "--lang", "en", "demo", "--no-tui",
               "--agencies", "3000", "--delay-ms", "400"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _store_written(tmp_path), "the demo's store in its /tmp directory")
        assert proc.poll() is None, "the demo ended before it was signalled"
        proc.send_signal(sig)
        proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig
    assert _demo_dirs(tmp_path) == []
    assert b"Traceback" not in (proc.stderr.read() if proc.stderr else b"")


def _console_demo(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], bytearray, threading.Thread, int]:
    """The console demo on a pseudo-terminal of 80x24; everything it draws is collected."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    command = [sys.executable, "-m", "console.cli", "--lang", "en", "demo", "--no-scan", "--agencies", "300", *extra]
    proc = subprocess.Popen(command, cwd=tmp_path, env=_env(tmp_path), stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    drawn = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return proc, drawn, reader, master


def _end(proc: subprocess.Popen[bytes], reader: threading.Thread, master: int) -> None:
    try:
        proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        os.close(master)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_console_demo_signalled_quits_and_removes_its_directory(tmp_path: Path, sig: signal.Signals) -> None:
    proc, drawn, reader, master = _console_demo(tmp_path)
    try:
        _wait_for(lambda: _store_written(tmp_path) and b"Agencies" in drawn, "the console on screen")
        proc.send_signal(sig)
    finally:
        _end(proc, reader, master)
    assert proc.returncode == 128 + sig
    assert _demo_dirs(tmp_path) == []
    assert b"\x1b[?1049l" in drawn  # the console left its full screen: the terminal is given back
    assert b"Traceback" not in drawn


def test_console_demo_signalled_with_keep_keeps_it(tmp_path: Path) -> None:
    proc, drawn, reader, master = _console_demo(tmp_path, "--keep")
    try:
        _wait_for(lambda: _store_written(tmp_path) and b"Agencies" in drawn, "the console on screen")
        proc.send_signal(signal.SIGTERM)
    finally:
        _end(proc, reader, master)
    kept = _demo_dirs(tmp_path)
    assert len(kept) == 1 and (kept[0] / "store.json").exists()
    assert b"demo store kept: " in drawn and str(kept[0]).encode() in drawn
