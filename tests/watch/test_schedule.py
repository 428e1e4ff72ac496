"""Who the watcher rechecks when: the pure schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.watch.schedule import Candidate, Reason, WatchConfig, due_at, e_delay, plan

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CFG = WatchConfig(waiting_interval=1800, e_first_delay=900, e_max_delay=21_600, daily=False)


def cand(
    agency_id: str = "a",
    *,
    followup: str | None = None,
    group: str | None = "D3",
    bucket: str = "BE",
    ago: float | None = 0.0,
    group_age: float | None = None,
) -> Candidate:
    checked = NOW - timedelta(seconds=ago) if ago is not None else None
    since = checked - timedelta(seconds=group_age) if checked is not None and group_age is not None else checked
    return Candidate(agency_id, followup, group, bucket, checked, since, temporary=group == "E")  # the default ruleset


def test_waiting_agency_is_due_once_the_interval_has_passed() -> None:
    assert plan([cand(followup="called_waiting", ago=1799)], NOW, CFG).due == ()
    assert plan([cand(followup="called_waiting", ago=1800)], NOW, CFG).due == (("a", Reason.WAITING),)


def test_next_run_is_the_earliest_future_due_time() -> None:
    result = plan([cand("x", followup="called_waiting", ago=600), cand("y", group="E", ago=60)], NOW, CFG)
    assert result.due == ()
    assert result.next_at == NOW + timedelta(seconds=840)  # y: 900 s after its try 60 s ago


def test_unwatched_agencies_give_no_next_run() -> None:
    result = plan([cand(group="A1", bucket="A"), cand("b", group="D1")], NOW, CFG)
    assert result == plan([], NOW, CFG)
    assert result.next_at is None


def test_never_checked_waiting_agency_is_due_now() -> None:
    assert plan([cand(followup="called_waiting", group=None, ago=None)], NOW, CFG).due == (("a", Reason.WAITING),)


def test_e_backs_off_doubling_from_the_first_delay_up_to_the_cap() -> None:
    delays = [e_delay(cand(group="E", group_age=age), CFG).total_seconds() for age in (0, 900, 2700, 6300, 90_000)]
    assert delays == [900, 900, 2700, 6300, 21_600]


def test_e_agency_retry_waits_for_its_back_off() -> None:
    young = cand(group="E", ago=899, group_age=0)
    assert due_at(young, CFG) == (NOW + timedelta(seconds=1), Reason.RETRY_E)
    old = cand(group="E", ago=1000, group_age=3600)  # E for an hour: waits an hour after the last try
    assert plan([old], NOW, CFG).due == ()
    assert plan([old], NOW + timedelta(seconds=2600), CFG).due == (("a", Reason.RETRY_E),)


def test_daily_only_when_enabled_and_only_b_to_e() -> None:
    day = 86_400
    items = [cand("be", ago=day), cand("a", group="A1", bucket="A", ago=day), cand("w", group="W", bucket="W", ago=day)]
    assert plan(items, NOW, CFG).due == ()
    daily = WatchConfig(daily=True)
    assert plan(items, NOW, daily).due == (("be", Reason.DAILY),)


def test_the_shortest_reason_wins() -> None:
    both = cand(followup="called_waiting", group="E", ago=1000, group_age=0)
    assert plan([both], NOW, CFG).due == (("a", Reason.RETRY_E),)


def test_fixed_verified_agency_is_no_longer_waiting() -> None:
    assert plan([cand(followup="fixed_verified", group="A1", bucket="A", ago=99_999)], NOW, CFG).due == ()
