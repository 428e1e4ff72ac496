"""Fixed Thai sample data and a fake runner for the console tests (and for looking at it in tmux).

`build_store(path)` fills a real `console.store.Store` with agencies, verdicts (with evidence),
a correction, notes, a follow-up mark and two snapshots. `FakeRunner` plays the Runner interface
without a network: verdicts come from a table, and a scan can be held open at a gate so a test or
a snapshot can look at a scan in progress.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from checks import events as ev
from checks.address import read_address
from checks.classify import probe_finding
from checks.config import EngineConfig
from checks.model import (
    DNS_NXDOMAIN,
    DNS_OK,
    HOST_OK,
    PROBE_ACCEPTED,
    PROBE_DOMAIN_NOT_FOUND,
    PROBE_MAILBOX_REJECTED,
    PROBE_NOT_PROBED,
    Agency,
    DnsResult,
    Evidence,
    Exchange,
    Finding,
    HostAttempt,
    MailHost,
    ProbeResult,
    SmtpReply,
    SuggestedFix,
    Verdict,
)
from checks.policy import policy_findings
from console.config import AppConfig
from console.runner import Runner
from console.store import Store

AT = "2025-10-07T09:30:00+07:00"
AT2 = "2025-10-08T14:05:00+07:00"
EVIL = "[bold]x[/] [@click=app.quit]y[/] \x1b]2;pwned\x07"
EVIL_SHOWN = "[bold]x[/] [@click=app.quit]y[/] "  # what must appear (the OSC sequence is stripped)


def Config(**settings: Any) -> AppConfig:
    """The real console config with the sample operator (and a store path nobody opens)."""
    settings.setdefault("operator", "สมชาย")
    settings.setdefault("store_path", Path("unused-store.json"))
    return AppConfig(**settings)


def agencies() -> list[Agency]:
    return [
        Agency(
            "tak-47",
            "เทศบาลตำบลทุ่งหลวง",
            "saraban@tambonthungluang.co.th",
            "47",
            "แม่ระมาด",
            "ตาก",
            "เทศบาลตำบล",
            "055-581-123",
        ),
        Agency(
            "tak-326",
            "องค์การบริหารส่วนตำบลท่าสายลวด",
            "Tasailuadmeasod@gmail.com",
            "326",
            "แม่สอด",
            "ตาก",
            "องค์การบริหารส่วนตำบล",
            "055-563-456",
        ),
        Agency(
            "tak-636",
            "องค์การบริหารส่วนตำบลหนองบัวเหนือ",
            "saraban_๖๖๓๐๑๙@dla.go.th",
            "636",
            "เมืองตาก",
            "ตาก",
            "องค์การบริหารส่วนตำบล",
            "055-511-789",
        ),
        Agency(
            "tak-1",
            "องค์การบริหารส่วนจังหวัดตาก",
            "saraban@takpao.go.th",
            "1",
            "เมืองตาก",
            "ตาก",
            "องค์การบริหารส่วนจังหวัด",
            "055-511-000",
        ),
        Agency(
            "tak-12",
            "เทศบาลเมืองแม่สอด",
            "saraban@maesotcity.go.th",
            "12",
            "แม่สอด",
            "ตาก",
            "เทศบาลเมือง",
            "055-531-222",
        ),
        Agency(
            "tak-88",
            "องค์การบริหารส่วนตำบลพะวอ",
            "saraban_630807@dla.go.th",
            "88",
            "แม่สอด",
            "ตาก",
            "องค์การบริหารส่วนตำบล",
            "",
            parent_announcement=True,
        ),
        Agency(
            "tak-140",
            "องค์การบริหารส่วนตำบลแม่ตื่น",
            "",
            "140",
            "แม่ระมาด",
            "ตาก",
            "องค์การบริหารส่วนตำบล",
            announced=False,
        ),
        Agency(
            "pyo-5",
            "เทศบาลตำบลบ้านต๊ำ",
            "saraban@bantam.go.th",
            "5",
            "เมืองพะเยา",
            "พะเยา",
            "เทศบาลตำบล",
            "054-000-111",
        ),
    ]


def _reply(code: int, text: str, enhanced: str | None = None) -> SmtpReply:
    """A reply as the engine stores it: the enhanced code apart from the text."""
    if enhanced and text.startswith(enhanced + " "):
        text = text[len(enhanced) + 1 :]
    return SmtpReply(code, text, enhanced)


def smtp_attempt(
    host: str, ip: str, rcpt: str, reply: SmtpReply, banner: str = "mx ESMTP ready"
) -> HostAttempt:
    transcript = (
        Exchange("<connect>", _reply(220, banner), 12.0),
        Exchange("EHLO saraban-probe.example.go.th", _reply(250, f"{host}\nPIPELINING\nSTARTTLS"), 3.0),
        Exchange("STARTTLS", _reply(220, "2.0.0 Ready to start TLS", "2.0.0"), 4.0),
        Exchange("MAIL FROM:<postmaster@example.go.th>", _reply(250, "2.1.0 Ok", "2.1.0"), 2.0),
        Exchange(f"RCPT TO:<{rcpt}>", reply, 5.0),
        Exchange("QUIT", _reply(221, "2.0.0 Bye", "2.0.0"), 1.0),
    )
    return HostAttempt(host, ip, 25, HOST_OK, starttls=True, transcript=transcript, elapsed_ms=40.0)


def probe_ok(
    address: str, host: str = "mx.dla.go.th", ip: str = "203.0.113.25", banner: str = "mx ESMTP ready"
) -> ProbeResult:
    domain = address.rpartition("@")[2]
    dns = DnsResult(domain, DNS_OK, (MailHost(host, 10, (ip,)),), elapsed_ms=8.0)
    reply = _reply(250, "2.1.5 Ok", "2.1.5")
    return ProbeResult(
        address,
        PROBE_ACCEPTED,
        dns,
        reply,
        (smtp_attempt(host, ip, address, reply, banner),),
        catch_all=False,
        elapsed_ms=60.0,
    )


def probe_mailbox_rejected(
    address: str, host: str = "mx.dla.go.th", ip: str = "203.0.113.25", banner: str = "mx ESMTP ready"
) -> ProbeResult:
    domain = address.rpartition("@")[2]
    dns = DnsResult(domain, DNS_OK, (MailHost(host, 10, (ip,)),), elapsed_ms=8.0)
    reply = _reply(550, "5.1.1 <" + address + ">: Recipient address rejected: User unknown", "5.1.1")
    return ProbeResult(
        address,
        PROBE_MAILBOX_REJECTED,
        dns,
        reply,
        (smtp_attempt(host, ip, address, reply, banner),),
        catch_all=False,
        elapsed_ms=60.0,
    )


def probe_nxdomain(address: str) -> ProbeResult:
    domain = address.rpartition("@")[2]
    return ProbeResult(
        address, PROBE_DOMAIN_NOT_FOUND, DnsResult(domain, DNS_NXDOMAIN, error="NXDOMAIN"), elapsed_ms=9.0
    )


def verdict(
    agency_id: str,
    group: str,
    declared: str,
    *,
    at: str = AT,
    findings: Sequence[Finding] = (),
    flags: Sequence[str] = (),
    probe: ProbeResult | None = None,
    fix: SuggestedFix | None = None,
    fix_probe: ProbeResult | None = None,
    normalized: str | None = None,
    rule_index: int = -1,
) -> Verdict:
    evidence = Evidence(
        declared,
        normalized if normalized is not None else declared.strip().lower() or None,
        probe,
        fix_probe,
        group,
        rule_index,
        at,
        70.0,
    )
    return Verdict(agency_id, group, tuple(findings), tuple(flags), evidence, fix, at)


def _policy(address: str, kind: str) -> list[Finding]:
    """The policy findings the engine makes (English message + detail: domain, provider, near, ...)."""
    return policy_findings(address, kind, EngineConfig().policy)


def _probe(probe: ProbeResult) -> Finding:
    """The finding the engine makes of a probe (detail: address, host, reply, dns)."""
    found = probe_finding(probe)
    assert found is not None
    return found


def _syntax(declared: str) -> Finding:
    """The bad-syntax finding the engine makes of a declared text (detail: problems, suggestion)."""
    reading = read_address(declared)
    detail: dict[str, object] = {"problems": list(reading.problems)}
    if reading.suggestion:
        detail["suggestion"] = reading.suggestion
    return Finding("bad_syntax", reading.message, detail)


def verdicts(banner: str = "mx ESMTP ready") -> dict[str, Verdict]:
    """A verdict for every sample agency except pyo-5 (left unchecked)."""
    fixed = "saraban_663019@dla.go.th"
    nxdomain = probe_nxdomain("saraban@tambonthungluang.co.th")
    gmail = probe_mailbox_rejected(
        "tasailuadmeasod@gmail.com", "gmail-smtp-in.l.google.com", "198.51.100.7", banner
    )
    maesot = probe_mailbox_rejected("saraban@maesotcity.go.th", "mail.maesotcity.go.th", "203.0.113.41")
    takpao = probe_ok("saraban@takpao.go.th", "mail.takpao.go.th", "203.0.113.40")
    phawo = probe_ok("saraban_630807@dla.go.th")
    return {
        "tak-47": verdict(
            "tak-47",
            "B2",
            "saraban@tambonthungluang.co.th",
            findings=[*_policy("saraban@tambonthungluang.co.th", "เทศบาลตำบล"), _probe(nxdomain)],
            probe=nxdomain,
            rule_index=4,
        ),
        "tak-326": verdict(
            "tak-326",
            "B1",
            "Tasailuadmeasod@gmail.com",
            findings=[*_policy("tasailuadmeasod@gmail.com", "องค์การบริหารส่วนตำบล"), _probe(gmail)],
            probe=gmail,
            normalized="tasailuadmeasod@gmail.com",
            rule_index=3,
        ),
        "tak-636": verdict(
            "tak-636",
            "B3",
            "saraban_๖๖๓๐๑๙@dla.go.th",
            findings=[_syntax("saraban_๖๖๓๐๑๙@dla.go.th")],
            flags=["suggested_fix"],
            normalized="",
            probe=ProbeResult("saraban_๖๖๓๐๑๙@dla.go.th", PROBE_NOT_PROBED),
            fix=SuggestedFix(fixed, True, "thai_digits"),
            fix_probe=probe_ok(fixed),
            rule_index=2,
        ),
        "tak-1": verdict(
            "tak-1",
            "A1",
            "saraban@takpao.go.th",
            findings=[_probe(takpao)],
            probe=takpao,
            rule_index=10,
        ),
        "tak-12": verdict(
            "tak-12",
            "D3",
            "saraban@maesotcity.go.th",
            at=AT2,
            findings=[_probe(maesot)],
            flags=["no_starttls"],
            probe=maesot,
            rule_index=7,
        ),
        "tak-88": verdict(
            "tak-88",
            "A2",
            "saraban_630807@dla.go.th",
            findings=[
                _probe(phawo),
                Finding("parent_announcement", "covered by the parent agency's announcement"),
            ],
            flags=["catch_all"],
            probe=phawo,
            rule_index=9,
        ),
        "tak-140": verdict(
            "tak-140",
            "C",
            "",
            findings=[Finding("no_announcement", "no Section 10 announcement in info.go.th")],
            normalized="",
            rule_index=1,
        ),
    }


def build_store(path: Path, *, banner: str = "mx ESMTP ready", extra: Sequence[Agency] = ()) -> Any:
    """A real Store with the sample agencies, verdicts, a correction, notes, a follow-up and two snapshots."""
    from console.store import Store

    store = Store(path)
    store.merge_import([*agencies(), *extra], source="sample.xlsx", operator="สมชาย")
    store.save_verdicts(list(verdicts(banner).values()))
    store.save_snapshot({"ตาก": {"B2": 1, "B1": 2, "D3": 2, "A1": 1, "C": 1}}, label="scan")
    store.save_snapshot({"ตาก": {"B2": 1, "B1": 1, "B3": 1, "D3": 1, "A1": 1, "A2": 1, "C": 1}}, label="scan")
    store.add_note("tak-326", "โทรแล้ว ผู้ใหญ่บ้านรับเรื่อง จะแก้ประกาศภายในสัปดาห์", "สมชาย")
    store.set_followup("tak-326", "called_waiting", "สมชาย")
    return store


VerdictFor = Callable[[Agency], Verdict]


def default_verdict_for(agency: Agency) -> Verdict:
    """What the fake internet says: .go.th addresses work, others are D1."""
    address = agency.declared.strip()
    if address.endswith(".go.th"):
        works = probe_ok(address.lower())
        return verdict(agency.id, "A1", address, at=AT2, findings=[_probe(works)], probe=works, rule_index=10)
    missing = probe_nxdomain(address.lower())
    return verdict(agency.id, "D1", address, at=AT2, findings=[_probe(missing)], probe=missing, rule_index=5)


class FakeRunner(Runner):
    """The real Runner with the network replaced: verdicts come from `verdict_for`, and a scan can be
    held at a gate. Corrections, saving and everything else are Runner's own."""

    def __init__(
        self,
        store: Store,
        verdict_for: VerdictFor = default_verdict_for,
        *,
        config: AppConfig | None = None,
        gate: asyncio.Event | None = None,
        hold_after: int = 0,
        extra_events: Sequence[ev.Event] = (),
    ) -> None:
        super().__init__(store, config or Config())
        self.verdict_for = verdict_for
        self.gate = gate  # when set, a scan waits here after `hold_after` agencies
        self.hold_after = hold_after
        self.extra_events = list(extra_events)
        self._running = False
        self._paused = False
        self.stopped = False
        self.scans: list[list[str] | None] = []
        self.rechecks: list[str] = []

    @property
    def running(self) -> bool:
        return self._running

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def stop(self) -> None:
        self.stopped = True
        if self.gate is not None:
            self.gate.set()

    async def scan(
        self, agency_ids: Sequence[str] | None = None, on_event: ev.EventSink | None = None, **_: object
    ) -> ev.ScanFinished:
        self.scans.append(None if agency_ids is None else list(agency_ids))
        agencies = self.agencies_to_check(agency_ids)
        sink = on_event or (lambda e: None)
        self._running = True
        self.stopped = False
        total = len(agencies)
        done = 0
        counts: dict[str, int] = {}
        try:
            sink(ev.ScanStarted(total, AT2))
            for event in self.extra_events:
                sink(event)
            for agency in agencies:
                if self.gate is not None and done == self.hold_after:
                    await self.gate.wait()
                if self.stopped:
                    break
                v = self.verdict_for(agency)
                await asyncio.to_thread(self.store.save_verdicts, [v])
                done += 1
                counts[v.group] = counts.get(v.group, 0) + 1
                sink(ev.AgencyChecked(agency, v, done, total))
                await asyncio.sleep(0)
        finally:
            self._running = False
        finished = ev.ScanFinished(total, done, counts, 1.5, "stopped by operator" if self.stopped else None)
        sink(finished)
        return finished

    async def recheck(self, agency_id: str, on_event: ev.EventSink | None = None) -> Verdict | None:
        self.rechecks.append(agency_id)
        agencies = await asyncio.to_thread(self.agencies_to_check, [agency_id])
        v = self.verdict_for(agencies[0])
        await asyncio.to_thread(self.store.save_verdicts, [v])
        return v
