"""The scanner: thousands of probes, polite to every mail host, guarded by a network canary.

How a scan flows:
1. each agency's declared text is read (`checks.address`) and checked against policy;
2. every distinct address to probe (the declared one and/or the suggested fix) becomes a target;
   targets are deduplicated, so two agencies declaring one address cost one RCPT;
3. DNS runs for every domain at once (bounded by the resolver's semaphore); as soon as a domain's
   mail hosts are known its targets join the queue of its first reachable host, so DNS and SMTP overlap;
4. one dispatcher per mail host (IP) opens sessions up to the host's limits (concurrent sessions,
   new sessions per minute) and sends many RCPT per session: a session starts with one flight of
   recipients and takes more from its host's queue as it sends them, so when a host's rejection cap
   ends sessions early no session sits on recipients another could send; a dropped session's unanswered
   recipients are requeued, a refusing host hands its recipients to the next MX, a 4xx is retried
   after `retry_delay` up to `retries` times;
5. each agency's verdict is built by the ruleset as soon as its targets are final. A verdict that
   blames the agency for an absence (D1, D2) or a temporary failure (E) is held until a network
   canary that started after it succeeds: if the canary fails, those verdicts are discarded and the
   scan stops, so nobody is marked undeliverable because of our own outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from checks import events as ev
from checks import model as m
from checks.address import AddressReading, read_address
from checks.classify import PROBE_MESSAGES, build_verdict, first_rule
from checks.config import EngineConfig
from checks.connect import ProxyFailed, connector_for, open_stream, proxy_reachable
from checks.dns import MailResolver
from checks.policy import policy_findings
from checks.replies import STAGE_MAIL
from checks.smtp import SessionResult, classify_reply, probe_session

# Hosts failures that mean "this host cannot receive mail" (the domain is D2 if all hosts say so)
_HARD_HOST_FAILURES = frozenset({m.HOST_REFUSED, m.HOST_UNREACHABLE})
# Verdict findings that could be our own network's fault: held until the canary confirms it is healthy
_NEEDS_CANARY = frozenset({m.DOMAIN_NOT_FOUND, m.NO_MAIL_SERVER, m.TEMPORARY_FAILURE})
_MAX_REQUEUES = 6  # a host that keeps dropping sessions without answering hands over to the next MX
# New sessions per host are counted over a window slightly longer than a minute, so that scheduling
# jitter can never let a server see more than `sessions_per_minute` connections in any 60 s.
RATE_WINDOW_S = 61.0
_IPV6_ONLY = "ipv6 only (probing uses IPv4; [smtp] ipv6 = true to use it)"
_SMALL_SCAN = 10  # up to this many agencies, SMTP sessions need not wait for the first canary
_OVERLAP_CANARY = 1000  # up to this many, the first canary runs alongside the first lookups (a start of < ~0.5 s)


@dataclass(eq=False)
class _Target:
    """One address to probe, shared by every agency that declares it."""

    address: str
    domain: str
    catch_all_probe: bool = False
    tries: int = 1
    host_index: int = 0
    requeues: int = 0
    spent: float = 0.0
    dns: m.DnsResult | None = None
    # (mail host, chosen IP or None, DNS status when the host's name did not resolve)
    routes: list[tuple[m.MailHost, str | None, str | None]] = field(default_factory=list)
    attempts: list[m.HostAttempt] = field(default_factory=list)
    future: asyncio.Future[m.ProbeResult] | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    """One agency before any network: its reading, policy findings and the addresses to probe."""

    agency: m.Agency
    reading: AddressReading
    policy: list[m.Finding]
    probe_address: str | None
    fix_address: str | None
    began: float

    def addresses(self) -> list[str]:
        return [a for a in (self.probe_address, self.fix_address) if a]


class SessionLedger:
    """When sessions to each mail host (by IP) were opened, kept across scans.

    A server counts our connections per minute, not per scan: the pilot and the scan after it, a
    scan resumed after a network outage, an operator's rechecks during a scan and a watcher's rounds
    one after another all open sessions to the same hosts. One ledger shared by every scan of a
    process keeps `sessions_per_minute` true across all of them.
    """

    def __init__(self) -> None:
        self._starts: dict[str, deque[float]] = {}

    def starts(self, ip: str, now: float) -> deque[float]:
        """The sessions opened to `ip` within the last rate window (older ones are forgotten)."""
        starts = self._starts.setdefault(ip, deque())
        while starts and now - starts[0] >= RATE_WINDOW_S:
            starts.popleft()
        return starts

    def wait(self, ip: str, now: float, per_minute: int) -> float:
        """Seconds until one more session to `ip` keeps within `per_minute`; 0 when it may open now."""
        starts = self.starts(ip, now)
        if len(starts) < max(1, per_minute):
            return 0.0
        return starts[-max(1, per_minute)] + RATE_WINDOW_S - now

    def opened(self, ip: str, when: float) -> None:
        self._starts.setdefault(ip, deque()).append(when)


class _HostQueue:
    """The work waiting for one mail host (one IP) and the bookkeeping for its politeness limits."""

    def __init__(self, ip: str, name: str, starts: deque[float]) -> None:
        self.ip = ip
        self.name = name
        self.pending: deque[_Target] = deque()
        self.active = 0
        self.starts = starts  # the ledger's: sessions opened to this IP by any scan of this process
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        # Learned from the host: fewer recipients per session after a 452 or a session that ran out of time.
        self.batch_cap = 1_000_000
        # Learned too: its sessions end before their recipients do (the rejection cap, a drop). Then a new
        # session takes one flight and the rest from the queue as it goes, instead of a batch it may never send.
        self.cut_short = False


def rate_wait(
    addresses: int, starts: Iterable[float], now: float, per_session: int, per_minute: int
) -> float:
    """Seconds until the last of `addresses` can have its session at one host, given the session
    `starts` already made (monotonic times) and the limits: the busiest host sets a national scan's end."""
    sessions = -(-addresses // per_session)
    recent = sorted(s for s in starts if now - s < RATE_WINDOW_S)
    waiting = sessions - max(per_minute - len(recent), 0)  # sessions that must wait for the window
    if waiting <= 0:
        return 0.0
    windows, index = divmod(waiting - 1, per_minute)
    # slot `index` of the next window frees when that start leaves the window; past the
    # starts already made it is one the free sessions take now, free again a window later
    opens = recent[index] + RATE_WINDOW_S - now if index < len(recent) else RATE_WINDOW_S
    return max(opens, 0.0) + windows * RATE_WINDOW_S


@dataclass(frozen=True, slots=True)
class Backlog:
    """The slowest queue of a running scan: seconds it still needs, its host ("" = retries), addresses."""

    seconds: float
    host: str
    waiting: int


class Scanner:
    """Runs checks for many agencies concurrently and emits events; one instance per scan.

    Scans of one process share a `SessionLedger` (pass the same one) so that the per-host session
    rate holds across them; without one, the scan keeps its own.
    """

    def __init__(
        self, config: EngineConfig, *, resolver: MailResolver | None = None, ledger: SessionLedger | None = None
    ) -> None:
        self.config = config
        self.resolver = resolver or MailResolver(config.dns)
        self.ledger = ledger or SessionLedger()
        self.verdicts: dict[str, m.Verdict] = {}
        self.retries_pending = 0
        self._targets: dict[str, _Target] = {}
        self._catch_all: dict[str, _Target] = {}
        self._dns_tasks: dict[str, asyncio.Task[m.DnsResult]] = {}
        self._hosts: dict[str, _HostQueue] = {}
        self._global_sessions: asyncio.Semaphore | None = None
        self._held: list[tuple[float, m.Agency, m.Verdict]] = []
        self._sink: ev.EventSink | None = None
        self._running = asyncio.Event()
        self._running.set()
        self._network_ok = asyncio.Event()  # the first canary passed (or the scan is a small recheck)
        self._stop_reason: str | None = None
        self._done = 0
        self._total = 0
        self._tasks: set[asyncio.Task[object]] = set()
        self._retry_handles: set[asyncio.TimerHandle] = set()
        self._canary_lock = asyncio.Lock()
        self._policy_cache: dict[tuple[str, str], list[m.Finding]] = {}
        self._network_check: asyncio.Task[None] | None = None
        self._network_checked = float("-inf")  # when the last check for a failing relay started

    # ------------------------------------------------------------------ public control
    def pause(self) -> None:
        """Stop opening new sessions and starting new lookups; sessions under way finish."""
        if self._running.is_set():
            self._running.clear()
            self._emit(ev.ScanPaused("paused by operator"))

    def resume(self) -> None:
        if not self._running.is_set():
            self._running.set()
            self._emit(ev.ScanResumed())

    def stop(self, reason: str = "stopped by operator") -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        self._running.set()
        for task in list(self._tasks):
            task.cancel()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def sessions_in_flight(self) -> int:
        """SMTP sessions under way (a paused scan lets them finish: wait for 0 to stop without losing them)."""
        return sum(queue.active for queue in self._hosts.values())

    def backlog(self) -> Backlog | None:
        """How long the work still queued will take at the politeness limits, and which host sets it.

        A national scan ends waiting on its busiest mail host (sessions per minute), and retries wait
        out their delay: a rate measured over the scan so far says "5 s left" for the last minute.
        """
        limits = self.config.politeness
        per_minute = max(1, limits.sessions_per_minute)
        now = time.monotonic()
        worst: Backlog | None = None
        for queue in self._hosts.values():
            if not queue.pending:
                continue
            per_session = max(1, min(limits.rcpt_per_session, queue.batch_cap))
            seconds = rate_wait(len(queue.pending), queue.starts, now, per_session, per_minute)
            if worst is None or seconds > worst.seconds:
                worst = Backlog(seconds, queue.name, len(queue.pending))
        loop = asyncio.get_running_loop()
        retry_wait = max((h.when() - loop.time() for h in self._retry_handles if not h.cancelled()), default=0.0)
        if retry_wait > 0 and (worst is None or retry_wait > worst.seconds):
            worst = Backlog(retry_wait, "", worst.waiting if worst is not None else 0)
        return worst

    async def canary(self) -> str | None:
        """Check our own network: None when healthy, else why not."""
        cfg = self.config.canary
        if cfg.resolve:
            probe_resolver = MailResolver(self.config.dns)
            try:
                async with asyncio.timeout(cfg.timeout + self.config.dns.lifetime):
                    error = await probe_resolver.resolves(cfg.resolve)
            except TimeoutError:
                error = "timed out"
            if error:
                return f"DNS cannot resolve {cfg.resolve}: {error}"
        proxy = self.config.smtp.proxy
        if cfg.connect:
            host, _, port = cfg.connect.rpartition(":")
            host = host.strip("[]")
            if not _is_ip(host):  # a name goes through our own resolver, like every probe
                ips, status = await self.resolver.addresses(host)
                usable = [ip for ip in ips if self.config.smtp.ipv6 or ":" not in ip]
                if not usable:
                    return f"DNS cannot resolve {host}: {status or 'no IPv4 address'}"
                host = usable[0]
            try:
                async with asyncio.timeout(cfg.timeout):
                    # through the SOCKS5 proxy when one is set: the canary must test the path sessions take
                    reader, writer = await open_stream(connector_for(proxy), host, int(port), cfg.timeout)
                    try:
                        # A cut port 25 often accepts and resets (transparent proxies): wait for the greeting.
                        greeting = await reader.readline()
                        if greeting[:1] == b"2":
                            writer.write(b"QUIT\r\n")
                            await writer.drain()
                    finally:
                        writer.close()
                        with contextlib.suppress(Exception):
                            await writer.wait_closed()
                if greeting[:1] != b"2":
                    return f"no SMTP greeting from {cfg.connect}"
            except ProxyFailed as exc:
                return exc.reason
            except (OSError, TimeoutError, ValueError) as exc:
                via = f" via SOCKS5 proxy {proxy.display}" if proxy is not None else ""
                return f"cannot connect to {cfg.connect}{via}: {type(exc).__name__} {exc}".strip()
        elif proxy is not None:
            return await proxy_reachable(proxy, cfg.timeout)
        return None

    # ------------------------------------------------------------------ running a scan
    async def run(self, agencies: Sequence[m.Agency], on_event: ev.EventSink | None = None) -> ev.ScanFinished:
        """Check every agency; returns when all have verdicts, or the scan was stopped."""
        self._sink = on_event
        self._total = len(agencies)
        self._done = 0
        self._global_sessions = asyncio.Semaphore(self.config.politeness.max_concurrent_sessions)
        started = time.monotonic()
        self._emit(ev.ScanStarted(self._total, m.now_iso()))

        # The first canary runs alongside the first DNS lookups. A recheck of a few agencies (the operator
        # is on the phone) also probes meanwhile; a bigger scan opens no SMTP session before it passes, so
        # no mail host is bothered while our own network is broken. Either way verdicts that could be our
        # fault are held until a canary passes, and a failed one stops the scan with nothing recorded.
        # A national scan checks first: starting thousands of checks keeps this loop busy for seconds,
        # and a canary timed meanwhile would fail on our own stall, not on the network.
        first_canary: asyncio.Future[str | None] | None = None
        if len(agencies) <= _OVERLAP_CANARY:
            first_canary = asyncio.ensure_future(self.canary())
        else:
            problem = await self.canary()
            if problem is not None:
                self._stop_reason = f"canary: {problem}"
                self._emit(ev.CanaryFailed(problem, 0))
                return self._finish(agencies, started)
            self._network_ok.set()
        if len(agencies) <= _SMALL_SCAN:
            self._network_ok.set()
        canary_task: asyncio.Task[object] | None = None
        try:
            agency_tasks = await self._start(agencies)
            canary_task = self._spawn(self._canary_loop())
            problem = await first_canary if first_canary is not None else None
            if problem is not None:
                withheld = len(self._held)
                self._held.clear()
                self._emit(ev.CanaryFailed(problem, withheld))
                self.stop(f"canary: {problem}")
            else:
                self._network_ok.set()
            await asyncio.gather(*agency_tasks, return_exceptions=True)
            canary_task.cancel()
            await asyncio.gather(canary_task, return_exceptions=True)
            if self._stop_reason is None:
                await self._confirm_held(final=True)
        finally:
            if first_canary is not None:
                first_canary.cancel()
            if canary_task is not None:
                canary_task.cancel()
            await self._cancel_all()
        return self._finish(agencies, started)

    async def _start(self, agencies: Sequence[m.Agency]) -> list[asyncio.Task[object]]:
        """Read every address and start its probe, biggest domains first: the busiest mail host sets the
        length of the whole scan. Slices yield to the loop, so a console sharing it stays responsive.

        Up to `_OVERLAP_CANARY` agencies (a watcher's round, a province), each probe starts as soon as its
        address is read, so the busiest host's lookups and sessions begin while the rest is read. A
        national scan reads everything first: its busiest hosts are held by the sessions-per-minute
        window, and a session opened while their addresses still trickle in would spend a slot of that
        window on a few recipients."""
        if len(agencies) > _OVERLAP_CANARY:
            return await self._start_read_first(agencies)
        per_domain = Counter(_domain_of(a.declared) for a in agencies)
        ordered = sorted(agencies, key=lambda a: -per_domain[_domain_of(a.declared)])
        tasks: list[asyncio.Task[object]] = []
        for index, agency in enumerate(ordered):
            if self._stop_reason is not None:
                break
            plan = self._plan(agency)
            for address in plan.addresses():
                self._target(address)
            tasks.append(self._spawn(self._check_agency(plan)))
            if index % 50 == 49:
                await asyncio.sleep(0)
        return tasks

    async def _start_read_first(self, agencies: Sequence[m.Agency]) -> list[asyncio.Task[object]]:
        plans: list[_Plan] = []
        for index, agency in enumerate(agencies):
            plans.append(self._plan(agency))
            if index % 200 == 199:
                await asyncio.sleep(0)
        per_domain: Counter[str] = Counter(a.rpartition("@")[2] for plan in plans for a in plan.addresses())
        wanted = sorted(
            {a for plan in plans for a in plan.addresses()},
            key=lambda a: (-per_domain[a.rpartition("@")[2]], a),
        )
        for address in wanted:
            self._target(address)
        return [self._spawn(self._check_agency(plan)) for plan in plans]

    async def check_one(self, agency: m.Agency) -> m.Verdict | None:
        """Recheck one agency (the operator's "we fixed it" loop); None when the canary stopped it."""
        await self.run([agency], self._sink)
        return self.verdicts.get(agency.id)

    def _finish(self, agencies: Sequence[m.Agency], started: float) -> ev.ScanFinished:
        counts: dict[str, int] = {}
        for verdict in self.verdicts.values():
            counts[verdict.group] = counts.get(verdict.group, 0) + 1
        unfinished = tuple(a.id for a in agencies if a.id not in self.verdicts)
        finished = ev.ScanFinished(
            total=len(agencies),
            done=len(self.verdicts),
            counts=counts,
            elapsed_s=time.monotonic() - started,
            stopped=self._stop_reason,
            unfinished=unfinished,
        )
        self._emit(finished)
        return finished

    async def _cancel_all(self) -> None:
        for handle in self._retry_handles:
            handle.cancel()
        self._retry_handles.clear()
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for target in list(self._targets.values()) + list(self._catch_all.values()):
            if target.future is not None and not target.future.done():
                target.future.cancel()

    def _spawn(self, coro: object) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _emit(self, event: ev.Event) -> None:
        if self._sink is not None:
            self._sink(event)

    # ------------------------------------------------------------------ one agency
    def _plan(self, agency: m.Agency) -> _Plan:
        return plan_agency(agency, self._policy)

    def _policy(self, address: str, kind: str) -> list[m.Finding]:
        """Policy depends only on the domain and the agency kind: computed once per pair per scan."""
        key = (address.rpartition("@")[2].lower(), kind)
        found = self._policy_cache.get(key)
        if found is None:
            found = self._policy_cache[key] = policy_findings(address, kind, self.config.policy)
        return list(found)

    async def _check_agency(self, plan: _Plan) -> None:
        waits = [self._probe(a) for a in (plan.probe_address, plan.fix_address) if a]
        results = await asyncio.gather(*waits) if waits else []
        probe = results[0] if plan.probe_address and results else None
        fix_probe = results[-1] if plan.fix_address and results else None
        verdict = build_verdict(
            plan.agency,
            plan.reading,
            plan.policy,
            probe,
            fix_probe,
            self.config.rules,
            fallback_group=self.config.fallback_group,
            elapsed_ms=(time.monotonic() - plan.began) * 1000,
        )
        self._deliver(plan.agency, verdict)

    def _deliver(self, agency: m.Agency, verdict: m.Verdict) -> None:
        if self._stop_reason is not None:
            return
        doubtful = any(f.code in _NEEDS_CANARY for f in verdict.findings) or (
            verdict.suggested_fix is not None
            and verdict.evidence.fix_probe is not None
            and verdict.evidence.fix_probe.outcome
            in (m.PROBE_DOMAIN_NOT_FOUND, m.PROBE_NO_MAIL_SERVER, m.PROBE_TEMPORARY, m.PROBE_DNS_TEMPORARY)
        )
        if doubtful and self._guarded():
            self._held.append((time.monotonic(), agency, verdict))
            return
        self._record(agency, verdict)

    def _guarded(self) -> bool:
        """Is there a canary to confirm doubtful verdicts? A proxy always is one (its own reachability)."""
        cfg = self.config
        return bool(cfg.canary.resolve or cfg.canary.connect or cfg.smtp.proxy is not None)

    def _record(self, agency: m.Agency, verdict: m.Verdict) -> None:
        self.verdicts[agency.id] = verdict
        self._done += 1
        self._emit(ev.AgencyChecked(agency, verdict, self._done, self._total))

    # ------------------------------------------------------------------ the canary
    async def _canary_loop(self) -> None:
        interval = max(0.05, self.config.canary.interval)
        while True:
            await asyncio.sleep(interval)
            if self._held:
                await self._confirm_held(final=False)

    async def _confirm_held(self, *, final: bool) -> None:
        async with self._canary_lock:
            await self._confirm_held_locked(final=final)

    def _proxy_failed(self) -> None:
        """A session failed at the proxy: check our network now rather than after the retries.

        If the canary (through the proxy) fails, the scan stops exactly as for any outage: what is held
        is discarded, the runner waits for the network and resumes the agencies not done.
        """
        if self._network_check is not None and not self._network_check.done():
            return
        now = time.monotonic()
        if now - self._network_checked < self.config.canary.interval:
            return  # a relay refusing many destinations must not turn into a canary per session
        self._network_checked = now
        self._network_check = self._spawn(self._check_network())  # type: ignore[assignment]

    async def _check_network(self) -> None:
        async with self._canary_lock:
            if self._stop_reason is not None:
                return
            problem = await self.canary()
            if problem is None or self._stop_reason is not None:
                return
            withheld = len(self._held)
            self._held.clear()
            self._emit(ev.CanaryFailed(problem, withheld))
            self.stop(f"canary: {problem}")

    async def _confirm_held_locked(self, *, final: bool) -> None:
        if not self._held or self._stop_reason is not None:
            return
        checked_from = time.monotonic()
        problem = await self.canary()
        if self._stop_reason is not None:
            return
        if problem is None:
            ready = [h for h in self._held if h[0] <= checked_from]
            self._held = [h for h in self._held if h[0] > checked_from]
            for _, agency, verdict in ready:
                self._record(agency, verdict)
            if final and self._held:
                await self._confirm_held_locked(final=True)
            return
        withheld = len(self._held)
        self._held.clear()
        self._emit(ev.CanaryFailed(problem, withheld))
        self.stop(f"canary: {problem}")

    # ------------------------------------------------------------------ probing addresses
    def _target(self, address: str) -> _Target:
        """The probe of one address, started on first use and shared by every agency declaring it."""
        target = self._targets.get(address)
        if target is None:
            domain = address.rpartition("@")[2]
            loop = asyncio.get_running_loop()
            target = _Target(address=address, domain=domain, future=loop.create_future())
            self._targets[address] = target
            self._spawn(self._route_new(target))
        return target

    async def _probe(self, address: str) -> m.ProbeResult:
        """The final probe result of one address, with the catch-all verdict of its domain."""
        target = self._target(address)
        assert target.future is not None
        result = await asyncio.shield(target.future)
        if result.outcome == m.PROBE_ACCEPTED and self.config.smtp.catch_all_check:
            catch_all = await self._catch_all_result(target)
            if catch_all is not None:
                known = {m.PROBE_ACCEPTED: True, m.PROBE_MAILBOX_REJECTED: False}.get(catch_all.outcome)
                result = replace(result, catch_all=known, catch_all_reply=catch_all.rcpt)
        return result

    async def _catch_all_result(self, target: _Target) -> m.ProbeResult | None:
        probe = self._catch_all.get(target.domain)
        if probe is None or probe.future is None:
            return None
        return await asyncio.shield(probe.future)

    async def _dns(self, domain: str) -> m.DnsResult:
        task = self._dns_tasks.get(domain)
        if task is None or (task.done() and not task.cancelled() and task.result().temporary):
            task = asyncio.ensure_future(self.resolver.mail_hosts(domain))
            self._dns_tasks[domain] = task
        return await asyncio.shield(task)

    async def _route_new(self, target: _Target) -> None:
        await self._running.wait()  # paused: no new DNS lookups either, nothing new goes out
        began = time.monotonic()
        dns_result = await self._dns(target.domain)
        target.spent += time.monotonic() - began
        target.dns = dns_result
        if dns_result.status == m.DNS_NXDOMAIN:
            self._finalize(target, m.PROBE_DOMAIN_NOT_FOUND)
            return
        if dns_result.status in (m.DNS_NULL_MX, m.DNS_NO_RECORDS):
            self._finalize(target, m.PROBE_NO_MAIL_SERVER)
            return
        if dns_result.temporary:
            self._temporary(target, f"DNS {dns_result.status}", host="")
            return
        target.routes = await self._routes(dns_result)
        if not target.catch_all_probe and self.config.smtp.catch_all_check:
            self._ensure_catch_all(target.domain, dns_result, target.routes)
        self._route(target)

    async def _routes(self, dns_result: m.DnsResult) -> list[tuple[m.MailHost, str | None, str | None]]:
        """Each mail host with the IP to use; for a name that did not resolve, why (NXDOMAIN is not a timeout)."""
        routes: list[tuple[m.MailHost, str | None, str | None]] = []
        ipv6 = self.config.smtp.ipv6
        for host in dns_result.hosts:
            ip = _pick_ip(host, ipv6)
            status = None
            if ip is None:
                ips, status = await self.resolver.addresses(host.name)
                ip = _pick_ip(m.MailHost(host.name, host.preference, ips), ipv6) if ips else None
                if ips and ip is None:
                    status = _IPV6_ONLY  # reachable, but not by us: never "no mail server"
            routes.append((host, ip, status))
        return routes

    def _ensure_catch_all(
        self, domain: str, dns_result: m.DnsResult, routes: list[tuple[m.MailHost, str | None, str | None]]
    ) -> None:
        if domain in self._catch_all:
            return
        address = f"saraban-check-{secrets.token_hex(5)}@{domain}"
        loop = asyncio.get_running_loop()
        probe = _Target(address=address, domain=domain, catch_all_probe=True, future=loop.create_future())
        probe.dns = dns_result
        probe.routes = list(routes)
        self._catch_all[domain] = probe
        self._route(probe, front=True)

    def _route(self, target: _Target, *, front: bool = False) -> None:
        """Send the target to its current mail host, skipping hosts without an address."""
        while target.host_index < len(target.routes):
            host, ip, status = target.routes[target.host_index]
            if ip is None:
                # A name that does not exist is "cannot be reached"; a lookup that timed out says nothing.
                hard = status in (None, m.DNS_NXDOMAIN, m.DNS_NO_RECORDS, m.DNS_NULL_MX)
                target.attempts.append(
                    m.HostAttempt(
                        host=host.name,
                        ip=None,
                        port=self.config.smtp.port,
                        outcome=m.HOST_UNREACHABLE if hard else m.HOST_TIMEOUT,
                    )
                )
                target.host_index += 1
                continue
            queue = self._hosts.get(ip)
            if queue is None:
                queue = self._hosts[ip] = _HostQueue(ip, host.name, self.ledger.starts(ip, time.monotonic()))
            if front:
                queue.pending.appendleft(target)
            else:
                queue.pending.append(target)
            queue.wake.set()
            if queue.task is None or queue.task.done():
                queue.task = self._spawn(self._dispatch(queue))  # type: ignore[assignment]
            return
        self._hosts_exhausted(target)

    def _hosts_exhausted(self, target: _Target) -> None:
        outcomes = {a.outcome for a in target.attempts}
        if outcomes and outcomes <= _HARD_HOST_FAILURES:
            self._finalize(target, m.PROBE_NO_MAIL_SERVER)
        else:
            last = target.attempts[-1] if target.attempts else None
            self._temporary(target, last.outcome if last else "no host answered", host=last.host if last else "")

    def _temporary(self, target: _Target, reason: str, *, host: str, rcpt: m.SmtpReply | None = None) -> None:
        """A temporary outcome: retry later while tries remain, else it is final (E)."""
        cfg = self.config.smtp
        if target.tries <= cfg.retries and target.spent < cfg.deadline and self._stop_reason is None:
            target.tries += 1
            target.host_index = 0
            target.requeues = 0
            self.retries_pending += 1
            self._emit(ev.RetryScheduled(target.address, host, target.tries, cfg.retry_delay, reason))
            loop = asyncio.get_running_loop()

            def again() -> None:
                self.retries_pending -= 1
                self._retry_handles.discard(handle)
                if target.dns is not None and target.dns.temporary:
                    self._spawn(self._route_new(target))
                else:
                    self._route(target)

            handle = loop.call_later(cfg.retry_delay, again)
            self._retry_handles.add(handle)
            return
        outcome = m.PROBE_DNS_TEMPORARY if target.dns is not None and target.dns.temporary else m.PROBE_TEMPORARY
        self._finalize(target, outcome, rcpt)

    def _finalize(self, target: _Target, outcome: str, rcpt: m.SmtpReply | None = None) -> None:
        if target.future is None or target.future.done():
            return
        target.future.set_result(
            m.ProbeResult(
                address=target.address,
                outcome=outcome,
                dns=target.dns,
                rcpt=rcpt,
                attempts=tuple(target.attempts[-8:]),
                tries=target.tries,
                elapsed_ms=target.spent * 1000,
            )
        )

    # ------------------------------------------------------------------ per-host dispatch
    async def _dispatch(self, queue: _HostQueue) -> None:
        """Open sessions to one host while it has work, within its politeness limits."""
        limits = self.config.politeness
        assert self._global_sessions is not None
        while queue.pending or queue.active:
            if not queue.pending or queue.active >= limits.max_sessions_per_host:
                queue.wake.clear()
                await queue.wake.wait()
                continue
            await self._running.wait()
            await self._network_ok.wait()
            await self._global_sessions.acquire()
            if not queue.pending:
                self._global_sessions.release()
                continue
            # The rate is checked and the start recorded with no await between them: another scan
            # sharing the ledger cannot slip a session into the same slot.
            wait = self.ledger.wait(queue.ip, time.monotonic(), limits.sessions_per_minute)
            if wait > 0:
                self._global_sessions.release()
                await asyncio.sleep(wait + 0.001)
                continue
            # A session takes a full batch (one session for a small host), or, once the host's sessions
            # end early, one flight now and the rest from the queue as it goes (_take): then no session
            # holds recipients it may never reach while another could send them.
            flight = limits.rejections_per_session if queue.cut_short and limits.rejections_per_session > 0 else 0
            first = flight or limits.rcpt_per_session
            batch: list[_Target] = []
            if not self._take(queue, batch, first):  # the scan is stopping (the tasks are being cancelled)
                self._global_sessions.release()
                return
            self.ledger.opened(queue.ip, time.monotonic())
            queue.active += 1
            self._spawn(self._session(queue, batch))

    def _take(self, queue: _HostQueue, batch: list[_Target], wanted: int) -> list[str]:
        """Move up to `wanted` targets from the host's queue into a session's batch, within the
        per-session limit; none while paused or stopping (a paused scan's sessions only finish)."""
        if self._stop_reason is not None or (batch and not self._running.is_set()):
            return []
        room = max(1, min(self.config.politeness.rcpt_per_session, queue.batch_cap)) - len(batch)
        held = {t.address.lower() for t in batch}
        taken: list[str] = []
        while queue.pending and len(taken) < min(wanted, room):
            target = queue.pending[0]
            if target.address.lower() in held:  # same address twice in one session is pointless
                break
            queue.pending.popleft()
            held.add(target.address.lower())
            batch.append(target)
            taken.append(target.address)
        return taken

    async def _session(self, queue: _HostQueue, batch: list[_Target]) -> None:
        assert self._global_sessions is not None
        host_name = batch[0].routes[batch[0].host_index][0].name if batch[0].routes else queue.name
        began = time.monotonic()
        settled = False

        def answered(early: SessionResult) -> None:
            # Verdicts go out after the last RCPT reply; the session keeps its slot until QUIT closes it.
            nonlocal settled
            settled = True
            self._settle(queue, batch, early, time.monotonic() - began)

        try:
            result = await probe_session(
                host_name,
                queue.ip,
                [t.address for t in batch],
                self.config.smtp,
                max_rejections=self.config.politeness.rejections_per_session,
                pipelining=None if self.config.smtp.pipelining else False,
                on_answers=answered,
                more=lambda wanted: self._take(queue, batch, wanted),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an unexpected library error must not lose the batch
            result = SessionResult(
                host=host_name,
                ip=queue.ip,
                port=self.config.smtp.port,
                outcome=m.HOST_PROTOCOL_ERROR,
                prelude=(m.Exchange("<session>", m.SmtpReply(0, f"{type(exc).__name__}: {exc}")),),
                rcpt={},
                unattempted=tuple(t.address for t in batch),
                starttls=None,
                tls_error=None,
                pipelining_used=False,
                elapsed_ms=(time.monotonic() - began) * 1000,
            )
        finally:
            queue.active -= 1
            self._global_sessions.release()
            queue.wake.set()
        if not settled:
            self._settle(queue, batch, result, time.monotonic() - began)

    def _settle(self, queue: _HostQueue, batch: list[_Target], result: SessionResult, elapsed: float) -> None:
        """Decide, for each recipient of a finished session, final / retry / requeue / next host."""
        unattempted = set(result.unattempted)
        answered = sum(1 for e in result.rcpt.values() if e.reply is not None and not _too_many(e.reply))
        progressed = answered > 0
        requeue: list[_Target] = []
        if progressed and result.outcome == m.HOST_TIMEOUT:
            queue.batch_cap = max(1, min(queue.batch_cap, answered))  # this host is slow: smaller sessions
        for target in batch:
            # A session that answered recipients costs each of them a share; one that failed costs everyone all.
            target.spent += elapsed / len(batch) if progressed or result.outcome == m.HOST_OK else elapsed
            exchange = result.rcpt.get(target.address)
            if exchange is not None and exchange.reply is not None:
                reply = exchange.reply
                kind = classify_reply(reply)
                if _too_many(reply):
                    # Too many recipients for this host: not the mailbox's fault; send it again, in fewer per session.
                    queue.batch_cap = max(1, min(queue.batch_cap, answered))
                    target.requeues += 0 if progressed else 1
                    requeue.append(target)
                    continue
                target.attempts.append(result.attempt_for(target.address))
                if kind == m.PROBE_TEMPORARY:
                    self._temporary(target, reply.one_line(), host=queue.name, rcpt=reply)
                else:
                    if kind == m.PROBE_PROBER_REJECTED:
                        self._emit(ev.ProberBlocked(queue.name, reply.one_line()))
                    self._finalize(target, kind, reply)
                continue
            if result.outcome == m.HOST_SENDER_REJECTED:
                target.attempts.append(result.attempt_for(target.address))
                mail_reply = result.prelude[-1].reply if result.prelude else None
                if mail_reply is not None and classify_reply(mail_reply, STAGE_MAIL) == m.PROBE_PROBER_REJECTED:
                    if target is batch[0]:
                        self._emit(ev.ProberBlocked(queue.name, mail_reply.one_line()))
                    self._finalize(target, m.PROBE_PROBER_REJECTED, mail_reply)
                else:
                    self._temporary(target, "sender refused", host=queue.name, rcpt=mail_reply)
                continue
            if target.address in unattempted and (progressed or result.outcome == m.HOST_OK):
                # The session worked but ended before this recipient (limits, a drop after rejections, time).
                queue.cut_short = True
                target.requeues += 0 if progressed else 1
                requeue.append(target)
                continue
            # The host failed before RCPT: hand over to the next MX.
            target.attempts.append(result.attempt_for(target.address))
            if result.outcome == m.HOST_PROXY_FAILED:
                self._proxy_failed()
            if target.spent >= self.config.smtp.deadline:
                self._finalize(target, m.PROBE_TEMPORARY)
                continue
            target.host_index += 1
            target.requeues = 0
            self._route(target)
        self._requeue(queue, requeue)

    def _requeue(self, queue: _HostQueue, targets: list[_Target]) -> None:
        """Put targets back at the front of their host's queue, in their original order."""
        keep: list[_Target] = []
        for target in targets:
            if target.requeues > _MAX_REQUEUES or target.spent >= self.config.smtp.deadline:
                target.host_index += 1
                target.requeues = 0
                self._route(target)
            else:
                keep.append(target)
        if not keep:
            return
        queue.pending.extendleft(reversed(keep))
        queue.wake.set()
        if queue.task is None or queue.task.done():
            queue.task = self._spawn(self._dispatch(queue))  # type: ignore[assignment]


def plan_agency(agency: m.Agency, policy: Callable[[str, str], list[m.Finding]]) -> _Plan:
    """Everything about one agency that needs no network: the reading, policy, what to probe.

    `policy(address, kind)` gives the policy findings (a scan caches them per domain and kind).
    """
    reading = read_address(agency.declared)
    found = policy(reading.address, agency.kind) if reading.address else []
    # What goes on the wire is the ASCII (IDNA) form; the reading keeps the readable one.
    probe_address = reading.ascii_address if reading.ok and not agency.upgraded else None
    fix_address = None
    if reading.suggestion and not agency.upgraded:
        fix_address = read_address(reading.suggestion).ascii_address
    if reading.suggestion and not reading.address:
        # The declared text is unusable; still flag a typo in the domain it was meant to have.
        found = [f for f in policy(reading.suggestion, agency.kind) if f.code == m.TYPO_SUSPECT]
    return _Plan(agency, reading, found, probe_address, fix_address, time.monotonic())


# What a probe of the declared address can add to the findings (checks.classify.probe_finding).
_PROBE_CODES: tuple[str, ...] = tuple(PROBE_MESSAGES)


def offline_verdict(agency: m.Agency, config: EngineConfig) -> m.Verdict | None:
    """The verdict an agency gets before any network, when no probe answer could change its group
    under the configured ruleset (Thai digits, free mail, a non-government domain, bad syntax, no
    announcement, an upgraded unit); None when its group depends on what the network says.

    The verdict has no probe evidence: a later scan still probes the address (and a suggested fix)
    and adds what it finds, but the operator sees the group as soon as the list is imported.
    """
    plan = plan_agency(agency, lambda address, kind: policy_findings(address, kind, config.policy))
    verdict = build_verdict(
        agency, plan.reading, plan.policy, None, None, config.rules, fallback_group=config.fallback_group
    )
    if verdict.evidence.rule_index < 0:
        return None  # no rule holds without a probe: the network decides
    if plan.probe_address is not None:
        codes = set(verdict.finding_codes)
        for code in _PROBE_CODES:
            chosen = first_rule(config.rules, codes | {code})
            if chosen is None or chosen[1].group != verdict.group:
                return None
    return verdict


def _domain_of(declared: str) -> str:
    """The domain a declared address seems to have, before it is read: only to order the work."""
    return declared.rpartition("@")[2].strip().lower()


def _too_many(reply: m.SmtpReply) -> bool:
    """452 4.5.3 "too many recipients": a per-session limit of the host, nothing about the mailbox."""
    return reply.code == 452 or reply.enhanced == "4.5.3"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _pick_ip(host: m.MailHost, ipv6: bool = False) -> str | None:
    """IPv4 first: most hosts the console meets are reachable over v4, and many refuse v6 clients
    without reverse DNS. IPv6 only with `[smtp] ipv6 = true`."""
    for ip in host.addresses:
        if ":" not in ip:
            return ip
    return host.addresses[0] if host.addresses and ipv6 else None


async def check_agencies(
    agencies: Sequence[m.Agency], config: EngineConfig, on_event: ev.EventSink | None = None
) -> tuple[dict[str, m.Verdict], ev.ScanFinished]:
    """Convenience: run one scan and return the verdicts by agency id and the summary."""
    scanner = Scanner(config)
    finished = await scanner.run(agencies, on_event)
    return scanner.verdicts, finished


__all__ = ["AddressReading", "Scanner", "SessionLedger", "check_agencies"]
