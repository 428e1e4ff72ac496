"""Domain policy: which findings an agency's (valid) address gets, and the typo check."""

from __future__ import annotations

import pytest

from checks.config import PolicyConfig
from checks.model import FREE_MAIL, NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT
from checks.policy import edit_distance_one, policy_findings

UNIVERSITY = "มหาวิทยาลัยของรัฐ"
POLICY = PolicyConfig(
    kind_allowances={
        UNIVERSITY: ("ac.th",),
        "รัฐวิสาหกิจ": ("pea.co.th",),
        "องค์การบริหารส่วนตำบล": ("dla.go.th",),
    },
    registered_domains=("egat.co.th", "tot.co.th"),
)

# address, kind → expected finding codes (in order)
CASES: list[tuple[str, str, list[str]]] = [
    # the three real rows of DOMAIN.md
    ("saraban@tambonthungluang.co.th", "เทศบาลตำบล", [NON_GOVERNMENT_DOMAIN]),
    ("Tasailuadmeasod@gmail.com", "องค์การบริหารส่วนตำบล", [FREE_MAIL]),
    ("saraban_663019@dla.go.th", "องค์การบริหารส่วนตำบล", []),
    # government suffixes, subdomains, label boundary
    ("saraban@opdc.go.th", "", []),
    ("saraban@mail.tak.go.th", "", []),
    ("saraban@army.mi.th", "", []),
    ("saraban@DLA.GO.TH", "", []),
    ("saraban@xgo.th", "", [NON_GOVERNMENT_DOMAIN]),
    ("saraban@go.th.example.com", "", [NON_GOVERNMENT_DOMAIN]),
    ("saraban@dla.gov.th", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    # free mail: exact and subdomain, never also non-government
    ("a@hotmail.co.th", "", [FREE_MAIL]),
    ("a@mail.yahoo.com", "", [FREE_MAIL]),
    ("a@notgmail.com", "", [NON_GOVERNMENT_DOMAIN]),
    # kind allowances
    ("saraban@cmu.ac.th", UNIVERSITY, []),
    ("saraban@cmu.ac.th", f"  {UNIVERSITY} ", []),
    ("saraban@cmu.ac.th", "เทศบาลนคร", [NON_GOVERNMENT_DOMAIN]),
    ("saraban@cmu.ac.th", "", [NON_GOVERNMENT_DOMAIN]),
    ("saraban@xac.th", UNIVERSITY, [NON_GOVERNMENT_DOMAIN]),
    ("saraban@pea.co.th", "รัฐวิสาหกิจ", []),
    ("saraban@mail.pea.co.th", "รัฐวิสาหกิจ", []),
    ("saraban@pea.co.th", UNIVERSITY, [NON_GOVERNMENT_DOMAIN]),
    # SARA AM typed as NIKHAHIT + SARA AA still matches the kind
    ("saraban@dla.go.th", "องค์การบริหารส่วนต\u0e4d\u0e32บล", []),
    # registered domains: any kind, exact or subdomain
    ("saraban@egat.co.th", "", []),
    ("saraban@mail.egat.co.th", "", []),
    ("saraban@xegat.co.th", "", [NON_GOVERNMENT_DOMAIN]),
    # typo suspects (plus whatever else applies)
    ("a@gmial.com", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    ("a@hotmial.com", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    ("a@gmail.co", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    ("a@yahooo.com", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    ("saraban@dla.go.tn", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    ("saraban@x.dla.go.tn", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    ("saraban@dla.goth", "", [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]),
    # real agencies one letter from a well-known government domain are not typos
    ("saraban@moe.go.th", "", []),
    ("saraban@dld.go.th", "", []),
    ("saraban@dop.go.th", "", []),
    # far from everything
    ("a@example.co.th", "", [NON_GOVERNMENT_DOMAIN]),
    ("a@ไทย.th", "", [NON_GOVERNMENT_DOMAIN]),
]


@pytest.mark.parametrize(("address", "kind", "codes"), CASES)
def test_policy_findings_table(address: str, kind: str, codes: list[str]) -> None:
    findings = policy_findings(address, kind, POLICY)
    assert [f.code for f in findings] == codes
    for finding in findings:
        assert finding.message
        assert finding.detail["domain"]


def test_free_mail_detail_names_the_provider() -> None:
    (finding,) = policy_findings("someone@mail.gmail.com", "", POLICY)
    assert finding.detail == {"domain": "mail.gmail.com", "provider": "gmail.com"}
    assert "free-mail" in finding.message


@pytest.mark.parametrize(
    ("address", "near"),
    [("a@gmial.com", "gmail.com"), ("a@dla.go.tn", "dla.go.th"), ("a@hotmial.com", "hotmail.com"),
     ("a@outlok.com", "outlook.com")],
)
def test_typo_detail_names_the_near_domain(address: str, near: str) -> None:
    typo = [f for f in policy_findings(address, "", POLICY) if f.code == TYPO_SUSPECT]
    assert len(typo) == 1
    assert typo[0].detail["near"] == near
    assert near in typo[0].message


def test_non_government_detail_lists_what_would_be_allowed() -> None:
    (finding,) = policy_findings("a@cmu.ac.th", "เทศบาลนคร", POLICY)
    assert finding.detail["domain"] == "cmu.ac.th"
    assert finding.detail["allowed"] == ["go.th", "mi.th"]


def test_well_known_list_comes_from_the_config() -> None:
    policy = PolicyConfig(well_known_domains=("opdc.go.th", "tak.go.th"))
    assert [f.code for f in policy_findings("a@tak.go.tn", "", policy)] == [NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT]
    assert [f.code for f in policy_findings("a@dla.go.tn", "", policy)] == [NON_GOVERNMENT_DOMAIN]


def test_government_suffixes_come_from_the_config() -> None:
    policy = PolicyConfig(government_suffixes=("go.th", "mi.th", "or.th"))
    assert policy_findings("a@nstda.or.th", "", policy) == []
    assert [f.code for f in policy_findings("a@nstda.or.th", "", POLICY)] == [NON_GOVERNMENT_DOMAIN]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("gmail.com", "gmail.com", False),  # equal: no edit
        ("gmail.com", "gmial.com", True),  # adjacent transposition
        ("gmail.com", "gmaill.com", True),  # insert
        ("gmail.com", "gmil.com", True),  # delete
        ("gmail.com", "gmael.com", True),  # substitute
        ("dla.go.th", "dla.go.tn", True),
        ("", "a", True),
        ("ab", "ba", True),
        ("abc", "cba", False),  # not adjacent
        ("gmail.com", "gmali.com", True),  # 'il' -> 'li'
        ("gmail.com", "gmlia.com", False),  # 'ail' -> 'lia': not adjacent
        ("gmail.com", "hotmail.com", False),
        ("abcd", "badc", False),  # two transpositions
        ("abc", "abcde", False),
        ("abc", "xbz", False),
    ],
)
def test_edit_distance_one(a: str, b: str, expected: bool) -> None:
    assert edit_distance_one(a, b) is expected
    assert edit_distance_one(b, a) is expected
