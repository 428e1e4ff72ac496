"""The command palette's search line speaks the operator's language (Textual's own is English)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from tui_helpers import screen_text, settle

from console.config import AppConfig
from console.tui.app import SarabanApp


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("th", "พิมพ์เพื่อค้นหาคำสั่ง หรือจังหวัด อำเภอ กลุ่ม…"), ("en", "Type to search commands, or a province")],
)
async def test_palette_placeholder_in_operator_language(
    make_app: Callable[..., SarabanApp], config: AppConfig, lang: str, shown: str
) -> None:
    app = make_app(config=replace(config, language=lang))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await settle(pilot, app)
        text = screen_text(app)
        assert shown in text
        assert "Search for commands" not in text


async def test_palette_placeholder_follows_language_switch(make_app: Callable[..., SarabanApp]) -> None:
    """`l` switches to English: the next palette says it in English too."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("l")
        await settle(pilot, app)
        await pilot.press("colon")
        await settle(pilot, app)
        assert "Type to search commands" in screen_text(app)
