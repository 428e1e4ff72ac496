"""The console probe of `saraban bench`: drives the real console with Pilot, in a process of its own
(`python -m console.bench.console_probe STORE LANG [CONFIG]`), and prints one JSON line of figures.

Kept apart from the runtime code: nothing the console imports imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checks.model import Agency
from console.bench.measure import LAUNCHED_ENV, TUI_TIMEOUT_S, _r, _rss_now_mb

FILTER_KEYSTROKES = 7  # timed keystrokes in the search box (median reported)


async def _measure_tui(store_path: Path, language: str, config_path: str | None) -> dict[str, Any]:
    """The console on a store: time to a full agency table, time for a filter keystroke, and RSS."""
    gc.disable()  # as `saraban` starts the console (cli.cmd_tui): the console's first load turns it on
    from console.config import load_config
    from console.store import Store
    from console.tui.app import SEARCH_DEBOUNCE
    from console.tui.factory import make_app
    from console.tui.widgets import AgencyTable

    result: dict[str, Any] = {"tui_first_screen_s": None, "tui_filter_s": None, "tui_rss_mb": None, "notes": {}}
    # What the operator waits for is launch -> table on screen: Python's start-up, the imports and
    # opening the store count. The parent passes its clock at launch; run by hand, this process's start.
    launched = _launched_at()
    config = dataclasses.replace(load_config(config_path), store_path=store_path, language=language)
    store = Store(store_path)
    t_app = time.perf_counter()
    app = make_app(config, store)
    async with app.run_test(size=(120, 40)) as pilot:
        table: AgencyTable | None = None
        rows_wanted = 0

        def full() -> bool:
            # loaded: every record is in; the table then holds every one of them (no filter at start)
            return table is not None and app.loaded and 0 < len(app.records) == table.row_count

        while time.perf_counter() - t_app < TUI_TIMEOUT_S and not full():
            with contextlib.suppress(Exception):
                table = app.screen.query_one("#agencies", AgencyTable)
            await asyncio.sleep(0.005)
        if table is None or not full():
            result["notes"]["tui_first_screen_s"] = f"the agency table was not filled in {TUI_TIMEOUT_S:g} s"
            return result
        rows_wanted = table.row_count
        painted: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: painted.done() or painted.set_result(time.time()))
        on_screen = await asyncio.wait_for(painted, 30.0)
        in_app = time.perf_counter() - t_app
        result["tui_first_screen_s"] = _r(on_screen - launched)
        result["notes"]["tui_first_screen_s"] = (
            f"launch -> {rows_wanted} rows painted; of it, app start -> painted {in_app:.3f} s; "
            f"CPU used by then {time.process_time():.2f} s, load average {os.getloadavg()[0]:.1f}"
        )
        char = _filter_char([app.records[k].agency for k in app.order])
        rss = _rss_now_mb()
        result["tui_rss_mb"] = round(rss, 1) if rss is not None else None
        await pilot.press("slash")  # open the search box first: the figure is the keystroke, not the box
        await pilot.pause(0.3)
        # Typing narrows the table, backspace widens it back to every agency: both are keystrokes an
        # operator waits for. The figure is the median of FILTER_KEYSTROKES; the note lists them all.
        times: list[float] = []
        cpu: list[float] = []
        narrowed = rows_wanted
        for n in range(FILTER_KEYSTROKES):
            key = char if n % 2 == 0 else "backspace"
            cpu_before = time.process_time()
            took = await _time_keystroke(app, pilot, table, key)
            if took is None:
                result["notes"]["tui_filter_s"] = f"pressing {key!r} did not change the row count"
                return result
            times.append(took)
            cpu.append(time.process_time() - cpu_before)
            narrowed = min(narrowed, table.row_count)
            await pilot.pause(0.3)  # slower than the search throttle: every keystroke updates the table
        result["tui_filter_s"] = _r(statistics.median(times))
        result["notes"]["tui_filter_s"] = (
            f"median of {len(times)} keystrokes in the open search box ({char!r} then backspace: "
            f"{rows_wanted} <-> {narrowed} rows), key typed -> new rows painted, keys 0.3 s apart so "
            f"each is applied at once (the search throttle holds back only keys typed faster than "
            f"every {SEARCH_DEBOUNCE:g} s, and always applies the last); each: "
            + ", ".join(f"{t:.3f}" for t in times)
            + f"; CPU per keystroke (this process, Pilot's driving included) median "
            f"{statistics.median(cpu):.3f} s; load average {os.getloadavg()[0]:.1f}"
        )
    return result


def _launched_at() -> float:
    """Epoch seconds when this process was launched: the parent's word for it, else the kernel's."""
    given = os.environ.get(LAUNCHED_ENV)
    if given:
        with contextlib.suppress(ValueError):
            return float(given)
    try:  # /proc/self/stat field 22: start time in clock ticks after boot; /proc/uptime: now, after boot
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - max(uptime - started, 0.0)
    except (OSError, ValueError, IndexError):
        return time.time()


async def _time_keystroke(app: Any, pilot: Any, table: Any, key: str) -> float | None:
    """Seconds from pressing `key` to the screen refresh that shows the changed table (None: no change).

    Pilot.press returns only once the whole process has been idle for a while, so the key is pressed
    in a task and the table watched beside it; the end is the app's next refresh after the change.
    """
    before = table.row_count
    t0 = time.perf_counter()
    press = asyncio.create_task(pilot.press(key))
    while table.row_count == before and time.perf_counter() - t0 < 60.0:
        await asyncio.sleep(0.002)
    took = None
    if table.row_count != before:
        painted: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: painted.done() or painted.set_result(time.perf_counter()))
        took = await asyncio.wait_for(painted, 30.0) - t0
    await press
    return took


def _filter_char(agencies: Sequence[Agency]) -> str:
    """A Thai letter found in some names but not most, so one keystroke visibly narrows the table."""
    if not agencies:
        return "ก"
    counts: Counter[str] = Counter()
    for a in agencies:
        counts.update({ch for ch in a.name if "\u0e01" <= ch <= "\u0e2e"})
    target = 0.25 * len(agencies)
    return min(counts, key=lambda ch: abs(counts[ch] - target), default="ก")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str]) -> int:
    """`python -m console.bench.console_probe tui-probe STORE LANG [CONFIG]`: one JSON line with the console's figures."""
    if len(argv) not in (3, 4) or argv[0] != "tui-probe":
        print("usage: python -m console.bench.console_probe tui-probe STORE LANG [CONFIG]", file=sys.stderr)
        return 2
    result = asyncio.run(_measure_tui(Path(argv[1]), argv[2], argv[3] if len(argv) == 4 else None))
    print(json.dumps(result, ensure_ascii=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
