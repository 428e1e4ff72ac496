"""The footer's words and the palette's keys, read through Textual's public binding API (issue 12)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_helpers import screen_text, settle
from tui_sample import Config, FakeRunner

from console.tui.app import SarabanApp
from console.tui.commands import footer_label


def _footer(app: SarabanApp) -> dict[str, tuple[str, bool]]:
    """Binding id -> (footer word, shown) as the footer reads them."""
    return {a.binding.id: (a.binding.description, a.binding.show) for a in app.screen.active_bindings.values() if a.binding.id}


async def test_footer_words_follow_the_width_and_the_language(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        footer = _footer(app)
        assert footer["filter"] == (footer_label("filter", "th"), True)
        assert footer["quit"][1] is False and footer["language"][1] is False  # help lists them at 80 columns
        assert footer_label("filter", "th") in screen_text(app).splitlines()[-1]
        await pilot.resize_terminal(120, 40)
        await settle(pilot, app)
        assert _footer(app)["quit"] == (footer_label("quit", "th"), True)
        await pilot.press("l")
        await settle(pilot, app)
        assert _footer(app)["quit"] == (footer_label("quit", "en"), True)
        assert footer_label("filter", "en") in screen_text(app).splitlines()[-1]


async def test_palette_names_the_key_the_keymap_gave(store: Any, runner: FakeRunner, tmp_path: Path) -> None:
    app = SarabanApp(store, runner, Config(export_dir=tmp_path, keys={"recheck": "g"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        titles = [entry.title for entry in app.palette_entries()]
        assert any(t.endswith("(g)") for t in titles)
        assert not any(t.endswith("(r)") for t in titles)  # r is no longer the recheck key
