"""The console's state without a screen: rows in scope, sort, marks, what stays on screen, scan progress."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from test_rules import RULESET, agency, record, verdict

from checks import events as ev
from console.rules import UNCHECKED, Scope
from console.tui.state import ConsoleState, ScanProgress, group_line_key, scope_for_group_line

NOW = datetime(2025, 10, 8, 15, 0, tzinfo=timezone(timedelta(hours=7)))


def state_with(*groups: str | None) -> ConsoleState:
    state = ConsoleState(RULESET)
    state.apply_records([record(agency(f"t-{i + 1}"), g) for i, g in enumerate(groups)])
    return state


def test_rows_follow_scope_and_sort() -> None:
    state = state_with("B1", "A1", "D3", None)
    assert state.visible_ids() == ["t-1", "t-2", "t-3", "t-4"]
    state.scope = Scope(bucket="BE")
    assert state.visible_ids() == ["t-1", "t-3"]
    assert [r.agency.id for r in state.in_scope()] == ["t-1", "t-2", "t-3", "t-4"]  # the groups pane counts all
    state.sort_column, state.sort_reverse = "seq", True
    assert state.visible_ids() == ["t-3", "t-1"]
    assert state.next_sort() == ("name", False)
    assert state.header_sort("seq") == ("seq", False) and state.header_sort("flags") is None


def test_an_agency_acted_on_stays_until_the_view_changes() -> None:
    state = state_with("B1", "A1")
    state.scope = Scope(followup_only=True)
    state.keep_on_screen("t-1")
    state.apply_verdict("t-1", verdict(agency("t-1"), "A1"))
    assert state.visible_ids() == ["t-1"]  # fixed, and still seen
    state.scope = Scope()
    state.visible_ids()
    state.scope = Scope(followup_only=True)
    assert state.visible_ids() == []


def test_reload_keeps_a_streamed_verdict_newer_than_the_store() -> None:
    state = state_with("B1")
    state.apply_verdict("t-1", verdict(agency("t-1"), "A1", at="2025-12-01T00:00:00+07:00"))
    state.take_pending()
    state.apply_records([record(agency("t-1"), "B1")])  # the runner has not saved its batch yet
    assert state.records["t-1"].verdict is not None and state.records["t-1"].verdict.group == "A1"
    assert state.take_pending() == set()  # nothing to redraw


def test_the_first_load_draws_every_row_and_a_reload_sees_what_went_and_what_changed() -> None:
    state = ConsoleState(RULESET)
    removed = state.apply_records([record(agency("t-1"), "B1"), record(agency("t-2"), "A1")])
    assert removed is False and state.take_pending() == {"t-1", "t-2"}
    assert [group for _, _, group in state.rows()] == ["B1", "A1"]
    # a reload: t-2 is gone (merged by another operator), t-1 has a new group that the rows must show
    assert state.apply_records([record(agency("t-1"), "D3")]) is True
    assert state.take_pending() == {"t-1"}
    assert [(key, group) for key, _, group in state.rows()] == [("t-1", "D3")]


def test_a_reload_of_unchanged_records_does_not_work_out_their_search_texts_and_groups_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """During a scan the console reloads every record each poll; with a search open, every
    agency's search text (and every effective group) was made again each time. Only a changed
    record's is."""
    import console.tui.state as state_module

    made: list[str] = []
    grouped: list[str] = []
    haystack, group_of = state_module.search_haystack, state_module.group_of
    monkeypatch.setattr(state_module, "search_haystack", lambda rec: made.append(rec.agency.id) or haystack(rec))
    monkeypatch.setattr(state_module, "group_of", lambda rec: grouped.append(rec.agency.id) or group_of(rec))
    state = ConsoleState(RULESET)
    state.apply_records([record(agency("t-1"), "B1"), record(agency("t-2"), "A1")])
    state.scope = Scope(search="t-2")
    assert state.visible_ids() == ["t-2"] and sorted(made) == ["t-1", "t-2"]
    made.clear()
    grouped.clear()
    corrected = record(agency("t-1"), "B1", corrected_to="t-2-new@dla.go.th")
    state.apply_records([corrected, record(agency("t-2"), "A1")])  # new objects, one corrected
    assert state.visible_ids() == ["t-1", "t-2"]  # t-1 is found by its new address
    assert made == ["t-1"] and grouped == ["t-1"]
    assert [group for _, _, group in state.rows()] == [None, "A1"]  # t-1's verdict is now stale


def test_marks_decide_the_targets() -> None:
    state = state_with("B1", "D3", "C")
    state.order = state.visible_ids()
    assert state.targets("t-2") == ["t-2"]
    assert state.toggle_mark("t-3") and state.toggle_mark("t-1")
    assert state.targets("t-2") == ["t-1", "t-3"]  # table order
    assert not state.toggle_mark("t-1")
    assert state.followup_items() == [state.records[k] for k in ("t-1", "t-2", "t-3")]


def test_group_lines_and_scopes_round_trip() -> None:
    for key in ("all", "unchecked", "bucket:BE", "group:B3"):
        assert group_line_key(scope_for_group_line(Scope(province="ตาก"), key)) == key
    assert scope_for_group_line(Scope(group="B1"), "bucket:A") == Scope(bucket="A")
    assert scope_for_group_line(Scope(), "unchecked").bucket == UNCHECKED


def test_previous_snapshot_skips_the_one_that_is_shown_now() -> None:
    state = state_with("B1", "A1")
    older = {"at": "2025-09-01", "counts": {"ตาก": {"B1": 2}}}
    latest = {"at": "2025-10-01", "counts": {"ตาก": {"B1": 1, "A1": 1}}}
    state.snapshots = [older, latest]
    assert state.previous_snapshot(state.group_counts()) is older
    state.snapshots = [latest, older]
    assert state.previous_snapshot(state.group_counts()) is older


def test_scan_progress_follows_the_runner() -> None:
    progress = ScanProgress()
    progress.begin(3, NOW)
    assert progress.active and progress.state == "loading"
    progress.apply(ev.ScanStarted(3, "x"), NOW)
    a = agency("t-1")
    progress.apply(ev.RetryScheduled(a.declared, "mx", 1, 5.0, "421"), NOW)
    assert progress.retries == {a.declared: 1}
    progress.apply(ev.AgencyChecked(a, verdict(a, "B1"), 1, 3), NOW + timedelta(seconds=2))
    assert progress.retries == {} and progress.tallies["B1"] == 1
    rate, eta = progress.rate_eta(NOW + timedelta(seconds=2))
    assert rate == 0.5 and eta == 4.0
    progress.apply(ev.CanaryFailed("port 25", 2), NOW)
    assert progress.canary == ("port 25", 2)
    progress.apply(ev.ScanPaused("canary"), NOW)
    assert progress.toggle_pause() == "running"
    finished = ev.ScanFinished(3, 1, {"B1": 1}, 9.0, "stopped by operator")
    assert progress.finish(finished) and not progress.finish(finished)  # reported twice: taken once
    assert progress.state == "stopped" and not progress.active and progress.reason == "stopped by operator"
