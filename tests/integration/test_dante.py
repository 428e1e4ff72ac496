"""The engine through a real SOCKS5 proxy (Debian's dante) to a real Postfix, with real unbound for DNS.

What an office behind an approved relay relies on: the same verdicts as a direct scan, and every failure
of the proxy itself — refused by its ruleset, authentication refused, the proxy killed in the middle of a
scan — taken as ours: no agency gets a D for it, and the scan resumes when the proxy is back.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from checks import events as ev
from checks import model as m
from checks.config import EngineConfig, PolitenessConfig, parse_socks_url
from checks.connect import ProxyFailed, Socks5Connector
from checks.scheduler import Scanner
from console.config import AppConfig
from console.runner import Runner
from console.store import Store

from .conftest import unavailable
from .dante import DANTED, Dante, start_dante
from .mailstack import CATCHALL_DOMAIN, DOMAIN, NULL_MX_DOMAIN, NXDOMAIN_DOMAIN, Postfix, Unbound, free_port
from .test_postfix_unbound import BATCH, agency, engine_config

pytestmark = pytest.mark.integration

# Every group the real stack can give: A1 (known mailbox, catch-all), D3 (550 5.1.1), D1 (NXDOMAIN),
# D2 (null MX), B3 (a line break in the declared text, never sent), and Postfix dropping sessions
# at its error limit in between.
CASES = [
    *BATCH,
    f"saraban@{NXDOMAIN_DOMAIN}",
    f"saraban@{NULL_MX_DOMAIN}",
    f"saraban@{CATCHALL_DOMAIN}",
    f"saraban@{DOMAIN}",
    f"crlf-ok@{DOMAIN}\r\nRCPT TO:<evil@{DOMAIN}>",
]


def agencies() -> list[m.Agency]:
    return [agency(500 + i, declared) for i, declared in enumerate(CASES)]


def through(config: EngineConfig, url: str) -> EngineConfig:
    return replace(config, smtp=replace(config.smtp, proxy=parse_socks_url(url)))


@pytest.fixture(scope="module")
def dante(itest_base: Path, postfix: Postfix) -> Iterator[Dante]:
    if not DANTED.exists():
        unavailable(f"{DANTED} not installed (apt-get install dante-server)")
    try:
        server = start_dante(itest_base / "dante", (postfix.port,))
    except (RuntimeError, OSError) as exc:
        unavailable(f"could not start dante: {exc}")
    yield server
    server.stop()


async def scan(config: EngineConfig) -> tuple[Scanner, ev.ScanFinished]:
    scanner = Scanner(config)
    finished = await scanner.run(agencies())
    return scanner, finished


async def test_same_verdicts_through_dante_as_direct(unbound: Unbound, postfix: Postfix, dante: Dante) -> None:
    direct, direct_done = await scan(engine_config(unbound, postfix))
    proxied, proxied_done = await scan(through(engine_config(unbound, postfix), dante.url))

    assert direct_done.stopped is None and proxied_done.stopped is None, proxied_done.stopped
    assert proxied_done.unfinished == ()
    groups = {aid: v.group for aid, v in proxied.verdicts.items()}
    assert groups == {aid: v.group for aid, v in direct.verdicts.items()}
    assert set(groups.values()) == {"A1", "D1", "D2", "D3", "B3"}
    for aid, verdict in proxied.verdicts.items():
        probe, plain = verdict.evidence.probe, direct.verdicts[aid].evidence.probe
        if probe is not None and probe.rcpt is not None:
            assert plain is not None and plain.rcpt is not None
            assert (probe.rcpt.code, probe.rcpt.enhanced) == (plain.rcpt.code, plain.rcpt.enhanced)
            reached = next(a for a in probe.attempts if a.outcome == m.HOST_OK)
            # the session went through dante: Postfix's answer came back over the proxied connection
            assert reached.transcript[0].command == f"<connect via socks5 127.0.0.1:{dante.port}>"
            assert reached.transcript[0].reply is not None and reached.transcript[0].reply.code == 220


async def test_dante_ruleset_refusal_is_ours_never_d2(unbound: Unbound, postfix: Postfix, dante: Dante) -> None:
    """Sessions to a port dante's ruleset blocks: "connection not allowed by ruleset" on every one.

    Direct, nothing listening there would be "connection refused" by every host, i.e. D2. Through the
    proxy the refusal is the proxy's, so the agencies stay E (not yet verifiable), with the reason.
    """
    blocked = free_port()
    connector = Socks5Connector(parse_socks_url(dante.url))
    with pytest.raises(ProxyFailed) as refused:
        await connector.connect("127.0.0.1", blocked, 3.0)
    assert refused.value.code == 0x02 and "not allowed by ruleset" in refused.value.reason

    config = through(engine_config(unbound, postfix), dante.url)
    config = replace(config, smtp=replace(config.smtp, port=blocked, retries=0))
    scanner = Scanner(config)
    targets = [agency(600, f"saraban@{DOMAIN}"), agency(601, f"nobody01@{DOMAIN}")]
    finished = await scanner.run(targets)
    assert finished.stopped is None  # the proxy itself works: the canary (to Postfix's port) passes
    assert [scanner.verdicts[a.id].group for a in targets] == ["E", "E"]
    probe = scanner.verdicts["it-600"].evidence.probe
    assert probe is not None and {a.outcome for a in probe.attempts} == {m.HOST_PROXY_FAILED}


async def test_dante_refusing_our_credentials_stops_the_scan_blaming_nobody(
    itest_base: Path, unbound: Unbound, postfix: Postfix
) -> None:
    """dante with username auth (system accounts): a user that does not exist is refused at once."""
    strict = start_dante(itest_base / "dante-auth", (postfix.port,), username_auth=True)
    try:
        url = f"socks5://saraban-no-such-user:wrong@127.0.0.1:{strict.port}"
        with pytest.raises(ProxyFailed):
            await Socks5Connector(parse_socks_url(url)).connect("127.0.0.1", postfix.port, 3.0)
        events: list[ev.Event] = []
        scanner = Scanner(through(engine_config(unbound, postfix), url))
        finished = await scanner.run(agencies(), events.append)
    finally:
        strict.stop()
    assert finished.stopped is not None and finished.stopped.startswith("canary"), finished.stopped
    assert f"127.0.0.1:{strict.port}" in finished.stopped  # the operator is told it is the proxy
    # The first canary runs alongside the first lookups (checks/scheduler.py): what needs no network (the
    # CRLF case is B3 whatever the proxy does) may be saved; nothing probed, nobody blamed for the refusal.
    assert all(v.evidence.probe is None for v in scanner.verdicts.values()), scanner.verdicts
    assert not [v for v in scanner.verdicts.values() if v.group.startswith(("D", "E"))]
    assert [e for e in events if isinstance(e, ev.CanaryFailed)]


async def test_dante_killed_mid_scan_no_d_and_the_rest_resumes_when_it_returns(
    tmp_path: Path, itest_base: Path, unbound: Unbound, postfix: Postfix
) -> None:
    direct, _ = await scan(engine_config(unbound, postfix))
    truth = {aid: v.group for aid, v in direct.verdicts.items()}

    proxy = start_dante(itest_base / "dante-dies", (postfix.port,))
    store = Store(tmp_path / "store.json")
    store.merge_import(agencies(), source="dante-test.tsv", operator="tester")
    config = through(engine_config(unbound, postfix), proxy.url)
    # one RCPT per session, one session at a time: the scan is a long row of proxied sessions
    config = replace(config, politeness=PolitenessConfig(max_sessions_per_host=1, rcpt_per_session=1,
                                                         sessions_per_minute=6000))
    events: list[ev.Event] = []
    loop = asyncio.get_running_loop()
    pending: list[asyncio.Future[None]] = []
    checked = 0

    def sink(event: ev.Event) -> None:
        nonlocal checked
        events.append(event)
        if isinstance(event, ev.AgencyChecked) and event.verdict.group == "A1":
            checked += 1
            if checked == 3:  # the proxy dies abruptly, sessions through it cut
                pending.append(loop.run_in_executor(None, proxy.stop, signal.SIGKILL))
        elif isinstance(event, ev.ScanPaused):  # a while later the proxy is back, same port
            pending.append(loop.run_in_executor(None, _restart_later, proxy))

    try:
        runner = Runner(store, AppConfig(engine=config, store_path=tmp_path / "store.json"))
        result = await asyncio.wait_for(runner.scan(None, sink, wait_for_network=True), 120)
        await asyncio.gather(*pending)
    finally:
        proxy.stop()

    kinds = [type(e).__name__ for e in events]
    assert "CanaryFailed" in kinds, "the proxy's death did not hit the scan: the test proves nothing"
    assert kinds.index("CanaryFailed") < kinds.index("ScanPaused") < kinds.index("ScanResumed")
    assert result.stopped is None and result.unfinished == ()
    stored = {r.agency.id: r.verdict.group for r in store.records() if r.verdict is not None}
    assert stored == truth  # every agency ends with its true group; none got a D from the outage
    checked_ids = [e.agency.id for e in events if isinstance(e, ev.AgencyChecked)]
    assert sorted(checked_ids) == sorted(truth)  # nothing from the outage was recorded and overwritten


def _restart_later(proxy: Dante) -> None:
    time.sleep(0.5)
    proxy.start()
