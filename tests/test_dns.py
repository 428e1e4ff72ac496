"""The engine's resolver against the simulated DNS server: what each DNS situation becomes."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
import pytest_asyncio

from checks.config import DnsConfig
from checks.dns import MailResolver
from checks.model import (
    DNS_NO_RECORDS,
    DNS_NULL_MX,
    DNS_NXDOMAIN,
    DNS_OK,
    DNS_SERVFAIL,
    DNS_TIMEOUT,
    MailHost,
)
from checks.sim import world as sim
from checks.sim.dns_server import SimDnsServer

FAST_LIFETIME = 0.5  # for the cases that must time out


def make_world() -> sim.World:
    world = sim.World(canary_name="canary.opdc.go.th", canary_ip="127.0.0.1")
    for name, ip in (
        ("mx1.ok.go.th", "127.0.0.11"),
        ("mx2.ok.go.th", "127.0.0.12"),
        ("mx3.ok.go.th", "127.0.0.13"),
        ("mail.dla.go.th", "127.0.0.14"),
    ):
        world.hosts[name] = sim.HostSpec(name, ip)
    specs = [
        # the tie at 20 must keep the server's order: mx2 before mx3
        sim.DomainSpec(
            "ok.go.th", sim.DNS_MX, ((20, "mx2.ok.go.th"), (10, "mx1.ok.go.th"), (20, "mx3.ok.go.th"))
        ),
        sim.DomainSpec("one.go.th", sim.DNS_MX, ((10, "mail.dla.go.th"),)),
        sim.DomainSpec("ghost.go.th", sim.DNS_MX, ((10, "nowhere.ghost.go.th"), (20, "mail.dla.go.th"))),
        sim.DomainSpec("allghost.go.th", sim.DNS_MX, ((10, "nowhere.allghost.go.th"),)),
        sim.DomainSpec("mxfail.go.th", sim.DNS_MX, ((10, "servfail.go.th"),)),
        sim.DomainSpec("nullmx.go.th", sim.DNS_NULL_MX),
        sim.DomainSpec("aonly.go.th", sim.DNS_A_ONLY, a=("127.0.0.20", "::1")),
        sim.DomainSpec("empty.go.th", sim.DNS_NO_RECORDS),
        sim.DomainSpec("tambonthungluang.co.th", sim.DNS_NXDOMAIN),
        sim.DomainSpec("servfail.go.th", sim.DNS_SERVFAIL),
        sim.DomainSpec("silent.go.th", sim.DNS_NO_ANSWER),
        sim.DomainSpec("garbage.go.th", sim.DNS_GARBAGE),
        sim.DomainSpec("truncated.go.th", sim.DNS_TRUNCATED),
    ]
    for spec in specs:
        world.domains[spec.name] = spec
    return world


@pytest_asyncio.fixture
async def server() -> AsyncIterator[SimDnsServer]:
    sim = SimDnsServer(make_world())
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def resolver_for(server: SimDnsServer, lifetime: float = 1.5, **kwargs: float) -> MailResolver:
    timeout = min(0.5, lifetime / 2)
    config = DnsConfig(nameservers=("127.0.0.1",), port=server.port, timeout=timeout, lifetime=lifetime)
    return MailResolver(config, **kwargs)


def plain(text: str | None) -> bool:
    return text is not None and text.isprintable() and "\n" not in text and len(text) <= 200


# -- what an operator sees for each DNS situation -----------------------------------------------


async def test_mx_hosts_sorted_by_preference_ties_keep_server_order(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("ok.go.th")
    assert result.status == DNS_OK
    assert not result.implicit_mx
    assert result.hosts == (
        MailHost("mx1.ok.go.th", 10, ("127.0.0.11",)),
        MailHost("mx2.ok.go.th", 20, ("127.0.0.12",)),
        MailHost("mx3.ok.go.th", 20, ("127.0.0.13",)),
    )
    assert result.error is None
    assert result.elapsed_ms > 0


async def test_null_mx_means_the_domain_takes_no_mail(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("nullmx.go.th")
    assert result.status == DNS_NULL_MX
    assert result.hosts == ()
    assert not result.temporary


async def test_a_record_only_gives_implicit_mx_v4_first(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("aonly.go.th")
    assert result.status == DNS_OK
    assert result.implicit_mx
    assert result.hosts == (MailHost("aonly.go.th", 0, ("127.0.0.20", "::1")),)


async def test_no_mx_and_no_address_is_no_records(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("empty.go.th")
    assert result.status == DNS_NO_RECORDS
    assert result.hosts == ()


async def test_nxdomain_is_final_not_found(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    declared = await resolver.mail_hosts("tambonthungluang.co.th")
    unknown = await resolver.mail_hosts("nosuchunit.go.th")
    assert declared.status == DNS_NXDOMAIN
    assert unknown.status == DNS_NXDOMAIN
    assert not declared.temporary


async def test_parent_of_known_names_exists_without_records(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("go.th")
    assert result.status == DNS_NO_RECORDS


async def test_names_are_case_insensitive(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("OK.Go.TH")
    assert result.status == DNS_OK
    assert result.domain == "OK.Go.TH"
    assert [h.name for h in result.hosts] == ["mx1.ok.go.th", "mx2.ok.go.th", "mx3.ok.go.th"]


async def test_servfail_is_temporary_with_short_error(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("servfail.go.th")
    assert result.status == DNS_SERVFAIL
    assert result.temporary
    assert plain(result.error)
    assert "SERVFAIL" in (result.error or "")


async def test_silent_server_times_out_within_bound(server: SimDnsServer) -> None:
    started = time.monotonic()
    result = await resolver_for(server, lifetime=FAST_LIFETIME).mail_hosts("silent.go.th")
    assert result.status == DNS_TIMEOUT
    assert result.temporary
    assert plain(result.error)
    assert time.monotonic() - started < FAST_LIFETIME + 1.5  # lifetime overshoots, the outer bound holds


async def test_garbage_answer_is_temporary_and_server_survives(server: SimDnsServer) -> None:
    resolver = resolver_for(server, lifetime=FAST_LIFETIME)
    result = await resolver.mail_hosts("garbage.go.th")
    # dnspython drops unparsable UDP replies and keeps waiting, so garbage ends as a timeout
    assert result.status in (DNS_SERVFAIL, DNS_TIMEOUT)
    assert plain(result.error)
    assert (await resolver.mail_hosts("one.go.th")).status == DNS_OK


async def test_garbage_reply_is_not_dns(server: SimDnsServer) -> None:
    query = dns.message.make_query("garbage.go.th", "MX")
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        await loop.sock_sendall(sock, query.to_wire())
        async with asyncio.timeout(2):
            wire = await loop.sock_recv(sock, 65535)
    assert wire
    assert not answers(query, wire)


def answers(query: dns.message.Message, wire: bytes) -> bool:
    try:
        return query.is_response(dns.message.from_wire(wire))
    except Exception:
        return False


async def test_truncated_answer_without_tcp_is_servfail(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("truncated.go.th")
    assert result.status == DNS_SERVFAIL
    assert "truncated" in (result.error or "")
    assert plain(result.error)


async def test_mx_name_that_does_not_resolve_has_no_addresses(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    partly = await resolver.mail_hosts("ghost.go.th")
    assert partly.status == DNS_OK
    assert partly.hosts == (
        MailHost("nowhere.ghost.go.th", 10, ()),
        MailHost("mail.dla.go.th", 20, ("127.0.0.14",)),
    )
    wholly = await resolver.mail_hosts("allghost.go.th")
    assert wholly.status == DNS_OK  # the SMTP stage reports "no mail server reachable"
    assert wholly.hosts == (MailHost("nowhere.allghost.go.th", 10, ()),)


async def test_mx_host_lookup_failing_temporarily_is_temporary(server: SimDnsServer) -> None:
    result = await resolver_for(server).mail_hosts("mxfail.go.th")
    assert result.temporary
    assert result.hosts == (MailHost("servfail.go.th", 10, ()),)


async def test_addresses_of_host_and_unknown_name(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    assert await resolver.addresses("mail.dla.go.th") == (("127.0.0.14",), None)
    assert await resolver.addresses("nobody.go.th") == ((), DNS_NXDOMAIN)
    assert await resolver.addresses("empty.go.th") == ((), DNS_NO_RECORDS)


# -- the network canary -------------------------------------------------------------------------


async def test_canary_resolves_and_unknown_name_does_not(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    assert await resolver.resolves("canary.opdc.go.th") is None
    error = await resolver.resolves("missing.opdc.go.th")
    assert error is not None and plain(error)


async def test_our_dns_down_makes_canary_fail(server: SimDnsServer) -> None:
    resolver = resolver_for(server, lifetime=FAST_LIFETIME)
    assert await resolver.resolves("canary.opdc.go.th") is None
    server.down = True
    error = await resolver.resolves("canary.opdc.go.th")
    assert error is not None and plain(error)
    assert "timeout" in error
    server.down = False
    assert await resolver.resolves("canary.opdc.go.th") is None  # never cached


# -- caching --------------------------------------------------------------------------------------


async def test_concurrent_calls_share_one_lookup(server: SimDnsServer) -> None:
    await resolver_for(server).mail_hosts("one.go.th")
    one_lookup = server.queries
    assert one_lookup > 0

    server.queries = 0
    resolver = resolver_for(server)
    first, second = await asyncio.gather(resolver.mail_hosts("one.go.th"), resolver.mail_hosts("one.go.th"))
    assert first == second and first.status == DNS_OK
    assert server.queries == one_lookup
    await resolver.mail_hosts("one.go.th")
    assert server.queries == one_lookup  # cached for the scan


async def test_forget_drops_the_cached_answer(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    assert (await resolver.mail_hosts("empty.go.th")).status == DNS_NO_RECORDS
    server.world.hosts["mx.empty.go.th"] = sim.HostSpec("mx.empty.go.th", "127.0.0.30")
    server.world.domains["empty.go.th"] = sim.DomainSpec("empty.go.th", sim.DNS_MX, ((5, "mx.empty.go.th"),))
    assert (await resolver.mail_hosts("empty.go.th")).status == DNS_NO_RECORDS  # still the scan's answer
    resolver.forget("empty.go.th")
    fixed = await resolver.mail_hosts("empty.go.th")
    assert fixed.status == DNS_OK
    assert fixed.hosts == (MailHost("mx.empty.go.th", 5, ("127.0.0.30",)),)


async def test_forget_also_drops_the_mail_hosts_addresses(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    assert (await resolver.mail_hosts("one.go.th")).hosts[0].addresses == ("127.0.0.14",)
    server.world.hosts["mail.dla.go.th"].ip = "127.0.0.15"
    resolver.forget("one.go.th")
    assert (await resolver.mail_hosts("one.go.th")).hosts[0].addresses == ("127.0.0.15",)


async def test_temporary_failure_is_not_kept_for_the_scan(server: SimDnsServer) -> None:
    resolver = resolver_for(server, temporary_ttl=0.0)
    assert (await resolver.mail_hosts("servfail.go.th")).status == DNS_SERVFAIL
    server.world.domains["servfail.go.th"].mode = sim.DNS_A_ONLY
    server.world.domains["servfail.go.th"].a = ("127.0.0.40",)
    retried = await resolver.mail_hosts("servfail.go.th")
    assert retried.status == DNS_OK and retried.implicit_mx


async def test_temporary_failure_is_shared_for_a_few_seconds(server: SimDnsServer) -> None:
    resolver = resolver_for(server)
    assert (await resolver.mail_hosts("servfail.go.th")).status == DNS_SERVFAIL
    counted = server.queries
    assert (await resolver.mail_hosts("servfail.go.th")).status == DNS_SERVFAIL
    assert server.queries == counted


# -- odd input never crashes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "x" * 64 + ".go.th",
        "a." * 130 + "th",
        "bad\x1b]0;pwned\x07.go.th",
        "ด่านแม่สอด.go.th",
        "a b.go.th",
    ],
)
async def test_odd_names_give_a_status_not_a_crash(server: SimDnsServer, name: str) -> None:
    result = await resolver_for(server).mail_hosts(name)
    assert result.status in (DNS_SERVFAIL, DNS_NXDOMAIN)
    assert result.error is None or plain(result.error)


async def test_non_string_input_is_servfail() -> None:
    resolver = MailResolver(DnsConfig(nameservers=("127.0.0.1",), port=9, timeout=0.1, lifetime=0.2))
    result = await resolver.mail_hosts(None)  # type: ignore[arg-type]
    assert result.status == DNS_SERVFAIL


# -- the simulated server itself ----------------------------------------------------------------


async def query_udp(server: SimDnsServer, name: str, rdtype: str) -> dns.message.Message:
    return await dns.asyncquery.udp(dns.message.make_query(name, rdtype), "127.0.0.1", 2.0, server.port)


async def test_server_ignores_malformed_queries_and_keeps_answering(server: SimDnsServer) -> None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        for size in (0, 1, 11, 12, 40, 512):
            await loop.sock_sendall(sock, os.urandom(size))
        response = dns.message.make_response(dns.message.make_query("ok.go.th", "MX"))
        await loop.sock_sendall(sock, response.to_wire())  # a response is never answered
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"\x00\x05hello\x00")  # malformed over TCP, then EOF mid-frame
    writer.close()
    await reader.read()
    answer = await query_udp(server, "ok.go.th", "MX")
    assert answer.rcode() == dns.rcode.NOERROR
    assert len(answer.answer[0]) == 3


async def test_server_tcp_answers_and_aaaa_of_host_is_nodata(server: SimDnsServer) -> None:
    answer = await dns.asyncquery.tcp(
        dns.message.make_query("MAIL.DLA.GO.TH", "A"), "127.0.0.1", 2.0, server.port
    )
    assert [r.to_text() for r in answer.answer[0]] == ["127.0.0.14"]
    assert answer.flags & dns.flags.AA
    nodata = await query_udp(server, "mail.dla.go.th", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer


async def test_server_truncates_on_udp(server: SimDnsServer) -> None:
    answer = await dns.asyncquery.udp(
        dns.message.make_query("truncated.go.th", "MX"),
        "127.0.0.1",
        2.0,
        server.port,
        raise_on_truncation=False,
    )
    assert answer.flags & dns.flags.TC and not answer.answer


async def test_server_survives_bad_world_data() -> None:
    world = sim.World()
    world.domains["bad.go.th"] = sim.DomainSpec("bad.go.th", sim.DNS_MX, ((10, "x" * 70 + ".go.th"),))
    world.domains["badip.go.th"] = sim.DomainSpec("badip.go.th", sim.DNS_A_ONLY, a=("not-an-ip",))
    async with SimDnsServer(world) as server:
        assert (await query_udp(server, "bad.go.th", "MX")).rcode() == dns.rcode.SERVFAIL
        assert (await query_udp(server, "badip.go.th", "A")).rcode() == dns.rcode.SERVFAIL
        assert (await query_udp(server, "go.th", "MX")).rcode() == dns.rcode.NOERROR


async def test_server_delay_does_not_serialise_queries() -> None:
    world = make_world()
    delay = 0.3
    async with SimDnsServer(world, delay=delay) as server:
        started = time.monotonic()
        answers = await asyncio.gather(*(query_udp(server, "mail.dla.go.th", "A") for _ in range(20)))
        took = time.monotonic() - started
    assert all(a.answer for a in answers)
    assert took >= delay
    assert took < 20 * delay / 3  # serialised answers would take 6 s


async def test_many_domains_resolve_with_bounded_concurrency() -> None:
    world = sim.World()
    for i in range(300):
        host = f"mx.unit{i}.go.th"
        world.hosts[host] = sim.HostSpec(host, f"127.2.{i // 200}.{i % 200 + 1}")
        world.domains[f"unit{i}.go.th"] = sim.DomainSpec(f"unit{i}.go.th", sim.DNS_MX, ((10, host),))
    async with SimDnsServer(world) as server:
        config = DnsConfig(
            nameservers=("127.0.0.1",), port=server.port, timeout=1.0, lifetime=3.0, max_concurrent=20
        )
        resolver = MailResolver(config)
        results = await asyncio.gather(*(resolver.mail_hosts(f"unit{i}.go.th") for i in range(300)))
    assert all(r.status == DNS_OK for r in results)
    assert results[7].hosts == (MailHost("mx.unit7.go.th", 10, ("127.2.0.8",)),)
