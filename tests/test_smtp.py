"""The SMTP probe against the simulated mail hosts: verdicts, hostile hosts, pipelining, safety."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from checks.config import SmtpConfig
from checks.model import (
    HOST_DROPPED,
    HOST_GREETING_REJECTED,
    HOST_OK,
    HOST_PROTOCOL_ERROR,
    HOST_REFUSED,
    HOST_SENDER_REJECTED,
    HOST_TIMEOUT,
    PROBE_ACCEPTED,
    PROBE_MAILBOX_REJECTED,
    PROBE_PROBER_REJECTED,
    PROBE_TEMPORARY,
    SmtpReply,
)
from checks.sim.smtp_server import PolitenessAudit, SimSmtpServer
from checks.sim.world import (
    HOST_CLOSE_MID_REPLY,
    HOST_DRIP,
    HOST_GARBAGE,
    HOST_GREETING_421,
    HOST_HUGE_LINE,
    HOST_REFUSE,
    HOST_SILENT,
    MAILBOX_BLOCKS_PROBER,
    MAILBOX_DISABLED,
    MAILBOX_FULL,
    MAILBOX_OK,
    HostSpec,
)
from checks.smtp import (
    SessionResult,
    classify_reply,
    clean_text,
    is_safe_address,
    parse_enhanced,
    probe_session,
)

D = "tambon.go.th"
OK, DISABLED, FULL, BLOCKS, UNKNOWN = (f"{x}@{D}" for x in ("saraban", "disabled", "full", "blocks", "nobody"))
MAILBOXES = {OK: MAILBOX_OK, DISABLED: MAILBOX_DISABLED, FULL: MAILBOX_FULL, BLOCKS: MAILBOX_BLOCKS_PROBER}
MIXED = [OK, UNKNOWN, DISABLED, FULL, BLOCKS]


def host(n: int, **kw: object) -> HostSpec:
    kw.setdefault("mailboxes", dict(MAILBOXES))
    return HostSpec(f"mx{n}.{D}", f"127.0.9.{n}", **kw)  # type: ignore[arg-type]


@asynccontextmanager
async def sim(*hosts: HostSpec) -> AsyncIterator[tuple[SimSmtpServer, SmtpConfig]]:
    server = SimSmtpServer(hosts)
    await server.start()
    try:
        yield server, SmtpConfig(port=server.port, timeout=0.5, deadline=5.0, helo_name="probe.opdc.go.th",
                                 mail_from="saraban@opdc.go.th")
    finally:
        await server.stop()


async def probe(spec: HostSpec, cfg: SmtpConfig, rcpts: list[str], **kw: object) -> SessionResult:
    return await probe_session(spec.name, spec.ip, rcpts, cfg, **kw)  # type: ignore[arg-type]


def verdicts(res: SessionResult) -> dict[str, tuple[int, str | None, str]]:
    out = {}
    for r, ex in res.rcpt.items():
        assert ex.reply is not None
        out[r] = (ex.reply.code, ex.reply.enhanced, classify_reply(ex.reply))
    return out


# --- verdicts ------------------------------------------------------------------------------------

async def test_mixed_batch_gets_one_verdict_per_recipient() -> None:
    h = host(1)
    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, MIXED)
        # The probe says QUIT without waiting for the 221; give the server a moment to read it (bounded).
        for _ in range(200):
            if server.received_commands() and server.received_commands()[-1] == "QUIT":
                break
            await asyncio.sleep(0.01)
    assert res.outcome == HOST_OK
    assert res.unattempted == ()
    assert verdicts(res) == {
        OK: (250, "2.1.5", PROBE_ACCEPTED),
        UNKNOWN: (550, "5.1.1", PROBE_MAILBOX_REJECTED),
        DISABLED: (550, "5.2.1", PROBE_MAILBOX_REJECTED),
        FULL: (552, "5.2.2", PROBE_MAILBOX_REJECTED),
        BLOCKS: (550, "5.7.1", PROBE_PROBER_REJECTED),
    }
    # the evidence for one recipient is the prelude plus its own exchange
    attempt = res.attempt_for(UNKNOWN)
    assert attempt.outcome == HOST_OK
    assert [e.command for e in attempt.transcript] == [
        "<connect>", "EHLO probe.opdc.go.th", "MAIL FROM:<saraban@opdc.go.th>", f"RCPT TO:<{UNKNOWN}>",
    ]
    assert server.received_commands()[-1] == "QUIT"
    assert server.audit.data_commands == 0


async def test_catch_all_accepts_unknown_local_parts() -> None:
    h = host(2, catch_all=True)
    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, [UNKNOWN, f"x7f3q9@{D}", DISABLED])
    v = verdicts(res)
    assert v[UNKNOWN][2] == v[f"x7f3q9@{D}"][2] == PROBE_ACCEPTED
    assert v[DISABLED][2] == PROBE_MAILBOX_REJECTED  # a known state still wins over catch-all


async def test_sender_rejected_keeps_the_reply_and_sends_no_rcpt() -> None:
    h = host(3, reject_prober=True)
    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, [OK, UNKNOWN])
    assert res.outcome == HOST_SENDER_REJECTED
    last = res.prelude[-1]
    assert last.command == "MAIL FROM:<saraban@opdc.go.th>"
    assert last.reply is not None and (last.reply.code, last.reply.enhanced) == (554, "5.7.1")
    assert classify_reply(last.reply) == PROBE_PROBER_REJECTED
    assert res.rcpt == {} and res.unattempted == (OK, UNKNOWN)
    assert not any(c.startswith("RCPT") for c in server.received_commands())


async def test_greylisting_is_temporary_then_accepted_on_reprobe() -> None:
    h = host(4, greylist_seconds=0.2)
    async with sim(h) as (_, cfg):
        first = await probe(h, cfg, [OK])
        assert verdicts(first)[OK] == (450, "4.7.1", PROBE_TEMPORARY)
        await asyncio.sleep(0.3)
        second = await probe(h, cfg, [OK])
    assert verdicts(second)[OK] == (250, "2.1.5", PROBE_ACCEPTED)


@pytest.mark.parametrize("pipelining", [True, False])
async def test_error_limit_drop_mid_batch_leaves_the_rest_unattempted(pipelining: bool) -> None:
    h = host(5, error_limit=2)
    rcpts = [f"u{i}@{D}" for i in range(5)]
    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, rcpts, max_rejections=10, pipelining=pipelining)
    assert res.outcome == HOST_DROPPED
    assert list(res.rcpt) == rcpts[:2]  # answered ones are kept
    assert res.unattempted == tuple(rcpts[2:])  # the caller requeues these
    assert res.drop is not None and res.drop.reply is not None and res.drop.reply.code == 421
    assert res.attempt_for(rcpts[3]).outcome == HOST_DROPPED
    assert res.attempt_for(rcpts[0]).outcome == HOST_OK


@pytest.mark.parametrize("pipelining", [True, False])
async def test_rejection_cap_stops_rcpt_and_never_overruns(pipelining: bool) -> None:
    h = host(6)
    rcpts = [f"u{i}@{D}" for i in range(4)] + [OK] + [f"v{i}@{D}" for i in range(4)]
    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, rcpts, max_rejections=3, pipelining=pipelining)
    assert res.outcome == HOST_OK
    assert list(res.rcpt) == rcpts[:3]
    assert res.unattempted == tuple(rcpts[3:])
    assert server.audit.hosts[h.ip].max_rcpt_per_session == 3  # nothing sent beyond the cap
    assert res.pipelining_used is pipelining


async def test_rejection_cap_counts_only_rejections_when_pipelining() -> None:
    h = host(7)
    rcpts = [OK, f"a@{D}", OK.replace("saraban", "SARABAN"), f"b@{D}", f"c@{D}", f"d@{D}"]
    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, rcpts, max_rejections=3)
    assert list(res.rcpt) == rcpts[:5]  # two accepted + three rejected
    assert res.unattempted == (f"d@{D}",)
    assert server.audit.hosts[h.ip].max_rcpt_per_session == 5


@pytest.mark.parametrize("pipelining", [True, False])
async def test_a_session_takes_more_recipients_from_the_queue_only_as_it_sends_them(pipelining: bool) -> None:
    """Sessions of one host share its queue: a session asks for more as it goes and stops asking at the
    rejection cap, so what it never reached is still in the queue for another session, not held."""
    h = host(8)
    queue = [f"u{i}@{D}" for i in range(4)]
    asked: list[int] = []

    def more(wanted: int) -> list[str]:
        asked.append(wanted)
        taken, queue[:] = queue[:wanted], queue[wanted:]
        return taken

    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, [OK], max_rejections=3, pipelining=pipelining, more=more)
    assert res.outcome == HOST_OK
    assert list(res.rcpt) == [OK, f"u0@{D}", f"u1@{D}", f"u2@{D}"]  # one accepted, then three rejected
    assert res.unattempted == ()
    assert queue == [f"u3@{D}"]  # never taken: another session sends it
    assert server.audit.hosts[h.ip].max_rcpt_per_session == 4
    # pipelined: a flight tops up to the rejections still allowed; one at a time otherwise
    assert asked == ([2, 1] if pipelining else [1, 1, 1])


async def test_without_a_rejection_cap_a_session_takes_from_the_queue_until_it_is_empty() -> None:
    h = host(10)
    queue = [f"u{i}@{D}" for i in range(30)]

    def more(wanted: int) -> list[str]:
        taken, queue[:] = queue[:wanted], queue[wanted:]
        return taken

    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, [OK], max_rejections=0, more=more)
    assert len(res.rcpt) == 31 and res.unattempted == () and queue == []


async def test_a_session_whose_queue_is_empty_says_goodbye() -> None:
    h = host(9)
    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, [OK], more=lambda wanted: [])
        for _ in range(200):  # QUIT is sent without waiting for the 221 (bounded wait, not a timing assert)
            if server.received_commands() and server.received_commands()[-1] == "QUIT":
                break
            await asyncio.sleep(0.01)
    assert list(res.rcpt) == [OK] and res.outcome == HOST_OK
    assert server.received_commands()[-1] == "QUIT"


async def test_an_unsafe_recipient_taken_from_the_queue_never_reaches_the_server() -> None:
    h = host(41)
    bad = f"x@{D}>\r\nDATA"
    async with sim(h) as (server, cfg):
        with pytest.raises(ValueError):
            await probe(h, cfg, [UNKNOWN], more=lambda wanted: [bad])
        commands = server.received_commands()
    assert not any("DATA" in c for c in commands)
    assert not any(bad in c for c in commands)


async def test_too_many_recipients_452_is_temporary_not_a_mailbox_verdict() -> None:
    h = host(8, max_rcpt_per_session=2)
    rcpts = [OK, OK.upper(), f"Saraban@{D}", f"SaraBan@{D}"]
    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, rcpts, max_rejections=10)
    v = verdicts(res)
    assert [v[r][2] for r in rcpts] == [PROBE_ACCEPTED, PROBE_ACCEPTED, PROBE_TEMPORARY, PROBE_TEMPORARY]
    assert v[rcpts[3]][:2] == (452, "4.5.3")


# --- STARTTLS ------------------------------------------------------------------------------------

async def test_starttls_with_self_signed_certificate_is_recorded_and_probe_completes() -> None:
    h = host(10, starttls=True)
    async with sim(h) as (server, cfg):
        res = await probe(h, cfg, [OK, UNKNOWN])
    assert res.outcome == HOST_OK
    assert res.starttls is True
    assert res.tls_error is not None and "self-signed" in res.tls_error
    assert [e.command for e in res.prelude] == [
        "<connect>", "EHLO probe.opdc.go.th", "STARTTLS", "EHLO probe.opdc.go.th", "MAIL FROM:<saraban@opdc.go.th>",
    ]
    assert verdicts(res)[OK][2] == PROBE_ACCEPTED
    assert verdicts(res)[UNKNOWN][2] == PROBE_MAILBOX_REJECTED
    assert server.received_commands().count("STARTTLS") == 1
    assert res.attempt_for(OK).starttls is True


async def test_starttls_not_offered_or_disabled_is_recorded_false() -> None:
    plain, tls = host(11), host(12, starttls=True)
    async with sim(plain, tls) as (server, cfg):
        r1 = await probe(plain, cfg, [OK])
        r2 = await probe(tls, replace(cfg, starttls=False), [OK])
    assert (r1.starttls, r2.starttls) == (False, False)
    assert r1.outcome == r2.outcome == HOST_OK
    assert "STARTTLS" not in server.received_commands()


async def test_failed_tls_handshake_reconnects_without_tls() -> None:
    """A host that offers STARTTLS, says 220, then talks plain text: record the failure, go on in clear."""
    sessions = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sessions
        sessions += 1
        writer.write(b"220 broken.example ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-broken.example\r\n250-STARTTLS\r\n250 PIPELINING\r\n")
                elif verb == b"STAR":
                    writer.write(b"220 go ahead\r\nthis is not a TLS handshake\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except OSError:
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        cfg = SmtpConfig(port=port, timeout=0.5, deadline=5.0)
        res = await probe_session("broken.example", "127.0.0.1", [OK], cfg)
    finally:
        server.close()
    assert res.starttls is False
    assert res.tls_error is not None and "handshake" in res.tls_error
    assert res.outcome == HOST_OK and verdicts(res)[OK][2] == PROBE_ACCEPTED
    assert sessions == 2


# --- hostile and broken hosts -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("behaviour", "outcome"),
    [
        (HOST_GREETING_421, HOST_GREETING_REJECTED),
        (HOST_REFUSE, HOST_REFUSED),
        (HOST_GARBAGE, HOST_PROTOCOL_ERROR),
        (HOST_HUGE_LINE, HOST_PROTOCOL_ERROR),
        (HOST_CLOSE_MID_REPLY, HOST_DROPPED),
        (HOST_DRIP, HOST_TIMEOUT),
        (HOST_SILENT, HOST_TIMEOUT),
    ],
)
async def test_hostile_hosts_end_with_a_clear_outcome(behaviour: str, outcome: str) -> None:
    h = host(20, behaviour=behaviour)
    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, [OK, UNKNOWN])
    assert res.outcome == outcome
    assert res.rcpt == {}
    assert res.unattempted == (OK, UNKNOWN)
    assert res.error
    if behaviour == HOST_GREETING_421:
        banner = res.prelude[0].reply
        assert banner is not None and (banner.code, banner.enhanced) == (421, "4.3.2")


async def test_silent_host_is_cut_by_the_session_deadline() -> None:
    h = host(21, behaviour=HOST_SILENT)
    async with sim(h) as (_, cfg):
        cfg = replace(cfg, timeout=30.0, deadline=0.5)  # the per-reply timeout alone would wait 30 s
        t0 = time.monotonic()
        res = await probe(h, cfg, [OK])
        elapsed = time.monotonic() - t0
    assert res.outcome == HOST_TIMEOUT
    assert elapsed < 5.0


async def test_port_25_cut_resets_every_connection() -> None:
    h = host(22)
    async with sim(h) as (server, cfg):
        server.down = True
        res = await probe(h, cfg, [OK])
        server.down = False
        again = await probe(h, cfg, [OK])
    # Accepted then reset is not "refused": it proves nothing about the host (a cut port 25, a filter).
    assert res.outcome == HOST_DROPPED
    assert again.outcome == HOST_OK


# --- pipelining --------------------------------------------------------------------------------

async def test_pipelined_batch_gives_the_same_verdicts_as_one_at_a_time() -> None:
    h, nopipe = host(30), host(31, pipelining=False)
    batch = [*MIXED, f"ghost@{D}", OK.upper()]
    async with sim(h, nopipe) as (server, cfg):
        piped = await probe(h, cfg, batch, max_rejections=20)
        single = await probe(h, cfg, batch, max_rejections=20, pipelining=False)
        not_advertised = await probe(nopipe, cfg, batch, max_rejections=20)
    assert piped.pipelining_used is True
    assert single.pipelining_used is False
    assert not_advertised.pipelining_used is False  # not advertised: one at a time
    assert verdicts(piped) == verdicts(single) == verdicts(not_advertised)
    assert list(piped.rcpt) == batch
    assert server.audit.data_commands == 0


async def test_pipelining_with_starttls() -> None:
    h = host(32, starttls=True)
    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, MIXED, max_rejections=20)
    assert res.starttls is True and res.pipelining_used is True
    assert len(res.rcpt) == len(MIXED)


# --- safety ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "bad",
    [
        f"x@{D}\r\nRCPT TO:<victim@example.com>",
        f"x@{D}\nDATA",
        f"Name <x@{D}>",
        f"x@{D},y@{D}",
        f"x@{D} NOTIFY=SUCCESS",
        f"<x@{D}>",
        f"saraban_๖๖๓๐๑๙@{D}",
        "a b@example.go.th",
        "",
        f"x@{D}\x00",
    ],
)
async def test_unsafe_recipient_raises_and_nothing_reaches_the_server(bad: str) -> None:
    h = host(40)
    async with sim(h) as (server, cfg):
        with pytest.raises(ValueError):
            await probe(h, cfg, [OK, bad])
        await asyncio.sleep(0)
        assert server.received == []
        assert server.audit.total_sessions == 0


def test_safe_addresses_are_accepted() -> None:
    for good in (OK, "saraban_663019@dla.go.th", "a.b-c+d@sub.xn--o3cw4h", "O'Neil@example.go.th"):
        assert is_safe_address(good), good


async def test_banner_markup_and_escape_sequences_are_stored_without_controls() -> None:
    h = host(41, banner="[bold]x[/] \x1b]2;pwned\x07 \x1b[31mred\x1b[0m \x9b2J end")
    async with sim(h) as (_, cfg):
        res = await probe(h, cfg, [OK])
    banner = res.prelude[0].reply
    assert banner is not None
    assert "\x1b" not in banner.text and "\x07" not in banner.text and "\x9b" not in banner.text
    assert "pwned" not in banner.text
    assert banner.text.startswith(f"mx41.{D} [bold]x[/]")  # kept as plain text, never interpreted
    assert "red" in banner.text and banner.text.endswith("end")
    assert res.outcome == HOST_OK


def test_clean_text_handles_surrogates_and_bidi() -> None:
    out = clean_text("a\udcff\udce0b\u202eevil\x00\x7f\ttab")
    out.encode("utf-8")  # would raise on a lone surrogate
    assert "\u202e" not in out and "\x00" not in out and "\x7f" not in out
    assert out.startswith("a") and out.endswith("evil\ttab")
    assert len(clean_text("x" * 5000)) <= 1000


# --- classification --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (250, "2.1.5 Ok", PROBE_ACCEPTED),
        (251, "User not local; will forward", PROBE_ACCEPTED),
        (550, "5.1.1 <x@y>: Recipient address rejected: User unknown", PROBE_MAILBOX_REJECTED),
        (550, "5.2.1 Mailbox disabled", PROBE_MAILBOX_REJECTED),
        (552, "5.2.2 Over quota", PROBE_MAILBOX_REJECTED),
        (550, "No such user here", PROBE_MAILBOX_REJECTED),
        (553, "mailbox name not allowed", PROBE_MAILBOX_REJECTED),
        (550, "5.7.1 Client host rejected", PROBE_PROBER_REJECTED),
        (554, "5.7.1 Service unavailable", PROBE_PROBER_REJECTED),
        (550, "Rejected: your IP is listed by Spamhaus", PROBE_PROBER_REJECTED),
        (550, "Access denied", PROBE_PROBER_REJECTED),
        (550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)", PROBE_MAILBOX_REJECTED),
        (452, "4.5.3 Too many recipients", PROBE_TEMPORARY),
        (450, "4.7.1 greylisted", PROBE_TEMPORARY),
        (421, "4.7.0 too many errors", PROBE_TEMPORARY),
    ],
)
def test_classify_reply(code: int, text: str, expected: str) -> None:
    enhanced, rest = parse_enhanced(text)
    assert classify_reply(SmtpReply(code, rest, enhanced)) == expected


def test_parse_enhanced() -> None:
    assert parse_enhanced("5.1.1 User unknown") == ("5.1.1", "User unknown")
    assert parse_enhanced("User unknown") == (None, "User unknown")
    assert parse_enhanced("2.0.0 Ok\n2.0.0 more") == ("2.0.0", "Ok\nmore")
    assert parse_enhanced("5.1.10x not a code") == (None, "5.1.10x not a code")
    assert parse_enhanced("5.7.1") == ("5.7.1", "")


# --- the simulator itself --------------------------------------------------------------------

async def _raw(port: int, ip: str, payload: bytes, replies: int) -> list[bytes]:
    reader, writer = await asyncio.open_connection(ip, port)
    lines = [await reader.readline()]
    writer.write(payload)
    await writer.drain()
    for _ in range(replies):
        lines.append(await asyncio.wait_for(reader.readline(), 2.0))
    writer.close()
    return lines


async def test_sim_survives_long_lines_and_bad_bytes_and_counts_data() -> None:
    h = host(50)
    async with sim(h) as (server, _):
        payload = b"NOOP " + b"A" * 10000 + b"\r\n" + b"\xff\xfe\x80 junk\r\nHELO x\r\nDATA\r\nNOOP\r\n"
        lines = await _raw(server.port, h.ip, payload, 5)
    assert lines[0].startswith(b"220 ")
    assert [ln[:3] for ln in lines[1:]] == [b"500", b"500", b"250", b"554", b"250"]
    assert server.audit.data_commands == 1
    assert any("DATA" in v for v in server.audit.violations(4, 50, 60))


async def test_politeness_audit_reports_concurrency_and_rcpt() -> None:
    h = host(51)
    async with sim(h) as (server, cfg):
        await asyncio.gather(*(probe(h, cfg, [OK, UNKNOWN, DISABLED]) for _ in range(3)))
        st = server.audit.hosts[h.ip]
    assert st.sessions == 3 and st.rcpt == 9 and st.max_rcpt_per_session == 3
    assert server.audit.violations(max_sessions=10, rcpt_per_session=50, sessions_per_minute=60) == []
    lines = server.audit.violations(max_sessions=10, rcpt_per_session=2, sessions_per_minute=2)
    assert len(lines) == 2 and all(line.startswith(h.ip) for line in lines)


def test_audit_window_counts_sessions_per_minute() -> None:
    audit = PolitenessAudit()
    for t in (0.0, 10.0, 20.0, 70.0, 75.0):
        audit.session_started("127.0.0.9", now=t)
        audit.session_ended("127.0.0.9", 0)
    assert audit.hosts["127.0.0.9"].max_sessions_per_minute == 3


async def test_many_hosts_share_one_port() -> None:
    hosts = [HostSpec(f"mx{i}.many.go.th", f"127.1.{i // 200}.{i % 200 + 1}",
                      mailboxes={f"saraban@t{i}.go.th": MAILBOX_OK}) for i in range(400)]
    async with sim(*hosts) as (server, cfg):
        # 400 sessions at once on one loop: under load a reply can take longer than sim()'s 0.5 s timeout,
        # and timing is not what this test is about.
        cfg = replace(cfg, timeout=30.0, deadline=60.0)
        results = await asyncio.gather(*(
            probe_session(h.name, h.ip, [f"saraban@t{i}.go.th", f"no@t{i}.go.th"], cfg)
            for i, h in enumerate(hosts)
        ))
    assert all(r.outcome == HOST_OK for r in results)
    assert all(verdicts(r)[f"saraban@t{i}.go.th"][2] == PROBE_ACCEPTED for i, r in enumerate(results))
    assert server.audit.total_sessions == 400 and server.audit.total_rcpt == 800


async def test_slow_host_reply_delay_beyond_the_timeout_is_a_timeout() -> None:
    slow = host(52, reply_delay=2.0)
    async with sim(slow) as (_, cfg):
        res = await probe(slow, replace(cfg, timeout=0.2), [OK])
    assert res.outcome == HOST_TIMEOUT
    assert res.prelude[0].reply is None  # the banner never came in time
