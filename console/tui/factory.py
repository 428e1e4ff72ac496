"""The one way to make the console: `saraban`, `saraban demo`, the bench and the tests all call
`make_app`, so what they run is the app an operator gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from console.config import AppConfig
from console.runner import Runner
from console.seams import ConsoleRunner
from console.store import Store
from console.tui.app import SarabanApp

if TYPE_CHECKING:
    from console.tui.screens import AddressReader


def make_app(
    config: AppConfig,
    store: Store,
    runner: ConsoleRunner | None = None,
    *,
    title_suffix: str = "",
    autostart_scan: bool = False,
    clock: Callable[[], datetime] | None = None,
    address_reader: AddressReader | None = None,
    read_only: bool = False,
) -> SarabanApp:
    """The console on `store`, scanning with `runner` (by default a Runner on the store and config)."""
    return SarabanApp(
        store,
        runner if runner is not None else Runner(store, config),
        config,
        title_suffix=title_suffix,
        autostart_scan=autostart_scan,
        clock=clock,
        address_reader=address_reader,
        read_only=read_only,
    )
