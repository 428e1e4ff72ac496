"""The console state's rows kept between keystrokes (issue 12 figures): what a search and the groups
pane show must follow every change of the records, the sort and the scope, exactly as the rules say."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from test_rules import RULESET, agency, record, verdict

from console.rules import Scope, count_groups, select
from console.tui.state import ConsoleState

GROUPS = ("A1", "B1", "B3", "D3", "E", "W", None)


def _state(n: int, seed: int = 7) -> ConsoleState:
    rng = random.Random(seed)
    state = ConsoleState(RULESET)
    names = ("หนองบัว", "ทุ่งหิน", "แม่สอด", "บ้านใหม่")
    state.apply_records(
        [record(agency(f"t-{i}", name=f"อบต.{rng.choice(names)}{i}"), rng.choice(GROUPS)) for i in range(1, n + 1)]
    )
    return state


def _expected(state: ConsoleState) -> list[str]:
    """The rules' own answer, record by record, in the state's order."""
    ordered = [state.records[key] for key in state.sorted_ids()]
    return [r.agency.id for r in select(ordered, state.scope.without_group(), RULESET)]


def test_a_search_and_its_counts_follow_the_rules_through_changes() -> None:
    state = _state(300)
    state.prepare_search()
    for search in ("หนองบัว", "ทุ่ง", "", "t-1", "หนองบัว 2"):
        state.scope = Scope(search=search)
        shown = state.in_scope()
        assert [r.agency.id for r in shown] == _expected(state)
        assert state.group_counts(shown) == count_groups(shown)
    # a new verdict (a scan streaming) moves a record to another group: the next keystroke counts it there
    state.scope = Scope(search="หนองบัว")
    first = state.in_scope()[0]
    state.apply_verdict(first.agency.id, verdict(first.agency, "C"))
    shown = state.in_scope()
    assert state.group_counts(shown)["C"] == sum(1 for r in shown if r.verdict and r.verdict.group == "C") >= 1
    # another order: the search keeps it
    state.sort_column, state.sort_reverse = "seq", True
    assert [r.agency.id for r in state.in_scope()] == _expected(state)
    # a search with another filter: both hold
    state.scope = Scope(search="หนองบัว", bucket="BE")
    assert [r.agency.id for r in state.visible()] == [
        r.agency.id for r in select([state.records[k] for k in state.sorted_ids()], state.scope, RULESET)
    ]


def test_a_reload_replaces_the_rows_a_search_reads() -> None:
    state = _state(50)
    state.scope = Scope(search="t-7")
    assert [r.agency.id for r in state.in_scope()] == _expected(state)
    renamed = [record(agency(r.agency.id, name="เทศบาลตำบลใหม่"), "A1") for r in state.records.values()]
    state.apply_records(renamed)
    state.scope = Scope(search="เทศบาลตำบลใหม่")
    assert len(state.in_scope()) == 50
    assert state.group_counts() == count_groups(renamed)
