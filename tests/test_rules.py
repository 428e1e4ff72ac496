"""The follow-up rules (console.rules) and the console's pure view functions, without a screen."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from checks.config import DEFAULT_RULES, EngineConfig, Rule
from checks.model import Agency, Evidence, Verdict
from console.rules import (
    UNCHECKED,
    Ruleset,
    Scope,
    bucket_of,
    changed_since,
    count_groups,
    followup_exclusions,
    group_of,
    is_stale,
    needs_followup,
    scope_filter,
    select,
)
from console.store import AgencyRecord, Correction
from console.tui.view import group_lines, sort_records

RULESET = Ruleset.of(EngineConfig())
T1 = "2025-09-01T09:00:00+07:00"
T2 = "2025-10-01T09:00:00+07:00"


def agency(agency_id: str, **kw: str) -> Agency:
    fields = {"name": f"อบต.{agency_id}", "declared": f"{agency_id}@dla.go.th", "seq": agency_id.split("-")[-1],
              "district": "แม่สอด", "province": "ตาก", "kind": "องค์การบริหารส่วนตำบล"} | kw  # fmt: skip
    return Agency(agency_id, fields["name"], fields["declared"], fields["seq"], fields["district"],
                  fields["province"], fields["kind"])  # fmt: skip


def verdict(a: Agency, group: str, at: str = T1, address: str | None = None) -> Verdict:
    checked = a.declared if address is None else address
    return Verdict(a.id, group, (), (), Evidence(checked, checked, None, None, group, -1, at, 1.0), None, at)


def record(a: Agency, group: str | None = None, *, at: str = T1, history: tuple[Verdict, ...] = (),
           corrected_to: str | None = None, followup: str | None = None) -> AgencyRecord:  # fmt: skip
    corrections = (
        (Correction("c1", a.id, "op", T2, a.declared, corrected_to, "โทรแจ้ง"),) if corrected_to else ()
    )
    return AgencyRecord(a, verdict(a, group, at) if group else None, history, corrections, (), followup, (), None)


def test_an_empty_bucket_is_read_from_the_group_code_the_same_everywhere() -> None:
    rules = (Rule("A9", "x", any_of=("mail_accepted",)), Rule("W2", "x", any_of=("upgraded",)),
             Rule("Q", "x", any_of=("q",)), Rule("Z", "x", any_of=("z",), bucket="A"))  # fmt: skip
    ruleset = Ruleset(rules)
    assert [ruleset.bucket(g) for g in ("A9", "W2", "Q", "Z", "A7-unknown")] == ["A", "W", "BE", "A", "A"]
    assert ruleset.ready == frozenset({"A9", "Z"})
    from console.report import bucket_of as report_bucket

    assert [report_bucket(g, rules) for g in ("A9", "W2", "Q", "Z", None)] == ["A", "W", "BE", "A", "unchecked"]


def test_ready_groups_come_from_the_ruleset() -> None:
    assert RULESET.ready == frozenset({"A1", "A2"})
    custom = Ruleset(tuple(replace(r, bucket="A") if r.group == "D3" else r for r in DEFAULT_RULES))
    assert "D3" in custom.ready and not custom.is_followup_group("D3")


def test_needs_followup_is_b_to_e_without_e_and_says_what_it_leaves_out() -> None:
    records = [record(agency(f"t-{i}"), g) for i, g in enumerate(["B1", "D3", "C", "E", "E", "W", "A1", None])]
    records.append(record(agency("t-stale"), "D1", corrected_to="new@dla.go.th"))
    assert [needs_followup(r, RULESET) for r in records] == [True, True, True, False, False, False, False, False, False]
    left_out = {e.reason: (e.count, e.groups) for e in followup_exclusions(records, RULESET)}
    assert left_out == {"waiting": (2, ("E",)), "upgraded": (1, ("W",)), "unchecked": (2, (UNCHECKED,))}


def test_a_verdict_about_an_address_no_longer_used_is_stale_and_counts_as_unchecked() -> None:
    a = agency("t-1")
    stale = record(a, "D1", corrected_to="saraban@dla.go.th")
    assert is_stale(stale) and group_of(stale) is None and bucket_of(stale, RULESET) == UNCHECKED
    fresh = replace(stale, verdict=verdict(a, "A1", T2, address="saraban@dla.go.th"))
    assert not is_stale(fresh) and group_of(fresh) == "A1"
    same_but_spaced = record(replace(a, declared=f" {a.declared} "), "B1")
    assert not is_stale(replace(same_but_spaced, verdict=verdict(a, "B1")))


def test_changed_since_means_the_group_changed_not_checked() -> None:
    a = agency("t-1")
    again = record(a, "B1", at=T2, history=(verdict(a, "B1", T1),))
    fixed = record(a, "A1", at=T2, history=(verdict(a, "B1", T1),))
    first = record(a, "B1", at=T2)
    assert not changed_since(again, "2025-09-15")
    assert changed_since(fixed, "2025-09-15") and changed_since(first, "2025-10-01")
    assert not changed_since(fixed, "2025-10-02")
    corrected = record(a, "B1", at=T1, corrected_to="x@dla.go.th")  # the correction at T2 is a change
    assert changed_since(corrected, "2025-09-15")


def test_scope_filter_combines_every_condition() -> None:
    records = [
        record(agency("t-1", name="องค์การบริหารส่วนตำบลแม่ตื่น"), "B1"),
        record(agency("t-2", district="แม่ระมาด"), "B1"),
        record(agency("t-3", province="พะเยา"), "D3"),
        record(agency("t-4", kind="เทศบาลตำบล"), "A1"),
        record(agency("t-5"), None),
    ]

    def ids(scope: Scope) -> list[str]:
        return [r.agency.id for r in select(records, scope, RULESET)]

    assert ids(Scope()) == ["t-1", "t-2", "t-3", "t-4", "t-5"]
    assert ids(Scope(search="อบต.แม่ตื่น")) == ["t-1"]  # the abbreviation operators type
    assert ids(Scope(group="B1", district="แม่สอด")) == ["t-1"]
    assert ids(Scope(bucket="BE", province="ตาก")) == ["t-1", "t-2"]
    assert ids(Scope(bucket=UNCHECKED)) == ["t-5"]
    assert ids(Scope(kind="เทศบาลตำบล")) == ["t-4"]
    assert ids(Scope(followup_only=True, province="พะเยา")) == ["t-3"]
    assert ids(Scope(groups=frozenset({"A1", UNCHECKED}))) == ["t-4", "t-5"]
    assert ids(Scope(search="t-3 พะเยา")) == ["t-3"]  # every word must be found
    assert scope_filter(Scope(), RULESET)(records[0])


def test_search_finds_the_follow_up_status_in_either_language_on_every_surface() -> None:
    """The console and `saraban export --search` select with the same Scope: "รอแก้ไข" (or "waiting")
    finds the agencies someone called, and only them."""
    from console.i18n import tr

    records = [record(agency("t-1"), "D3", followup="called_waiting"), record(agency("t-2"), "D3")]
    for lang in ("th", "en"):
        words = tr("followup.status.waiting", lang)
        assert [r.agency.id for r in select(records, Scope(search=words), RULESET)] == ["t-1"]


@pytest.mark.parametrize(
    ("column", "reverse", "expected"),
    [
        ("seq", False, ["2", "10", "100"]),  # ลำดับที่ as numbers, not text
        ("seq", True, ["100", "10", "2"]),
        ("name", False, ["100", "2", "10"]),  # ก < เทศบาล (filed under ท) < อบต.
        ("group", False, ["10", "2", "100"]),  # ruleset order: B1 before D3; unchecked last
        ("checked", False, ["100", "2", "10"]),
    ],
)
def test_sort_records(column: str, reverse: bool, expected: list[str]) -> None:
    records = [
        record(agency("t-2", name="เทศบาลตำบลบ้านต๊ำ", seq="2"), "D3", at=T1),
        record(agency("t-10", name="องค์การบริหารส่วนตำบลหนองบัว", seq="10"), "B1", at=T2),
        record(agency("t-100", name="กรมการปกครอง", seq="100"), None),
    ]
    assert [r.agency.seq for r in sort_records(records, column, reverse, RULESET)] == expected


def test_group_lines_count_buckets_groups_and_unchecked_with_change() -> None:
    counts = Counter({"B1": 3, "A1": 5, "W": 1, UNCHECKED: 1})
    previous = Counter({"B1": 4, "A1": 3})
    lines = {line.key: line for line in group_lines(counts, previous, RULESET, "en")}
    assert lines["all"].count == 10
    assert (lines["bucket:A"].count, lines["bucket:A"].delta) == (5, 2)
    assert (lines["bucket:BE"].count, lines["bucket:BE"].delta) == (3, -1)
    assert lines["group:B1"].percent == pytest.approx(30.0)
    assert "group:W" not in lines  # the W bucket line already says it
    assert "group:D3" not in lines  # an empty group costs a line and says nothing
    assert lines["unchecked"].count == 1
    assert count_groups([record(agency("t-1"), "B1"), record(agency("t-2"))]) == Counter({"B1": 1, UNCHECKED: 1})
