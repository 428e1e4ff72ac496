"""The engine against a real Postfix and a real unbound (Debian packages) on loopback.

What a helpdesk operator relies on and the simulator cannot prove: Postfix's real RCPT answers are read
right (250 / 550 5.1.1 / catch-all), a session Postfix drops for too many errors loses no recipient, a
scan over such a host still gives every agency its verdict, an address with a line break never reaches
the wire, and unbound's NXDOMAIN / null MX answers become D1 / D2.
"""

from __future__ import annotations

import re
import secrets

import pytest

from checks import events as ev
from checks import model as m
from checks.config import CanaryConfig, DnsConfig, EngineConfig, PolitenessConfig, SmtpConfig
from checks.dns import MailResolver
from checks.scheduler import Scanner
from checks.smtp import probe_session

from .mailstack import (
    CANARY_NAME,
    CATCHALL_DOMAIN,
    DOMAIN,
    HARD_ERROR_LIMIT,
    MX_HOST,
    NULL_MX_DOMAIN,
    NXDOMAIN_DOMAIN,
    PROBE_FROM,
    PROBE_HELO,
    Postfix,
    Unbound,
)

pytestmark = pytest.mark.integration

KNOWN = [f"known{i:02d}@{DOMAIN}" for i in range(1, 11)]
UNKNOWN = [f"nobody{i:02d}@{DOMAIN}" for i in range(1, 21)]
# known, unknown, unknown, known, ...: rejections spread over the whole batch
BATCH = [a for i in range(10) for a in (KNOWN[i], UNKNOWN[2 * i], UNKNOWN[2 * i + 1])]
IP = "127.0.0.1"


def dns_config(unbound: Unbound) -> DnsConfig:
    return DnsConfig(nameservers=("127.0.0.1",), port=unbound.port, timeout=1, lifetime=3)


def smtp_config(postfix: Postfix) -> SmtpConfig:
    return SmtpConfig(
        port=postfix.port,
        helo_name=PROBE_HELO,
        mail_from=PROBE_FROM,
        timeout=5,
        deadline=30,
        retries=1,
        retry_delay=0.2,
    )


def engine_config(unbound: Unbound, postfix: Postfix, *, canary_name: str = CANARY_NAME) -> EngineConfig:
    """Default politeness except the session rate; 8 rejections per session > Postfix's limit of 5."""
    return EngineConfig(
        dns=dns_config(unbound),
        smtp=smtp_config(postfix),
        politeness=PolitenessConfig(rejections_per_session=8, sessions_per_minute=6000),
        canary=CanaryConfig(
            resolve=canary_name, connect=f"127.0.0.1:{postfix.port}", interval=0.2, timeout=2
        ),
    )


def agency(i: int, declared: str) -> m.Agency:
    return m.Agency(
        id=f"it-{i:03d}", name=f"เทศบาลตำบลทดสอบ {i}", declared=declared, district="แม่สอด", province="ตาก"
    )


def client_rcpts(log: str, local_part: str) -> list[str]:
    """RCPT commands Postfix received (logged via debug_peer_list) for one local part."""
    return re.findall(rf"^.*< \S+: rcpt to:<{re.escape(local_part)}@.*$", log, re.IGNORECASE | re.MULTILINE)


# ------------------------------------------------------------------------------------------- DNS


async def test_mx_points_at_the_postfix_host(unbound: Unbound) -> None:
    result = await MailResolver(dns_config(unbound)).mail_hosts(DOMAIN)
    assert result.status == m.DNS_OK
    assert not result.implicit_mx
    assert [(h.name.rstrip("."), h.preference, h.addresses) for h in result.hosts] == [(MX_HOST, 10, (IP,))]


async def test_nxdomain_from_unbound(unbound: Unbound) -> None:
    result = await MailResolver(dns_config(unbound)).mail_hosts(NXDOMAIN_DOMAIN)
    assert result.status == m.DNS_NXDOMAIN
    assert result.hosts == ()


async def test_null_mx_from_unbound(unbound: Unbound) -> None:
    result = await MailResolver(dns_config(unbound)).mail_hosts(NULL_MX_DOMAIN)
    assert result.status == m.DNS_NULL_MX
    assert result.hosts == ()


async def test_canary_resolves_through_unbound(unbound: Unbound, postfix: Postfix) -> None:
    assert await Scanner(engine_config(unbound, postfix)).canary() is None
    problem = await Scanner(engine_config(unbound, postfix, canary_name=NXDOMAIN_DOMAIN)).canary()
    assert problem is not None
    assert NXDOMAIN_DOMAIN in problem


# ------------------------------------------------------------------------------------------- one session


async def test_existing_mailbox_is_accepted(postfix: Postfix) -> None:
    address = f"saraban@{DOMAIN}"
    result = await probe_session(MX_HOST, IP, [address], smtp_config(postfix))
    assert result.outcome == m.HOST_OK
    reply = result.rcpt[address].reply
    assert reply is not None
    assert reply.code == 250
    assert result.unattempted == ()


async def test_unknown_mailbox_is_550_5_1_1(postfix: Postfix) -> None:
    address = f"no-such-user@{DOMAIN}"
    result = await probe_session(MX_HOST, IP, [address], smtp_config(postfix))
    reply = result.rcpt[address].reply
    assert reply is not None
    assert (reply.code, reply.enhanced) == (550, "5.1.1")
    assert "User unknown" in reply.text


async def test_catch_all_domain_accepts_a_random_local_part(postfix: Postfix) -> None:
    address = f"saraban-check-{secrets.token_hex(5)}@{CATCHALL_DOMAIN}"
    result = await probe_session(MX_HOST, IP, [address], smtp_config(postfix))
    reply = result.rcpt[address].reply
    assert reply is not None
    assert reply.code == 250


def assert_nothing_lost(
    batch: list[str], rcpt: dict[str, m.Exchange], unattempted: tuple[str, ...]
) -> list[str]:
    """Every recipient has a final answer or is handed back for another session; returns the rejected ones."""
    rejected = []
    for address in batch:
        exchange = rcpt.get(address)
        reply = exchange.reply if exchange is not None else None
        if address in unattempted:
            assert reply is None or 400 <= reply.code < 500, (address, reply)  # at most the 421 goodbye
            continue
        assert reply is not None, f"{address} neither answered nor handed back"
        if reply.code == 250:
            assert address in KNOWN
        else:
            assert (address, reply.code, reply.enhanced) == (address, 550, "5.1.1")
            assert address in UNKNOWN
            rejected.append(address)
    return rejected


@pytest.mark.parametrize("pipelining", [None, False], ids=["pipelining-auto", "no-pipelining"])
async def test_session_dropped_at_error_limit_loses_no_recipient(
    postfix: Postfix, pipelining: bool | None
) -> None:
    mark = postfix.log_mark()
    result = await probe_session(
        MX_HOST, IP, BATCH, smtp_config(postfix), max_rejections=8, pipelining=pipelining
    )
    assert result.outcome == m.HOST_DROPPED
    assert result.pipelining_used is (pipelining is None)  # Postfix advertises PIPELINING
    rejected = assert_nothing_lost(BATCH, result.rcpt, result.unattempted)
    assert len(rejected) == HARD_ERROR_LIMIT  # Postfix answered five rejections, then 421 and hung up
    assert result.unattempted
    assert "too many errors" in postfix.log_settled(mark)


async def test_own_rejection_cap_ends_the_session_before_postfix_does(postfix: Postfix) -> None:
    result = await probe_session(MX_HOST, IP, BATCH, smtp_config(postfix), max_rejections=3, pipelining=False)
    assert result.outcome == m.HOST_OK
    rejected = assert_nothing_lost(BATCH, result.rcpt, result.unattempted)
    assert len(rejected) == 3
    assert result.unattempted


# ------------------------------------------------------------------------------------------- whole scans


async def test_scan_through_dropped_sessions_gives_every_agency_its_verdict(
    unbound: Unbound, postfix: Postfix
) -> None:
    agencies = [agency(i, address) for i, address in enumerate(BATCH)]
    events: list[ev.Event] = []
    scanner = Scanner(engine_config(unbound, postfix))
    mark = postfix.log_mark()
    finished = await scanner.run(agencies, events.append)

    assert finished.stopped is None
    assert finished.unfinished == ()
    assert finished.done == len(agencies) == 30
    groups = {a.declared: scanner.verdicts[a.id].group for a in agencies}
    assert {a: g for a, g in groups.items() if a in KNOWN} == dict.fromkeys(KNOWN, "A1")
    assert {a: g for a, g in groups.items() if a in UNKNOWN} == dict.fromkeys(UNKNOWN, "D3")
    d3 = scanner.verdicts[agencies[1].id]
    assert d3.evidence.probe is not None and d3.evidence.probe.rcpt is not None
    assert (d3.evidence.probe.rcpt.code, d3.evidence.probe.rcpt.enhanced) == (550, "5.1.1")
    assert not [e for e in events if isinstance(e, ev.CanaryFailed)]
    # the scenario really happened: Postfix dropped at least one session for too many errors
    assert "too many errors" in postfix.log_settled(mark)


async def test_dns_outcomes_through_the_scanner(unbound: Unbound, postfix: Postfix) -> None:
    agencies = [
        agency(100, f"saraban@{NXDOMAIN_DOMAIN}"),
        agency(101, f"saraban@{NULL_MX_DOMAIN}"),
        agency(102, f"saraban@{CATCHALL_DOMAIN}"),
        agency(103, f"saraban@{DOMAIN}"),
    ]
    scanner = Scanner(engine_config(unbound, postfix))
    finished = await scanner.run(agencies)
    assert finished.stopped is None
    verdicts = [scanner.verdicts[a.id] for a in agencies]
    assert [v.group for v in verdicts] == ["D1", "D2", "A1", "A1"]
    assert m.FLAG_CATCH_ALL in verdicts[2].flags
    assert m.FLAG_CATCH_ALL not in verdicts[3].flags


async def test_canary_that_fails_marks_nobody_undeliverable(unbound: Unbound, postfix: Postfix) -> None:
    agencies = [agency(200, f"saraban@{NXDOMAIN_DOMAIN}"), agency(201, f"nobody01@{DOMAIN}")]
    events: list[ev.Event] = []
    scanner = Scanner(engine_config(unbound, postfix, canary_name=NXDOMAIN_DOMAIN))
    finished = await scanner.run(agencies, events.append)
    assert finished.stopped is not None
    assert finished.stopped.startswith("canary")
    assert any(isinstance(e, ev.CanaryFailed) for e in events)
    assert not [v for v in scanner.verdicts.values() if v.group.startswith("D")]


async def test_line_break_in_declared_address_never_reaches_postfix(
    unbound: Unbound, postfix: Postfix
) -> None:
    injected = m.Agency(
        id="it-crlf", name="อบต.ทดสอบ", declared=f"crlf-ok@{DOMAIN}\r\nRCPT TO:<evil@{DOMAIN}>"
    )
    agencies = [injected, agency(300, f"saraban@{DOMAIN}"), agency(301, f"nobody02@{DOMAIN}")]
    scanner = Scanner(engine_config(unbound, postfix))
    mark = postfix.log_mark()
    finished = await scanner.run(agencies)

    assert finished.unfinished == ()
    assert scanner.verdicts["it-crlf"].group == "B3"
    log = postfix.log_settled(mark)
    assert client_rcpts(log, "saraban")  # the log does record the scan's RCPT commands
    assert "evil" not in log.lower()
    assert len(client_rcpts(log, "crlf-ok")) <= 1  # at most a probe of a clean suggested fix
