"""Events the scanner emits while it works; the CLI and the console consume them.

Events are plain immutable data. A consumer must not block: the scanner calls the callback from its
event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from checks.model import Agency, Verdict


@dataclass(frozen=True, slots=True)
class ScanStarted:
    total: int
    at: str


@dataclass(frozen=True, slots=True)
class AgencyChecked:
    """One agency has its verdict (already confirmed by the network canary when that matters)."""

    agency: Agency
    verdict: Verdict
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    address: str
    host: str
    attempt: int  # the pass that will run (2 = first retry)
    delay_s: float
    reason: str  # e.g. "450 4.7.1 greylisted"


@dataclass(frozen=True, slots=True)
class CanaryFailed:
    """Our own network looks broken: nothing from this period is recorded as D."""

    reason: str
    withheld: int  # results discarded / held back because they could be our fault


@dataclass(frozen=True, slots=True)
class CanaryRestored:
    after_s: float


@dataclass(frozen=True, slots=True)
class ProberBlocked:
    """A host rejected the prober itself (5.7.x / blocklist): we may be blocked there."""

    host: str
    reply: str


@dataclass(frozen=True, slots=True)
class PreflightWarning:
    """A doctor check before a full scan warned; the scan goes on (the message is already worded)."""

    message: str


@dataclass(frozen=True, slots=True)
class ScanPaused:
    reason: str


@dataclass(frozen=True, slots=True)
class ScanResumed:
    pass


@dataclass(frozen=True, slots=True)
class ScanFinished:
    total: int
    done: int
    counts: dict[str, int] = field(default_factory=dict)  # group → n
    elapsed_s: float = 0.0
    stopped: str | None = None  # None when complete; else why ("canary: …", "stopped by operator")
    unfinished: tuple[str, ...] = ()  # agency ids without a verdict from this scan


Event = (
    ScanStarted
    | AgencyChecked
    | RetryScheduled
    | CanaryFailed
    | CanaryRestored
    | ProberBlocked
    | PreflightWarning
    | ScanPaused
    | ScanResumed
    | ScanFinished
)
EventSink = Callable[[Event], None]
