"""The reply classifier over the corpus of real RCPT / MAIL FROM replies (checks/data/smtp_replies.tsv).

Every line is a reply some real server sent, with its public source. The rule that matters most: a reply
about the client, the sender or our traffic is never "mailbox not found" (D3).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib.resources import files

import pytest

from checks import model as m
from checks.classify import probe_finding
from checks.replies import STAGE_MAIL, STAGE_RCPT, classify_reply
from checks.smtp import make_reply

EXPECTED = {
    "accepted": m.PROBE_ACCEPTED,
    "mailbox": m.PROBE_MAILBOX_REJECTED,
    "prober": m.PROBE_PROBER_REJECTED,
    "temporary": m.PROBE_TEMPORARY,
}
ABOUT_US = {"client", "sender", "rate", "greylist", "relay"}


@dataclass(frozen=True)
class Row:
    line: int
    stage: str
    code: int
    text: str
    expected: str
    about: str
    vendor: str
    source: str
    note: str


def corpus() -> list[Row]:
    text = files("checks").joinpath("data/smtp_replies.tsv").read_text(encoding="utf-8")
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line and not line.startswith("#")]
    reader = csv.reader((line for _, line in lines), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    assert header == ["stage", "code", "text", "expected", "about", "vendor", "source", "note"]
    rows = []
    for (number, _), fields in zip(lines[1:], reader, strict=True):
        assert len(fields) == 8, (number, fields)
        stage, code, body, expected, about, vendor, source, note = fields
        rows.append(Row(number, stage, int(code), body.replace("\\n", "\n"), expected, about, vendor, source, note))
    return rows


ROWS = corpus()


@pytest.mark.parametrize("row", ROWS, ids=[f"L{r.line}-{r.vendor}-{r.code}" for r in ROWS])
def test_each_real_reply_is_read_as_the_corpus_says(row: Row) -> None:
    reply = make_reply(row.code, row.text)
    assert classify_reply(reply, row.stage) == EXPECTED[row.expected], (row.text, row.note)


def test_a_reply_about_us_is_never_mailbox_not_found() -> None:
    """The rule that matters most, over every reply about the client, the sender or our traffic."""
    about_us = [r for r in ROWS if r.about in ABOUT_US or r.stage == STAGE_MAIL]
    assert len(about_us) >= 40
    wrong = [(r.line, r.text) for r in about_us
             if classify_reply(make_reply(r.code, r.text), r.stage) == m.PROBE_MAILBOX_REJECTED]
    assert wrong == []


def test_the_same_text_without_its_enhanced_code_is_never_d3_when_about_us() -> None:
    """With or without an enhanced status code: strip it and the reading about us must not change to D3."""
    for row in ROWS:
        if row.about not in ABOUT_US or row.stage != STAGE_RCPT:
            continue
        enhanced, rest = make_reply(row.code, row.text).enhanced, make_reply(row.code, row.text).text
        bare = m.SmtpReply(row.code, rest, None)
        assert classify_reply(bare) != m.PROBE_MAILBOX_REJECTED, (row.line, enhanced, rest)


def test_at_mail_from_even_user_unknown_is_about_our_sender() -> None:
    reply = make_reply(550, "5.1.1 <postmaster@opdc.go.th>: Sender address rejected: User unknown")
    assert classify_reply(reply, STAGE_MAIL) == m.PROBE_PROBER_REJECTED
    assert classify_reply(make_reply(451, "4.1.8 Domain of sender address does not resolve"), STAGE_MAIL) == (
        m.PROBE_TEMPORARY)


def test_the_corpus_covers_the_dialects_the_field_meets() -> None:
    assert len(ROWS) >= 80
    vendors = {r.vendor for r in ROWS}
    assert vendors >= {"google", "microsoft365", "outlook.com", "exchange", "yahoo", "zimbra", "postfix", "exim",
                       "proofpoint", "mimecast", "barracuda", "spamhaus", "postgrey"}
    abouts = {r.about for r in ROWS}
    assert abouts >= {"mailbox", "quota", "disabled", "client", "sender", "rate", "greylist", "relay"}
    assert {r.stage for r in ROWS} == {STAGE_RCPT, STAGE_MAIL}
    assert all(r.source.startswith(("https://", "http://")) for r in ROWS)
    # every class of reading occurs, so no rule of the classifier goes untested by real text
    assert {r.expected for r in ROWS} == set(EXPECTED)


def test_the_microsoft_dbeb_reply_is_a_d3_finding_with_the_reply_as_evidence() -> None:
    """550 5.4.1 "Recipient address rejected: Access denied" = the recipient is not in the tenant (documented)."""
    reply = make_reply(550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)")
    probe = m.ProbeResult(address="saraban@tambon.go.th", outcome=classify_reply(reply), rcpt=reply)
    finding = probe_finding(probe)
    assert finding is not None and finding.code == m.MAILBOX_NOT_FOUND
    assert "5.4.1" in finding.message
    # the same words from Postfix's access table (5.7.1) are an admin rule that may be about us: E
    assert classify_reply(make_reply(554, "5.7.1 <a@b.go.th>: Recipient address rejected: Access denied")) == (
        m.PROBE_PROBER_REJECTED)
