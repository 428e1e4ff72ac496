"""Findings and address problems in the operator's language: what the detail pane, the correction dialog,
the `y` summary and `saraban correct` show, from the engine's language-free codes and detail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.widgets import Static
from tui_helpers import SIZE, open_on, screen_text, settle, type_text
from tui_sample import (
    EVIL,
    EVIL_SHOWN,
    Config,
    FakeRunner,
    build_store,
    probe_mailbox_rejected,
    probe_nxdomain,
    probe_ok,
)

from checks.address import read_address
from checks.classify import build_verdict, probe_finding
from checks.config import EngineConfig
from checks.model import Agency, Finding, Verdict
from checks.policy import policy_findings
from console.findings_text import finding_extras, finding_text, fix_reason_text, problems_text
from console.rules import Ruleset
from console.tui.app import SarabanApp
from console.tui.screens import CorrectionScreen
from console.tui.view import detail_text, summary_text

ENGINE = EngineConfig()
RULES = ENGINE.rules
RULESET = Ruleset.of(ENGINE)
THAI_DIGITS_TH = "อีเมลเขียนด้วยเลขไทย (๖, ๓, ๐, ๑, ๙) แต่เซิร์ฟเวอร์อีเมลรู้จักเฉพาะเลขอารบิก (6, 3, 0, 1, 9)"
THAI_DIGITS_EN = (
    "the address is written with Thai digits (๖, ๓, ๐, ๑, ๙), but mail servers only know Arabic digits "
    "(6, 3, 0, 1, 9)"
)


def engine_verdict(agency: Agency, probe: Any = None, fix_probe: Any = None) -> Verdict:
    """A verdict made the way the engine makes it (classify + policy), for one agency and its probes."""
    reading = read_address(agency.declared)
    policy = policy_findings(reading.address, agency.kind, ENGINE.policy) if reading.address else []
    return build_verdict(
        agency, reading, policy, probe, fix_probe, RULES, checked_at="2025-10-07T09:30:00+07:00"
    )


def record_with(store: Any, agency_id: str, verdict: Verdict) -> Any:
    store.save_verdicts([verdict])
    return store.record(agency_id)


def plain(rec: Any, lang: str) -> str:
    return detail_text(rec, RULESET, lang).plain


# ---------------------------------------------------------------------------------------------
# The detail pane
# ---------------------------------------------------------------------------------------------


def test_d3_in_thai_names_the_server_and_keeps_the_550_reply_literal(store: Any) -> None:
    agency = store.record("tak-12").agency
    probe = probe_mailbox_rejected(agency.declared, "mail.maesotcity.go.th", "203.0.113.41")
    verdict = engine_verdict(agency, probe)
    assert verdict.group == "D3"
    text = plain(record_with(store, "tak-12", verdict), "th")
    assert (
        "  • ไม่พบกล่องจดหมาย: เซิร์ฟเวอร์ mail.maesotcity.go.th ตอบ 550 5.1.1 "
        "<saraban@maesotcity.go.th>: Recipient address rejected: User unknown\n"
    ) in text
    assert "rejects the mailbox permanently" not in text  # the engine's English is not on the Thai screen
    assert "address = " not in text and "reply = " not in text  # said in the sentence: no key=value lines


def test_d3_in_english_has_the_same_structure(store: Any) -> None:
    agency = store.record("tak-12").agency
    verdict = engine_verdict(agency, probe_mailbox_rejected(agency.declared, "mail.maesotcity.go.th"))
    text = plain(record_with(store, "tak-12", verdict), "en")
    assert "  • mailbox not found: mail.maesotcity.go.th replied 550 5.1.1 " in text
    assert "User unknown\n" in text and "(mailbox_not_found)" not in text


def test_the_code_is_left_to_the_copied_summary(store: Any) -> None:
    """The screen says the sentence only (issue 15: no "(mailbox_not_found)" for an officer to puzzle
    over); `y`'s summary for a supervisor keeps the code beside it."""
    agency = store.record("tak-12").agency
    verdict = engine_verdict(agency, probe_mailbox_rejected(agency.declared, "mail.maesotcity.go.th"))
    rec = record_with(store, "tak-12", verdict)
    assert "(mailbox_not_found)" not in detail_text(rec, RULESET, "th").plain
    assert "(mailbox_not_found)" in summary_text(rec, RULESET, "th")


def test_b1_free_mail_with_the_d3_beside_it_in_thai(store: Any) -> None:
    agency = store.record("tak-326").agency
    probe = probe_mailbox_rejected("tasailuadmeasod@gmail.com", "gmail-smtp-in.l.google.com", "198.51.100.7")
    verdict = engine_verdict(agency, probe)
    assert verdict.group == "B1"
    text = plain(record_with(store, "tak-326", verdict), "th")
    assert "  • gmail.com เป็นบริการอีเมลฟรี ห้ามใช้อีเมลส่วนตัวเป็นช่องทางตาม ม.๑๐\n" in text
    assert "ไม่พบกล่องจดหมาย: เซิร์ฟเวอร์ gmail-smtp-in.l.google.com ตอบ 550 5.1.1" in text
    assert "free-mail provider" not in text


def test_b3_thai_digits_names_the_digits_and_the_fix_reason_in_words(store: Any) -> None:
    agency = store.record("tak-636").agency
    fixed = "saraban_663019@dla.go.th"
    verdict = engine_verdict(agency, None, probe_ok(fixed))
    assert verdict.group == "B3"
    text = plain(record_with(store, "tak-636", verdict), "th")
    assert f"  • {THAI_DIGITS_TH}\n" in text
    assert f"อีเมลที่แนะนำ: {fixed}  (ทดสอบแล้ว ใช้งานได้)  เปลี่ยนเลขไทยเป็นเลขอารบิก" in text
    assert "thai_digits" not in text and "Thai digits" not in text
    english = plain(store.record("tak-636"), "en")
    assert f"  • {THAI_DIGITS_EN}\n" in english
    assert "(probed: works)  Thai digits → Arabic digits" in english


def test_a_stored_b3_without_notes_reads_the_digits_from_the_declared_text() -> None:
    # verdicts stored by an engine that kept only the problem codes
    finding = Finding("bad_syntax", "The address is written with Thai digits.", {"problems": ["thai_digits"]})
    assert finding_text(finding, "th", declared="saraban_๖๖๓๐๑๙@dla.go.th") == THAI_DIGITS_TH
    # no declared text: still a Thai sentence, with the Arabic digits named generally
    assert finding_text(finding, "th") == "อีเมลเขียนด้วยเลขไทย แต่เซิร์ฟเวอร์อีเมลรู้จักเฉพาะเลขอารบิก 0–9"


def test_typo_suspect_and_other_engine_findings_in_thai() -> None:
    (typo,) = [f for f in policy_findings("saraban@dla.go.tn", "", ENGINE.policy) if f.code == "typo_suspect"]
    assert finding_text(typo, "th") == "dla.go.tn ต่างจาก dla.go.th เพียงตัวอักษรเดียว อาจพิมพ์ผิด"
    assert (
        finding_text(typo, "en") == "dla.go.tn is one letter away from dla.go.th: probably a typing mistake"
    )
    assert finding_extras(typo) == []
    (b2,) = policy_findings("saraban@tambonthungluang.co.th", "เทศบาลตำบล", ENGINE.policy)
    assert finding_text(b2, "th") == (
        "tambonthungluang.co.th ไม่ใช่โดเมนของหน่วยงานรัฐ (ที่ใช้ได้: go.th, mi.th) และไม่ได้ลงทะเบียนไว้"
    )
    d1 = probe_finding(probe_nxdomain("saraban@tambonthungluang.co.th"))
    assert finding_text(d1, "th") == "ไม่พบโดเมน tambonthungluang.co.th: DNS ตอบ NXDOMAIN (ไม่มีชื่อนี้)"
    a1 = probe_finding(probe_ok("saraban@takpao.go.th", "mail.takpao.go.th"))
    assert finding_text(a1, "th") == "กล่องจดหมายใช้งานได้: เซิร์ฟเวอร์ mail.takpao.go.th ตอบ 250 2.1.5 Ok"
    assert finding_text(Finding("no_announcement", "no Section 10 announcement"), "th") == (
        "ยังไม่มีประกาศ ม.๑๐ ใน info.go.th"
    )


def test_unknown_codes_fall_back_to_the_stored_message(store: Any) -> None:
    future = Finding("dmarc_missing", "the domain publishes no DMARC record", {"record": "_dmarc.x.go.th"})
    assert finding_text(future, "th") == "the domain publishes no DMARC record"
    assert finding_text(Finding("dmarc_missing", ""), "th") == "dmarc_missing"
    agency = store.record("tak-1").agency
    verdict = engine_verdict(agency, probe_ok(agency.declared, "mail.takpao.go.th"))
    verdict = Verdict(verdict.agency_id, verdict.group, (*verdict.findings, future), (), verdict.evidence)
    text = plain(record_with(store, "tak-1", verdict), "th")
    assert "  • the domain publishes no DMARC record\n      record = _dmarc.x.go.th" in text
    # an unknown problem code inside a known finding: the engine's message as a whole
    odd = Finding("bad_syntax", "The address has a quantum typo.", {"problems": ["thai_digits", "quantum"]})
    assert finding_text(odd, "th", declared="saraban_๖๖๓๐๑๙@dla.go.th") == "The address has a quantum typo."
    assert problems_text(["quantum"], None, None, "th") == "quantum"
    assert fix_reason_text("quantum", "th") == "quantum"


@pytest.mark.parametrize(
    "detail",
    [
        {},
        {"problems": "thai_digits"},
        {"problems": [None, 5]},
        {"reply": None, "host": 7, "dns": ["x"]},
        {"allowed": 5, "domain": None, "near": ""},
        {"notes": "not a dict", "candidates": "a@b.go.th"},
    ],
)
@pytest.mark.parametrize(
    "code",
    [
        "bad_syntax",
        "free_mail",
        "non_government_domain",
        "typo_suspect",
        "mailbox_not_found",
        "no_mail_server",
    ],
)
def test_odd_stored_details_never_crash(code: str, detail: dict[str, Any]) -> None:
    for lang in ("th", "en"):
        assert finding_text(Finding(code, "stored message", detail), lang)
    finding_extras(Finding(code, "stored message", detail))


def test_hostile_domain_reply_and_host_stay_literal(store: Any) -> None:
    findings = (
        Finding("free_mail", "x", {"domain": EVIL, "provider": EVIL}),
        Finding("typo_suspect", "x", {"domain": EVIL, "near": EVIL}),
        Finding("mailbox_not_found", "x", {"address": f"a@{EVIL}", "host": EVIL, "reply": f"550 {EVIL}"}),
        Finding(EVIL, EVIL, {EVIL: EVIL}),
    )
    base = store.record("tak-326").verdict
    verdict = Verdict(base.agency_id, base.group, findings, (), base.evidence)
    rec = record_with(store, "tak-326", verdict)
    for lang in ("th", "en"):
        text = detail_text(rec, RULESET, lang)
        assert f"{EVIL_SHOWN.strip()} เป็นบริการอีเมลฟรี" in text.plain or lang == "en"
        assert f"550 {EVIL_SHOWN.strip()}" in text.plain
        assert "\x1b" not in text.plain and "\x07" not in text.plain and "pwned" not in text.plain
        assert not any("@click" in str(span.style) for span in text.spans)
        summary = summary_text(rec, RULESET, lang)
        assert EVIL_SHOWN.strip() in summary and "\x1b" not in summary and "pwned" not in summary


# ---------------------------------------------------------------------------------------------
# The `y` summary
# ---------------------------------------------------------------------------------------------


def test_summary_carries_the_thai_sentences_and_the_fix_reason(store: Any) -> None:
    rec = store.record("tak-636")
    summary = summary_text(rec, RULESET, "th")
    assert f"• {THAI_DIGITS_TH} (bad_syntax)" in summary
    assert "อีเมลที่แนะนำ: saraban_663019@dla.go.th (ทดสอบแล้ว ใช้งานได้) เปลี่ยนเลขไทยเป็นเลขอารบิก" in summary
    assert "Thai digits" not in summary
    english = summary_text(rec, RULESET, "en")
    assert f"• {THAI_DIGITS_EN} (bad_syntax)" in english


# ---------------------------------------------------------------------------------------------
# The correction dialog
# ---------------------------------------------------------------------------------------------


def validation(app: SarabanApp) -> str:
    return str(app.screen.query_one("#correct-validation", Static).render())


async def test_correction_dialog_names_the_thai_digits_in_thai(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "tak-636", "c")
        shown = validation(app)
        assert f"ปัญหา: {THAI_DIGITS_TH}" in shown
        assert "แนะนำ: saraban_663019@dla.go.th" in shown
        assert "Thai digits" not in shown
        assert "ปัญหา: อีเมลเขียนด้วยเลขไทย" in screen_text(app)
        # typing something else: the other problem, in Thai
        await pilot.press("ctrl+u")
        await type_text(pilot, "saraban@dla.go.th, info@dla.go.th")
        assert "ปัญหา: ช่องอีเมลมีหลายอีเมล (saraban@dla.go.th, info@dla.go.th) ต้องระบุเพียงอีเมลเดียว" in validation(
            app
        )


async def test_correction_dialog_in_english(store: Any, tmp_path: Path) -> None:
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    app = SarabanApp(store, FakeRunner(store), Config(language="en", export_dir=export_dir))
    async with app.run_test(size=SIZE) as pilot:
        await open_on(pilot, app, "tak-636", "c")
        shown = validation(app)
        assert f"Problem: {THAI_DIGITS_EN}" in shown
        assert "อีเมล" not in shown


async def test_correction_dialog_falls_back_to_the_readers_message(
    make_app: Callable[..., SarabanApp],
) -> None:
    def future_reader(text: str) -> Any:
        return SimpleNamespace(
            ok=False, address=None, problems=("quantum_typo",), notes={}, suggestion=None,
            message="The address has a quantum typo.",
        )  # fmt: skip

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.push_screen(CorrectionScreen("x", "a@b.go.th", "th", future_reader))
        await pilot.pause()
        assert "ปัญหา: The address has a quantum typo." in validation(app)


async def test_correction_dialog_shows_hostile_typing_literally(tmp_path: Path, config: Config) -> None:
    store = build_store(tmp_path / "store.json")
    app = SarabanApp(store, FakeRunner(store), config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.push_screen(CorrectionScreen("x", f"{EVIL}@x.go.th", "th", read_address))
        await pilot.pause()
        shown = validation(app)
        assert shown.startswith("ปัญหา: ")
        assert "\x1b" not in shown and "\x07" not in shown
        assert app.is_running
