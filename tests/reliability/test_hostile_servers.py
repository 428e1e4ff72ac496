"""Hostile mail and DNS servers cost one agency its deadline at most, never the scan (issue 6, part 2).

Each hostile behaviour of the simulator is met by a whole scan: the agency must end in time with the
right group (E for what may pass, D2 for a host that refuses), the scan must complete, and a
hostile host must not hold up the agencies of a normal host.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from simkit import fast_config

from checks import events as ev
from checks import model as m
from checks.config import EngineConfig
from checks.scheduler import Scanner
from checks.sim import smtp_server as sim_smtp
from checks.sim.internet import SimInternet
from checks.sim.world import (
    DNS_GARBAGE,
    DNS_MX,
    DNS_NO_ANSWER,
    DNS_SERVFAIL,
    DNS_TRUNCATED,
    HOST_CLOSE_MID_REPLY,
    HOST_DRIP,
    HOST_GARBAGE,
    HOST_GREETING_421,
    HOST_HUGE_LINE,
    HOST_NORMAL,
    HOST_REFUSE,
    HOST_SILENT,
    MAILBOX_OK,
    DomainSpec,
    HostSpec,
    World,
)

MARGIN_S = 2.0  # generous slack for a loaded CI machine: this bounds the wait, it does not time speed
CANARY_IP = "127.61.0.1"




def agency_budget(cfg: EngineConfig) -> float:
    """The longest one agency may take by its settings: DNS, the SMTP deadline, the retry waits, one
    canary confirmation (a held E / D verdict waits for it), plus slack."""
    dns = cfg.dns.lifetime + 1.0  # the resolver bounds each lookup from outside at lifetime + 1
    canary = cfg.canary.interval + cfg.canary.timeout + dns
    smtp = cfg.smtp
    return dns + smtp.deadline + smtp.retries * smtp.retry_delay + canary + MARGIN_S


def new_world() -> World:
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP)
    return world


def add_domain(world: World, domain: str, host: HostSpec | None, agencies: int = 1,
               mode: str = DNS_MX) -> list[m.Agency]:
    """A domain served by `host` (or by DNS `mode` alone) with `agencies` agencies declaring mailboxes on it."""
    if host is not None:
        world.hosts.setdefault(host.name, host)
    mx = ((10, host.name),) if host is not None and mode == DNS_MX else ()
    world.domains[domain] = DomainSpec(domain, mode, mx)
    out = []
    for i in range(agencies):
        address = f"saraban{i}@{domain}"
        if host is not None:
            host.mailboxes[address] = MAILBOX_OK
        agency = m.Agency(id=f"{domain}#{i}", name=f"อบต. {domain} {i}", declared=address)
        world.agencies.append(agency)
        out.append(agency)
    return out


@dataclass
class Timed:
    """A scan's outcome with the moment (since the start) each agency got its verdict."""

    finished: ev.ScanFinished
    verdicts: dict[str, m.Verdict]
    at: dict[str, float]
    events: list[ev.Event]
    order: list[str]


async def scan(world: World, cfg: EngineConfig) -> Timed:
    events: list[ev.Event] = []
    at: dict[str, float] = {}
    order: list[str] = []
    started = time.monotonic()

    def sink(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.AgencyChecked):
            at[event.agency.id] = time.monotonic() - started
            order.append(event.agency.id)

    scanner = Scanner(cfg)
    finished = await scanner.run(world.agencies, sink)
    return Timed(finished, dict(scanner.verdicts), at, events, order)


def assert_complete(result: Timed, world: World) -> None:
    """The scan was not stopped and every agency has a verdict."""
    assert result.finished.stopped is None, result.finished.stopped
    assert result.finished.unfinished == ()
    assert set(result.verdicts) == {a.id for a in world.agencies}
    assert sum(1 for e in result.events if isinstance(e, ev.ScanFinished)) == 1


def host_outcomes(verdict: m.Verdict) -> set[str]:
    probe = verdict.evidence.probe
    assert probe is not None
    return {a.outcome for a in probe.attempts}


@contextmanager
def fast_drip(interval: float) -> Iterator[None]:
    """Make the dripping host send one banner byte every `interval` seconds (module setting of the sim)."""
    saved = sim_smtp.DRIP_INTERVAL
    sim_smtp.DRIP_INTERVAL = interval
    try:
        yield
    finally:
        sim_smtp.DRIP_INTERVAL = saved


# --------------------------------------------------------------------------------------------
# Hostile mail hosts
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("behaviour", "host_kw", "smtp_kw", "group", "outcomes"),
    [
        pytest.param(HOST_SILENT, {}, {}, "E", {m.HOST_TIMEOUT}, id="never-sends-a-banner"),
        # a banner byte every 2 s against a 0.5 s reply timeout
        pytest.param(HOST_DRIP, {}, {}, "E", {m.HOST_TIMEOUT}, id="drip-slower-than-timeout"),
        pytest.param(HOST_HUGE_LINE, {}, {}, "E", {m.HOST_PROTOCOL_ERROR}, id="1mb-ehlo-reply"),
        pytest.param(HOST_NORMAL, {"banner": "x" * (1024 * 1024)}, {}, "E", {m.HOST_PROTOCOL_ERROR},
                     id="1mb-banner"),
        pytest.param(HOST_GARBAGE, {}, {}, "E", {m.HOST_PROTOCOL_ERROR}, id="garbage"),
        pytest.param(HOST_CLOSE_MID_REPLY, {}, {}, "E", {m.HOST_DROPPED}, id="close-mid-reply"),
        pytest.param(HOST_GREETING_421, {}, {}, "E", {m.HOST_GREETING_REJECTED}, id="greeting-421"),
        pytest.param(HOST_NORMAL, {"reply_delay": 5.0}, {}, "E", {m.HOST_TIMEOUT}, id="every-reply-late"),
        # nothing listens: the host cannot receive mail while our network is healthy → D2
        pytest.param(HOST_REFUSE, {}, {}, "D2", {m.HOST_REFUSED}, id="refuses"),
    ],
)
async def test_hostile_host_ends_in_time_with_the_right_group(
    behaviour: str, host_kw: dict[str, object], smtp_kw: dict[str, object], group: str, outcomes: set[str]
) -> None:
    world = new_world()
    host = HostSpec("mx.hostile.go.th", "127.61.1.1", behaviour=behaviour, **host_kw)  # type: ignore[arg-type]
    agencies = add_domain(world, "tambonhostile.go.th", host, agencies=3)
    async with SimInternet(world) as sim:
        cfg = fast_config(sim, **smtp_kw)
        result = await scan(world, cfg)
    assert_complete(result, world)
    budget = agency_budget(cfg)
    for agency in agencies:
        verdict = result.verdicts[agency.id]
        assert verdict.group == group, (agency.id, verdict.group, verdict.evidence.one_line())
        assert host_outcomes(verdict) == outcomes
        assert result.at[agency.id] < budget, f"{agency.id} took {result.at[agency.id]:.1f} s > {budget:.1f} s"
        if group == "E":
            assert verdict.finding_codes == [m.TEMPORARY_FAILURE]
            assert m.MAILBOX_NOT_FOUND not in verdict.finding_codes


async def test_a_banner_dripping_just_under_the_reply_timeout_is_cut_by_the_session_deadline() -> None:
    """One byte every 0.1 s never trips a 1 s reply timeout; only the session deadline can end it."""
    world = new_world()
    host = HostSpec("mx.drip.go.th", "127.61.2.1", behaviour=HOST_DRIP)
    agencies = add_domain(world, "tambondrip.go.th", host, agencies=2)
    with fast_drip(0.1):
        async with SimInternet(world) as sim:
            cfg = fast_config(sim, timeout=1.0, deadline=1.5, retries=2)
            result = await scan(world, cfg)
    assert_complete(result, world)
    budget = agency_budget(cfg)
    for agency in agencies:
        verdict = result.verdicts[agency.id]
        assert verdict.group == "E"
        assert host_outcomes(verdict) == {m.HOST_TIMEOUT}
        assert result.at[agency.id] < budget, f"{result.at[agency.id]:.1f} s > {budget:.1f} s"


async def test_a_1mb_line_does_not_blow_up_memory() -> None:
    world = new_world()
    add_domain(world, "tambonhuge.go.th", HostSpec("mx.huge.go.th", "127.61.3.1", behaviour=HOST_HUGE_LINE),
               agencies=5)
    add_domain(world, "tambonhugebanner.go.th",
               HostSpec("mx.hugebanner.go.th", "127.61.3.2", banner="y" * (1024 * 1024)), agencies=5)
    async with SimInternet(world) as sim:
        cfg = fast_config(sim, retries=2)
        tracemalloc.start()
        try:
            result = await scan(world, cfg)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert_complete(result, world)
    assert {v.group for v in result.verdicts.values()} == {"E"}
    # the simulator itself builds each 1 MB line in this process too; 50 MB still proves nothing piles up
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    # nothing of the huge line is kept as evidence
    for verdict in result.verdicts.values():
        assert len(str(verdict.to_json())) < 20_000


async def test_a_domain_with_many_silent_mx_hosts_ends_within_its_deadline() -> None:
    """Twenty MX records, each a host that never greets: trying them one by one must stop at the deadline."""
    world = new_world()
    hosts = [HostSpec(f"mx{i:02d}.tarpit.go.th", f"127.61.7.{i + 1}", behaviour=HOST_SILENT) for i in range(20)]
    for host in hosts:
        world.hosts[host.name] = host
    world.domains["tambontarpit.go.th"] = DomainSpec(
        "tambontarpit.go.th", DNS_MX, tuple((10 + i, h.name) for i, h in enumerate(hosts))
    )
    agencies = [m.Agency(id=f"tarpit#{i}", name=f"อบต.{i}", declared=f"saraban{i}@tambontarpit.go.th")
                for i in range(3)]
    world.agencies.extend(agencies)
    async with SimInternet(world) as sim:
        cfg = fast_config(sim, timeout=0.5, deadline=2.0)
        result = await scan(world, cfg)
    assert_complete(result, world)
    budget = agency_budget(cfg)
    for agency in agencies:
        verdict = result.verdicts[agency.id]
        assert verdict.group == "E", verdict.evidence.one_line()
        assert host_outcomes(verdict) == {m.HOST_TIMEOUT}
        assert result.at[agency.id] < budget, f"{result.at[agency.id]:.1f} s > {budget:.1f} s"


# --------------------------------------------------------------------------------------------
# Hostile DNS
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "dns_status"),
    [
        pytest.param(DNS_GARBAGE, {m.DNS_TIMEOUT, m.DNS_SERVFAIL}, id="garbage"),
        pytest.param(DNS_TRUNCATED, {m.DNS_SERVFAIL, m.DNS_TIMEOUT}, id="truncated-and-no-tcp"),
        pytest.param(DNS_NO_ANSWER, {m.DNS_TIMEOUT}, id="never-answers"),
        pytest.param(DNS_SERVFAIL, {m.DNS_SERVFAIL}, id="servfail"),
    ],
)
async def test_hostile_dns_gives_e_in_time_never_d1(mode: str, dns_status: set[str]) -> None:
    world = new_world()
    agencies = add_domain(world, "tambonbaddns.go.th", None, agencies=3, mode=mode)
    async with SimInternet(world) as sim:
        cfg = fast_config(sim)
        result = await scan(world, cfg)
    assert_complete(result, world)
    budget = agency_budget(cfg) + cfg.smtp.retries * (cfg.dns.lifetime + 1.0)  # each retry resolves again
    for agency in agencies:
        verdict = result.verdicts[agency.id]
        assert verdict.group == "E", (verdict.group, verdict.evidence.one_line())
        assert verdict.finding_codes == [m.TEMPORARY_FAILURE]
        probe = verdict.evidence.probe
        assert probe is not None and probe.dns is not None
        assert probe.outcome == m.PROBE_DNS_TEMPORARY
        assert probe.dns.status in dns_status
        assert result.at[agency.id] < budget, f"{result.at[agency.id]:.1f} s > {budget:.1f} s"


# --------------------------------------------------------------------------------------------
# A mixed scan
# --------------------------------------------------------------------------------------------
async def test_hostile_hosts_do_not_delay_a_normal_hosts_agencies() -> None:
    """Normal agencies get A1 before any hostile host could even have timed out once."""
    world = new_world()
    hostile: list[m.Agency] = []
    slow: list[m.Agency] = []  # on hosts that hold a session open until the timeout
    for i, (behaviour, kw) in enumerate([
        (HOST_SILENT, {}),
        (HOST_DRIP, {}),
        (HOST_NORMAL, {"reply_delay": 5.0}),
        (HOST_HUGE_LINE, {}),
        (HOST_GARBAGE, {}),
        (HOST_CLOSE_MID_REPLY, {}),
    ]):
        host = HostSpec(f"mx{i}.hostile.go.th", f"127.61.4.{i + 1}", behaviour=behaviour, **kw)  # type: ignore[arg-type]
        added = add_domain(world, f"tambonhostile{i}.go.th", host, agencies=8)
        hostile += added
        if i < 3:
            slow += added
    normal_host = HostSpec("mx.normal.go.th", "127.61.5.1", starttls=True)
    normal: list[m.Agency] = []
    for i in range(6):
        normal += add_domain(world, f"tambonnormal{i}.go.th", normal_host, agencies=5)
    # a second normal host shares its MX preference list with a silent host that comes first
    silent_first = HostSpec("mx-a.mixed.go.th", "127.61.6.1", behaviour=HOST_SILENT)
    fallback = HostSpec("mx-b.mixed.go.th", "127.61.6.2")
    world.hosts[silent_first.name] = silent_first
    world.hosts[fallback.name] = fallback
    world.domains["tambonmixed.go.th"] = DomainSpec(
        "tambonmixed.go.th", DNS_MX, ((10, silent_first.name), (20, fallback.name))
    )
    behind_silent = []
    for i in range(4):
        address = f"saraban{i}@tambonmixed.go.th"
        fallback.mailboxes[address] = MAILBOX_OK
        agency = m.Agency(id=f"mixed#{i}", name=f"เทศบาล {i}", declared=address)
        world.agencies.append(agency)
        behind_silent.append(agency)

    async with SimInternet(world) as sim:
        cfg = fast_config(sim, timeout=2.0, deadline=4.0, retries=0)
        result = await scan(world, cfg)
    assert_complete(result, world)
    for agency in normal + behind_silent:
        assert result.verdicts[agency.id].group == "A1", result.verdicts[agency.id].evidence.one_line()
    for agency in hostile:
        assert result.verdicts[agency.id].group == "E"
    # every normal-host agency was recorded before the first agency of a host that holds sessions open
    # until the timeout (an order, not a speed): nothing waited for the hostile hosts
    last_normal = max(result.order.index(a.id) for a in normal)
    first_slow = min(result.order.index(a.id) for a in slow)
    assert last_normal < first_slow
    # a bound set by the settings, not a speed: no normal agency waited for even one hostile timeout
    assert max(result.at[a.id] for a in normal) < cfg.smtp.timeout
    # and behind a silent first MX the agencies still end A1, within their budget
    budget = agency_budget(cfg)
    assert all(result.at[a.id] < budget for a in behind_silent)
    silent_outcomes = {
        a.outcome
        for agency in behind_silent
        for a in (result.verdicts[agency.id].evidence.probe or m.ProbeResult("", "")).attempts
        if a.host == silent_first.name
    }
    assert silent_outcomes == {m.HOST_TIMEOUT}
