"""Issue 11 item 6: advice for a blocked prober is about us; a comma for a dot gets its suggested fix."""

from __future__ import annotations

import asyncio

import pytest

from checks.address import read_address
from checks.config import DEFAULT_RULES
from checks.model import Agency, Verdict
from checks.scheduler import Scanner
from checks.sim.field import blocked_world
from checks.sim.internet import SimInternet
from console import export
from console.findings_text import rule_advice


@pytest.mark.parametrize(
    "declared",
    ["saraban@maeramat,go.th", "saraban@maeramat, go.th", "saraban@maeramat go.th", "saraban@maeramat.go,th"],
)
def test_a_comma_or_space_for_a_dot_gets_the_suggested_fix(declared: str) -> None:
    reading = read_address(declared)
    assert not reading.ok
    assert reading.suggestion == "saraban@maeramat.go.th"
    assert "Suggested fix: saraban@maeramat.go.th" in reading.message


def test_two_addresses_separated_by_a_comma_stay_a_list() -> None:
    reading = read_address("a@b.go.th,c@d.go.th")
    assert "multiple_addresses" in reading.problems


@pytest.fixture(scope="module")
def blocked_verdict() -> Verdict:
    """A real verdict from a host that refuses our prober at MAIL FROM (554 5.7.1)."""
    world = blocked_world(domains=1, per_domain=1, refusing_share=1.0)

    async def scan() -> Verdict:
        async with SimInternet(world) as internet:
            scanner = Scanner(internet.engine_config(retries=0))
            await scanner.run(world.agencies)
            return scanner.verdicts[world.agencies[0].id]

    return asyncio.run(scan())


def test_prober_blocked_advice_is_about_our_address_not_the_agency(blocked_verdict: Verdict) -> None:
    assert blocked_verdict.group == "E"
    rule = next(r for r in DEFAULT_RULES if r.group == "E")
    problem, fix = rule_advice(rule, "en", (f.code for f in blocked_verdict.findings))
    assert "our prober's address" in problem
    assert "Do not call the agency" in fix and "saraban doctor" in fix and "network administrator" in fix
    assert "Nothing yet" not in fix
    problem_th, fix_th = rule_advice(rule, "th", (f.code for f in blocked_verdict.findings))
    assert "ไม่ใช่ปัญหาของหน่วยงาน" in problem_th
    assert "ไม่ต้องโทรหาหน่วยงาน" in fix_th and "saraban doctor" in fix_th


def test_a_plain_temporary_e_keeps_the_rules_own_advice() -> None:
    rule = next(r for r in DEFAULT_RULES if r.group == "E")
    assert rule_advice(rule, "en", ["temporary_failure"]) == (rule.problem_en, rule.fix_en)


def test_the_follow_up_export_carries_the_same_advice(blocked_verdict: Verdict) -> None:
    agency = Agency(id=blocked_verdict.agency_id, name="อบต.ทดสอบ", declared="saraban0@tambon000.go.th")
    rows = export.followup_rows([(agency, blocked_verdict, agency.declared, [], None)], DEFAULT_RULES, lang="en")
    header = list(export.followup_header("en"))
    cells = dict(zip(header, rows[0], strict=False))
    assert any("Do not call the agency" in str(v) for v in cells.values()), cells
