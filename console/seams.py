"""The typed seams between the console and what it drives: the store, the runner, the config.

The console is written against these Protocols, not against `console.store.Store`,
`console.runner.Runner` or `console.config.AppConfig` themselves, so a test's stand-in (or a
read-only store for `saraban serve`) is checked against the same contract as the real thing.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from checks.config import EngineConfig
from checks.events import EventSink, ScanFinished
from checks.model import Agency, Verdict
from console.rules import Record

if TYPE_CHECKING:  # the scheduler (DNS, SMTP) is imported when a scan starts, not when the console opens
    from checks.scheduler import Backlog
    from console.config import ConsoleSettings


class ImportOutcome(Protocol):
    """What an import did: agency ids added, changed, unchanged and missing from the new list."""

    @property
    def added(self) -> Sequence[str]: ...
    @property
    def changed(self) -> Sequence[str]: ...
    @property
    def unchanged(self) -> Sequence[str]: ...
    @property
    def missing(self) -> Sequence[str]: ...


class Recorded(Protocol):
    """A correction as saved: the console reads only that it happened."""

    @property
    def id(self) -> str: ...


@runtime_checkable
class ConsoleStore(Protocol):
    """The store as the console uses it. Every call may do file I/O: the console calls it in a thread."""

    @property
    def path(self) -> Path: ...

    def records(self, *, with_history: bool = True, light: bool = False) -> Sequence[Record]: ...
    def record(self, agency_id: str) -> Record: ...
    def generation(self) -> Hashable: ...
    def snapshots(self) -> Sequence[Mapping[str, Any]]: ...
    def add_note(self, agency_id: str, text: str, operator: str) -> object: ...
    def set_followup(self, agency_id: str, state: str | None, operator: str) -> None: ...
    def merge_import(self, agencies: Sequence[Agency], *, source: str, operator: str) -> ImportOutcome: ...


@runtime_checkable
class ConsoleRunner(Protocol):
    """Scans, rechecks and corrections (console.runner.Runner); results are saved by the runner."""

    @property
    def running(self) -> bool: ...
    @property
    def paused(self) -> bool: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def backlog(self) -> Backlog | None: ...
    async def scan(
        self, agency_ids: Sequence[str] | None = None, on_event: EventSink | None = None
    ) -> ScanFinished: ...
    async def recheck(self, agency_id: str, on_event: EventSink | None = None) -> Verdict | None: ...
    async def correct(
        self, agency_id: str, new_address: str, reason: str, operator: str, *, recheck: bool = True
    ) -> tuple[Recorded, Verdict | None]: ...


class ConsoleConfig(Protocol):
    """The settings the console reads (console.config.AppConfig)."""

    @property
    def engine(self) -> EngineConfig: ...
    @property
    def language(self) -> str: ...
    @property
    def operator(self) -> str: ...
    @property
    def keys(self) -> Mapping[str, str]: ...
    @property
    def export_dir(self) -> Path: ...
    @property
    def console(self) -> ConsoleSettings: ...
