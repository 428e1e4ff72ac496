"""Fixtures for the console tests: a real Store with Thai sample data (frozen clock), the real Runner
with its network replaced (tui_sample.FakeRunner), and the app made by the one factory."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_helpers import record_notices
from tui_sample import Config, FakeRunner, build_store

from console.config import AppConfig

FROZEN = "2025-10-08T15:00:00+07:00"
FROZEN_DT = datetime(2025, 10, 8, 15, 0, 0, tzinfo=timezone(timedelta(hours=7)))


@pytest.fixture(autouse=True)
def frozen_store_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notes, corrections and snapshots get a fixed timestamp (snapshots must not change by the day)."""
    import console.store.facade

    monkeypatch.setattr(console.store.facade, "now_iso", lambda: FROZEN)


@pytest.fixture(autouse=True)
def shown_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app's notifications are kept for tui_helpers.notices."""
    record_notices(monkeypatch)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    return build_store(tmp_path / "store.json")


@pytest.fixture
def runner(store: Any, config: AppConfig) -> FakeRunner:
    return FakeRunner(store, config=config)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    return Config(export_dir=export_dir)


@pytest.fixture
def make_app(store: Any, runner: FakeRunner, config: AppConfig) -> Callable[..., Any]:
    """The console as `saraban` makes it (console.tui.factory), on the sample store, with a frozen clock."""
    from console.tui.app import SarabanApp
    from console.tui.factory import make_app as factory

    def make(**kwargs: Any) -> SarabanApp:
        kwargs.setdefault("clock", lambda: FROZEN_DT)
        return factory(kwargs.pop("config", config), kwargs.pop("store", store), kwargs.pop("runner", runner), **kwargs)

    return make
