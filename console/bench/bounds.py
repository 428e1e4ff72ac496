"""The least time any scheduler needs for a scan under the politeness limits (see console.bench)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from checks.address import read_address
from checks.config import EngineConfig, PolitenessConfig, SmtpConfig
from checks.model import Agency
from checks.sim.world import (
    DNS_A_ONLY,
    DNS_MX,
    DNS_NO_ANSWER,
    DNS_SERVFAIL,
    HOST_GREETING_421,
    HOST_NORMAL,
    HOST_REFUSE,
    MAILBOX_OK,
    DomainSpec,
    HostSpec,
    World,
)


@dataclass(slots=True)
class HostLoad:
    """The RCPT work one mail host must answer in a scan, and what each of its sessions costs."""

    ip: str
    name: str
    delay: float  # seconds per reply
    base_replies: int  # banner, EHLO, [STARTTLS, EHLO], MAIL, QUIT
    pipelining: bool
    rcpt: int = 0
    rejected: int = 0


@dataclass(slots=True)
class Bound:
    """The lower bound of a scan, and which host (or chain) sets it."""

    seconds: float
    host: str  # "name (ip)", "retry chain" or "all hosts"
    busiest_ip: str | None
    busiest_rcpt: int
    per_host: dict[str, float] = field(default_factory=dict)


def _probed_addresses(agencies: Sequence[Agency]) -> dict[str, None]:
    """Every distinct address a scan probes: the declared one when readable, and the suggested fix."""
    addresses: dict[str, None] = {}
    for agency in agencies:
        if agency.upgraded:
            continue
        reading = read_address(agency.declared)
        if reading.ok and reading.ascii_address:
            addresses[reading.ascii_address] = None
        if reading.suggestion:
            fix = read_address(reading.suggestion).ascii_address
            if fix:
                addresses[fix] = None
    return addresses


@dataclass(slots=True)
class _WorldIndex:
    domains: dict[str, DomainSpec]
    hosts: dict[str, HostSpec]
    by_ip: dict[str, HostSpec]

    @classmethod
    def of(cls, world: World) -> _WorldIndex:
        return cls(
            {k.lower().rstrip("."): v for k, v in world.domains.items()},
            {k.lower().rstrip("."): v for k, v in world.hosts.items()},
            world.host_by_ip(),
        )

    def first_host(self, domain: str) -> tuple[bool, HostSpec | None]:
        """(DNS answers OK, the first MX that accepts connections)."""
        spec = self.domains.get(domain.lower().rstrip("."))
        if spec is None:
            return False, None
        if spec.mode == DNS_MX and spec.mx:
            for _pref, name in sorted(spec.mx, key=lambda p: p[0]):
                host = self.hosts.get(name.lower().rstrip("."))
                if host is not None and host.behaviour != HOST_REFUSE:
                    return True, host
            return True, None
        if spec.mode == DNS_A_ONLY and spec.a:
            host = self.by_ip.get(spec.a[0])
            return True, host if host is not None and host.behaviour != HOST_REFUSE else None
        return False, None


def _new_load(host: HostSpec, smtp: SmtpConfig, delay: float) -> HostLoad:
    tls = host.starttls and smtp.starttls
    return HostLoad(
        ip=host.ip,
        name=host.name,
        delay=host.reply_delay if host.reply_delay is not None else delay,
        base_replies=6 if tls else 4,
        pipelining=host.pipelining and smtp.pipelining,
    )


def _count_rcpt(load: HostLoad, host: HostSpec, address: str, smtp: SmtpConfig) -> float:
    """One probed address on its host: RCPT and rejections; returns its retry chain (seconds)."""
    load.rcpt += 1
    if host.greylist_seconds > 0:
        load.rejected += 1
        needed = min(smtp.retries, math.ceil(host.greylist_seconds / max(smtp.retry_delay, 1e-9)))
        return needed * smtp.retry_delay
    state = host.mailboxes.get(address.lower())
    if not (state == MAILBOX_OK or (state is None and host.catch_all)):
        load.rejected += 1
    return 0.0


def host_loads(world: World, agencies: Sequence[Agency], engine: EngineConfig, delay: float,
               ) -> tuple[dict[str, HostLoad], float]:
    """RCPT per mail host for a scan of `agencies`, and the longest retry chain (seconds)."""
    smtp = engine.smtp
    index = _WorldIndex.of(world)
    loads: dict[str, HostLoad] = {}
    chain = 0.0
    retry_chain = smtp.retries * smtp.retry_delay
    catch_all_done: set[str] = set()
    for address in _probed_addresses(agencies):
        domain = address.rpartition("@")[2]
        spec = index.domains.get(domain.lower().rstrip("."))
        if spec is not None and spec.mode in (DNS_SERVFAIL, DNS_NO_ANSWER):
            chain = max(chain, retry_chain)
            continue
        dns_ok, host = index.first_host(domain)
        if host is None:
            continue
        if host.behaviour == HOST_GREETING_421:
            chain = max(chain, retry_chain)
            continue
        if host.behaviour != HOST_NORMAL or host.reject_prober:
            continue
        load = loads.get(host.ip) or loads.setdefault(host.ip, _new_load(host, smtp, delay))
        chain = max(chain, _count_rcpt(load, host, address, smtp))
        if smtp.catch_all_check and dns_ok and domain not in catch_all_done:
            catch_all_done.add(domain)
            load.rcpt += 1
            if not host.catch_all or host.greylist_seconds > 0:
                load.rejected += 1
    return loads, chain


def _host_seconds(load: HostLoad, limits: PolitenessConfig, delay_model: str) -> tuple[float, float]:
    """(lower bound for this host excluding DNS, reply-seconds of all its sessions)."""
    n, d, base = load.rcpt, load.delay, load.base_replies
    per_session = max(1, limits.rcpt_per_session)
    per_rejections = limits.rejections_per_session
    concurrent = max(1, limits.max_sessions_per_host)
    per_minute = max(1, limits.sessions_per_minute)
    sessions = max(1, math.ceil(n / per_session))
    if per_rejections > 0:
        sessions = max(sessions, math.ceil(load.rejected / per_rejections))

    def rcpt_replies(rcpt: int, sess: int) -> int:
        if delay_model == "per_flight" and load.pipelining:
            chunk = per_rejections if per_rejections > 0 else per_session
            return max(sess, math.ceil(rcpt / max(1, chunk)))
        return rcpt

    replies = sessions * base + rcpt_replies(n, sessions)
    work = max(replies * d / concurrent, (base + math.ceil(rcpt_replies(n, sessions) / sessions)) * d)
    windows = (sessions - 1) // per_minute
    rem_s = sessions - windows * per_minute
    rem_n = max(rem_s, n - windows * per_minute * per_session)
    window = windows * 60.0 + (rem_s * base + rcpt_replies(rem_n, rem_s)) * d / concurrent
    return max(work, window), replies * d


def lower_bound(world: World, agencies: Sequence[Agency], engine: EngineConfig, delay: float,
                delay_model: str = "per_reply") -> Bound:
    """The least time a scan can take under `engine`'s politeness limits (see the module docstring)."""
    loads, chain = host_loads(world, agencies, engine, delay)
    limits = engine.politeness
    dns = 2 * delay
    per_host: dict[str, float] = {}
    total_reply_seconds = 0.0
    for ip, load in loads.items():
        seconds, reply_seconds = _host_seconds(load, limits, delay_model)
        per_host[ip] = seconds + dns
        total_reply_seconds += reply_seconds
    everything = total_reply_seconds / max(1, limits.max_concurrent_sessions) + dns
    busiest = max(per_host, key=lambda ip: per_host[ip], default=None)
    best = per_host[busiest] if busiest is not None else 0.0
    label = f"{loads[busiest].name} ({busiest})" if busiest is not None else "none"
    if everything > best:
        best, label = everything, "all hosts (max_concurrent_sessions)"
    if chain > best:
        best, label = chain, "retry chain (retries x retry_delay)"
    return Bound(
        seconds=best,
        host=label,
        busiest_ip=busiest,
        busiest_rcpt=loads[busiest].rcpt if busiest is not None else 0,
        per_host=per_host,
    )

