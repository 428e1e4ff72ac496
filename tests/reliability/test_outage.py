"""Our own network failing never marks an agency undeliverable (issue 6, part 3).

The network canary guards every verdict that could be our fault (D1, D2, E): before a scan it stops
the scan, during a scan it discards what the outage period produced, and the runner can wait for the
network to come back and finish the scan with every agency's true group.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from simkit import fast_config as _fast_config

from checks import events as ev
from checks import model as m
from checks.config import EngineConfig, PolitenessConfig
from checks.scheduler import Scanner
from checks.sim.internet import SimInternet
from checks.sim.world import (
    DNS_MX,
    DNS_NULL_MX,
    DNS_NXDOMAIN,
    DNS_SERVFAIL,
    HOST_REFUSE,
    MAILBOX_OK,
    DomainSpec,
    HostSpec,
    World,
)
from console.config import AppConfig
from console.runner import Runner
from console.store import Store

CANARY_IP = "127.62.0.1"
OUTAGE_AFTER = 3  # the network goes down once this many agencies were recorded A1 (mid-way through SMTP)


def fast_config(sim: SimInternet, **smtp: object) -> EngineConfig:
    """One session per host at a time and two RCPT per session, so a scan has many sessions one
    after another and an outage lands in the middle of it."""
    return _fast_config(sim, politeness=PolitenessConfig(max_sessions_per_host=1, rcpt_per_session=2), **smtp)


def outage_world() -> World:
    """Agencies of every group the network could fake (A1, D1, D2, D3, E), with the truth in `expected`."""
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP, starttls=True)

    def agency(aid: str, address: str, group: str) -> None:
        world.agencies.append(m.Agency(id=aid, name=f"อบต.{aid}", declared=address, province="ตาก"))
        world.expected[aid] = group

    for h in range(4):
        host = HostSpec(f"mx{h}.hosting.go.th", f"127.62.1.{h + 1}", starttls=True, reply_delay=0.03)
        world.hosts[host.name] = host
        for d in range(2):
            domain = f"tambon{h}{d}.go.th"
            world.domains[domain] = DomainSpec(domain, DNS_MX, ((10, host.name),))
            for i in range(4):
                address = f"saraban{i}@{domain}"
                host.mailboxes[address] = MAILBOX_OK
                agency(f"a1-{h}{d}{i}", address, "A1")
            agency(f"d3-{h}{d}", f"nobody@{domain}", "D3")
    for i in range(2):
        world.domains[f"tambongone{i}.go.th"] = DomainSpec(f"tambongone{i}.go.th", DNS_NXDOMAIN)
        agency(f"d1-{i}", f"saraban@tambongone{i}.go.th", "D1")
    world.domains["tambonnullmx.go.th"] = DomainSpec("tambonnullmx.go.th", DNS_NULL_MX)
    agency("d2-nullmx", "saraban@tambonnullmx.go.th", "D2")
    refusing = HostSpec("mx.refusing.go.th", "127.62.2.1", behaviour=HOST_REFUSE)
    world.hosts[refusing.name] = refusing
    world.domains["tambonrefuse.go.th"] = DomainSpec("tambonrefuse.go.th", DNS_MX, ((10, refusing.name),))
    agency("d2-refuse", "saraban@tambonrefuse.go.th", "D2")
    world.domains["tambonservfail.go.th"] = DomainSpec("tambonservfail.go.th", DNS_SERVFAIL)
    agency("e-servfail", "saraban@tambonservfail.go.th", "E")
    return world


def assert_true_to_the_world(verdicts: dict[str, m.Verdict], world: World) -> None:
    """Every recorded verdict is the agency's true group, with evidence that says the same."""
    wrong = {aid: (v.group, world.expected[aid], v.evidence.one_line())
             for aid, v in verdicts.items() if v.group != world.expected[aid]}
    assert not wrong, wrong
    for aid, verdict in verdicts.items():
        probe = verdict.evidence.probe
        assert probe is not None
        if verdict.group in ("A1", "D3"):
            assert probe.rcpt is not None and probe.rcpt.code == (250 if verdict.group == "A1" else 550)
        if verdict.group == "D2" and aid == "d2-refuse":
            assert {a.outcome for a in probe.attempts} == {m.HOST_REFUSED}
        if verdict.group == "D2" and aid == "d2-nullmx":
            assert probe.dns is not None and probe.dns.status == m.DNS_NULL_MX


# --------------------------------------------------------------------------------------------
# Before the scan
# --------------------------------------------------------------------------------------------
async def test_dns_down_before_the_scan_stops_it_with_no_verdict_at_all() -> None:
    world = outage_world()
    events: list[ev.Event] = []
    async with SimInternet(world) as sim:
        cfg = fast_config(sim)
        sim.set_network_down(True)
        scanner = Scanner(cfg)
        finished = await scanner.run(world.agencies, events.append)
        sessions = sim.smtp.audit.total_sessions
    assert finished.stopped is not None and finished.stopped.startswith("canary"), finished.stopped
    assert "canary.opdc.go.th" in finished.stopped  # the operator is told what failed
    assert scanner.verdicts == {}
    assert finished.done == 0
    assert set(finished.unfinished) == {a.id for a in world.agencies}
    assert not any(isinstance(e, ev.AgencyChecked) for e in events)
    failed = [e for e in events if isinstance(e, ev.CanaryFailed)]
    assert len(failed) == 1 and failed[0].reason
    assert sessions == 0  # nobody's mail host was bothered while we could not even resolve


async def test_port_25_cut_before_the_scan_stops_it_with_no_verdict_at_all() -> None:
    world = outage_world()
    async with SimInternet(world) as sim:
        cfg = fast_config(sim)
        sim.smtp.down = True  # DNS works, outbound SMTP does not
        scanner = Scanner(cfg)
        finished = await scanner.run(world.agencies)
    assert finished.stopped is not None and finished.stopped.startswith("canary"), (
        finished.stopped, finished.counts)
    assert scanner.verdicts == {}


# --------------------------------------------------------------------------------------------
# During the scan
# --------------------------------------------------------------------------------------------
async def _scan_with_outage(world: World, take_down: str) -> tuple[Scanner, ev.ScanFinished, list[ev.Event]]:
    events: list[ev.Event] = []
    async with SimInternet(world) as sim:
        cfg = fast_config(sim)
        checked = 0

        def sink(event: ev.Event) -> None:
            nonlocal checked
            events.append(event)
            if isinstance(event, ev.AgencyChecked) and event.verdict.group == "A1":
                checked += 1
                if checked == OUTAGE_AFTER:
                    if take_down == "all":
                        sim.set_network_down(True)
                    else:
                        sim.smtp.down = True

        scanner = Scanner(cfg)
        finished = await scanner.run(world.agencies, sink)
    return scanner, finished, events


async def test_an_outage_mid_scan_records_nothing_false_and_stops_with_the_reason() -> None:
    world = outage_world()
    scanner, finished, events = await _scan_with_outage(world, "all")
    assert finished.stopped is not None and finished.stopped.startswith("canary"), finished.stopped
    failed = [e for e in events if isinstance(e, ev.CanaryFailed)]
    assert failed and failed[0].reason and failed[0].reason in finished.stopped
    assert failed[0].withheld >= 1  # the outage did produce doubtful results, and they were withheld
    # what was recorded is true; the outage period left agencies unfinished instead of D1/D2/E
    assert sum(v.group == "A1" for v in scanner.verdicts.values()) >= OUTAGE_AFTER
    assert_true_to_the_world(scanner.verdicts, world)
    assert finished.unfinished, "the outage did not hit the scan: the test proves nothing"
    assert any(world.expected[aid] == "A1" for aid in finished.unfinished)
    assert set(finished.unfinished) == {a.id for a in world.agencies} - set(scanner.verdicts)
    checked = [e for e in events if isinstance(e, ev.AgencyChecked)]
    assert [e.agency.id for e in checked] == list(scanner.verdicts)


async def test_one_outage_is_reported_once() -> None:
    """The last agency is held while the canary loop's own check is still waiting on a dead DNS."""
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP)
    world.domains["tambongone.go.th"] = DomainSpec("tambongone.go.th", DNS_NXDOMAIN)  # held at once
    silent = HostSpec("mx.silent.go.th", "127.62.3.1", behaviour="silent")
    world.hosts[silent.name] = silent
    world.domains["tambonsilent.go.th"] = DomainSpec("tambonsilent.go.th", DNS_MX, ((10, silent.name),))
    agencies = [
        m.Agency(id="gone", name="อบต.หาย", declared="saraban@tambongone.go.th"),
        m.Agency(id="silent", name="อบต.เงียบ", declared="saraban@tambonsilent.go.th"),
    ]
    events: list[ev.Event] = []
    async with SimInternet(world) as sim:
        # the loop checks at 0.2 s and waits ~1 s on the dead DNS; the silent host's E comes at ~0.6 s
        cfg = fast_config(sim, timeout=0.6, retries=0)
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, setattr, sim.dns, "down", True)  # after the start canary, before the loop's
        finished = await Scanner(cfg).run(agencies, events.append)
    assert finished.stopped is not None and finished.stopped.startswith("canary")
    failed = [e for e in events if isinstance(e, ev.CanaryFailed)]
    assert [e.withheld for e in failed] == [2]


async def test_port_25_cut_mid_scan_records_nothing_false() -> None:
    world = outage_world()
    scanner, finished, _events = await _scan_with_outage(world, "smtp")
    assert_true_to_the_world(scanner.verdicts, world)
    assert finished.stopped is not None and finished.stopped.startswith("canary")


# --------------------------------------------------------------------------------------------
# The runner waits for the network and finishes the scan
# --------------------------------------------------------------------------------------------
async def test_runner_waits_for_the_network_and_finishes_with_true_groups(tmp_path: Path) -> None:
    world = outage_world()
    store = Store(tmp_path / "store.json")
    store.merge_import(world.agencies, source="outage-test.tsv", operator="tester")
    events: list[ev.Event] = []
    async with SimInternet(world) as sim:
        runner = Runner(store, AppConfig(engine=fast_config(sim), store_path=tmp_path / "store.json"))
        loop = asyncio.get_running_loop()
        checked = 0

        def sink(event: ev.Event) -> None:
            nonlocal checked
            events.append(event)
            if isinstance(event, ev.AgencyChecked) and event.verdict.group == "A1":
                checked += 1
                if checked == OUTAGE_AFTER:
                    sim.set_network_down(True)
            elif isinstance(event, ev.ScanPaused):
                loop.call_later(0.5, sim.set_network_down, False)  # the network comes back

        result = await asyncio.wait_for(runner.scan(None, sink, wait_for_network=True), 60)
    kinds = [type(e).__name__ for e in events]
    assert "CanaryFailed" in kinds, "the outage did not hit the scan: the test proves nothing"
    assert kinds.index("CanaryFailed") < kinds.index("ScanPaused") < kinds.index("CanaryRestored")
    assert kinds.index("CanaryRestored") < kinds.index("ScanResumed")
    assert kinds.count("ScanFinished") == 1 and kinds[-1] == "ScanFinished"
    assert result.stopped is None, result.stopped
    assert result.unfinished == ()
    assert result.done == result.total == len(world.agencies)
    # every agency ends with its true group, in the store the operator reads
    records = {r.agency.id: r for r in store.records()}
    assert set(records) == {a.id for a in world.agencies}
    stored = {aid: r.verdict for aid, r in records.items() if r.verdict is not None}
    assert set(stored) == set(records), "some agencies have no verdict in the store"
    assert_true_to_the_world(stored, world)
    # each agency was recorded once: nothing from the outage period was saved and then overwritten
    checked_ids = [e.agency.id for e in events if isinstance(e, ev.AgencyChecked)]
    assert sorted(checked_ids) == sorted(a.id for a in world.agencies)
    assert all(len(r.history) <= 1 for r in records.values())
    assert result.counts == {g: list(world.expected.values()).count(g) for g in set(world.expected.values())}


async def test_runner_started_during_an_outage_waits_and_then_checks_everyone(tmp_path: Path) -> None:
    world = outage_world()
    store = Store(tmp_path / "store.json")
    store.merge_import(world.agencies, source="outage-test.tsv", operator="tester")
    events: list[ev.Event] = []
    async with SimInternet(world) as sim:
        runner = Runner(store, AppConfig(engine=fast_config(sim), store_path=tmp_path / "store.json"))
        loop = asyncio.get_running_loop()
        sim.set_network_down(True)

        def sink(event: ev.Event) -> None:
            events.append(event)
            if isinstance(event, ev.ScanPaused):
                loop.call_later(0.5, sim.set_network_down, False)

        result = await asyncio.wait_for(runner.scan(None, sink, wait_for_network=True), 60)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("ScanStarted") == 1 and kinds.count("ScanFinished") == 1
    assert "CanaryFailed" in kinds and "CanaryRestored" in kinds
    assert result.stopped is None and result.done == len(world.agencies)
    stored = {r.agency.id: r.verdict for r in store.records()}
    assert all(v is not None for v in stored.values())
    assert_true_to_the_world({k: v for k, v in stored.items() if v is not None}, world)
