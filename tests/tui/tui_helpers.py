"""Helpers for the console tests: what the screen shows, and waiting for workers without sleeping blindly."""

from __future__ import annotations

import contextlib
import html
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from rich.cells import cell_len
from textual import events
from textual.app import App
from textual.keys import KEY_NAME_REPLACEMENTS
from textual.pilot import Pilot
from textual.widgets import OptionList
from textual.worker import WorkerCancelled

from console.tui.app import SarabanApp
from console.tui.widgets import AgencyTable, GroupsPane

SIZE = (120, 40)


# One text run of Rich's SVG export (what App.export_screenshot returns): its x (cell * CELL_WIDTH), its line.
_SVG_TEXT = re.compile(r'<text class="[^"]*" x="([0-9.]+)" y="[0-9.]+" textLength="[0-9.]+" '
                       r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>')
CELL_WIDTH = 12.2  # Rich's export_svg: font size 20 x aspect ratio 0.61 per terminal cell


def screen_text(app: SarabanApp) -> str:
    """The characters on the terminal right now, line by line (read from the app's screenshot)."""
    lines = [""] * app.size.height
    for x, row, text in _SVG_TEXT.findall(app.export_screenshot(simplify=True)):
        line = lines[int(row)]
        column = round(float(x) / CELL_WIDTH)
        lines[int(row)] = line + " " * max(0, column - cell_len(line)) + html.unescape(text).replace("\xa0", " ")
    return "\n".join(lines)


async def wait_for_workers(app: SarabanApp) -> None:
    """Wait until no worker but a scan is running, counting those started while we wait.

    A scan worker may be held at a gate on purpose, so it is left alone. An exclusive worker (the detail
    pane's load) is cancelled by design when a newer one replaces it: that one has ended, and we go on
    to wait for its replacement. `WorkerManager.wait_for_complete` cannot be used here: it raises on
    the first cancelled worker and stops waiting for the others. A worker that failed still raises.
    """
    while running := [w for w in app.workers if w.group != "scan" and not w.is_finished]:
        for worker in running:
            # superseded, not failed: the loop waits for its replacement
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()


async def settle(pilot: Pilot[Any], app: SarabanApp) -> None:
    """Let workers finish and the screen catch up (the table flushes every 300 ms)."""
    for _ in range(2):
        await wait_for_workers(app)
        await pilot.pause()
    app.flush_pending()
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], app: SarabanApp, predicate: Callable[[], bool]) -> None:
    for _ in range(100):
        await settle(pilot, app)
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never held")


def key_name(character: str) -> str:
    """The key a terminal reports for `character`: itself when alphanumeric, else its Unicode name in
    snake case ("full_stop", "thai_character_mai_ek"), as Textual names keys."""
    if character.isalnum():
        return character
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        name = {"\t": "tab"}.get(character, character)
    return KEY_NAME_REPLACEMENTS.get(name, name)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type like a terminal does: each key carries its character (Pilot.press drops Thai tone marks)."""
    app = pilot.app
    for ch in text:
        app.post_message(events.Key(key_name(ch), ch))
    await pilot.pause()


_NOTICES: dict[int, list[str]] = {}  # id(app) -> every notification it showed, in order


def record_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep what each app passes to `App.notify` (run_test draws no toasts: notifications=False)."""
    _NOTICES.clear()
    original = App.notify

    def notify(self: App[Any], message: str, *args: Any, **kwargs: Any) -> None:
        _NOTICES.setdefault(id(self), []).append(str(message))
        original(self, message, *args, **kwargs)

    monkeypatch.setattr(App, "notify", notify)


def notices(app: SarabanApp) -> str:
    """Every notification (toast) the operator has been shown so far."""
    return "\n".join(_NOTICES.get(id(app), []))


def palette_choice(app: SarabanApp) -> str:
    """What Enter in the open command palette would run now: its highlighted hit ("" while none)."""
    hits = app.screen.query(OptionList)
    if not hits or hits.first().highlighted is None:
        return ""
    found = hits.first()
    return str(found.get_option_at_index(found.highlighted).prompt)


async def run_from_palette(pilot: Pilot[Any], app: SarabanApp, query: str, hit: str) -> None:
    """ctrl+p, type `query`, wait until the highlighted hit says `hit` (the search is async), Enter."""
    await pilot.press("ctrl+p")
    await type_text(pilot, query)
    await wait_until(pilot, app, lambda: hit in palette_choice(app))
    await pilot.press("enter")


async def press_down_to(pilot: Pilot[Any], pane: GroupsPane, key: str) -> None:
    """Press Down in the focused groups pane until the line `key` is highlighted (it goes round once)."""
    for _ in range(len(pane.keys) + 1):
        if pane.highlighted_key == key:
            return
        await pilot.press("down")
    raise AssertionError(f"no line {key!r} in the groups pane: {pane.keys}")


def table(app: SarabanApp) -> AgencyTable:
    return app.query_one("#agencies", AgencyTable)


def shown_ids(app: SarabanApp) -> list[str]:
    return list(table(app).keys)


async def select(pilot: Pilot[Any], app: SarabanApp, agency_id: str) -> None:
    t = table(app)
    t.focus()
    t.move_cursor(row=t.get_row_index(agency_id))
    await settle(pilot, app)


async def open_on(pilot: Pilot[Any], app: SarabanApp, agency_id: str, key: str) -> None:
    """The operator's first moves: the screen settled, the agency selected, `key` pressed (a dialog opens)."""
    await settle(pilot, app)
    await select(pilot, app, agency_id)
    await pilot.press(key)
    await pilot.pause()
