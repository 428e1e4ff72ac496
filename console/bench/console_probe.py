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
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import console.cli  # noqa: F401  # what the `saraban` script loads before the console: it counts in the launch
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
        watch: _PaintWatch | None = None
        first: asyncio.Future[tuple[float, float]] | None = None

        def full() -> bool:
            # loaded: every record is in; the table then holds every one of them (no filter at start)
            return table is not None and app.loaded and 0 < len(app.records) == table.row_count

        while time.perf_counter() - t_app < TUI_TIMEOUT_S and not full():
            if watch is None:
                with contextlib.suppress(Exception):
                    table = app.screen.query_one("#agencies", AgencyTable)
                if table is not None and not table.row_count:  # in time to see the rows arrive
                    watch = _PaintWatch(app, table)
                    first = watch.expect(partial(_holds_every_record, app, table))
            await asyncio.sleep(0.005)
        if table is None or not full():
            result["notes"]["tui_first_screen_s"] = f"the agency table was not filled in {TUI_TIMEOUT_S:g} s"
            return result
        rows_wanted = table.row_count
        if first is None or watch is None or not watch.armed:
            # the rows were in before the watch was set (or it never fired): the next refresh, as before
            first = _PaintWatch.next_refresh(app)
        painted_at, cpu_then = await asyncio.wait_for(first, 30.0)
        on_screen = time.time() - (time.perf_counter() - painted_at)
        in_app = painted_at - t_app
        result["tui_first_screen_s"] = _r(on_screen - launched)
        result["notes"]["tui_first_screen_s"] = (
            f"launch -> {rows_wanted} rows painted; of it, app start -> painted {in_app:.3f} s; "
            f"CPU used by then {cpu_then:.2f} s, load average {os.getloadavg()[0]:.1f}"
        )
        char = _filter_char([app.records[k].agency for k in app.order])
        rss = _rss_now_mb()
        result["tui_rss_mb"] = round(rss, 1) if rss is not None else None
        watch = watch if watch is not None else _PaintWatch(app, table)
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
            took = await _time_keystroke(watch, pilot, table, key)
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


class _PaintWatch:
    """The end of a figure is the refresh that paints the table's new rows. Noticed from outside
    (polling the row count), the change may be seen only after that refresh, and the next one can be
    a frame or a store read later. So the wait is armed from inside the change: a watcher on the
    table's virtual size, which the table sets in the same step as its new rows (AgencyTable.rebuild),
    asks for the next refresh, which is the one that draws them."""

    def __init__(self, app: Any, table: Any) -> None:
        self.app = app
        self.armed = False
        self._when: asyncio.Future[tuple[float, float]] | None = None
        self._condition: Callable[[], bool] = lambda: False
        app.watch(table, "virtual_size", self._changed, init=False)

    def expect(self, condition: Callable[[], bool]) -> asyncio.Future[tuple[float, float]]:
        """(perf_counter, process_time) at the end of the first refresh after a change that makes
        `condition` true."""
        self._when = asyncio.get_running_loop().create_future()
        self._condition, self.armed = condition, False
        return self._when

    def _changed(self) -> None:
        when = self._when
        if when is None or when.done() or self.armed or not self._condition():
            return
        self.armed = True
        self.app.call_after_refresh(partial(_stamp, when))

    @staticmethod
    def next_refresh(app: Any) -> asyncio.Future[tuple[float, float]]:
        when: asyncio.Future[tuple[float, float]] = asyncio.get_running_loop().create_future()
        app.call_after_refresh(partial(_stamp, when))
        return when


def _stamp(when: asyncio.Future[tuple[float, float]]) -> None:
    if not when.done():
        when.set_result((time.perf_counter(), time.process_time()))


def _holds_every_record(app: Any, table: Any) -> bool:
    return 0 < len(app.records) == table.row_count


async def _time_keystroke(watch: _PaintWatch, pilot: Any, table: Any, key: str) -> float | None:
    """Seconds from pressing `key` to the end of the refresh that paints the changed table (None: no change).

    Pilot.press returns only once the whole process has been idle for a while, so the key is pressed
    in a task and the refresh awaited beside it.
    """
    before = table.row_count
    painted = watch.expect(lambda: table.row_count != before)
    t0 = time.perf_counter()
    press = asyncio.create_task(pilot.press(key))
    took = None
    with contextlib.suppress(TimeoutError):
        painted_at, _ = await asyncio.wait_for(asyncio.shield(painted), 60.0)
        took = painted_at - t0
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
