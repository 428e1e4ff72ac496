"""SPF evaluation of our own sender for our own address, with pyspf, through our configured resolver.

pyspf (the RFC 7208 implementation behind Debian's postfix-policyd-spf-python, so the same answer many
mail hosts compute about us) looks names up through its module-level `DNSLookup` backend. We install one
backend that asks the resolver of the current evaluation (a context variable, copied into the worker
thread by `asyncio.to_thread`), so the doctor's SPF answer comes from the same DNS as everything else.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator

import dns.exception
import dns.resolver
import spf  # pyspf

from checks.config import DnsConfig

_RESOLVER: contextvars.ContextVar[dns.resolver.Resolver | None] = contextvars.ContextVar("saraban_spf_resolver", default=None)
_INSTALL = threading.Lock()
_installed = False

Record = tuple[tuple[str, str], object]


def _lookup(name: str, qtype: str, strict: bool = True, timeout: float = 20) -> list[Record]:
    """pyspf's DNSLookup contract: [((name, type), value)], TempError on a failed lookup."""
    resolver = _RESOLVER.get()
    if resolver is None:  # someone else's pyspf call in this process: the library's own behaviour
        return list(_records(dns.resolver.get_default_resolver(), name, qtype, timeout))
    return list(_records(resolver, name, qtype, timeout))


def _records(resolver: dns.resolver.Resolver, name: str, qtype: str, timeout: float) -> Iterator[Record]:
    try:
        answer = resolver.resolve(name, qtype, lifetime=min(timeout, resolver.lifetime), search=False)
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise spf.TempError(f"DNS {exc}") from exc
    except dns.exception.DNSException as exc:
        raise spf.TempError(f"DNS {type(exc).__name__}") from exc
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            yield (name, qtype), rdata.address  # type: ignore[attr-defined]
        elif qtype == "MX":
            yield (name, qtype), (rdata.preference, rdata.exchange)  # type: ignore[attr-defined]
        elif qtype == "PTR":
            yield (name, qtype), rdata.target.to_text(True)  # type: ignore[attr-defined]
        elif qtype in ("TXT", "SPF"):
            yield (name, qtype), rdata.strings  # type: ignore[attr-defined]


def _install() -> None:
    global _installed
    with _INSTALL:
        if not _installed:
            spf.DNSLookup = _lookup
            _installed = True


def resolver_for(config: DnsConfig) -> dns.resolver.Resolver:
    if config.nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = list(config.nameservers)
        resolver.port = config.port
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = config.timeout
    resolver.lifetime = config.lifetime
    return resolver


async def evaluate(ip: str, sender: str, helo: str, dns_config: DnsConfig, timeout: float) -> tuple[str, str]:
    """(result, explanation): pass, fail, softfail, neutral, none, permerror or temperror."""
    _install()
    try:
        resolver = resolver_for(dns_config)
    except Exception as exc:  # no /etc/resolv.conf
        return "temperror", f"resolver not configured: {exc}"
    token = _RESOLVER.set(resolver)
    try:
        result, explanation = await asyncio.to_thread(spf.check2, i=ip, s=sender, h=helo, timeout=timeout, querytime=timeout)
    except Exception as exc:  # the library must never take the doctor down
        return "temperror", f"{type(exc).__name__}: {exc}"
    finally:
        _RESOLVER.reset(token)
    return str(result), str(explanation)
