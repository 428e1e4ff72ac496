"""Transient and prober-aimed answers never become a verdict against the agency (issue 6, part 4).

Greylisting is retried, a policy rejection of the prober is E with the prober_blocked flag (never
D3), and hosts that cap recipients or errors per session get every recipient asked again instead of
losing it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest
from simkit import fast_config as _fast_config

from checks import events as ev
from checks import model as m
from checks.config import EngineConfig
from checks.scheduler import Scanner
from checks.sim.internet import SimInternet
from checks.sim.world import (
    DNS_MX,
    MAILBOX_BLOCKS_PROBER,
    MAILBOX_OK,
    DomainSpec,
    HostSpec,
    World,
)

CANARY_IP = "127.63.0.1"


def fast_config(sim: SimInternet, **smtp: object) -> EngineConfig:
    smtp.setdefault("deadline", 5.0)
    return _fast_config(sim, **smtp)  # type: ignore[arg-type]



def new_world() -> World:
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP)
    return world


def serve(world: World, domain: str, host: HostSpec) -> None:
    world.hosts.setdefault(host.name, host)
    world.domains[domain] = DomainSpec(domain, DNS_MX, ((10, host.name),))


def add(world: World, aid: str, address: str, group: str, host: HostSpec | None = None,
        state: str | None = MAILBOX_OK) -> m.Agency:
    """An agency declaring `address`; `host` knows the mailbox in `state` (None: unknown → 550 5.1.1)."""
    if host is not None and state is not None:
        host.mailboxes[address.lower()] = state
    agency = m.Agency(id=aid, name=f"อบต.{aid}", declared=address)
    world.agencies.append(agency)
    world.expected[aid] = group
    return agency


@dataclass
class Scan:
    finished: ev.ScanFinished
    verdicts: dict[str, m.Verdict]
    events: list[ev.Event]

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


async def scan(world: World, cfg: EngineConfig, agencies: list[m.Agency] | None = None) -> Scan:
    events: list[ev.Event] = []
    scanner = Scanner(cfg)
    finished = await scanner.run(world.agencies if agencies is None else agencies, events.append)
    return Scan(finished, dict(scanner.verdicts), events)


def assert_all_true(result: Scan, world: World) -> None:
    """The scan completed and every agency got exactly its true group."""
    assert result.finished.stopped is None, result.finished.stopped
    assert result.finished.unfinished == ()
    wrong = {aid: (v.group, world.expected[aid], v.evidence.one_line())
             for aid, v in result.verdicts.items() if v.group != world.expected[aid]}
    assert not wrong, wrong
    assert set(result.verdicts) == set(world.expected)


# --------------------------------------------------------------------------------------------
# Greylisting
# --------------------------------------------------------------------------------------------
async def test_short_greylisting_is_retried_and_ends_a1_never_e() -> None:
    world = new_world()
    host = HostSpec("mx.greylist.go.th", "127.63.1.1", greylist_seconds=0.5, starttls=True)
    serve(world, "tambongrey.go.th", host)
    agencies = [add(world, f"grey{i}", f"saraban{i}@tambongrey.go.th", "A1", host) for i in range(3)]
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim, retries=2, retry_delay=1.0))
    assert_all_true(result, world)
    retries = {e.address: e for e in result.of(ev.RetryScheduled)}
    for agency in agencies:
        retry = retries[agency.declared]
        assert retry.attempt == 2 and retry.delay_s == 1.0
        assert "450" in retry.reason and "4.7.1" in retry.reason
        verdict = result.verdicts[agency.id]
        assert verdict.finding_codes == [m.MAIL_ACCEPTED]
        assert verdict.evidence.probe is not None and verdict.evidence.probe.tries == 2
    # the answer was only retried after the delay: no retry was sent during the greylist window
    assert not any(isinstance(e, ev.AgencyChecked) and e.verdict.group == "E" for e in result.events)


async def test_greylisting_longer_than_the_retries_is_e_never_d() -> None:
    world = new_world()
    host = HostSpec("mx.slowgrey.go.th", "127.63.2.1", greylist_seconds=3600.0)
    serve(world, "tambonslowgrey.go.th", host)
    agencies = [add(world, f"slow{i}", f"saraban{i}@tambonslowgrey.go.th", "E", host) for i in range(2)]
    # the unknown mailbox is also only ever greylisted: nothing says it does not exist
    agencies.append(add(world, "slow-unknown", "nobody@tambonslowgrey.go.th", "E"))
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim, retries=2, retry_delay=0.3))
    assert_all_true(result, world)
    for agency in agencies:
        verdict = result.verdicts[agency.id]
        assert verdict.finding_codes == [m.TEMPORARY_FAILURE]
        probe = verdict.evidence.probe
        assert probe is not None and probe.tries == 3
        assert probe.rcpt is not None and (probe.rcpt.code, probe.rcpt.enhanced) == (450, "4.7.1")
        assert [e.attempt for e in result.of(ev.RetryScheduled) if e.address == agency.declared] == [2, 3]


# --------------------------------------------------------------------------------------------
# Rejections aimed at the prober
# --------------------------------------------------------------------------------------------
async def test_policy_rejection_at_rcpt_is_e_with_prober_blocked_never_d3() -> None:
    world = new_world()
    host = HostSpec("mx.strict.go.th", "127.63.3.1")
    serve(world, "tambonstrict.go.th", host)
    blocked = add(world, "blocks", "saraban@tambonstrict.go.th", "E", host, MAILBOX_BLOCKS_PROBER)
    add(world, "fine", "info@tambonstrict.go.th", "A1", host)
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim))
    assert_all_true(result, world)
    verdict = result.verdicts[blocked.id]
    assert m.FLAG_PROBER_BLOCKED in verdict.flags
    assert verdict.finding_codes == [m.PROBER_BLOCKED]
    assert verdict.evidence.probe is not None and verdict.evidence.probe.rcpt is not None
    assert verdict.evidence.probe.rcpt.enhanced == "5.7.1"
    warnings = result.of(ev.ProberBlocked)
    assert warnings and {w.host for w in warnings} == {host.name}
    assert "5.7.1" in warnings[0].reply


async def test_blocklisted_prober_at_mail_from_is_e_with_prober_blocked_never_d() -> None:
    world = new_world()
    host = HostSpec("mx.blocklist.go.th", "127.63.4.1", reject_prober=True, starttls=True)
    serve(world, "tambonblocklist.go.th", host)
    agencies = [add(world, f"bl{i}", f"saraban{i}@tambonblocklist.go.th", "E", host) for i in range(4)]
    agencies.append(add(world, "bl-unknown", "nobody@tambonblocklist.go.th", "E"))
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim))
        rcpts = [c for c in sim.smtp.received_commands(host.ip) if c.upper().startswith("RCPT")]
    assert_all_true(result, world)
    for agency in agencies:
        verdict = result.verdicts[agency.id]
        assert m.FLAG_PROBER_BLOCKED in verdict.flags
        assert verdict.finding_codes == [m.PROBER_BLOCKED]
    warnings = result.of(ev.ProberBlocked)
    assert warnings and {w.host for w in warnings} == {host.name}
    assert "554" in warnings[0].reply and "5.7.1" in warnings[0].reply
    assert rcpts == []  # refused at MAIL FROM: no recipient was asked


# --------------------------------------------------------------------------------------------
# Per-session caps
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [10, 30])
async def test_too_many_recipients_452_requeues_everyone_to_the_true_verdict(count: int) -> None:
    world = new_world()
    host = HostSpec("tambon-hosted.mail.protection.outlook.com", "127.63.5.1", max_rcpt_per_session=3,
                    starttls=True)
    serve(world, "tambonmsft.go.th", host)
    for i in range(count):
        if i % 3 == 2:
            add(world, f"ms{i}", f"nobody{i}@tambonmsft.go.th", "D3")
        else:
            add(world, f"ms{i}", f"saraban{i}@tambonmsft.go.th", "A1", host)
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim, retries=0))
        audit = sim.smtp.audit.stats(host.ip)
    assert_all_true(result, world)
    # requeued, not retried: a 452 is the host's limit, not a temporary failure of the mailbox
    assert not [e for e in result.of(ev.RetryScheduled) if not e.address.startswith("saraban-check-")]
    assert audit.sessions >= count // 3  # the batch was really cut by the host


@pytest.mark.parametrize("pipelining", [True, False])
async def test_postfix_error_limit_drops_lose_no_recipient(pipelining: bool) -> None:
    """Postfix-like: 421 and a closed session after 3 rejected RCPT; 12 unknown and 12 known mailboxes."""
    world = new_world()
    host = HostSpec("mx.postfix.go.th", "127.63.6.1", error_limit=3, pipelining=pipelining, starttls=True)
    serve(world, "tambonpostfix.go.th", host)
    for i in range(12):
        add(world, f"unknown{i}", f"nobody{i}@tambonpostfix.go.th", "D3")
        add(world, f"known{i}", f"saraban{i}@tambonpostfix.go.th", "A1", host)
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim, retries=0, pipelining=pipelining))
        audit = sim.smtp.audit.stats(host.ip)
    assert_all_true(result, world)
    for aid, verdict in result.verdicts.items():
        probe = verdict.evidence.probe
        assert probe is not None and probe.rcpt is not None
        expected = (550, "5.1.1") if aid.startswith("unknown") else (250, "2.1.5")
        assert (probe.rcpt.code, probe.rcpt.enhanced) == expected
    assert audit.sessions >= 4  # 12 unknown at 3 errors per session: the host really dropped sessions


async def test_a_slow_host_that_answers_every_recipient_gets_every_recipient_answered() -> None:
    """0.1 s per reply: a 40-recipient batch outlives the 2 s session deadline; the rest must be asked again."""
    world = new_world()
    host = HostSpec("mx.slow.go.th", "127.63.8.1", reply_delay=0.1)
    serve(world, "tambonslow.go.th", host)
    for i in range(40):
        add(world, f"slow{i}", f"saraban{i}@tambonslow.go.th", "A1", host)
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim, deadline=2.0, retries=1))
    assert_all_true(result, world)


# --------------------------------------------------------------------------------------------
# A transient answer to the catch-all probe
# --------------------------------------------------------------------------------------------
async def test_a_greylisted_catch_all_probe_leaves_catch_all_unknown() -> None:
    """The operator rechecks an agency on a greylisting catch-all host: the mailbox passed the greylist
    in the first scan, the new random catch-all address has not."""
    world = new_world()
    host = HostSpec("mx.greycatch.go.th", "127.63.7.1", greylist_seconds=0.5, catch_all=True)
    serve(world, "tambongreycatch.go.th", host)
    agency = add(world, "gc", "saraban@tambongreycatch.go.th", "A1", host)
    async with SimInternet(world) as sim:
        first = await scan(world, fast_config(sim, retries=1, retry_delay=1.0))
        assert m.FLAG_CATCH_ALL in first.verdicts[agency.id].flags  # the truth, found with a retry
        recheck = await scan(world, fast_config(sim, retries=0))
    verdict = recheck.verdicts[agency.id]
    assert verdict.group == "A1"
    probe = verdict.evidence.probe
    assert probe is not None and probe.catch_all_reply is not None and probe.catch_all_reply.code == 450
    assert probe.catch_all is not False  # a 450 says nothing about catch-all: unknown (None), not "no"


async def test_pause_starts_no_lookup_or_session_until_resumed() -> None:
    """The operator pauses (the office network is needed, or a host complained): nothing new goes out."""
    world = new_world()
    for i in range(20):  # more than a small recheck: the first canary runs before the probes
        host = HostSpec(f"mx.t{i}.go.th", f"127.63.1.{i + 1}")
        serve(world, f"t{i}.go.th", host)
        add(world, f"a{i}", f"saraban@t{i}.go.th", "A1", host)
    async with SimInternet(world) as sim:
        cfg = fast_config(sim)
        cfg = replace(cfg, canary=replace(cfg.canary, resolve="", connect=""))  # only the agencies query DNS
        scanner = Scanner(cfg)
        events: list[ev.Event] = []
        def sink(event: ev.Event) -> None:
            events.append(event)
            if isinstance(event, ev.ScanStarted):
                scanner.pause()  # before any agency's domain is looked up

        run = asyncio.ensure_future(scanner.run(world.agencies, sink))

        # Let every agency's task run as far as it can: a lookup sent now would reach the simulated DNS
        # server (same loop, loopback) within a few turns; a paused scan sends none.
        for _ in range(500):
            await asyncio.sleep(0)
        assert not run.done()
        assert sim.dns.queries == 0
        assert sim.smtp.received == []  # no SMTP command reached any host
        assert not any(isinstance(e, ev.AgencyChecked) for e in events)
        scanner.resume()
        finished = await asyncio.wait_for(run, 30)
    assert finished.stopped is None and finished.done == 20
    assert {v.group for v in scanner.verdicts.values()} == {"A1"}


async def test_sessions_of_a_rejecting_host_share_its_work_once_it_cuts_them_short() -> None:
    """12 unknown mailboxes on one host, 3 rejections a session, 3 sessions at a time: once the first
    session is cut short by the rejection cap, the next sessions start together, each with recipients of
    its own, instead of one taking every recipient left while it can send only three."""
    from checks.config import PolitenessConfig

    world = new_world()
    host = HostSpec("mx.strict.go.th", "127.63.9.1", reply_delay=0.05)
    serve(world, "tambonstrict.go.th", host)
    for i in range(12):
        add(world, f"u{i}", f"nobody{i}@tambonstrict.go.th", "D3")
    politeness = PolitenessConfig(max_sessions_per_host=3, rcpt_per_session=50, rejections_per_session=3)
    async with SimInternet(world) as sim:
        result = await scan(world, fast_config(sim, retries=0, politeness=politeness))
        commands = sim.smtp.received_commands(host.ip)
        audit = sim.smtp.audit.stats(host.ip)
    assert_all_true(result, world)
    steps = [c.split(":")[0].split()[0] for c in commands if c.startswith(("MAIL", "RCPT"))]
    assert ["MAIL", "MAIL"] in [steps[i:i + 2] for i in range(len(steps) - 1)]  # two sessions started together
    assert audit.max_concurrent <= 3 and audit.max_rcpt_per_session <= 3  # and the limits held


async def test_a_paused_scan_lets_its_sessions_finish_without_taking_more() -> None:
    """Paused while a session is sending: it asks nothing more of the host, and the rest waits for resume."""
    from checks.config import PolitenessConfig

    world = new_world()
    host = HostSpec("mx.calm.go.th", "127.63.9.2", reply_delay=0.05)
    serve(world, "tamboncalm.go.th", host)
    for i in range(12):
        add(world, f"k{i}", f"saraban{i}@tamboncalm.go.th", "A1", host)
    # one rejection a session: the catch-all probe (rejected) ends the first session, so the host's next
    # sessions take their recipients from the queue as they go
    politeness = PolitenessConfig(max_sessions_per_host=1, rcpt_per_session=50, rejections_per_session=1)
    async with SimInternet(world) as sim:
        scanner = Scanner(fast_config(sim, retries=0, politeness=politeness))
        run = asyncio.ensure_future(scanner.run(world.agencies))
        for _ in range(500):  # bounded: until the second session's recipients are on their way
            if sum(c.startswith("RCPT") for c in sim.smtp.received_commands(host.ip)) >= 2:
                break
            await asyncio.sleep(0.01)
        scanner.pause()
        for _ in range(500):
            if scanner.sessions_in_flight() == 0:
                break
            await asyncio.sleep(0.01)
        asked = sum(c.startswith("RCPT") for c in sim.smtp.received_commands(host.ip))
        assert scanner.sessions_in_flight() == 0 and not run.done()
        assert asked < 13  # the session ended with what it had (12 mailboxes and the catch-all probe)
        scanner.resume()
        finished = await asyncio.wait_for(run, 30)
    assert finished.stopped is None and {v.group for v in scanner.verdicts.values()} == {"A1"}


async def test_the_first_canary_runs_alongside_the_lookups_and_sessions_wait_for_it() -> None:
    """A scan of 20 agencies: its domains are looked up while the canary waits for a slow greeting, and
    no agency's mail host is contacted before the canary has passed."""
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP, reply_delay=0.3)
    hosts = []
    for i in range(20):  # more than a small recheck
        host = HostSpec(f"mx.c{i}.go.th", f"127.63.10.{i + 1}")
        hosts.append(host)
        serve(world, f"c{i}.go.th", host)
        add(world, f"c{i}", f"saraban@c{i}.go.th", "A1", host)
    async with SimInternet(world) as sim:
        run = asyncio.ensure_future(scan(world, fast_config(sim)))
        for _ in range(500):  # bounded: until most domains were looked up
            if sim.dns.queries >= 10:
                break
            await asyncio.sleep(0.005)
        greeted = sim.smtp.received_commands(CANARY_IP)
        contacted = [h.name for h in hosts if sim.smtp.received_commands(h.ip) or h.ip in sim.smtp.audit.hosts]
        result = await asyncio.wait_for(run, 30)
    assert sim.dns.queries >= 10 and greeted == []  # lookups went on while the canary waited for its greeting
    assert contacted == []
    assert_all_true(result, world)


async def test_backlog_names_the_host_whose_limits_decide_the_end() -> None:
    """30 addresses on one host allowed 2 sessions a minute of 5 recipients: minutes, not seconds."""
    from checks.config import PolitenessConfig

    world = new_world()
    busy = HostSpec("mx.busy.go.th", "127.63.2.1")
    serve(world, "busy.go.th", busy)
    for i in range(30):
        add(world, f"b{i}", f"saraban{i}@busy.go.th", "A1", busy)
    async with SimInternet(world) as sim:
        politeness = PolitenessConfig(max_sessions_per_host=1, rcpt_per_session=5, sessions_per_minute=2)
        scanner = Scanner(fast_config(sim, politeness=politeness))
        seen: list[object] = []

        def sink(event: ev.Event) -> None:
            if isinstance(event, ev.AgencyChecked) and not seen:
                seen.append(scanner.backlog())
                scanner.stop()  # what it would take is all this test needs

        await asyncio.wait_for(scanner.run(world.agencies, sink), 30)
    (backlog,) = seen
    assert backlog is not None and backlog.host == "mx.busy.go.th"
    assert backlog.waiting >= 15  # at most two sessions of five have been asked so far
    assert backlog.seconds > 60  # the next sessions wait for the per-minute window, more than once


def test_backlog_of_a_fresh_queue_counts_the_window_its_first_sessions_use() -> None:
    """100 addresses, 5 a session, 10 sessions a minute: 20 sessions, the last 10 wait one window."""
    from checks.scheduler import RATE_WINDOW_S, rate_wait

    now = 1000.0
    assert rate_wait(100, [], now, per_session=5, per_minute=10) == pytest.approx(RATE_WINDOW_S)
    assert rate_wait(50, [], now, per_session=5, per_minute=10) == 0.0  # ten sessions: all start now
    # the window is full since 30 s ago: ten sessions when those starts leave it, ten a window after that
    starts = [now - 30.0] * 10
    expected = (RATE_WINDOW_S - 30.0) + RATE_WINDOW_S
    assert rate_wait(100, starts, now, per_session=5, per_minute=10) == pytest.approx(expected)
    # starts older than the window no longer count
    assert rate_wait(50, [now - RATE_WINDOW_S - 1] * 10, now, per_session=5, per_minute=10) == 0.0
