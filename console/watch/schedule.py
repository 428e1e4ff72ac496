"""Who the watcher rechecks, and when: a pure function of the store's records and the clock.

Nothing is kept apart from the verdicts themselves: "when was it last tried" is the current
verdict's `checked_at`, and how far an E agency has backed off follows from how long it has been E
(`group_changed_at`): each retry waits as long as the agency has already been E, at least
`e_first_delay` and at most `e_max_delay` (15 min, 15, 30, 60, ... with the defaults), which is the
doubling back-off greylisting wants without a counter that could drift from the store.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.rules import WAITING_STATES


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """`[watch]` in the config. Seconds; a recheck never goes faster than the scan's politeness limits."""

    waiting_interval: float = 1800.0  # agencies "called, waiting for the fix"
    e_first_delay: float = 900.0  # first retry of an E agency (greylisting wants 5-15 min)
    e_max_delay: float = 21_600.0  # the back-off of E agencies stops growing here (6 h)
    daily: bool = False  # also every B-E agency once a day
    daily_interval: float = 86_400.0
    poll: float = 5.0  # how often an idle watcher looks whether the store changed (a stat of its files)


class Reason(enum.StrEnum):
    WAITING = "waiting"
    RETRY_E = "retry_e"
    DAILY = "daily"


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the schedule needs to know of one agency (built from a store record)."""

    agency_id: str
    followup: str | None
    group: str | None  # None: never checked
    bucket: str  # "A", "BE", "W" or "unchecked"
    checked_at: datetime | None  # the last try
    group_since: datetime | None  # when the current group began
    temporary: bool = False  # the group is "not yet verifiable" (the ruleset's, console.rules: E by default)


@dataclass(frozen=True, slots=True)
class Plan:
    due: tuple[tuple[str, Reason], ...]  # agency id and why, in the order given
    next_at: datetime | None  # the earliest time something not yet due will be; None: nothing watched


def e_delay(candidate: Candidate, config: WatchConfig) -> timedelta:
    """How long an E (temporary) agency waits after its last try: as long as it has been E, within the bounds."""
    first = max(0.0, config.e_first_delay)
    ceiling = max(first, config.e_max_delay)
    age = 0.0
    if candidate.checked_at is not None and candidate.group_since is not None:
        age = (candidate.checked_at - candidate.group_since).total_seconds()
    return timedelta(seconds=min(ceiling, max(first, age)))


def due_at(candidate: Candidate, config: WatchConfig) -> tuple[datetime | None, Reason] | None:
    """When this agency is next due and why; (None, reason) means "now" (never tried); None: not watched."""
    options: list[tuple[timedelta, Reason]] = []
    if candidate.followup in WAITING_STATES:
        options.append((timedelta(seconds=config.waiting_interval), Reason.WAITING))
    if candidate.temporary:
        options.append((e_delay(candidate, config), Reason.RETRY_E))
    if config.daily and candidate.bucket == "BE":
        options.append((timedelta(seconds=config.daily_interval), Reason.DAILY))
    if not options:
        return None
    wait, reason = min(options, key=lambda item: item[0])
    if candidate.checked_at is None:
        return None, reason
    return candidate.checked_at + wait, reason


def plan(candidates: Iterable[Candidate], now: datetime, config: WatchConfig) -> Plan:
    """The agencies due at `now`, and when the next one will be."""
    due: list[tuple[str, Reason]] = []
    upcoming: datetime | None = None
    for candidate in candidates:
        found = due_at(candidate, config)
        if found is None:
            continue
        at, reason = found
        if at is None or at <= now:
            due.append((candidate.agency_id, reason))
        elif upcoming is None or at < upcoming:
            upcoming = at
    return Plan(tuple(due), upcoming)
