"""The console's seams: the real store and runner, and the tests' runner, keep the same contract."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from tui_sample import Config, FakeRunner

from console.runner import Runner
from console.seams import ConsoleRunner, ConsoleStore
from console.store import Store


def _signature(cls: type, name: str) -> list[str]:
    return [p.name for p in inspect.signature(getattr(cls, name)).parameters.values() if p.kind != p.VAR_KEYWORD]


def test_store_and_runners_satisfy_the_protocols(store: Store, tmp_path: Path) -> None:
    config = Config(store_path=tmp_path / "s.json")
    assert isinstance(store, ConsoleStore)
    for runner in (Runner(store, config), FakeRunner(store, config=config)):
        assert isinstance(runner, ConsoleRunner)
    # the fake replaces the network only: what the console calls has the Protocol's parameters
    for name in ("scan", "recheck", "correct"):
        wanted = _signature(ConsoleRunner, name)
        assert _signature(FakeRunner, name)[: len(wanted)] == wanted
        assert _signature(Runner, name)[: len(wanted)] == wanted
    assert FakeRunner.correct is Runner.correct  # corrections are the real Runner's, not a copy


def test_the_factory_makes_the_app_with_a_real_runner(store: Store, config: Any) -> None:
    from console.tui.factory import make_app

    app = make_app(config, store)
    assert isinstance(app.runner, Runner) and app.store is store
