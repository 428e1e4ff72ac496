"""A small authoritative-style DNS server on loopback that answers from a `World`.

It plays every DNS behaviour the prober meets (MX, null MX, A only, NODATA, NXDOMAIN, SERVFAIL,
silence, garbage, truncation) so the engine can be tested without the internet. UDP and TCP share
one port, like a real server, because dnspython falls back to TCP on a truncated answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from checks.sim.world import (
    DNS_A_ONLY,
    DNS_GARBAGE,
    DNS_MX,
    DNS_NO_ANSWER,
    DNS_NO_RECORDS,
    DNS_NULL_MX,
    DNS_NXDOMAIN,
    DNS_SERVFAIL,
    DNS_TRUNCATED,
    DomainSpec,
    HostSpec,
    World,
)

TTL = 300
TCP_IDLE_SECONDS = 30.0  # a client that keeps a TCP connection silent this long is dropped
RRSET_CACHE_MAX = 50_000

_CLOSE = object()  # sentinel: close the TCP connection without answering


class _Index:
    """Lower-case name lookups over a World, rebuilt when the world's name sets change.

    The world is plain mutable data (tests flip modes, add domains), so specs are always read from
    the world itself; only the name → key mapping and the set of parent names are cached.
    """

    def __init__(self, world: World) -> None:
        self.signature = self._signature(world)
        self.domains: dict[str, str] = {k.lower().rstrip("."): k for k in world.domains}
        self.hosts: dict[str, str] = {k.lower().rstrip("."): k for k in world.hosts}
        self.canary = world.canary_name.lower().rstrip(".")
        self.records: set[str] = {name.lower().rstrip(".") for name, _ in world.records}
        parents: set[str] = set()
        for name in (*self.domains, *self.hosts, self.canary, *self.records):
            labels = name.split(".")
            for i in range(1, len(labels)):
                parents.add(".".join(labels[i:]))
        self.parents = parents

    @staticmethod
    def _signature(world: World) -> tuple[int, int, int, int, str, int, int]:
        return (id(world.domains), len(world.domains), id(world.hosts), len(world.hosts), world.canary_name,
                id(world.records), len(world.records))

    def stale(self, world: World) -> bool:
        return self._signature(world) != self.signature


class _UdpProtocol(asyncio.DatagramProtocol):
    """Hands each datagram to the server; errors from the socket are ignored (ICMP unreachable…)."""

    def __init__(self, server: SimDnsServer) -> None:
        self._server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self._server._on_udp(data, addr, self.transport)

    def error_received(self, exc: Exception) -> None:  # pragma: no cover - OS dependent
        pass


class SimDnsServer:
    """Answers DNS for a `World` on `host:port` (UDP and TCP).

    `down` models our own DNS outage (every query silently dropped); `delay` models latency without
    serialising queries; `queries` counts answers sent (tests use it to prove caching).
    """

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0) -> None:
        self.world = world
        self.host = host
        self.port = port
        self.delay = delay
        self.down = False
        self.queries = 0  # answers sent (including garbage / truncated replies)
        self.received = 0  # queries received while up, answered or not
        self._requested_port = port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._index: _Index | None = None
        self._rrsets: dict[tuple[str, str, tuple[str, ...]], dns.rrset.RRset] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind UDP first (port 0 picks a free one), then TCP on the same port; retry on a clash."""
        loop = asyncio.get_running_loop()
        attempts = 20 if self._requested_port == 0 else 1
        last_error: OSError | None = None
        for _ in range(attempts):
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(self.host, self._requested_port)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port)
            except OSError as exc:
                transport.close()
                last_error = exc
                continue
            self._udp = transport
            self.port = port
            return
        raise OSError(f"cannot bind UDP and TCP on one port: {last_error}")

    async def stop(self) -> None:
        """Close both sockets, open TCP connections and pending delayed answers."""
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp.wait_closed(), 2.0)
            self._tcp = None
        self._writers.clear()

    async def __aenter__(self) -> SimDnsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- transports -----------------------------------------------------------------------------

    def _later(self, callback: Callable[[], None]) -> None:
        """Run `callback` now, or after `delay` without blocking other queries."""
        if self.delay <= 0:
            callback()
            return
        loop = asyncio.get_running_loop()
        holder: list[asyncio.TimerHandle] = []

        def fire() -> None:
            if holder:
                self._timers.discard(holder[0])
            with contextlib.suppress(Exception):
                callback()

        handle = loop.call_later(self.delay, fire)
        holder.append(handle)
        self._timers.add(handle)

    def _on_udp(self, data: bytes, addr: tuple[str, int], transport: asyncio.DatagramTransport) -> None:
        if self.down:
            return
        try:
            reply = self._answer(data, tcp=False)
        except Exception:  # never let one query take the server down
            return
        if not isinstance(reply, bytes):
            return
        self.queries += 1

        def send() -> None:
            if not transport.is_closing():
                transport.sendto(reply, addr)

        self._later(send)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        dropped = False
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE_SECONDS):
                    header = await reader.readexactly(2)
                    wire = await reader.readexactly(int.from_bytes(header, "big"))
                if self.down:
                    continue
                try:
                    reply = self._answer(wire, tcp=True)
                except Exception:
                    continue
                if reply is _CLOSE:
                    dropped = True
                    break
                if not isinstance(reply, bytes):
                    continue
                self.queries += 1
                framed = len(reply).to_bytes(2, "big") + reply

                def send(data: bytes = framed) -> None:
                    if not writer.is_closing():
                        writer.write(data)

                self._later(send)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            if dropped or self.delay <= 0:
                writer.close()
            else:
                # let delayed answers for this connection go out before closing
                asyncio.get_running_loop().call_later(self.delay + 0.05, writer.close)

    # -- the DNS logic ----------------------------------------------------------------------------

    def _lookup_index(self) -> _Index:
        index = self._index
        if index is None or index.stale(self.world):
            index = self._index = _Index(self.world)
        return index

    def _answer(self, wire: bytes, tcp: bool) -> bytes | object | None:
        """The reply to one query: wire bytes, None (stay silent) or _CLOSE (drop the TCP connection)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None  # malformed: ignore, like many servers do
        if query.flags & dns.flags.QR:
            return None  # a response sent to us: never answer it (no loops)
        self.received += 1
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return _wire(response)
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return _wire(response)
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return _wire(response)
        try:
            return self._fill(response, question.name, question.rdtype, tcp)
        except Exception:
            # odd data in the world (an invalid IP, an unparsable host name): fail like a broken zone
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
            return _wire(response)

    def _fill(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: int, tcp: bool
    ) -> bytes | object | None:
        index = self._lookup_index()
        name = qname.to_text(omit_final_dot=True).lower() if qname != dns.name.root else ""
        domain_key = index.domains.get(name)
        spec = self.world.domains.get(domain_key) if domain_key is not None else None
        host_key = index.hosts.get(name)
        host = self.world.hosts.get(host_key) if host_key is not None else None

        if name in index.records:
            extra = self.world.records.get((name, dns.rdatatype.to_text(rdtype)))
            if extra:
                response.answer.append(self._rrset(qname, dns.rdatatype.to_text(rdtype), extra))
                return _wire(response)
            if spec is None and host is None:
                return _wire(response)  # NODATA: the name has records of other types
        if spec is not None:
            mode = spec.mode
            if mode == DNS_NO_ANSWER:
                return None
            if mode == DNS_GARBAGE:
                return os.urandom(3 + os.urandom(1)[0] % 60)
            if mode == DNS_TRUNCATED:
                if tcp:
                    return _CLOSE
                response.flags |= dns.flags.TC
                return _wire(response)
            if mode == DNS_NXDOMAIN:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return _wire(response)
            if mode == DNS_SERVFAIL:
                response.set_rcode(dns.rcode.SERVFAIL)
                return _wire(response)
            self._domain_records(response, qname, rdtype, spec, host)
            return _wire(response)
        if host is not None:
            self._address_records(response, qname, rdtype, (host.ip,))
            return _wire(response)
        if name == index.canary:
            self._address_records(response, qname, rdtype, (self.world.canary_ip,))
            return _wire(response)
        if name == "" or name in index.parents:
            return _wire(response)  # NODATA: the name exists above known names
        response.set_rcode(dns.rcode.NXDOMAIN)
        return _wire(response)

    def _domain_records(
        self,
        response: dns.message.Message,
        qname: dns.name.Name,
        rdtype: int,
        spec: DomainSpec,
        host: HostSpec | None,
    ) -> None:
        """Records of a domain that answers normally (MX, null MX, A only, no records)."""
        mode = spec.mode
        if rdtype == dns.rdatatype.MX:
            if mode == DNS_MX and spec.mx:
                texts = tuple(f"{int(pref)} {_absolute(target)}" for pref, target in spec.mx)
                response.answer.append(self._rrset(qname, "MX", texts))
            elif mode == DNS_NULL_MX:
                response.answer.append(self._rrset(qname, "MX", ("0 .",)))
            return
        if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            if mode == DNS_NO_RECORDS:
                return
            addresses: tuple[str, ...] = tuple(spec.a)
            if not addresses and host is not None:
                addresses = (host.ip,)
            if mode in (DNS_MX, DNS_NULL_MX, DNS_A_ONLY):
                self._address_records(response, qname, rdtype, addresses)
            return
        if rdtype == dns.rdatatype.TXT and mode == DNS_NO_RECORDS:
            response.answer.append(self._rrset(qname, "TXT", ('"v=spf1 -all"',)))

    def _rrset(self, qname: dns.name.Name, kind: str, texts: tuple[str, ...]) -> dns.rrset.RRset:
        """Build (or reuse) an RRset: parsing record text dominates the cost of an answer.

        The key holds the record texts themselves, so a world changed by a test is never answered
        from a stale entry.
        """
        key = (qname.to_text().lower(), kind, texts)
        rrset = self._rrsets.get(key)
        if rrset is None:
            if len(self._rrsets) >= RRSET_CACHE_MAX:
                self._rrsets.clear()
            rrset = dns.rrset.from_text_list(key[0], TTL, "IN", kind, list(texts))
            self._rrsets[key] = rrset
        return rrset

    def _address_records(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: int, addresses: tuple[str, ...]
    ) -> None:
        """A or AAAA records from a list of IPs (':' marks IPv6); anything else stays NODATA."""
        if rdtype == dns.rdatatype.A:
            wanted = [a for a in addresses if ":" not in a]
            kind = "A"
        elif rdtype == dns.rdatatype.AAAA:
            wanted = [a for a in addresses if ":" in a]
            kind = "AAAA"
        else:
            return
        if wanted:
            response.answer.append(self._rrset(qname, kind, tuple(wanted)))


def _wire(response: dns.message.Message) -> bytes:
    """Records go out in the world's order (dnspython shuffles by default): tests stay deterministic."""
    return response.to_wire(want_shuffle=False)


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


__all__ = ["SimDnsServer"]
