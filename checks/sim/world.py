"""The description of a simulated internet: which domains exist, their mail hosts and how they behave.

A `World` is plain data. `checks.sim.dns_server` answers DNS from it, `checks.sim.smtp_server`
plays its mail hosts, `checks.sim.internet.SimInternet` runs both on loopback, and
`checks.sim.worlds` builds the catalogue world (every behaviour) and the national world.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.model import Agency

# Mailbox states a host knows (any other local part is unknown → 550 5.1.1)
MAILBOX_OK = "ok"  # 250
MAILBOX_DISABLED = "disabled"  # 550 5.2.1
MAILBOX_FULL = "full"  # 552 5.2.2
MAILBOX_BLOCKS_PROBER = "blocks_prober"  # 550 5.7.1 (policy aimed at the sender, not the mailbox)

# Host behaviours
HOST_NORMAL = "normal"
HOST_REFUSE = "refuse"  # nothing listens: connection refused
HOST_SILENT = "silent"  # accepts TCP, never sends a banner
HOST_GREETING_421 = "greeting_421"  # "421 4.3.2 Service not available" at greeting, then close
HOST_DRIP = "drip"  # sends its banner one byte every few seconds
HOST_HUGE_LINE = "huge_line"  # answers EHLO with a 1 MB line
HOST_GARBAGE = "garbage"  # answers with bytes that are not SMTP
HOST_CLOSE_MID_REPLY = "close_mid_reply"  # closes the connection in the middle of a reply

# Domain DNS modes
DNS_MX = "mx"
DNS_NXDOMAIN = "nxdomain"
DNS_NULL_MX = "null_mx"  # MX 0 .
DNS_A_ONLY = "a_only"  # no MX; A record → implicit MX
DNS_NO_RECORDS = "no_records"  # name exists (e.g. has TXT) but no MX, no A
DNS_SERVFAIL = "servfail"
DNS_NO_ANSWER = "no_answer"  # the server never answers (timeout)
DNS_GARBAGE = "garbage"  # answers bytes that are not DNS
DNS_TRUNCATED = "truncated"  # TC bit set on UDP, and TCP not served


@dataclass(slots=True)
class HostSpec:
    """One simulated mail host, reachable on `ip` at the sim's SMTP port."""

    name: str
    ip: str  # 127.x.y.z, unique per host
    behaviour: str = HOST_NORMAL
    mailboxes: dict[str, str] = field(default_factory=dict)  # lowercase "local@domain" → MAILBOX_*
    catch_all: bool = False  # accept any local part of any domain it serves
    greylist_seconds: float = 0.0  # 450 4.7.1 for a (sender, rcpt) pair until this long after first seen
    error_limit: int = 0  # Postfix-like: drop the session after K rejected RCPT (0 = no limit)
    max_rcpt_per_session: int = 0  # Microsoft-like: 452 4.5.3 beyond this many RCPT (0 = no limit)
    starttls: bool = False  # offer STARTTLS with a self-signed certificate
    pipelining: bool = True  # advertise PIPELINING
    banner: str = "ESMTP ready"  # text after "220 <name> "
    reply_delay: float | None = None  # seconds before each reply; None = the internet's default
    reject_prober: bool = False  # 554 5.7.1 to MAIL FROM (our IP is "blocklisted")
    greeting_name: str = ""  # the name in the 220 greeting; empty = `name` (an interceptor says its own)


@dataclass(slots=True)
class DomainSpec:
    name: str
    mode: str = DNS_MX
    mx: tuple[tuple[int, str], ...] = ()  # (preference, host name); names not in World.hosts do not resolve
    a: tuple[str, ...] = ()  # A records of the domain itself (DNS_A_ONLY)


@dataclass(slots=True)
class World:
    domains: dict[str, DomainSpec] = field(default_factory=dict)
    hosts: dict[str, HostSpec] = field(default_factory=dict)  # by host name
    agencies: list[Agency] = field(default_factory=list)
    canary_name: str = "canary.opdc.go.th"  # resolves to canary_ip
    canary_ip: str = "127.0.0.1"
    # Any other records, by (lowercase name, type): PTR, TXT (SPF), blocklist answers, "what is my address"
    records: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    reference_hosts: tuple[str, ...] = ()  # the doctor's port-25 references; empty = the canary host
    # free-form expectations for tests: agency id → expected group (the generator knows the truth)
    expected: dict[str, str] = field(default_factory=dict)

    def host_by_ip(self) -> dict[str, HostSpec]:
        return {h.ip: h for h in self.hosts.values()}
