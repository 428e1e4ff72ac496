"""The engine's data model: agencies in, verdicts with evidence out.

Everything here is plain data (frozen dataclasses where possible) that serialises to JSON with
`to_json()` and back with `from_json()`, so the console can store it and scripts can read it.
Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

# ---------------------------------------------------------------------------------------------
# Finding codes. A finding is one fact the engine established about an agency. The ruleset in
# config maps findings to groups; every finding is kept even when an earlier rule decided.
# ---------------------------------------------------------------------------------------------
UPGRADED = "upgraded"  # the unit was upgraded / merged (W)
NO_ANNOUNCEMENT = "no_announcement"  # no Section 10 announcement in info.go.th (C)
NO_ADDRESS = "no_address"  # nothing declared (C)
BAD_SYNTAX = "bad_syntax"  # declared text is not one valid address (B3)
FREE_MAIL = "free_mail"  # personal / free-mail provider (B1)
NON_GOVERNMENT_DOMAIN = "non_government_domain"  # not .go.th/.mi.th nor allowed for the kind (B2)
DOMAIN_NOT_FOUND = "domain_not_found"  # NXDOMAIN (D1)
NO_MAIL_SERVER = "no_mail_server"  # null MX, no MX and no A, or every host unreachable (D2)
MAILBOX_NOT_FOUND = "mailbox_not_found"  # 5xx on RCPT about the mailbox (D3)
TEMPORARY_FAILURE = "temporary_failure"  # 4xx, timeouts, SERVFAIL after retries (E)
PROBER_BLOCKED = "prober_blocked"  # rejection aimed at the prober (5.7.x, blocklist) (E)
MAIL_ACCEPTED = "mail_accepted"  # the mail server accepts the mailbox (A1/A2)
PARENT_ANNOUNCEMENT = "parent_announcement"  # covered by the parent agency's announcement (A2)
TYPO_SUSPECT = "typo_suspect"  # domain one edit away from a well-known one (flag)

FINDING_CODES: frozenset[str] = frozenset(
    {
        UPGRADED,
        NO_ANNOUNCEMENT,
        NO_ADDRESS,
        BAD_SYNTAX,
        FREE_MAIL,
        NON_GOVERNMENT_DOMAIN,
        DOMAIN_NOT_FOUND,
        NO_MAIL_SERVER,
        MAILBOX_NOT_FOUND,
        TEMPORARY_FAILURE,
        PROBER_BLOCKED,
        MAIL_ACCEPTED,
        PARENT_ANNOUNCEMENT,
        TYPO_SUSPECT,
    }
)

# Flags never change the group but are always shown.
FLAG_CATCH_ALL = "catch_all"
FLAG_IMPLICIT_MX = "implicit_mx"
FLAG_NO_STARTTLS = "no_starttls"
FLAG_SUGGESTED_FIX = "suggested_fix"
FLAG_TYPO_SUSPECT = "typo_suspect"
FLAG_PROBER_BLOCKED = "prober_blocked"
FLAGS: tuple[str, ...] = (
    FLAG_CATCH_ALL,
    FLAG_IMPLICIT_MX,
    FLAG_NO_STARTTLS,
    FLAG_SUGGESTED_FIX,
    FLAG_TYPO_SUSPECT,
    FLAG_PROBER_BLOCKED,
)

# Outcome of probing one recipient (one address) on the mail system of its domain.
PROBE_ACCEPTED = "accepted"  # 2xx to RCPT
PROBE_MAILBOX_REJECTED = "mailbox_rejected"  # 5xx about the mailbox (5.1.x, 5.2.x, plain 550)
PROBE_PROBER_REJECTED = "prober_rejected"  # 5.7.x / policy aimed at us
PROBE_TEMPORARY = "temporary"  # 4xx, timeout, dropped, after retries
PROBE_DOMAIN_NOT_FOUND = "domain_not_found"  # NXDOMAIN
PROBE_NO_MAIL_SERVER = "no_mail_server"  # null MX, no records, every host refused
PROBE_DNS_TEMPORARY = "dns_temporary"  # SERVFAIL / timeout
PROBE_NOT_PROBED = "not_probed"  # e.g. invalid syntax


@dataclass(frozen=True, slots=True)
class Agency:
    """One state agency as read from a list. `declared` is kept exactly as written."""

    id: str
    name: str
    declared: str
    seq: str | None = None  # the list's ลำดับที่ in ASCII digits
    district: str = ""
    province: str = ""
    kind: str = ""  # ประเภทหน่วยงาน (policy allowances depend on it)
    phone: str = ""
    code: str = ""  # รหัสหน่วยงาน (13 digits) when known
    upgraded: bool = False  # สถานะ = ยกฐานะ → W
    parent_announcement: bool = False  # ประกาศจาก = ต้นสังกัด → A2
    announced: bool = True  # the ม.๑๐ announcement is in info.go.th
    order_announced: bool | None = None  # the ม.๑๖ order is in info.go.th
    # The list's own result of an earlier mail round (OPDC's "ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘" column), as
    # written, and that round's date (ISO, from the column header; "" when unknown). Shown beside ours.
    previous_result: str = ""
    previous_round: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Agency:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class Finding:
    """One established fact, with an English technical message (Thai text comes from config)."""

    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": dict(self.detail)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(data["code"], data.get("message", ""), dict(data.get("detail") or {}))


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """One SMTP reply: code, enhanced status code (e.g. "5.1.1") when present, and its text."""

    code: int
    text: str
    enhanced: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "enhanced": self.enhanced, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SmtpReply:
        return cls(int(data["code"]), data.get("text", ""), data.get("enhanced"))

    def one_line(self) -> str:
        parts = [str(self.code)]
        if self.enhanced:
            parts.append(self.enhanced)
        parts.append(self.text.replace("\n", " ").strip())
        return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command sent and the reply it got (the transcript of a probe, up to RCPT and RSET/QUIT)."""

    command: str  # e.g. "EHLO probe.example.go.th", "RCPT TO:<a@b>", "<connect>"
    reply: SmtpReply | None  # None when the server gave nothing (timeout, dropped)
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "reply": self.reply.to_json() if self.reply else None,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        reply = data.get("reply")
        return cls(data["command"], SmtpReply.from_json(reply) if reply else None, data.get("elapsed_ms", 0.0))


@dataclass(frozen=True, slots=True)
class MailHost:
    """A mail exchanger for a domain, as DNS gave it."""

    name: str  # host name ("" never; for implicit MX it is the domain itself)
    preference: int
    addresses: tuple[str, ...] = ()  # resolved IPs (v4 first); empty when the name did not resolve

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "preference": self.preference, "addresses": list(self.addresses)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MailHost:
        return cls(data["name"], int(data["preference"]), tuple(data.get("addresses") or ()))


# DNS status values
DNS_OK = "ok"  # MX hosts found (possibly implicit)
DNS_NXDOMAIN = "nxdomain"
DNS_NULL_MX = "null_mx"  # RFC 7505 "0 ."
DNS_NO_RECORDS = "no_records"  # the name exists but has no MX and no A/AAAA
DNS_SERVFAIL = "servfail"
DNS_TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class DnsResult:
    """What DNS said about a domain's mail. Only NXDOMAIN is final 'not found'; SERVFAIL/timeout are temporary."""

    domain: str
    status: str
    hosts: tuple[MailHost, ...] = ()  # by preference, ties in server order
    implicit_mx: bool = False  # no MX: the domain's own A/AAAA is used
    error: str | None = None
    elapsed_ms: float = 0.0

    @property
    def temporary(self) -> bool:
        return self.status in (DNS_SERVFAIL, DNS_TIMEOUT)

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "hosts": [h.to_json() for h in self.hosts],
            "implicit_mx": self.implicit_mx,
            "error": self.error,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DnsResult:
        return cls(
            data["domain"],
            data["status"],
            tuple(MailHost.from_json(h) for h in data.get("hosts") or ()),
            bool(data.get("implicit_mx")),
            data.get("error"),
            data.get("elapsed_ms", 0.0),
        )


# Host attempt outcomes
HOST_OK = "ok"  # a session reached RCPT
HOST_REFUSED = "refused"  # connection refused
HOST_TIMEOUT = "timeout"  # connect / banner / reply timed out
HOST_UNREACHABLE = "unreachable"  # no address for the MX name, network error
HOST_GREETING_REJECTED = "greeting_rejected"  # 4xx/5xx banner (e.g. 421 at greeting)
HOST_DROPPED = "dropped"  # server closed the session mid-way
HOST_PROTOCOL_ERROR = "protocol_error"  # garbage, over-long lines
HOST_SENDER_REJECTED = "sender_rejected"  # MAIL FROM refused
HOST_PROXY_FAILED = "proxy_failed"  # our SOCKS5 proxy failed (down, auth, ruleset, unreachable): ours


@dataclass(frozen=True, slots=True)
class HostAttempt:
    """One mail host tried for one address, with the exchange up to RCPT."""

    host: str
    ip: str | None
    port: int
    outcome: str
    starttls: bool | None = None  # True: used; False: not offered; None: not reached
    tls_error: str | None = None  # e.g. self-signed certificate (recorded, not fatal)
    pipelining: bool = False
    transcript: tuple[Exchange, ...] = ()
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ip": self.ip,
            "port": self.port,
            "outcome": self.outcome,
            "starttls": self.starttls,
            "tls_error": self.tls_error,
            "pipelining": self.pipelining,
            "transcript": [e.to_json() for e in self.transcript],
            "elapsed_ms": round(self.elapsed_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostAttempt:
        return cls(
            data["host"],
            data.get("ip"),
            int(data.get("port", 25)),
            data["outcome"],
            data.get("starttls"),
            data.get("tls_error"),
            bool(data.get("pipelining")),
            tuple(Exchange.from_json(e) for e in data.get("transcript") or ()),
            data.get("elapsed_ms", 0.0),
        )


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of probing one address end to end (DNS + SMTP over possibly several hosts)."""

    address: str
    outcome: str  # one of PROBE_*
    dns: DnsResult | None = None
    rcpt: SmtpReply | None = None  # the deciding RCPT reply, if any
    attempts: tuple[HostAttempt, ...] = ()
    catch_all: bool | None = None  # None: not tested / unknown
    catch_all_reply: SmtpReply | None = None
    tries: int = 1  # how many passes (retries after 4xx count)
    elapsed_ms: float = 0.0

    @property
    def works(self) -> bool:
        return self.outcome == PROBE_ACCEPTED

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "outcome": self.outcome,
            "dns": self.dns.to_json() if self.dns else None,
            "rcpt": self.rcpt.to_json() if self.rcpt else None,
            "attempts": [a.to_json() for a in self.attempts],
            "catch_all": self.catch_all,
            "catch_all_reply": self.catch_all_reply.to_json() if self.catch_all_reply else None,
            "tries": self.tries,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProbeResult:
        return cls(
            data["address"],
            data["outcome"],
            DnsResult.from_json(data["dns"]) if data.get("dns") else None,
            SmtpReply.from_json(data["rcpt"]) if data.get("rcpt") else None,
            tuple(HostAttempt.from_json(a) for a in data.get("attempts") or ()),
            data.get("catch_all"),
            SmtpReply.from_json(data["catch_all_reply"]) if data.get("catch_all_reply") else None,
            int(data.get("tries", 1)),
            data.get("elapsed_ms", 0.0),
        )


@dataclass(frozen=True, slots=True)
class SuggestedFix:
    """A repaired form of a declared address, and whether probing it showed it works."""

    address: str
    works: bool | None  # None: not probed (yet)
    reason: str = ""  # e.g. "thai_digits"

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "works": self.works, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuggestedFix:
        return cls(data["address"], data.get("works"), data.get("reason", ""))


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the check saw, so an operator can read it out on the phone and a supervisor can audit it."""

    declared: str
    normalized: str | None
    probe: ProbeResult | None = None  # the declared address's probe
    fix_probe: ProbeResult | None = None  # the suggested fix's probe
    rule: str = ""  # the rule that decided, e.g. "B3"
    rule_index: int = -1
    checked_at: str = ""  # ISO 8601 with timezone
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "normalized": self.normalized,
            "probe": self.probe.to_json() if self.probe else None,
            "fix_probe": self.fix_probe.to_json() if self.fix_probe else None,
            "rule": self.rule,
            "rule_index": self.rule_index,
            "checked_at": self.checked_at,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            data.get("declared", ""),
            data.get("normalized"),
            ProbeResult.from_json(data["probe"]) if data.get("probe") else None,
            ProbeResult.from_json(data["fix_probe"]) if data.get("fix_probe") else None,
            data.get("rule", ""),
            int(data.get("rule_index", -1)),
            data.get("checked_at", ""),
            data.get("elapsed_ms", 0.0),
        )

    def one_line(self) -> str:
        """One line of evidence for a phone list, e.g. '550 5.1.1 user unknown — mx.example.go.th'."""
        probe = self.probe or self.fix_probe
        if probe is None:
            return ""
        if probe.rcpt is not None:
            host = next((a.host for a in reversed(probe.attempts) if a.outcome == HOST_OK), "")
            return f"{probe.rcpt.one_line()} — {host}" if host else probe.rcpt.one_line()
        if probe.dns is not None and probe.dns.status != DNS_OK:
            return f"DNS {probe.dns.status}: {probe.dns.domain}"
        if probe.attempts:
            last = probe.attempts[-1]
            return f"{last.outcome} — {last.host} {last.ip or ''}".strip()
        return probe.outcome


@dataclass(frozen=True, slots=True)
class Verdict:
    """The group of one agency with every finding, the flags and the evidence."""

    agency_id: str
    group: str
    findings: tuple[Finding, ...]
    flags: tuple[str, ...]
    evidence: Evidence
    suggested_fix: SuggestedFix | None = None
    checked_at: str = ""  # ISO 8601

    @property
    def finding_codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return {
            "agency_id": self.agency_id,
            "group": self.group,
            "findings": [f.to_json() for f in self.findings],
            "flags": list(self.flags),
            "evidence": self.evidence.to_json(),
            "suggested_fix": self.suggested_fix.to_json() if self.suggested_fix else None,
            "checked_at": self.checked_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        fix = data.get("suggested_fix")
        return cls(
            data["agency_id"],
            data["group"],
            tuple(Finding.from_json(f) for f in data.get("findings") or ()),
            tuple(data.get("flags") or ()),
            Evidence.from_json(data.get("evidence") or {}),
            SuggestedFix.from_json(fix) if fix else None,
            data.get("checked_at", ""),
        )


def verdict_record(agency: Agency, verdict: Verdict) -> dict[str, Any]:
    """The public JSON line for one agency (`saraban check --json`): keys scripts rely on."""
    return {
        "id": agency.id,
        "seq": agency.seq,
        "name": agency.name,
        "district": agency.district,
        "province": agency.province,
        "declared": agency.declared,
        "normalized": verdict.evidence.normalized,
        "group": verdict.group,
        "flags": list(verdict.flags),
        "findings": [{"code": f.code, "message": f.message, **({"detail": f.detail} if f.detail else {})}
                     for f in verdict.findings],
        "suggested_fix": (
            {"address": verdict.suggested_fix.address, "works": bool(verdict.suggested_fix.works)}
            if verdict.suggested_fix
            else None
        ),
        "evidence": verdict.evidence.to_json(),
        "checked_at": verdict.checked_at,
    }


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
