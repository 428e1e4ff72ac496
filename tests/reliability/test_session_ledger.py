"""A server counts our sessions per minute, not per scan: scans of one process share a ledger.

Before the ledger each `Scanner` counted its own sessions, so the pilot and the scan after it, a scan
resumed after an outage, an operator's rechecks during a scan and a watcher's rounds one after another
could each open `sessions_per_minute` sessions to the same host within one minute.
"""

from __future__ import annotations

import asyncio

import pytest
from simkit import fast_config

from checks import model as m
from checks.config import PolitenessConfig
from checks.scheduler import RATE_WINDOW_S, Scanner, SessionLedger
from checks.sim.internet import SimInternet
from checks.sim.world import DNS_MX, MAILBOX_OK, DomainSpec, HostSpec, World

CANARY_IP = "127.64.0.1"
HOST = HostSpec("mx.shared.go.th", "127.64.1.1")


def one_host_world(n: int) -> World:
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP)
    world.hosts[HOST.name] = HOST
    world.domains["shared.go.th"] = DomainSpec("shared.go.th", DNS_MX, ((10, HOST.name),))
    for i in range(n):
        address = f"saraban{i}@shared.go.th"
        HOST.mailboxes[address] = MAILBOX_OK
        world.agencies.append(m.Agency(id=f"s{i}", name=f"อบต.ที่ {i}", declared=address))
    return world


def test_a_slot_opens_when_the_oldest_counted_session_leaves_the_window() -> None:
    ledger = SessionLedger()
    ip = "127.64.9.9"
    assert ledger.wait(ip, 100.0, per_minute=2) == 0.0
    ledger.opened(ip, 100.0)
    assert ledger.wait(ip, 101.0, per_minute=2) == 0.0
    ledger.opened(ip, 110.0)
    assert ledger.wait(ip, 120.0, per_minute=2) == pytest.approx(100.0 + RATE_WINDOW_S - 120.0)
    assert ledger.wait(ip, 100.0 + RATE_WINDOW_S, per_minute=2) == 0.0  # the first one left the window
    assert ledger.wait("127.64.9.8", 120.0, per_minute=2) == 0.0  # per host


async def test_a_second_scan_sharing_the_ledger_waits_for_the_first_scans_minute() -> None:
    world = one_host_world(2)
    politeness = PolitenessConfig(max_sessions_per_host=1, rcpt_per_session=1, sessions_per_minute=1)
    async with SimInternet(world) as sim:
        config = fast_config(sim, politeness=politeness, catch_all_check=False)  # one session each
        ledger = SessionLedger()
        first = Scanner(config, ledger=ledger)
        done = await asyncio.wait_for(first.run(world.agencies[:1]), 30)
        assert done.stopped is None and sim.smtp.audit.hosts[HOST.ip].sessions == 1

        second = Scanner(config, ledger=ledger)
        run = asyncio.ensure_future(second.run(world.agencies[1:]))
        backlog = None
        for _ in range(2000):  # bounded: until the host's queue holds the second agency's address
            backlog = second.backlog()
            if backlog is not None or run.done():
                break
            await asyncio.sleep(0.005)
        opened = sim.smtp.audit.hosts[HOST.ip].sessions
        second.stop()
        await asyncio.wait_for(run, 30)
    assert opened == 1  # the host saw no second session within the minute
    assert backlog is not None and backlog.host == HOST.name
    assert backlog.seconds > RATE_WINDOW_S / 2  # it waits for the first scan's session to leave the window


async def test_scans_with_their_own_ledgers_do_not_wait_for_each_other() -> None:
    """One-shot scans (`saraban check`, the bench's parts) keep a ledger of their own."""
    world = one_host_world(2)
    politeness = PolitenessConfig(max_sessions_per_host=1, rcpt_per_session=1, sessions_per_minute=1)
    async with SimInternet(world) as sim:
        config = fast_config(sim, politeness=politeness, catch_all_check=False)  # one session each
        for agency in world.agencies:
            done = await asyncio.wait_for(Scanner(config).run([agency]), 30)
            assert done.stopped is None
        assert sim.smtp.audit.hosts[HOST.ip].sessions == 2
