"""The engine's DNS: where does a domain's mail go, and does our own DNS work at all.

Built on `dns.asyncresolver.Resolver`. One `MailResolver` lives for one scan: it caches final
answers for the whole scan (thousands of agencies share a few mail domains), shares one lookup
between concurrent callers, and keeps temporary failures only for a few seconds so a retry can
succeed. Only NXDOMAIN is a final "not found"; SERVFAIL and timeouts are temporary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.MX
import dns.resolver

from checks.config import DnsConfig
from checks.model import (
    DNS_NO_RECORDS,
    DNS_NULL_MX,
    DNS_NXDOMAIN,
    DNS_OK,
    DNS_SERVFAIL,
    DNS_TIMEOUT,
    DnsResult,
    MailHost,
)

TEMPORARY_TTL = 5.0  # seconds a SERVFAIL / timeout stays cached (enough to dedupe a burst, not a scan)
ERROR_MAX = 160  # characters of an error text kept as evidence

_NODATA = "nodata"  # internal: the name exists but has no record of this type

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One query's result: an answer's records, or a status with a short error text."""

    status: str  # DNS_OK, _NODATA, DNS_NXDOMAIN, DNS_SERVFAIL, DNS_TIMEOUT
    records: tuple[object, ...] = ()
    error: str | None = None


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    expires: float | None  # monotonic deadline; None = for the whole scan


class _SharedCache(Generic[T]):
    """A per-scan cache where concurrent callers of one key share a single lookup."""

    def __init__(self, temporary: Callable[[T], bool], temporary_ttl: float) -> None:
        self._temporary = temporary
        self._ttl = temporary_ttl
        self._values: dict[str, _Entry[T]] = {}
        self._flights: dict[str, asyncio.Future[T]] = {}

    def peek(self, key: str) -> T | None:
        entry = self._values.get(key)
        if entry is None or (entry.expires is not None and entry.expires <= time.monotonic()):
            return None
        return entry.value

    async def get(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        value = self.peek(key)
        if value is not None:
            return value
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(make())
            self._flights[key] = flight
            flight.add_done_callback(lambda f: self._landed(key, f))
        # shield: one caller giving up must not cancel the lookup the others wait for
        return await asyncio.shield(flight)

    def _landed(self, key: str, flight: asyncio.Future[T]) -> None:
        if flight.cancelled():
            if self._flights.get(key) is flight:
                del self._flights[key]
            return
        error = flight.exception()  # also marks it retrieved
        if self._flights.get(key) is not flight:
            return  # forgotten while in flight: do not resurrect a stale answer
        del self._flights[key]
        if error is not None:
            return
        value = flight.result()
        expires = time.monotonic() + self._ttl if self._temporary(value) else None
        self._values[key] = _Entry(value, expires)

    def forget(self, key: str) -> None:
        self._values.pop(key, None)
        self._flights.pop(key, None)

    def cancel_all(self) -> None:
        for flight in self._flights.values():
            flight.cancel()
        self._flights.clear()


def _clean(text: str) -> str:
    """Short one-line plain text: error strings end up in evidence and on the operator's screen."""
    out = "".join(ch if ch.isprintable() else " " for ch in text)
    out = " ".join(out.split())
    return out if len(out) <= ERROR_MAX else out[: ERROR_MAX - 1] + "…"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return _clean(f"{name}: {text}" if text and text != name else name)


def _nameserver_errors(exc: dns.resolver.NoNameservers) -> str:
    """Turn dnspython's long NoNameservers message into e.g. '127.0.0.1 answered SERVFAIL'."""
    parts: list[str] = []
    for item in exc.kwargs.get("errors") or ():
        try:
            server, tcp, _port, err, response = item
        except (TypeError, ValueError):
            continue
        where = str(server).removeprefix("Do53:").rsplit("@", 1)[0]
        proto = "TCP" if tcp else "UDP"
        if isinstance(err, dns.message.Truncated):
            what = "truncated answer"
        elif isinstance(err, EOFError):
            what = "connection closed without answer"
        elif isinstance(err, str):
            what = f"answered {err}"
        elif err is not None:
            what = _describe(err)
        elif isinstance(response, dns.message.Message):
            what = f"answered {dns.rcode.to_text(response.rcode())}"
        else:
            what = "failed"
        part = f"{where} {proto} {what}"
        if part not in parts:
            parts.append(part)
    return _clean("; ".join(parts)) if parts else "all name servers failed"


class MailResolver:
    """Resolves mail hosts for domains, with per-scan caching and bounded concurrency."""

    def __init__(self, config: DnsConfig, temporary_ttl: float = TEMPORARY_TTL) -> None:
        self.config = config
        self._init_error: str | None = None
        try:
            if config.nameservers:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = list(config.nameservers)
                resolver.port = config.port
            else:
                resolver = dns.asyncresolver.Resolver()
        except Exception as exc:  # no /etc/resolv.conf, bad address in config…
            self._init_error = _clean(f"resolver not configured: {_describe(exc)}")
            resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.timeout = config.timeout
        resolver.lifetime = config.lifetime
        resolver.cache = None  # we cache per scan ourselves
        self._resolver = resolver
        self._semaphore = asyncio.Semaphore(max(1, config.max_concurrent))
        self._mail: _SharedCache[DnsResult] = _SharedCache(lambda r: r.temporary, temporary_ttl)
        self._addr: _SharedCache[tuple[tuple[str, ...], str | None]] = _SharedCache(
            lambda r: r[1] in (DNS_SERVFAIL, DNS_TIMEOUT), temporary_ttl
        )
        self._hosts_of: dict[str, tuple[str, ...]] = {}  # domain → MX host names, for forget()

    # -- public API -------------------------------------------------------------------------------

    async def mail_hosts(self, domain: str) -> DnsResult:
        """The mail hosts of `domain` (MX by preference, or the implicit MX), cached for the scan."""
        key = _key(domain)
        if key is None:
            return DnsResult(str(domain), DNS_SERVFAIL, error="invalid domain name")
        result = await self._mail.get(key, lambda: self._lookup_mail(domain, key))
        if result.domain != domain:
            result = replace(result, domain=domain)  # same name, other spelling: echo the caller's
        return result

    async def addresses(self, name: str) -> tuple[tuple[str, ...], str | None]:
        """IPs of `name` (IPv4 first, then IPv6) and None, or () and a DNS_* status; cached."""
        key = _key(name)
        if key is None:
            return (), DNS_SERVFAIL
        return await self._addr.get(key, lambda: self._lookup_addresses_pair(key))

    async def resolves(self, name: str) -> str | None:
        """Network canary: None when `name` resolves now (never cached), else a short error."""
        key = _key(name)
        if key is None:
            return "invalid canary name"
        ips, status, error = await self._lookup_addresses(key)
        if ips:
            return None
        return _clean(f"{key}: {status}" + (f" ({error})" if error else ""))

    def forget(self, domain: str) -> None:
        """Drop what this scan knows about `domain` and its mail hosts (an operator rechecks a fix)."""
        key = _key(domain)
        if key is None:
            return
        self._mail.forget(key)
        self._addr.forget(key)
        for host in self._hosts_of.pop(key, ()):
            self._addr.forget(host)

    def close(self) -> None:
        """Cancel lookups still in flight (the scan was stopped)."""
        self._mail.cancel_all()
        self._addr.cancel_all()

    # -- lookups ----------------------------------------------------------------------------------

    async def _query(self, name: str, rdtype: dns.rdatatype.RdataType) -> _Outcome:
        """One question, bounded from outside because dnspython's lifetime can overshoot."""
        if self._init_error is not None:
            return _Outcome(DNS_SERVFAIL, error=self._init_error)
        try:
            qname = dns.name.from_text(name)
        except Exception as exc:
            return _Outcome(DNS_SERVFAIL, error=_clean(f"invalid name: {_describe(exc)}"))
        async with self._semaphore:
            try:
                async with asyncio.timeout(self.config.lifetime + 1):
                    answer = await self._resolver.resolve(qname, rdtype, search=False)
            except dns.resolver.NXDOMAIN:
                return _Outcome(DNS_NXDOMAIN, error="NXDOMAIN")
            except dns.resolver.NoAnswer:
                return _Outcome(_NODATA)
            except dns.resolver.NoNameservers as exc:
                return _Outcome(DNS_SERVFAIL, error=_nameserver_errors(exc))
            except (dns.exception.Timeout, TimeoutError):
                return _Outcome(DNS_TIMEOUT, error=f"no answer within {self.config.lifetime:g} s")
            except dns.exception.DNSException as exc:
                return _Outcome(DNS_SERVFAIL, error=_describe(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # socket errors, bugs on odd input: temporary, never a crash
                return _Outcome(DNS_SERVFAIL, error=_describe(exc))
        records = tuple(answer.rrset) if answer.rrset is not None else ()
        return _Outcome(DNS_OK if records else _NODATA, records)

    async def _lookup_addresses(self, name: str) -> tuple[tuple[str, ...], str | None, str | None]:
        """A and AAAA together → (IPs v4 first, status or None, error text)."""
        v4, v6 = await asyncio.gather(
            self._query(name, dns.rdatatype.A), self._query(name, dns.rdatatype.AAAA)
        )
        ips = tuple(str(r) for r in v4.records) + tuple(str(r) for r in v6.records)
        if ips:
            return tuple(dict.fromkeys(ips)), None, None
        for outcome in (v4, v6):
            if outcome.status in (DNS_SERVFAIL, DNS_TIMEOUT):
                return (), outcome.status, outcome.error
        if DNS_NXDOMAIN in (v4.status, v6.status):
            return (), DNS_NXDOMAIN, "NXDOMAIN"
        return (), DNS_NO_RECORDS, None

    async def _lookup_addresses_pair(self, name: str) -> tuple[tuple[str, ...], str | None]:
        ips, status, _error = await self._lookup_addresses(name)
        return ips, status

    async def _lookup_mail(self, domain: str, key: str) -> DnsResult:
        started = time.monotonic()
        try:
            result = await self._mail_result(domain, key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must cost one domain a temporary status, not the scan
            result = DnsResult(domain, DNS_SERVFAIL, error=_describe(exc))
        elapsed = (time.monotonic() - started) * 1000
        return DnsResult(
            result.domain, result.status, result.hosts, result.implicit_mx, result.error, elapsed
        )

    async def _mail_result(self, domain: str, key: str) -> DnsResult:
        mx = await self._query(key, dns.rdatatype.MX)
        if mx.status == _NODATA:
            return await self._implicit_mx(domain, key)
        if mx.status != DNS_OK:
            return DnsResult(domain, mx.status, error=mx.error)

        records = [r for r in mx.records if isinstance(r, dns.rdtypes.ANY.MX.MX)]
        if len(records) == 1 and records[0].exchange == dns.name.root:
            return DnsResult(domain, DNS_NULL_MX, error="null MX (RFC 7505): the domain accepts no mail")
        ordered = sorted(
            (r for r in records if r.exchange != dns.name.root), key=lambda r: r.preference
        )  # sorted() is stable: ties keep the server's order
        if not ordered:
            return DnsResult(domain, DNS_NULL_MX, error="only null MX targets")
        names: list[tuple[str, int]] = []
        seen: set[str] = set()
        for record in ordered:
            host = record.exchange.to_text(omit_final_dot=True).lower()
            if host not in seen:
                seen.add(host)
                names.append((host, int(record.preference)))
        self._hosts_of[key] = tuple(n for n, _ in names)
        resolved = await asyncio.gather(*(self.addresses(n) for n, _pref in names))
        hosts = tuple(
            MailHost(name, pref, ips) for (name, pref), (ips, _status) in zip(names, resolved, strict=True)
        )
        if not any(h.addresses for h in hosts):
            temporary = [s for _ips, s in resolved if s in (DNS_SERVFAIL, DNS_TIMEOUT)]
            if temporary:
                # the mail hosts exist but could not be resolved now: temporary, not "no mail server"
                return DnsResult(
                    domain,
                    temporary[0],
                    hosts,
                    error=f"mail host names could not be resolved ({temporary[0]})",
                )
        return DnsResult(domain, DNS_OK, hosts)

    async def _implicit_mx(self, domain: str, key: str) -> DnsResult:
        """No MX: RFC 5321 says use the domain's own address records."""
        ips, status, error = await self._lookup_addresses(key)
        if ips:
            return DnsResult(domain, DNS_OK, (MailHost(key, 0, ips),), implicit_mx=True)
        if status in (DNS_SERVFAIL, DNS_TIMEOUT):
            return DnsResult(domain, status, error=error)
        return DnsResult(domain, DNS_NO_RECORDS, error="no MX and no A/AAAA record")


def _key(name: object) -> str | None:
    """Cache key: lower case, no trailing dot; None for input that cannot be a name at all."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower().rstrip(".")
    if not key or len(key) > 1024:
        return None
    return key


__all__ = ["MailResolver"]
