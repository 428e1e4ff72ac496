"""The demo's first screen (the national sample world, sorted by ลำดับที่) shows distinct ลำดับที่."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tui_helpers import settle, shown_ids, table
from tui_sample import FakeRunner

from checks.sim.worlds import national_world
from console.config import AppConfig
from console.store import Store
from console.tui.app import SarabanApp


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_demo_first_screen_numbers_are_distinct(
    make_app: Callable[..., SarabanApp], config: AppConfig, tmp_path: Path, size: tuple[int, int]
) -> None:
    store = Store(tmp_path / "national" / "store.json")
    store.merge_import(national_world(400).agencies, source="demo: national sample world", operator="สมชาย")
    app = make_app(store=store, runner=FakeRunner(store, config=config))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        first_screen = shown_ids(app)[: size[1] - 6]
        numbers = [str(table(app).get_cell(key, "seq")).strip() for key in first_screen]
        assert numbers[:3] == ["1", "2", "3"]
        assert len(set(numbers)) == len(numbers), numbers
