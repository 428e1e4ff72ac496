"""Engine settings as typed dataclasses.

The engine never reads files: `console.config` parses TOML into these. Defaults here are the
documented defaults of `config.example.toml`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class DnsConfig:
    nameservers: tuple[str, ...] = ()  # empty: the system resolver
    port: int = 53
    timeout: float = 3.0  # seconds per query try
    lifetime: float = 8.0  # seconds for a whole lookup (bounded again from outside)
    max_concurrent: int = 200  # concurrent lookups (dnspython hangs near ~10,000)


# The identity the engine ships with: a real scan refuses to start while either is still this.
PLACEHOLDER_HELO = "saraban-probe.invalid"
PLACEHOLDER_MAIL_FROM = "postmaster@invalid.example"


@dataclass(frozen=True, slots=True)
class SocksProxy:
    """A SOCKS5 proxy every SMTP session goes through (`[smtp] proxy = "socks5://[user:pass@]host:port"`)."""

    host: str
    port: int
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @property
    def display(self) -> str:
        """host:port, never the credentials (evidence, messages, logs)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


_PROXY_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}", re.ASCII)


def parse_socks_url(text: str) -> SocksProxy:
    """`socks5://[user:pass@]host:port` → SocksProxy; ValueError saying what is wrong and how to write it."""
    shape = 'write it as "socks5://host:port" or "socks5://user:password@host:port"'
    if not isinstance(text, str) or any(c.isspace() for c in text) or not text.isprintable():
        raise ValueError(f"must not contain spaces or control characters; {shape}")
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        raise ValueError(f"the port must be a number 1-65535; {shape}") from None
    if url.scheme.lower() != "socks5":
        raise ValueError(f"only socks5:// proxies are supported (DNS stays local), not {url.scheme or 'no scheme'!r}; {shape}")
    host = url.hostname or ""
    if not host:
        raise ValueError(f"no proxy host; {shape}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _PROXY_HOST.fullmatch(host):
            raise ValueError(f"{host!r} is not a host name or IP address; {shape}") from None
    if port is None or port == 0:
        raise ValueError(f"no proxy port (1-65535); {shape}")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(f"unexpected path or query after host:port; {shape}")
    username = unquote(url.username or "")
    password = unquote(url.password or "")
    if (url.username is None) != (url.password is None) or (url.username is not None and not username):
        raise ValueError(f"give both a user name and a password, or neither; {shape}")
    if len(username.encode()) > 255 or len(password.encode()) > 255:
        raise ValueError("user name and password must each be at most 255 bytes (RFC 1929)")
    return SocksProxy(host, port, username, password)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    port: int = 25
    helo_name: str = PLACEHOLDER_HELO
    mail_from: str = PLACEHOLDER_MAIL_FROM
    timeout: float = 10.0  # seconds per stage (connect, banner, each reply)
    deadline: float = 60.0  # seconds for one address end to end (excluding retry waits)
    retries: int = 2  # extra passes for 4xx / temporary outcomes
    retry_delay: float = 300.0  # seconds to wait before a retry (greylisting wants 5-15 min)
    starttls: bool = True  # use STARTTLS when offered (self-signed accepted, outcome recorded)
    pipelining: bool = True  # RFC 2920 when the host advertises it
    catch_all_check: bool = True  # one random local part per domain
    ipv6: bool = False  # probe over IPv6 too; off: hosts often refuse IPv6 clients without reverse DNS
    proxy: SocksProxy | None = None  # every SMTP session through this SOCKS5 proxy; None: direct


@dataclass(frozen=True, slots=True)
class PolitenessConfig:
    """Per mail host limits (a host = one IP address)."""

    max_sessions_per_host: int = 4
    rcpt_per_session: int = 50  # RFC 5321 servers accept >= 100; stay well under
    rejections_per_session: int = 8  # Postfix slows after 10 errors, drops after 20
    sessions_per_minute: int = 60  # new sessions per host per minute
    max_concurrent_sessions: int = 200  # global cap across all hosts


@dataclass(frozen=True, slots=True)
class CanaryConfig:
    resolve: str = ""  # a name that must resolve; empty: skip
    connect: str = ""  # host:port that must accept TCP; empty: skip
    interval: float = 5.0  # seconds between checks during a scan when results await confirmation
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class DoctorConfig:
    """`saraban doctor`: where it looks to tell whether mail hosts will talk to us at all."""

    public_ip: str = ""  # our public IPv4 as hosts see it; empty: discovered over DNS
    # A "what is my address" service: name, record type (A or TXT) and the resolver that answers it.
    # OpenDNS: myip.opendns.com A @resolver1.opendns.com; Google: o-o.myaddr.l.google.com TXT @ns1.google.com
    public_ip_name: str = "myip.opendns.com"
    public_ip_type: str = "A"
    public_ip_resolver: str = "resolver1.opendns.com"  # a name (resolved by our resolver) or an IP
    public_ip_port: int = 53
    # Mail hosts whose greeting tells whether outbound port 25 works (the first one is the canary's).
    reference_hosts: tuple[str, ...] = (
        "gmail-smtp-in.l.google.com",
        "outlook-com.olc.protection.outlook.com",
        "mta5.am0.yahoodns.net",
        "opdc.go.th",
    )
    dnsbl_zones: tuple[str, ...] = ("zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net")
    timeout: float = 8.0  # seconds for each check as a whole


@dataclass(frozen=True, slots=True)
class PilotConfig:
    """A small sample spread over distinct mail hosts goes first; a scan stops if it says "it is us"."""

    size: int = 40  # agencies in the pilot (0: no pilot)
    min_agencies: int = 200  # scans smaller than this have no pilot
    blame_share: float = 0.5  # stop when at least this share of the hosts that answered point at us
    min_hosts: int = 3  # ... and at least this many distinct hosts did


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    government_suffixes: tuple[str, ...] = ("go.th", "mi.th")
    # agency kind → extra allowed suffixes or exact domains
    kind_allowances: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"มหาวิทยาลัยของรัฐ": ("ac.th",), "มหาวิทยาลัยในกำกับของรัฐ": ("ac.th",)}
    )
    # exact registered domains allowed for any agency (state enterprises, public organisations)
    registered_domains: tuple[str, ...] = ()
    free_mail_domains: tuple[str, ...] = (
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.co.th",
        "outlook.com",
        "outlook.co.th",
        "live.com",
        "live.co.th",
        "msn.com",
        "yahoo.com",
        "yahoo.co.th",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
        "zoho.com",
        "yandex.com",
    )
    # domains a typo is measured against (free-mail domains are added automatically)
    well_known_domains: tuple[str, ...] = ("dla.go.th", "dopa.go.th", "moi.go.th", "opdc.go.th")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the ordered ruleset: the first rule whose conditions hold gives the group.

    A rule holds when all codes in `all_of` are present and, if `any_of` is not empty, at least
    one of `any_of` is present, and none of `none_of` is present.
    """

    group: str
    label_th: str
    label_en: str = ""
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    problem_th: str = ""
    fix_th: str = ""
    problem_en: str = ""
    fix_en: str = ""
    bucket: str = ""  # "A", "BE" or "W": OPDC's three buckets


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "W",
        "หน่วยงานที่ได้รับการยกฐานะ",
        "Upgraded unit",
        any_of=("upgraded",),
        problem_th="หน่วยงานได้รับการยกฐานะหรือควบรวม ข้อมูลเดิมไม่เป็นปัจจุบัน",
        fix_th="ปรับปรุงข้อมูลหน่วยงานใน info.go.th ตามสถานะใหม่",
        problem_en="The unit was upgraded or merged; its record is superseded",
        fix_en="Update the unit's record in info.go.th under its new status",
        bucket="W",
    ),
    Rule(
        "C",
        "ยังไม่มีประกาศ ม.๑๐",
        "No Section 10 announcement",
        any_of=("no_announcement", "no_address"),
        problem_th="ยังไม่มีประกาศ ม.๑๐ ใน info.go.th หรือไม่ได้ระบุอีเมล",
        fix_th="ออกประกาศ ม.๑๐ และนำขึ้นระบบ info.go.th",
        problem_en="No Section 10 announcement in info.go.th, or no address declared",
        fix_en="Issue the announcement and upload it to info.go.th",
        bucket="BE",
    ),
    Rule(
        "B3",
        "รูปแบบอีเมลไม่ถูกต้อง",
        "Invalid address format",
        any_of=("bad_syntax",),
        problem_th="อีเมลที่ระบุในประกาศเขียนไม่ถูกต้องตามรูปแบบ",
        fix_th="แก้ไขอีเมลในประกาศ ม.๑๐ ให้ถูกต้อง (ดูอีเมลที่แนะนำ)",
        problem_en="The declared text is not a valid email address",
        fix_en="Correct the address in the announcement (see the suggested fix)",
        bucket="BE",
    ),
    Rule(
        "B1",
        "ใช้อีเมลส่วนตัว",
        "Personal mailbox",
        any_of=("free_mail",),
        problem_th="ใช้อีเมลส่วนตัวหรือบริการอีเมลฟรี ซึ่งไม่อนุญาตให้ใช้ติดต่อประชาชน",
        fix_th="เปลี่ยนไปใช้ไปรษณีย์อิเล็กทรอนิกส์กลางของหน่วยงานบนโดเมนภาครัฐ",
        problem_en="A personal / free-mail mailbox is declared",
        fix_en="Switch to the agency's central government mailbox",
        bucket="BE",
    ),
    Rule(
        "B2",
        "ไม่ใช่โดเมนของหน่วยงานรัฐ",
        "Not a government domain",
        any_of=("non_government_domain",),
        problem_th="โดเมนของอีเมลไม่ใช่โดเมนของหน่วยงานภาครัฐ (.go.th / .mi.th)",
        fix_th="ย้ายกล่องอีเมลไปใช้โดเมนภาครัฐ หรือจดทะเบียนโดเมนให้ถูกต้อง",
        problem_en="The domain is not a government domain nor allowed for this kind of agency",
        fix_en="Move the mailbox to a government domain, or register the domain",
        bucket="BE",
    ),
    Rule(
        "D1",
        "ไม่พบโดเมน",
        "Domain not found",
        any_of=("domain_not_found",),
        problem_th="ไม่พบโดเมนของอีเมลในระบบ DNS",
        fix_th="แก้ไขชื่อโดเมนให้ถูกต้อง หรือต่ออายุ/จดทะเบียนโดเมน",
        problem_en="The domain does not exist (NXDOMAIN)",
        fix_en="Fix the domain name or renew/register it",
        bucket="BE",
    ),
    Rule(
        "D2",
        "ไม่มีเซิร์ฟเวอร์รับอีเมล",
        "No mail server",
        any_of=("no_mail_server",),
        problem_th="โดเมนมีอยู่แต่ไม่มีเซิร์ฟเวอร์รับอีเมล หรือเซิร์ฟเวอร์ไม่รับการเชื่อมต่อ",
        fix_th="ให้ผู้ดูแลระบบแก้ไขเซิร์ฟเวอร์อีเมลหรือระเบียน MX ของโดเมน",
        problem_en="The domain exists but cannot receive mail",
        fix_en="Have the domain's mail server / MX records fixed",
        bucket="BE",
    ),
    Rule(
        "D3",
        "ไม่พบกล่องจดหมาย",
        "Mailbox not found",
        any_of=("mailbox_not_found",),
        problem_th="เซิร์ฟเวอร์อีเมลปฏิเสธกล่องจดหมายนี้ (ไม่มีผู้ใช้ ถูกระงับ หรือเต็ม)",
        fix_th="สร้างกล่องจดหมาย หรือแก้ไขอีเมลในประกาศให้ถูกต้อง",
        problem_en="The mail server permanently rejects the mailbox",
        fix_en="Create the mailbox or correct the address",
        bucket="BE",
    ),
    Rule(
        "E",
        "ยังตรวจสอบไม่ได้",
        "Not yet verifiable",
        any_of=("temporary_failure", "prober_blocked"),
        problem_th="ได้รับเพียงคำตอบชั่วคราวหรือยังสรุปไม่ได้",
        fix_th="ยังไม่ต้องดำเนินการ ระบบจะตรวจซ้ำตามรอบ",
        problem_en="Only temporary or inconclusive answers so far",
        fix_en="Nothing yet: the console rechecks on its own schedule",
        bucket="BE",
    ),
    Rule(
        "A2",
        "พร้อมใช้งาน (ประกาศจากต้นสังกัด)",
        "Ready (parent's announcement)",
        all_of=("mail_accepted", "parent_announcement"),
        problem_th="",
        fix_th="",
        bucket="A",
    ),
    Rule(
        "A1",
        "พร้อมใช้งาน",
        "Ready",
        all_of=("mail_accepted",),
        problem_th="",
        fix_th="",
        bucket="A",
    ),
)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    dns: DnsConfig = field(default_factory=DnsConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    politeness: PolitenessConfig = field(default_factory=PolitenessConfig)
    canary: CanaryConfig = field(default_factory=CanaryConfig)
    doctor: DoctorConfig = field(default_factory=DoctorConfig)
    pilot: PilotConfig = field(default_factory=PilotConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    rules: tuple[Rule, ...] = DEFAULT_RULES
    fallback_group: str = "E"  # when no rule holds (should not happen with a complete ruleset)


# The documented range of every number in the config (config.example.toml gives them too). Outside
# them a scan never ends (timeout = 1e308, retries = 1000000) or never starts (max_concurrent = 0).
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "dns": {"port": (1, 65535), "timeout": (0.1, 60), "lifetime": (0.1, 300), "max_concurrent": (1, 5000)},
    "smtp": {
        "port": (1, 65535),
        "timeout": (0.1, 300),
        "deadline": (0.5, 3600),
        "retries": (0, 10),
        "retry_delay": (0, 3600),
    },
    "limits": {
        "max_sessions_per_host": (1, 50),
        "rcpt_per_session": (1, 1000),
        "rejections_per_session": (1, 100),
        "sessions_per_minute": (1, 6000),
        "max_concurrent_sessions": (1, 10000),
    },
    "canary": {"interval": (0.1, 3600), "timeout": (0.1, 300)},
    "doctor": {"public_ip_port": (1, 65535), "timeout": (0.5, 120)},
    "pilot": {"size": (0, 1000), "min_agencies": (0, 100_000), "blame_share": (0.01, 1), "min_hosts": (1, 1000)},
}

# Findings that mean the address cannot receive the public's mail: a ruleset that files any of them
# under the A bucket ("ready") would report broken addresses as ready, so it needs allow_unsafe_rules.
NEVER_READY: tuple[str, ...] = ("bad_syntax", "free_mail", "domain_not_found", "no_mail_server", "mailbox_not_found")
