"""How the console starts: what it loads before its first screen, and the collector it leaves on."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, settle

from console import cli
from console.config import AppConfig
from console.tui.app import YOUNG_COLLECTION_AFTER

ROOT = Path(__file__).resolve().parents[2]
# The engine's network stack (DNS, SMTP, SOCKS) and the doctor: a scan needs them, the first screen does not.
NETWORK_MODULES = ("dns", "aiosmtplib", "python_socks", "checks.scheduler", "checks.doctor", "console.doctor")


def test_reading_a_store_for_the_first_screen_needs_no_file_lock(tmp_path: Path) -> None:
    """Locks are for writes; filelock's import is ~20 ms of the first screen's CPU."""
    from checks.model import Agency
    from console.store import Store

    path = tmp_path / "store.json"
    Store(path).merge_import([Agency("a1", "เทศบาลตำบลบางจิก", "saraban@bangjik.go.th", "1")], source="t", operator="t")
    probe = (
        "import sys\nfrom console.store import Store\nimport console.tui.factory\n"
        f"records = Store({str(path)!r}).records(with_history=False, light=True)\n"
        "print(len(records), 'filelock' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "False"]
    Store(path).add_note("a1", "called", "t")  # and a write still takes the lock
    assert (tmp_path / "store.json.operator.lock").exists()


def test_the_console_opens_without_the_engines_network_modules() -> None:
    """What `saraban` imports to open the console (cli.cmd_tui), in a fresh interpreter."""
    probe = (
        "import sys, console.cli, console.runner, console.store, console.tui.factory\n"
        "console.cli.deferred_preflight(None)  # what cmd_tui gives the runner\n"
        f"print(sorted(m for m in sys.modules if m.startswith({NETWORK_MODULES!r})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


async def test_a_full_scan_from_the_console_still_runs_the_doctor_first(
    config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.doctor

    asked: list[AppConfig] = []
    report = object()

    def preflight_for(given: AppConfig) -> Callable[[], Any]:
        async def preflight() -> object:
            asked.append(given)
            return report

        return preflight

    monkeypatch.setattr(console.doctor, "preflight_for", preflight_for)
    preflight = cli.deferred_preflight(config)
    assert asked == []  # nothing is diagnosed (or loaded) until a scan asks
    assert await preflight() is report
    assert asked == [config]


async def test_the_first_load_turns_the_collector_on_when_start_up_kept_it_off(
    make_app: Callable[..., Any],
) -> None:
    gc.disable()  # as cli.cmd_tui starts the console
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert app.loaded
            assert gc.isenabled()
    finally:
        gc.enable()


async def test_after_the_first_load_the_young_generation_is_collected_less_often(
    make_app: Callable[..., Any],
) -> None:
    """A keystroke's refresh allocates thousands of objects it frees itself: at Python's default
    (700) the collector walked them ~9 times per search keystroke at 8,286 agencies."""
    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert app.loaded
            young, *older = gc.get_threshold()
            assert young >= YOUNG_COLLECTION_AFTER >= 10_000
            assert older == list(before[1:])  # the older generations as Python has them
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize("reverse", [False, True])
def test_the_first_screens_order_reads_only_the_ascii_digits_of_seq(reverse: bool) -> None:
    """Plain numbers sort as numbers; other forms by their ASCII digits; none (Thai digits, blank) last."""
    from checks.config import EngineConfig
    from checks.model import Agency
    from console.rules import Ruleset
    from console.store import AgencyRecord
    from console.tui.view import sort_records

    seqs = ["100", "7a", "๑๒", "", "12", "007", " 9"]
    records = [
        AgencyRecord(Agency(f"t-{i}", f"อบต.{i}", f"t{i}@dla.go.th", seq, "แม่สอด", "ตาก", "อบต."), None, (), (), (), None, (), None)
        for i, seq in enumerate(seqs)
    ]
    shown = [r.agency.seq for r in sort_records(records, "seq", reverse, Ruleset.of(EngineConfig()))]
    expected = ["007", "7a", " 9", "12", "100", "", "๑๒"]
    assert shown == (expected[::-1] if reverse else expected)


def test_the_first_screen_leaves_the_scan_log_unmade(tmp_path: Path) -> None:
    """The progress pane's log is hidden until a scan or an import writes to it, and its widget
    loads rich.pretty and attrs (~25 ms of start-up): the first screen goes without it. (Lines
    logged before it exists are shown: test_import_console's bad rows, logged while idle.)"""
    from checks.model import Agency
    from console.store import Store

    path = tmp_path / "store.json"
    Store(path).merge_import([Agency("a1", "เทศบาลตำบลบางจิก", "saraban@bangjik.go.th", "1")], source="t", operator="t")
    probe = (
        "import asyncio, dataclasses, sys\nfrom pathlib import Path\n"
        "from console.config import AppConfig\nfrom console.store import Store\n"
        "from console.tui.factory import make_app\n"
        "async def main():\n"
        f"    path = Path({str(path)!r})\n"
        "    app = make_app(dataclasses.replace(AppConfig(), store_path=path), Store(path))\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        while not app.loaded:\n"
        "            await pilot.pause(0.01)\n"
        "        await pilot.pause()\n"
        "        print(len(app.records), 'rich.pretty' in sys.modules, len(app.query('#progress-log')))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "False", "0"]




async def test_lines_logged_in_one_step_before_the_log_is_mounted_go_to_one_log() -> None:
    """A scan's first second logs hundreds of lines, the first of them before the log made for
    them is mounted: they all go to that one log, in order."""
    from rich.text import Text
    from textual.app import App, ComposeResult

    from console.tui.progress_pane import ProgressPane

    class PaneApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ProgressPane(id="progress")  # as during a scan: not idle, the log on screen

    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ProgressPane)
        for n in range(50):
            pane.log_line(Text(f"จะลองใหม่ครั้งที่ {n}", end=""), "09:15:00")
        await pilot.pause()
        await pilot.pause()
        assert len(app.query("#progress-log")) == 1
        lines = pane.log_view().lines
        assert len(lines) == 50
        assert lines[0].text.endswith("ครั้งที่ 0") and lines[-1].text.endswith("ครั้งที่ 49")


async def test_focusing_the_progress_pane_focuses_its_log_made_when_needed() -> None:
    """Key 4 focuses the progress pane (app.PANES): the keys then scroll its log, made if no scan or
    import has needed it yet."""
    from textual.app import App, ComposeResult

    from console.tui.app import PANES
    from console.tui.progress_pane import ProgressPane

    class PaneApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ProgressPane(id="progress")

    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.query("#progress-log")
        app.query_one(PANES["progress"]).focus()
        await pilot.pause()
        assert app.focused is app.query_one("#progress-log")
