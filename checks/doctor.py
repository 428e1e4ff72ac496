"""`saraban doctor`: will the mail hosts of the real internet talk to us at all?

Every check returns a typed `CheckResult` (status, a finding code, the evidence: what was asked and
what came back); the console turns the code into advice in the operator's language. A check never
prints, never reads files, and never outlives its own timeout: a check that cannot finish says
"could not tell" (UNKNOWN) with what it tried. Nothing here ever blames an agency.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename

from checks.config import PLACEHOLDER_HELO, PLACEHOLDER_MAIL_FROM, EngineConfig
from checks.connect import Connector, ProxyFailed, connector_for, open_stream
from checks.dns import MailResolver
from checks.model import DNS_NXDOMAIN, DNS_OK

PASS = "pass"
WARN = "warn"
FAIL = "fail"
UNKNOWN = "unknown"  # could not tell: counts as a warning
_RANK = {PASS: 0, UNKNOWN: 1, WARN: 1, FAIL: 2}

# The checks, in the order they run and print.
CHECK_HELO = "helo_name"
CHECK_MAIL_FROM = "mail_from"
CHECK_CANARY = "canary"
CHECK_PUBLIC_IP = "public_ip"
CHECK_REVERSE_DNS = "reverse_dns"
CHECK_PORT25 = "port25"
CHECK_DNSBL = "dnsbl"
CHECK_SPF = "spf"
CHECK_IPV6 = "ipv6"
CHECKS: tuple[str, ...] = (
    CHECK_HELO,
    CHECK_MAIL_FROM,
    CHECK_CANARY,
    CHECK_PUBLIC_IP,
    CHECK_REVERSE_DNS,
    CHECK_PORT25,
    CHECK_DNSBL,
    CHECK_SPF,
    CHECK_IPV6,
)

# Names no real host may introduce itself with (RFC 2606 / RFC 6761 / RFC 6762).
RESERVED_SUFFIXES: tuple[str, ...] = (".invalid", ".example", ".local", ".localhost", ".test")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)", re.ASCII)


@dataclass(frozen=True, slots=True)
class Asked:
    """One piece of evidence: what we asked and what came back (both plain text, never markup)."""

    asked: str
    answer: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str  # one of CHECKS
    status: str  # PASS, WARN, FAIL, UNKNOWN
    code: str  # the finding, e.g. "ptr_missing"; the console words the advice for it
    evidence: tuple[Asked, ...] = ()
    detail: dict[str, str] = field(default_factory=dict)  # values the advice names (ip, host, zones…)


@dataclass(frozen=True, slots=True)
class DoctorReport:
    results: tuple[CheckResult, ...]
    public_ip: str | None = None

    @property
    def status(self) -> str:
        """The worst status: FAIL, else WARN (UNKNOWN counts as a warning), else PASS."""
        worst = max((_RANK[r.status] for r in self.results), default=0)
        return {0: PASS, 1: WARN, 2: FAIL}[worst]

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == FAIL]

    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.status in (WARN, UNKNOWN)]

    def result(self, check: str) -> CheckResult | None:
        return next((r for r in self.results if r.check == check), None)


Ipv6Probe = Callable[[], str | None]


def ipv6_source() -> str | None:
    """Our global IPv6 source address, or None. A UDP connect sends nothing; it only asks the routing table."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.connect(("2001:4860:4860::8888", 53))
            address = str(sock.getsockname()[0])
    except OSError:
        return None
    try:
        parsed = ipaddress.IPv6Address(address.split("%")[0])
    except ValueError:
        return None
    return address if parsed.is_global else None


# ---------------------------------------------------------------------------------------------- DNS
class _Dns:
    """Plain questions of any type to our configured resolver (or a given server), never raising."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config.dns
        if config.dns.nameservers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = list(config.dns.nameservers)
            resolver.port = config.dns.port
        else:
            try:
                resolver = dns.asyncresolver.Resolver()
            except Exception:  # no /etc/resolv.conf
                resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.timeout = config.dns.timeout
        resolver.lifetime = config.dns.lifetime
        self.resolver = resolver

    async def query(self, name: str, rdtype: str) -> tuple[str, list[str]]:
        """("ok", record texts) or (a short status: NXDOMAIN, no records, SERVFAIL, timeout…, [])."""
        try:
            answer = await self.resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return "NXDOMAIN", []
        except dns.resolver.NoAnswer:
            return "no records", []
        except dns.resolver.NoNameservers:
            return "SERVFAIL", []
        except dns.exception.Timeout:
            return f"no answer within {self.config.lifetime:g} s", []
        except dns.exception.DNSException as exc:
            return f"error: {type(exc).__name__}", []
        except OSError as exc:
            return f"error: {exc}", []
        return "ok", [_record_text(r) for r in answer]

    async def ask_server(self, server: str, port: int, name: str, rdtype: str, timeout: float) -> tuple[str, list[str]]:
        """One question straight to one server (the "what is my address" services answer only that way)."""
        try:
            query = dns.message.make_query(name, rdtype)
            response = await dns.asyncquery.udp(query, server, timeout=timeout, port=port)
        except dns.exception.Timeout:
            return f"no answer within {timeout:g} s", []
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            return f"error: {type(exc).__name__}", []
        records = [_record_text(r) for rrset in response.answer for r in rrset]
        return ("ok", records) if records else (f"rcode {response.rcode()}, no records", [])


def _record_text(rdata: object) -> str:
    strings = getattr(rdata, "strings", None)
    if strings is not None:  # TXT: the strings joined, without quotes
        return "".join(s.decode("utf-8", "replace") for s in strings)
    target = getattr(rdata, "target", None)
    if target is not None:  # PTR, CNAME
        return str(target).rstrip(".").lower()
    return str(rdata)


# ---------------------------------------------------------------------------------------------- checks
def _is_fqdn(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def _reserved(name: str) -> bool:
    lowered = "." + name.lower().rstrip(".")
    return any(lowered.endswith(suffix) for suffix in RESERVED_SUFFIXES)


def check_helo(config: EngineConfig) -> CheckResult:
    """helo_name must be a fully qualified name of ours, not a placeholder or a reserved name."""
    helo = config.smtp.helo_name
    asked = (Asked("[smtp] helo_name", helo or "(empty)"),)
    if helo == PLACEHOLDER_HELO:
        return CheckResult(CHECK_HELO, FAIL, "helo_placeholder", asked, {"value": helo})
    if not _is_fqdn(helo):
        return CheckResult(CHECK_HELO, FAIL, "helo_not_fqdn", asked, {"value": helo})
    if _reserved(helo):
        return CheckResult(CHECK_HELO, FAIL, "helo_reserved", asked, {"value": helo})
    return CheckResult(CHECK_HELO, PASS, "helo_ok", asked, {"value": helo})


async def check_mail_from(config: EngineConfig, resolver: MailResolver, tried: list[Asked]) -> CheckResult:
    """mail_from's domain must exist and receive mail: hosts refuse a sender they cannot bounce to."""
    sender = config.smtp.mail_from
    local, at, domain = sender.rpartition("@")
    tried.append(Asked("[smtp] mail_from", sender or "(empty)"))
    if sender == PLACEHOLDER_MAIL_FROM:
        return CheckResult(CHECK_MAIL_FROM, FAIL, "sender_placeholder", tuple(tried), {"value": sender})
    if not (local and at and _is_fqdn(domain)) or _reserved(domain):
        return CheckResult(CHECK_MAIL_FROM, FAIL, "sender_invalid", tuple(tried), {"value": sender})
    result = await resolver.mail_hosts(domain)
    hosts = ", ".join(h.name for h in result.hosts) or "-"
    tried.append(Asked(f"MX {domain}", f"{result.status}: {hosts}" + (f" ({result.error})" if result.error else "")))
    detail = {"value": sender, "domain": domain}
    if result.status == DNS_NXDOMAIN:
        return CheckResult(CHECK_MAIL_FROM, FAIL, "sender_domain_missing", tuple(tried), detail)
    if result.temporary:
        return CheckResult(CHECK_MAIL_FROM, UNKNOWN, "sender_domain_unknown", tuple(tried), detail)
    if result.status != DNS_OK or not result.hosts:
        return CheckResult(CHECK_MAIL_FROM, FAIL, "sender_domain_no_mail", tuple(tried), detail)
    return CheckResult(CHECK_MAIL_FROM, PASS, "sender_ok", tuple(tried), detail)


def check_canary(config: EngineConfig) -> CheckResult:
    canary = config.canary
    asked = (Asked("[canary] resolve / connect", f"{canary.resolve or '-'} / {canary.connect or '-'}"),)
    if canary.resolve or canary.connect or config.smtp.proxy is not None:  # a relay is always checked
        return CheckResult(CHECK_CANARY, PASS, "canary_ok", asked)
    return CheckResult(CHECK_CANARY, WARN, "canary_off", asked)


def _ipv4(text: str) -> str | None:
    for token in re.findall(r"\d{1,3}(?:\.\d{1,3}){3}", text, re.ASCII):
        try:
            return str(ipaddress.IPv4Address(token))
        except ValueError:
            continue
    return None


async def check_public_ip(config: EngineConfig, lookup: _Dns, tried: list[Asked]) -> tuple[CheckResult, str | None]:
    """Our public IPv4: from config, else from a "what is my address" DNS service."""
    cfg = config.doctor
    proxy = config.smtp.proxy
    if proxy is not None and not cfg.public_ip:
        # Hosts judge the relay's address, which a DNS service asked from here cannot tell.
        tried.append(Asked("[smtp] proxy", f"socks5 {proxy.display}"))
        relay = _ipv4(proxy.host)
        if relay is not None and relay == proxy.host and ipaddress.IPv4Address(relay).is_global:
            return CheckResult(CHECK_PUBLIC_IP, PASS, "public_ip_proxy_host", tuple(tried), {"ip": relay}), relay
        return CheckResult(CHECK_PUBLIC_IP, UNKNOWN, "public_ip_proxy", tuple(tried), {"proxy": proxy.display}), None
    if cfg.public_ip:
        tried.append(Asked("[doctor] public_ip", cfg.public_ip))
        ip = _ipv4(cfg.public_ip)
        if ip is None or ip != cfg.public_ip.strip():
            return CheckResult(CHECK_PUBLIC_IP, FAIL, "public_ip_invalid", tuple(tried), {"value": cfg.public_ip}), None
        return CheckResult(CHECK_PUBLIC_IP, PASS, "public_ip_configured", tuple(tried), {"ip": ip}), ip
    server = cfg.public_ip_resolver
    if _ipv4(server) != server:
        status, records = await lookup.query(server, "A")
        tried.append(Asked(f"A {server}", status if status != "ok" else ", ".join(records)))
        server = next((ip for ip in map(_ipv4, records) if ip), "")
    if server:
        status, records = await lookup.ask_server(
            server, cfg.public_ip_port, cfg.public_ip_name, cfg.public_ip_type, max(0.5, cfg.timeout / 2)
        )
        tried.append(
            Asked(f"{cfg.public_ip_type} {cfg.public_ip_name} @{cfg.public_ip_resolver}",
                  status if status != "ok" else ", ".join(records))
        )
        ip = next((found for found in map(_ipv4, records) if found), None)
        if ip is not None:
            return CheckResult(CHECK_PUBLIC_IP, PASS, "public_ip_found", tuple(tried), {"ip": ip}), ip
    detail = {"name": cfg.public_ip_name, "server": cfg.public_ip_resolver}
    return CheckResult(CHECK_PUBLIC_IP, UNKNOWN, "public_ip_unknown", tuple(tried), detail), None


async def check_reverse_dns(config: EngineConfig, ip: str | None, lookup: _Dns, tried: list[Asked]) -> CheckResult:
    """PTR of our address, whether that name resolves back to it (FCrDNS), and whether it is helo_name."""
    helo = config.smtp.helo_name.rstrip(".").lower()
    helo_usable = check_helo(config).status == PASS  # a placeholder is reported once, by its own check
    if ip is None:
        return CheckResult(CHECK_REVERSE_DNS, UNKNOWN, "ptr_untested", tuple(tried))
    reverse = dns.reversename.from_address(ip).to_text(omit_final_dot=True)
    status, names = await lookup.query(reverse, "PTR")
    tried.append(Asked(f"PTR {reverse}", status if status != "ok" else ", ".join(names)))
    detail = {"ip": ip, "helo": helo}
    if status != "ok" and status not in ("NXDOMAIN", "no records"):
        return CheckResult(CHECK_REVERSE_DNS, UNKNOWN, "ptr_unknown", tuple(tried), detail)
    if not names:
        return CheckResult(CHECK_REVERSE_DNS, FAIL, "ptr_missing", tuple(tried), detail)
    confirmed: list[str] = []
    for name in names:
        status, addresses = await lookup.query(name, "A")
        tried.append(Asked(f"A {name}", status if status != "ok" else ", ".join(addresses)))
        if ip in addresses:
            confirmed.append(name)
    detail["ptr"] = ", ".join(names)
    if not confirmed:
        return CheckResult(CHECK_REVERSE_DNS, WARN, "ptr_not_confirmed", tuple(tried), detail)
    if helo_usable and helo not in confirmed:
        return CheckResult(CHECK_REVERSE_DNS, WARN, "ptr_helo_mismatch", tuple(tried), detail)
    if not helo_usable:
        return CheckResult(CHECK_REVERSE_DNS, PASS, "ptr_confirmed", tuple(tried), detail)
    return CheckResult(CHECK_REVERSE_DNS, PASS, "ptr_ok", tuple(tried), detail)


# Outcomes of one reference host's greeting
_REACHED = "greeting"
_SILENT = "silent"
_REFUSED = "refused"
_REJECTED = "rejected"  # a 4xx/5xx greeting
_NO_DNS = "no address"
_BROKEN = "closed"
_PROXY = "proxy failed"
_DNS_DEAD = "no DNS answer"  # SERVFAIL or silence, not NXDOMAIN: our resolver is the problem


async def _greeting(
    host: str, config: EngineConfig, resolver: MailResolver, connector: Connector, timeout: float
) -> tuple[str, str, str]:
    """(outcome, the IP tried, the greeting line or what happened) for one reference host."""
    mail = await resolver.mail_hosts(host)
    addresses = [a for h in mail.hosts for a in h.addresses if config.smtp.ipv6 or ":" not in a]
    if not addresses:
        return (_DNS_DEAD if mail.temporary else _NO_DNS), "", mail.error or mail.status
    ip = addresses[0]
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await open_stream(connector, ip, config.smtp.port, timeout)
            line = await reader.readline()
            # a multi-line greeting: read to its last line
            while line[3:4] == b"-":
                line = await reader.readline()
    except ProxyFailed as exc:  # the relay itself, not the host: ours
        return _PROXY, ip, exc.reason
    except TimeoutError:
        return _SILENT, ip, f"nothing within {timeout:g} s"
    except ConnectionRefusedError:
        return _REFUSED, ip, "connection refused"
    except (OSError, ValueError, EOFError) as exc:  # ValueError: a line over the stream's limit
        return _BROKEN, ip, f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.write(b"QUIT\r\n")
                writer.close()
    text = line.decode("utf-8", "replace").strip()
    text = "".join(c for c in text if c.isprintable())[:200]
    if not text:
        return _BROKEN, ip, "closed without a greeting"
    if text[:1] == "2":
        return _REACHED, ip, text
    return _REJECTED, ip, text


async def check_port25(
    config: EngineConfig, ip: str | None, resolver: MailResolver, connector: Connector, tried: list[Asked]
) -> CheckResult:
    """Outbound TCP 25: blocked (all silent), refused, reachable, or intercepted (one greeting for all)."""
    hosts = list(config.doctor.reference_hosts)
    if not hosts:
        return CheckResult(CHECK_PORT25, UNKNOWN, "port25_no_hosts", tuple(tried))
    timeout = max(0.2, min(config.smtp.timeout, config.doctor.timeout * 0.8))
    results = await asyncio.gather(*(_greeting(h, config, resolver, connector, timeout) for h in hosts))
    for host, (outcome, host_ip, said) in zip(hosts, results, strict=True):
        tried.append(Asked(f"TCP {host}" + (f" [{host_ip}]" if host_ip else "") + f":{config.smtp.port}", f"{outcome}: {said}"))
    outcomes = [r[0] for r in results]
    tried_hosts = [o for o in outcomes if o not in (_NO_DNS, _DNS_DEAD)]
    detail = {"port": str(config.smtp.port), "hosts": ", ".join(hosts)}
    if all(o == _DNS_DEAD for o in outcomes):  # not one large provider's name resolves: our DNS is down
        return CheckResult(CHECK_PORT25, FAIL, "dns_dead", tuple(tried), detail)
    if not tried_hosts:
        return CheckResult(CHECK_PORT25, UNKNOWN, "port25_no_dns", tuple(tried), detail)
    if config.smtp.proxy is not None:
        detail["proxy"] = config.smtp.proxy.display
        failed = [r[2] for r in results if r[0] == _PROXY]
        if failed:
            detail["error"] = failed[0]
            return CheckResult(CHECK_PORT25, FAIL, "port25_proxy_failed", tuple(tried), detail)
    greetings = [r[2] for r in results if r[0] == _REACHED]
    rejected = [r[2] for r in results if r[0] == _REJECTED]
    if len(greetings) >= 2 and len({g[4:] for g in greetings}) == 1:
        detail["greeting"] = greetings[0]
        return CheckResult(CHECK_PORT25, FAIL, "port25_intercepted", tuple(tried), detail)
    if ip is not None and any(ip in r for r in rejected):
        detail["greeting"] = next(r for r in rejected if ip in r)
        return CheckResult(CHECK_PORT25, FAIL, "port25_rejects_us", tuple(tried), detail)
    if all(o == _SILENT for o in tried_hosts):
        return CheckResult(CHECK_PORT25, FAIL, "port25_blocked", tuple(tried), detail)
    if all(o == _REFUSED for o in tried_hosts):
        return CheckResult(CHECK_PORT25, FAIL, "port25_refused", tuple(tried), detail)
    if not greetings:
        return CheckResult(CHECK_PORT25, FAIL, "port25_no_greeting", tuple(tried), detail)
    if len(greetings) < len(tried_hosts):
        detail["reached"] = str(len(greetings))
        detail["tried"] = str(len(tried_hosts))
        return CheckResult(CHECK_PORT25, WARN, "port25_partial", tuple(tried), detail)
    return CheckResult(CHECK_PORT25, PASS, "port25_ok", tuple(tried), detail)


def _dnsbl_answer(addresses: list[str]) -> str:
    """'listed', or 'refused' for 127.255.255.x (Spamhaus: "you may not ask through this resolver")."""
    if any(a.startswith("127.255.255.") for a in addresses):
        return "refused"
    return "listed"


async def check_dnsbl(config: EngineConfig, ip: str | None, lookup: _Dns, tried: list[Asked]) -> CheckResult:
    """Our address on DNS blocklists: listed, not listed, or could not ask."""
    zones = list(config.doctor.dnsbl_zones)
    if ip is None:
        return CheckResult(CHECK_DNSBL, UNKNOWN, "dnsbl_untested", tuple(tried), {"zones": ", ".join(zones)})
    if not zones:
        return CheckResult(CHECK_DNSBL, PASS, "dnsbl_none", tuple(tried))
    reversed_ip = ".".join(reversed(ip.split(".")))
    answers = await asyncio.gather(*(lookup.query(f"{reversed_ip}.{zone}", "A") for zone in zones))
    listed: list[str] = []
    unknown: list[str] = []
    for zone, (status, addresses) in zip(zones, answers, strict=True):
        if status == "ok":
            verdict = _dnsbl_answer(addresses)
            (listed if verdict == "listed" else unknown).append(zone)
            said = ("listed: " if verdict == "listed" else "could not ask: ") + ", ".join(addresses)
        elif status in ("NXDOMAIN", "no records"):
            said = "not listed"
        else:
            unknown.append(zone)
            said = f"could not ask: {status}"
        tried.append(Asked(f"A {reversed_ip}.{zone}", said))
    detail = {"ip": ip, "listed": ", ".join(listed), "unknown": ", ".join(unknown)}
    if listed:
        return CheckResult(CHECK_DNSBL, FAIL, "dnsbl_listed", tuple(tried), detail)
    if unknown:
        return CheckResult(CHECK_DNSBL, UNKNOWN, "dnsbl_unknown", tuple(tried), detail)
    return CheckResult(CHECK_DNSBL, PASS, "dnsbl_clean", tuple(tried), detail)


async def check_spf(config: EngineConfig, ip: str | None, tried: list[Asked]) -> CheckResult:
    """SPF of mail_from's domain evaluated for our address (pyspf, through our resolver)."""
    from checks.spf import evaluate

    sender = config.smtp.mail_from
    domain = sender.rpartition("@")[2]
    if ip is None:
        return CheckResult(CHECK_SPF, UNKNOWN, "spf_untested", tuple(tried), {"domain": domain})
    if sender == PLACEHOLDER_MAIL_FROM or not _is_fqdn(domain) or _reserved(domain):
        return CheckResult(CHECK_SPF, UNKNOWN, "spf_no_sender", tuple(tried), {"domain": domain})
    result, explanation = await evaluate(ip, sender, config.smtp.helo_name, config.dns, config.doctor.timeout * 0.8)
    tried.append(Asked(f"SPF {domain} for {ip}", f"{result}: {explanation}" if explanation else result))
    detail = {"domain": domain, "ip": ip, "result": result}
    if result == "pass":
        return CheckResult(CHECK_SPF, PASS, "spf_pass", tuple(tried), detail)
    if result == "fail":
        return CheckResult(CHECK_SPF, FAIL, "spf_fail", tuple(tried), detail)
    if result in ("softfail", "neutral", "none", "permerror"):
        return CheckResult(CHECK_SPF, WARN, f"spf_{result}", tuple(tried), detail)
    return CheckResult(CHECK_SPF, UNKNOWN, "spf_error", tuple(tried), detail)


def check_ipv6(config: EngineConfig, probe: Ipv6Probe, tried: list[Asked]) -> CheckResult:
    address = probe()
    tried.append(Asked("IPv6 route", address or "none"))
    tried.append(Asked("[smtp] ipv6", "true" if config.smtp.ipv6 else "false"))
    detail = {"address": address or ""}
    if address and config.smtp.ipv6:
        return CheckResult(CHECK_IPV6, WARN, "ipv6_used", tuple(tried), detail)
    if address:
        return CheckResult(CHECK_IPV6, PASS, "ipv6_present_unused", tuple(tried), detail)
    if config.smtp.ipv6:
        return CheckResult(CHECK_IPV6, WARN, "ipv6_missing", tuple(tried), detail)
    return CheckResult(CHECK_IPV6, PASS, "ipv6_absent", tuple(tried), detail)


# ---------------------------------------------------------------------------------------------- running
async def _bounded(check: str, timeout: float, tried: list[Asked], work: Awaitable[CheckResult]) -> CheckResult:
    """Run one check within its own timeout; on time out, "could not tell" with what it tried."""
    try:
        async with asyncio.timeout(timeout):
            return await work
    except TimeoutError:
        return CheckResult(check, UNKNOWN, "timeout", (*tried, Asked("…", f"no answer within {timeout:g} s")),
                           {"seconds": f"{timeout:g}"})


async def run_doctor(
    config: EngineConfig,
    *,
    connector: Connector | None = None,
    ipv6_probe: Ipv6Probe = ipv6_source,
    only: Sequence[str] | None = None,
) -> DoctorReport:
    """Every check in order; `only` limits them (the public IP is found whenever a later check needs it)."""
    wanted = set(only) if only is not None else set(CHECKS)
    timeout = max(0.5, config.doctor.timeout)
    resolver = MailResolver(config.dns)
    lookup = _Dns(config)
    connector = connector or connector_for(config.smtp.proxy)  # port 25 goes the way sessions go
    results: list[CheckResult] = []

    def tried() -> list[Asked]:
        return []

    if CHECK_HELO in wanted:
        results.append(check_helo(config))
    if CHECK_MAIL_FROM in wanted:
        t = tried()
        results.append(await _bounded(CHECK_MAIL_FROM, timeout, t, check_mail_from(config, resolver, t)))
    if CHECK_CANARY in wanted:
        results.append(check_canary(config))
    ip: str | None = None
    if wanted & {CHECK_PUBLIC_IP, CHECK_REVERSE_DNS, CHECK_PORT25, CHECK_DNSBL, CHECK_SPF}:
        t = tried()
        found: list[str | None] = [None]

        async def public() -> CheckResult:
            result, found[0] = await check_public_ip(config, lookup, t)
            return result

        public_result = await _bounded(CHECK_PUBLIC_IP, timeout, t, public())
        ip = found[0]
        if CHECK_PUBLIC_IP in wanted:
            results.append(public_result)
    if CHECK_REVERSE_DNS in wanted:
        t = tried()
        results.append(await _bounded(CHECK_REVERSE_DNS, timeout, t, check_reverse_dns(config, ip, lookup, t)))
    later: list[tuple[str, list[Asked], Awaitable[CheckResult]]] = []
    if CHECK_PORT25 in wanted:
        t = tried()
        later.append((CHECK_PORT25, t, check_port25(config, ip, resolver, connector, t)))
    if CHECK_DNSBL in wanted:
        t = tried()
        later.append((CHECK_DNSBL, t, check_dnsbl(config, ip, lookup, t)))
    if CHECK_SPF in wanted:
        t = tried()
        later.append((CHECK_SPF, t, check_spf(config, ip, t)))
    results.extend(await asyncio.gather(*(_bounded(name, timeout, t, work) for name, t, work in later)))
    if CHECK_IPV6 in wanted:
        results.append(check_ipv6(config, ipv6_probe, tried()))
    resolver.close()
    return DoctorReport(tuple(results), ip)


__all__ = [
    "CHECKS",
    "FAIL",
    "PASS",
    "UNKNOWN",
    "WARN",
    "Asked",
    "CheckResult",
    "DoctorReport",
    "run_doctor",
]
