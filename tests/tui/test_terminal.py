"""What reaches a real terminal: the console runs in tmux, which keeps the clipboard an application
sends (OSC 52) as a paste buffer and the window title it sets (OSC 2) as the pane title.

An agency whose name carries a title-setting escape must not retitle the operator's terminal, and
`y` must put the agency's summary on the clipboard, literally.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tui_sample import EVIL, EVIL_SHOWN, build_store, verdict

from checks.model import Agency

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
RUN_SAMPLE = Path(__file__).with_name("run_sample.py")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    socket = f"saraban-test-{os.getpid()}-{tmp_path.name}"

    def run(*args: str) -> str:
        done = subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args], capture_output=True, text=True, timeout=20)
        return done.stdout

    yield run
    run("kill-server")


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60.0, shown: Callable[[], str] = str) -> None:
    """Poll until `check` holds (the console starts in a second process)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}\n{shown()}")


def test_copy_goes_to_the_clipboard_and_no_escape_retitles_the_terminal(
    tmp_path: Path, tmux: Callable[..., str]
) -> None:
    evil = Agency("evil-1", EVIL, f"{EVIL}@x.go.th", "999", "แม่สอด", "ตาก", "เทศบาลตำบล", EVIL)
    store = build_store(tmp_path / "store.json", banner=EVIL, extra=[evil])
    store.save_verdicts([verdict("evil-1", "D1", evil.declared)])
    command = f"{sys.executable} {RUN_SAMPLE} {tmp_path}"
    tmux("new-session", "-d", "-x", "120", "-y", "40", "-e", "LANG=C.UTF-8", command)
    tmux("set-option", "-s", "set-clipboard", "on")
    title_before = tmux("display-message", "-p", "#{pane_title}")

    def screen() -> str:
        return tmux("capture-pane", "-p")

    wait_for(lambda: "แสดง 9 จาก 9 หน่วยงาน" in screen(), "the agency table on screen")
    tmux("send-keys", "/")
    wait_for(lambda: "พิมพ์เพื่อค้นหา" in screen(), "the search box open", shown=screen)
    tmux("send-keys", "-l", "999")
    wait_for(lambda: "999" in screen().splitlines()[2], "the search typed", shown=screen)
    tmux("send-keys", "Enter")
    wait_for(lambda: "แสดง 1 จาก 9 หน่วยงาน" in screen(), "the hostile agency found and selected", shown=screen)
    tmux("send-keys", "y")
    wait_for(lambda: "[bold]x[/]" in tmux("show-buffer"), "the summary on the clipboard")
    clipboard = tmux("show-buffer")
    assert clipboard.startswith(EVIL_SHOWN.strip())  # the name as written, markup and all
    assert "\x1b" not in clipboard and "\x07" not in clipboard and "pwned" not in clipboard
    title = tmux("display-message", "-p", "#{pane_title}")
    assert "pwned" not in title and title == title_before  # the escape in the name never reached the terminal
    tmux("send-keys", "q")
