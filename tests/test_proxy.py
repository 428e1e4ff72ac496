"""SMTP through a SOCKS5 proxy, against the simulated internet and its small SOCKS5 server.

What an office behind an approved relay relies on: every group comes out the same as direct, and
every failure of the proxy itself (down, wrong password, "not allowed by ruleset", "host unreachable")
is ours — never a D verdict, and a scan stops on it the way it stops on any outage of our own.
Real dante is in tests/integration/test_dante.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from checks import events as ev
from checks import model as m
from checks.config import EngineConfig, SmtpConfig, parse_socks_url
from checks.connect import ProxyFailed, Socks5Connector, open_stream
from checks.scheduler import Scanner
from checks.sim.internet import SimInternet
from checks.sim.socks5 import SimSocks5Server
from checks.sim.world import MAILBOX_OK, DomainSpec, HostSpec, World
from checks.sim.worlds import catalogue_world
from checks.smtp import probe_session
from console.config import AppConfig, ConfigError, parse_config
from console.runner import Runner
from console.store import Store

WORLD = catalogue_world()


def via(config: EngineConfig, proxy: SimSocks5Server | str) -> EngineConfig:
    url = proxy if isinstance(proxy, str) else proxy.url
    return replace(config, smtp=replace(config.smtp, proxy=parse_socks_url(url)))


# Catalogue agencies whose group a timeout decides (a host that never greets, a banner dripping slower than
# the reply timeout, DNS that never answers or answers garbage, which the resolver ignores and waits on). The comparison below leaves them out so it can wait generously:
# with short timeouts a loaded machine also times out healthy hosts (through the proxy, one more hop on the
# same loop). tests/test_engine_e2e.py checks their groups; the proxy's own timeouts are tested below.
DECIDED_BY_A_TIMEOUT = {"cat-e-silent-host", "cat-e-drip-banner", "cat-e-dns-timeout", "cat-e-dns-garbage"}


async def test_catalogue_through_the_proxy_gives_the_same_groups_as_direct() -> None:
    agencies = [a for a in WORLD.agencies if a.id not in DECIDED_BY_A_TIMEOUT]
    expected = {a.id: WORLD.expected[a.id] for a in agencies}
    assert len(agencies) == len(WORLD.agencies) - len(DECIDED_BY_A_TIMEOUT)
    async with SimInternet(WORLD) as internet, SimSocks5Server() as proxy:
        config = internet.engine_config(
            dns_timeout=10.0, dns_lifetime=20.0, retries=1, retry_delay=1.0, deadline=60.0, timeout=20.0
        )
        direct = Scanner(config)
        await direct.run(agencies)
        proxied = Scanner(via(config, proxy))
        finished = await proxied.run(agencies)
        relayed = proxy.connections
    assert finished.stopped is None, finished.stopped
    groups = {aid: v.group for aid, v in proxied.verdicts.items()}
    assert groups == {aid: v.group for aid, v in direct.verdicts.items()}
    assert groups == expected
    assert relayed > 0  # the sessions really went through the proxy
    reached = next(v for v in proxied.verdicts.values() if v.group == "A1").evidence.probe
    assert reached is not None
    ok = next(a for a in reached.attempts if a.outcome == m.HOST_OK)
    assert ok.transcript[0].command == f"<connect via socks5 127.0.0.1:{proxy.port}>"


def _small_world() -> World:
    world = World(canary_name="canary.opdc.go.th", canary_ip="127.63.0.1")
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", "127.63.0.1")
    for h in range(3):
        host = HostSpec(f"mx.t{h}.go.th", f"127.63.1.{h + 1}")
        world.hosts[host.name] = host
        domain = f"t{h}.go.th"
        world.domains[domain] = DomainSpec(domain, "mx", ((10, host.name),))
        for i in range(3):
            address = f"saraban{i}@{domain}"
            host.mailboxes[address] = MAILBOX_OK
            world.agencies.append(m.Agency(id=f"a{h}{i}", name=f"อบต.{h}{i}", declared=address))
            world.expected[f"a{h}{i}"] = "A1"
        world.agencies.append(m.Agency(id=f"d3-{h}", name=f"อบต.ไม่มี{h}", declared=f"nobody@{domain}"))
        world.expected[f"d3-{h}"] = "D3"
    return world


async def _one_session(config: SmtpConfig) -> tuple[m.HostAttempt, str]:
    result = await probe_session("mx.t0.go.th", "127.63.1.1", ["saraban0@t0.go.th"], config)
    return result.attempt_for("saraban0@t0.go.th"), result.error or ""


@pytest.mark.parametrize(
    ("situation", "words"),
    [
        ("down", "cannot connect to the socks5 proxy 127.0.0.1"),
        ("wrong password", "authentication"),
        ("ruleset", "connection not allowed by ruleset"),
    ],
)
async def test_a_failing_proxy_is_our_failure_not_the_host(situation: str, words: str) -> None:
    world = _small_world()
    async with SimInternet(world) as internet:
        proxy = SimSocks5Server(username="probe", password="right", allow=lambda ip, port: situation != "ruleset")
        await proxy.start()
        url = proxy.url
        if situation == "down":
            await proxy.stop()
        if situation == "wrong password":
            url = url.replace(":right@", ":wrong@")
        config = via(internet.engine_config(timeout=1.0), url).smtp
        attempt, error = await _one_session(config)
        await proxy.stop()
    assert attempt.outcome == m.HOST_PROXY_FAILED
    assert words in error.lower(), error
    assert attempt.transcript[0].command.startswith("<connect via socks5 127.0.0.1:")
    assert attempt.transcript[0].reply is None  # the mail host never said anything


async def test_proxy_reports_host_unreachable_as_ours() -> None:
    """Port 9 on a loopback address nothing listens on → the sim proxy says "connection refused";
    a destination outside loopback → "not allowed". Refused is the host's own answer, relayed."""
    async with SimSocks5Server() as proxy:
        connector = Socks5Connector(parse_socks_url(proxy.url))
        with pytest.raises(ConnectionRefusedError):
            await connector.connect("127.63.9.9", 9, 2.0)
        with pytest.raises(ProxyFailed) as failed:
            await connector.connect("192.0.2.1", 25, 2.0)  # TEST-NET-1: refused by the proxy's ruleset
    assert failed.value.code == 0x02


async def test_scan_with_the_proxy_down_from_the_start_blames_nobody() -> None:
    world = _small_world()
    events: list[ev.Event] = []
    async with SimInternet(world) as internet:
        proxy = SimSocks5Server()
        await proxy.start()
        config = via(internet.engine_config(timeout=1.0, retries=0), proxy)
        await proxy.stop()
        scanner = Scanner(config)
        finished = await scanner.run(world.agencies, events.append)
    assert finished.stopped is not None and finished.stopped.startswith("canary"), finished.stopped
    assert "SOCKS5 proxy" in finished.stopped
    assert scanner.verdicts == {}


async def test_proxy_without_canary_target_still_guards_the_scan() -> None:
    """No [canary] at all: the proxy's own reachability is the canary, so nothing is blamed on it."""
    world = _small_world()
    async with SimInternet(world) as internet:
        proxy = SimSocks5Server()
        await proxy.start()
        config = via(internet.engine_config(timeout=1.0, retries=0), proxy)
        config = replace(config, canary=replace(config.canary, resolve="", connect=""))
        await proxy.stop()
        scanner = Scanner(config)
        finished = await scanner.run(world.agencies)
    assert finished.stopped is not None and "SOCKS5 proxy" in finished.stopped
    assert not [v for v in scanner.verdicts.values() if v.group.startswith(("D", "E"))]


async def test_canary_connects_through_the_proxy() -> None:
    world = _small_world()
    async with SimInternet(world) as internet, SimSocks5Server() as proxy:
        config = via(internet.engine_config(), proxy)
        assert await Scanner(config).canary() is None
        before = proxy.connections
        reader, writer = await open_stream(Socks5Connector(parse_socks_url(proxy.url)),
                                           "127.63.0.1", internet.smtp.port, 2.0)
        greeting = await reader.readline()
        writer.close()
    assert proxy.connections == before + 1
    assert greeting.startswith(b"220 ")


def test_malformed_proxy_url_is_refused_at_start_naming_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "saraban.toml"
    with pytest.raises(ConfigError) as refused:
        parse_config('[smtp]\nport = 25\nproxy = "socks4://10.1.1.1:1080"\n', path)
    assert str(refused.value).startswith(f"{path}:3: smtp.proxy: only socks5://")
    with pytest.raises(ConfigError, match=r":2: smtp.proxy: no proxy port"):
        parse_config('[smtp]\nproxy = "socks5://relay.office.go.th"\n', path)
    good = parse_config('[smtp]\nproxy = "socks5://probe:s%3Acret@relay.office.go.th:1080"\n', path)
    proxy = good.engine.smtp.proxy
    assert proxy is not None and (proxy.host, proxy.port, proxy.password) == ("relay.office.go.th", 1080, "s:cret")
    assert "s:cret" not in repr(good.engine.smtp)


def one_session_at_a_time(internet: SimInternet, proxy: SimSocks5Server) -> EngineConfig:
    """Through `proxy`, one RCPT per session and one session per host: a scan is a long row of proxied
    sessions, so the proxy dying lands in the middle of it."""
    config = via(internet.engine_config(timeout=1.0, retries=1, retry_delay=0.3), proxy)
    return replace(config, politeness=replace(config.politeness, max_sessions_per_host=1, rcpt_per_session=1),
                   canary=replace(config.canary, interval=0.2, timeout=1.0))


async def _scan_with_proxy_dying(world: World, proxy: SimSocks5Server, internet: SimInternet,
                                 events: list[ev.Event]) -> tuple[Scanner, ev.ScanFinished]:
    config = one_session_at_a_time(internet, proxy)
    seen = 0

    def sink(event: ev.Event) -> None:
        nonlocal seen
        events.append(event)
        if isinstance(event, ev.AgencyChecked):
            seen += 1
            if seen == 2:
                asyncio.get_running_loop().create_task(proxy.stop())

    scanner = Scanner(config)
    finished = await scanner.run(world.agencies, sink)
    return scanner, finished


async def test_proxy_killed_mid_scan_records_no_d() -> None:
    world = _small_world()
    events: list[ev.Event] = []
    async with SimInternet(world) as internet:
        proxy = SimSocks5Server()
        await proxy.start()
        scanner, finished = await _scan_with_proxy_dying(world, proxy, internet, events)
    assert finished.stopped is not None and finished.stopped.startswith("canary"), finished.stopped
    assert finished.unfinished, "the proxy's death did not hit the scan: the test proves nothing"
    wrong = {aid: v.group for aid, v in scanner.verdicts.items() if v.group != world.expected[aid]}
    assert not wrong
    assert any(isinstance(e, ev.CanaryFailed) for e in events)


async def test_runner_waits_for_the_proxy_and_resumes_with_true_groups(tmp_path: Path) -> None:
    world = _small_world()
    store = Store(tmp_path / "store.json")
    store.merge_import(world.agencies, source="proxy-test.tsv", operator="tester")
    events: list[ev.Event] = []
    async with SimInternet(world) as internet:
        proxy = SimSocks5Server()
        await proxy.start()
        config = one_session_at_a_time(internet, proxy)
        runner = Runner(store, AppConfig(engine=config, store_path=tmp_path / "store.json"))
        loop = asyncio.get_running_loop()
        seen = 0
        tasks: list[asyncio.Task[None]] = []

        def sink(event: ev.Event) -> None:
            nonlocal seen
            events.append(event)
            if isinstance(event, ev.AgencyChecked):
                seen += 1
                if seen == 2:
                    tasks.append(loop.create_task(proxy.stop()))
            elif isinstance(event, ev.ScanPaused):  # the proxy comes back
                loop.call_later(0.5, lambda: tasks.append(loop.create_task(proxy.start())))

        result = await asyncio.wait_for(runner.scan(None, sink, wait_for_network=True), 60)
        await proxy.stop()
    kinds = [type(e).__name__ for e in events]
    assert "CanaryFailed" in kinds and "ScanResumed" in kinds, kinds
    assert result.stopped is None and result.unfinished == ()
    stored = {r.agency.id: r.verdict.group for r in store.records() if r.verdict is not None}
    assert stored == world.expected
