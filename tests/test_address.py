"""read_address: what an operator sees for each way a Section 10 address is written wrong."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.address import PROBLEM_CODES, AddressReading, read_address

DATA = Path(__file__).parent / "data" / "tak-2568.tsv"

# declared → (problems, address, suggestion)
CASES: list[tuple[str, tuple[str, ...], str | None, str | None]] = [
    # the three real rows of DOMAIN.md
    ("saraban@tambonthungluang.co.th", (), "saraban@tambonthungluang.co.th", None),
    ("Tasailuadmeasod@gmail.com", (), "Tasailuadmeasod@gmail.com", None),
    ("saraban_๖๖๓๐๑๙@dla.go.th", ("thai_digits",), None, "saraban_663019@dla.go.th"),
    # clean forms
    ("  saraban@dla.go.th\t", (), "saraban@dla.go.th", None),
    ("SARABAN@DLA.GO.TH", (), "SARABAN@dla.go.th", None),
    ("a@ไทย.th", (), "a@ไทย.th", None),
    # empty
    ("", ("empty",), None, None),
    ("   ", ("empty",), None, None),
    # digits
    ("saraban@dopa๑.go.th", ("thai_digits",), None, "saraban@dopa1.go.th"),
    ("saraban_٦٦٣@dla.go.th", ("non_ascii_digits",), None, "saraban_663@dla.go.th"),
    ("saraban_۶۶@dla.go.th", ("non_ascii_digits",), None, "saraban_66@dla.go.th"),
    # invisible characters and odd spaces
    ("sara\u200bban@dla.go.th", ("zero_width",), None, "saraban@dla.go.th"),
    ("\ufeffsaraban@dla.go.th", ("zero_width",), None, "saraban@dla.go.th"),
    ("saraban@dla\u2060.go.th", ("zero_width",), None, "saraban@dla.go.th"),
    ("saraban\u00a0@dla.go.th", ("nbsp",), None, "saraban@dla.go.th"),
    ("\u00a0saraban@dla.go.th\u202f", ("nbsp",), None, "saraban@dla.go.th"),
    # full-width forms
    ("saraban＠dla.go.th", ("fullwidth_at",), None, "saraban@dla.go.th"),
    ("ｓａｒａｂａｎ＠ｄｌａ．ｇｏ．ｔｈ", ("fullwidth_at",), None, "saraban@dla.go.th"),
    ("saraban１@dla.go.th", ("fullwidth_at",), None, "saraban1@dla.go.th"),
    # mailto and display names
    ("mailto:saraban@dla.go.th", ("mailto",), None, "saraban@dla.go.th"),
    ("MailTo:saraban@dla.go.th?subject=x", ("mailto",), None, "saraban@dla.go.th"),
    ("Name <a@b.go.th>", ("display_name",), None, "a@b.go.th"),
    ("<a@b.go.th>", ("display_name",), None, "a@b.go.th"),
    ('"สารบรรณ อบต." <saraban@dla.go.th>', ("display_name",), None, "saraban@dla.go.th"),
    ("Email: saraban@dla.go.th", ("display_name",), None, "saraban@dla.go.th"),
    # several addresses
    ("a@b.go.th, c@d.go.th", ("multiple_addresses",), None, "a@b.go.th"),
    ("a@b.go.th;c@d.go.th", ("multiple_addresses",), None, "a@b.go.th"),
    ("a@b.go.th / c@d.go.th", ("multiple_addresses",), None, "a@b.go.th"),
    ("a@b.go.th c@d.go.th", ("multiple_addresses",), None, "a@b.go.th"),
    # line breaks and control characters: never a suggestion
    ("x@y.go.th\r\nRCPT TO:<z@w>", None, None, None),
    ("saraban@dla.go.th\n", ("crlf",), None, None),
    ("a@b.go.th\nc@d.go.th", ("multiple_addresses", "crlf"), None, None),
    ("saraban@dla.go.th\x1b[31m", ("control_chars",), None, None),
    ("sara\x00ban@dla.go.th", ("control_chars",), None, None),
    ("saraban@dla.go.th\x85", ("control_chars",), None, None),
    # not an address
    ("saraban", ("missing_at",), None, None),
    ("saraban dla.go.th", ("missing_at",), None, None),
    ("a@dla", ("missing_tld",), None, None),
    ("สารบรรณ@dla.go.th", ("bad_characters",), None, None),
    ("a@b_c.go.th", ("bad_characters",), None, None),
    ("saraban @ dla.go.th", ("bad_characters",), None, "saraban@dla.go.th"),
    ("saraban@dla.go.th.", ("bad_characters",), None, "saraban@dla.go.th"),
    ("(saraban@dla.go.th)", ("bad_characters",), None, "saraban@dla.go.th"),
    ("a@", ("invalid",), None, None),
    ("@dla.go.th", ("invalid",), None, None),
    ("a..b@dla.go.th", ("invalid",), None, None),
    ("a@xn--dopa-opo.go.th", ("bad_characters",), None, None),
]


@pytest.mark.parametrize(("declared", "problems", "address", "suggestion"), CASES)
def test_read_address_table(declared: str, problems: tuple[str, ...] | None, address: str | None,
                            suggestion: str | None) -> None:
    reading = read_address(declared)
    assert reading.declared == declared
    if problems is not None:
        assert reading.problems == problems, reading.message
    assert reading.address == address
    assert reading.suggestion == suggestion
    assert reading.ok is (address is not None)
    if reading.ok:
        assert reading.message == ""
        assert reading.candidates == (address,)
    else:
        assert reading.message  # the operator is always told why
    if suggestion is not None:
        assert read_address(suggestion).ok


def test_every_problem_code_is_covered_by_the_table() -> None:
    seen = {p for _, problems, _, _ in CASES if problems for p in problems}
    seen |= set(read_address("x@y.go.th\r\nRCPT TO:<z@w>").problems)
    assert seen == set(PROBLEM_CODES)


def test_thai_digit_message_names_the_digits_and_the_fix() -> None:
    reading = read_address("saraban_๖๖๓๐๑๙@dla.go.th")
    assert "Thai digits" in reading.message
    assert "๖" in reading.message
    assert "saraban_663019@dla.go.th" in reading.message
    assert reading.candidates == ("saraban_663019@dla.go.th",)


def test_smtp_injection_gives_no_suggestion_and_no_line_break_anywhere() -> None:
    reading = read_address("x@y.go.th\r\nRCPT TO:<z@w>")
    assert "crlf" in reading.problems
    assert reading.address is None and reading.suggestion is None
    assert not reading.ok
    for text in (reading.message, *reading.candidates):
        assert "\r" not in text and "\n" not in text
    assert "U+" not in "".join(reading.candidates)


def test_several_addresses_keep_every_valid_candidate() -> None:
    reading = read_address("a@b.go.th, c@d.go.th; e@f")
    assert reading.candidates == ("a@b.go.th", "c@d.go.th")
    assert "multiple_addresses" in reading.problems
    assert "missing_tld" in reading.problems
    assert reading.suggestion == "a@b.go.th"


def test_invalid_reason_from_email_validator_is_in_the_message() -> None:
    reading = read_address("a..b@dla.go.th")
    assert "period" in reading.message  # email-validator: "cannot have two periods in a row"


def test_non_ascii_local_part_says_why_and_proposes_nothing() -> None:
    reading = read_address("สารบรรณ@dla.go.th")
    assert "non-ASCII" in reading.message
    assert reading.suggestion is None and reading.candidates == ()


def test_idn_domain_keeps_its_wire_form() -> None:
    reading = read_address("a@ไทย.th")
    assert reading.ascii_address == "a@xn--o3cw4h.th"
    assert read_address("saraban@dla.go.th").ascii_address == "saraban@dla.go.th"


def test_real_rows_from_the_tak_list() -> None:
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    declared = [row[6] for row in rows[1:]]
    readings = [read_address(d) for d in declared]
    assert [r.ok for r in readings] == [True, True, False]
    assert readings[2].suggestion == "saraban_663019@dla.go.th"


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text)


def _check_invariants(reading: AddressReading) -> None:
    assert set(reading.problems) <= set(PROBLEM_CODES)
    assert not _has_control(reading.message)
    if reading.ok:
        assert reading.address is not None
        again = read_address(reading.address)
        assert again.ok and again.address == reading.address
    else:
        assert reading.address is None
        assert reading.problems
    if reading.suggestion is not None:
        assert not _has_control(reading.suggestion)
        fixed = read_address(reading.suggestion)
        assert fixed.ok, (reading.suggestion, fixed.problems)
        assert fixed.address == reading.suggestion
        assert reading.suggestion == reading.candidates[0]
    for candidate in reading.candidates:
        assert read_address(candidate).ok


_ALPHABET = st.sampled_from(
    [*"abcxyzSA019_.-+@,;/<>: \t\r\n\"'()?",
     "@dla.go.th", "saraban", ".go.th", "mailto:", "๑", "๙", "٣", "１", "＠", "ａ", "．", "\u200b", "\ufeff",
     "\u00a0", "\u202f", "\u3000", "\x00", "\x1b", "\x85", "ก", "ำ", "\u202e", "\u00ad", "xn--", "\ud800"]
)


@settings(suppress_health_check=[HealthCheck.too_slow])  # examples: the profile (tests/conftest.py)
@given(st.lists(_ALPHABET, max_size=24).map("".join))
def test_property_address_like_text(declared: str) -> None:
    _check_invariants(read_address(declared))


@st.composite
def _perturbed_address(draw: st.DrawFn) -> str:
    """A real-looking address with a few odd characters inserted: exercises the repairs."""
    local = draw(st.sampled_from(["saraban", "Saraban_663019", "a.b", "x+y", "สารบรรณ", "sara๑"]))
    domain = draw(st.sampled_from(["dla.go.th", "dopa๑.go.th", "gmail.com", "ไทย.th", "a-b.ac.th", "dla"]))
    text = list(f"{local}@{domain}")
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(text)))
        text.insert(pos, draw(_ALPHABET))
    wrap = draw(st.sampled_from(["{}", " {} ", "mailto:{}", "Name <{}>", "{}, c@d.go.th", "({})", "{}."]))
    return wrap.format("".join(text))


@settings(suppress_health_check=[HealthCheck.too_slow])  # examples: the profile (tests/conftest.py)
@given(_perturbed_address())
def test_property_perturbed_address(declared: str) -> None:
    _check_invariants(read_address(declared))


@given(st.text(max_size=40))
def test_property_any_text(declared: str) -> None:
    _check_invariants(read_address(declared))


@pytest.mark.parametrize("cell", ["-", " – ", "—", "ไม่มี", "N/A"])
def test_a_none_mark_is_no_address_not_a_bad_one(cell: str) -> None:
    """Thai sheets write '-' for "none": that is group C (no address declared), not B3."""
    reading = read_address(cell)
    assert reading.problems == ("empty",) and reading.suggestion is None
