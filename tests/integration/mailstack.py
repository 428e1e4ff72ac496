"""A private unbound and a private Postfix (the real Debian packages) on loopback: configs, start, stop.

Why real servers: the simulator plays what we *think* mail hosts do; these tests check the engine against
what Postfix actually answers (5.1.1 texts, its error limits, how it drops a session) and against a real
recursive resolver's NXDOMAIN / null MX answers.

Both servers run with their own configuration and state under one temporary directory, on free loopback
ports, and never touch /etc/postfix's instance or ports 25/53. Without the binaries (or without root, which
Postfix needs) the tests are skipped, unless SARABAN_REQUIRE_INTEGRATION=1 (set by .ci/run) turns that
into a failure so CI cannot go green by skipping.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.resolver

UNBOUND = Path("/usr/sbin/unbound")
POSTFIX = Path("/usr/sbin/postfix")

# The test internet, served by unbound; every mail host resolves to Postfix on 127.0.0.1.
DOMAIN = "itest.go.th"  # MX 10 mx.itest.go.th; mailboxes in MAILBOXES, anything else 550 5.1.1
MX_HOST = "mx.itest.go.th"
CATCHALL_DOMAIN = "catchall.itest.go.th"  # MX → same host; every local part accepted
NULL_MX_DOMAIN = "nullmx.itest.go.th"  # MX 0 . (RFC 7505)
NX_ZONE = "nx-itest.go.th"  # static zone without data: every name below it is NXDOMAIN
NXDOMAIN_DOMAIN = f"gone.{NX_ZONE}"
CANARY_NAME = "canary.itest.go.th"  # A 127.0.0.1
PROBE_HELO = "probe.itest.go.th"
PROBE_FROM = f"postmaster@{DOMAIN}"
# The doctor's view of "us" (documentation addresses, RFC 5737; only DNS data, never connected to).
OUR_IP = "192.0.2.10"  # PTR → PROBE_HELO, which resolves back; SPF of DOMAIN allows it
NO_PTR_IP = "192.0.2.11"  # no PTR; SPF of DOMAIN forbids it
UNCONFIRMED_IP = "192.0.2.12"  # PTR → other.itest.go.th, which resolves elsewhere (no FCrDNS)
DNSBL_ZONE = f"bl.{DOMAIN}"  # lists OUR_IP (127.0.0.2)
DNSBL_REFUSING_ZONE = f"zen.{DOMAIN}"  # answers 127.255.255.254 for OUR_IP, as Spamhaus does to public resolvers
KNOWN_MAILBOXES: tuple[str, ...] = (
    f"saraban@{DOMAIN}",
    f"crlf-ok@{DOMAIN}",
    *(f"known{i:02d}@{DOMAIN}" for i in range(1, 21)),
)
# Postfix drops a session at this many errors (421 4.7.0 "too many errors"); kept low so tests cross it.
HARD_ERROR_LIMIT = 5
SOFT_ERROR_LIMIT = 3

START_TIMEOUT = 20.0  # seconds to wait for a server to answer
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A loopback port free for both TCP and UDP right now (unbound needs both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return int(port)
    raise RuntimeError("no free loopback port")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


def run(cmd: list[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )


# ---------------------------------------------------------------------------------------------- unbound


def doctor_zone() -> list[str]:
    """PTR, FCrDNS, blocklist and SPF data for the doctor's lookups (unbound local-data)."""

    def rev(ip: str) -> str:
        return ".".join(reversed(ip.split(".")))

    return [
        'local-zone: "2.0.192.in-addr.arpa." static',
        f'local-data: "{rev(OUR_IP)}.in-addr.arpa. IN PTR {PROBE_HELO}."',
        f'local-data: "{PROBE_HELO}. IN A {OUR_IP}"',
        f'local-data: "{rev(UNCONFIRMED_IP)}.in-addr.arpa. IN PTR other.{DOMAIN}."',
        f'local-data: "other.{DOMAIN}. IN A 192.0.2.99"',
        f'local-data: "{rev(OUR_IP)}.{DNSBL_ZONE}. IN A 127.0.0.2"',
        f'local-data: \'{rev(OUR_IP)}.{DNSBL_ZONE}. IN TXT "listed in the integration blocklist"\'',
        f'local-data: "{rev(OUR_IP)}.{DNSBL_REFUSING_ZONE}. IN A 127.255.255.254"',
        f'local-data: \'{DOMAIN}. IN TXT "v=spf1 ip4:{OUR_IP} -all"\'',
    ]


def unbound_conf(base: Path, port: int) -> str:
    """unbound.conf: loopback only, no chroot/user switch, no remote control, only local data.

    The root is a static zone too, so a stray lookup gets NXDOMAIN at once instead of leaving loopback.
    """
    zone = [
        f'local-zone: "{DOMAIN}." static',
        f'local-data: "{DOMAIN}. IN MX 10 {MX_HOST}."',
        f'local-data: "{MX_HOST}. IN A 127.0.0.1"',
        f'local-data: "{CATCHALL_DOMAIN}. IN MX 10 {MX_HOST}."',
        f'local-data: "{NULL_MX_DOMAIN}. IN MX 0 ."',
        f'local-data: "{CANARY_NAME}. IN A 127.0.0.1"',
        f'local-zone: "{NX_ZONE}." static',
        *doctor_zone(),
        'local-zone: "." static',
    ]
    server = [
        "interface: 127.0.0.1",
        f"port: {port}",
        "do-ip6: no",
        "do-daemonize: no",
        'chroot: ""',
        'username: ""',
        f'directory: "{base}"',
        f'pidfile: "{base}/unbound.pid"',
        "use-syslog: no",
        'logfile: ""',
        "verbosity: 1",
        "num-threads: 1",
        'module-config: "iterator"',
        "access-control: 127.0.0.0/8 allow",
        *zone,
    ]
    return (
        "server:\n"
        + "".join(f"    {line}\n" for line in server)
        + "remote-control:\n    control-enable: no\n"
    )


@dataclass
class Unbound:
    port: int
    base: Path
    proc: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.base / "unbound.out"

    def answers(self) -> bool:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.timeout = resolver.lifetime = 0.5
        try:
            resolver.resolve(CANARY_NAME, "A")
        except dns.exception.DNSException:
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)


def start_unbound(base: Path) -> Unbound:
    base.mkdir(parents=True, exist_ok=True)
    last = ""
    for _ in range(3):  # a port taken between free_port() and bind: try another
        port = free_port()
        conf = base / "unbound.conf"
        conf.write_text(unbound_conf(base, port))
        check = (
            run(["/usr/sbin/unbound-checkconf", str(conf)])
            if Path("/usr/sbin/unbound-checkconf").exists()
            else None
        )
        if check is not None and check.returncode != 0:
            raise RuntimeError(f"unbound-checkconf: {check.stdout}{check.stderr}")
        with (base / "unbound.out").open("wb") as out:
            proc = subprocess.Popen(
                [str(UNBOUND), "-d", "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Unbound(port, base, proc)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if server.answers():
                return server
            time.sleep(0.1)
        server.stop()
        last = tail(server.log)
    raise RuntimeError(f"unbound did not answer:\n{last}")


# ---------------------------------------------------------------------------------------------- Postfix

MASTER_CF_SERVICES = """\
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
virtual    unix  -       n       n       -       -       virtual
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
"""


def postfix_main_cf(base: Path) -> str:
    """main.cf for a private instance: its own queue/data dirs, loopback only, virtual domains, log file.

    No chroot anywhere (master.cf), so no files need copying into the queue directory.
    """
    conf = base / "conf"
    return f"""\
compatibility_level = 3.6
queue_directory = {base}/queue
data_directory = {base}/data
multi_instance_name = saraban-itest
multi_instance_enable = no
myhostname = {MX_HOST}
mydomain = {DOMAIN}
myorigin = $myhostname
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_banner = $myhostname ESMTP saraban-itest
smtpd_relay_restrictions = reject_unauth_destination
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{conf}/vmailbox
virtual_mailbox_base = {base}/mail
virtual_alias_domains = {CATCHALL_DOMAIN}
virtual_alias_maps = texthash:{conf}/valias
smtpd_hard_error_limit = {HARD_ERROR_LIMIT}
smtpd_soft_error_limit = {SOFT_ERROR_LIMIT}
smtpd_error_sleep_time = 0
smtp_dns_support_level = disabled
smtp_host_lookup = native
biff = no
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
debug_peer_list = 127.0.0.1
"""


@dataclass
class Postfix:
    port: int
    base: Path
    pids: list[int] = field(default_factory=list)

    @property
    def confdir(self) -> Path:
        return self.base / "conf"

    @property
    def maillog(self) -> Path:
        return self.base / "maillog"

    def log_text(self) -> str:
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_mark(self) -> int:
        """Where the maillog ends now: pass to `log_settled(since=…)` to read only what a test caused."""
        try:
            return self.maillog.stat().st_size
        except FileNotFoundError:
            return 0

    def log_settled(self, since: int = 0, timeout: float = 5.0) -> str:
        """The maillog after `since` once every SMTP session has logged its disconnect (bounded wait)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text()
            settled = text.count(": connect from ") == text.count(": disconnect from ")
            if settled or time.monotonic() >= deadline:
                return text.encode(errors="replace")[since:].decode(errors="replace")
            time.sleep(0.05)

    def greets(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.settimeout(2.0)
                line = sock.recv(512)
                sock.sendall(b"QUIT\r\n")
                return line.startswith(b"220 ")
        except OSError:
            return False

    def master_pid(self) -> int | None:
        try:
            return int((self.base / "queue" / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        pid = self.master_pid()
        run([str(POSTFIX), "-c", str(self.confdir), "stop"])
        if pid is None:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_postfix(base: Path) -> Postfix:
    conf = base / "conf"
    for sub in ("conf", "queue", "data", "mail"):
        (base / sub).mkdir(parents=True, exist_ok=True)
        (base / sub).chmod(0o755)
    shutil.chown(base / "data", user="postfix")
    shutil.chown(base / "mail", user="postfix")
    (conf / "main.cf").write_text(postfix_main_cf(base))
    (conf / "vmailbox").write_text(
        "".join(f"{m} {m.split('@')[1]}/{m.split('@')[0]}/\n" for m in KNOWN_MAILBOXES)
    )
    (conf / "valias").write_text(f"@{CATCHALL_DOMAIN} saraban@{DOMAIN}\n")
    last = ""
    for _ in range(3):
        port = free_port()
        (conf / "master.cf").write_text(f"127.0.0.1:{port} inet n - n - - smtpd\n" + MASTER_CF_SERVICES)
        check = run([str(POSTFIX), "-c", str(conf), "check"])  # also creates the queue subdirectories
        if check.returncode != 0:
            raise RuntimeError(f"postfix check failed: {check.stderr}\n{tail(base / 'maillog')}")
        started = run([str(POSTFIX), "-c", str(conf), "start"])
        server = Postfix(port, base)
        if started.returncode == 0:
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if server.greets():
                    return server
                time.sleep(0.1)
        last = f"{started.stderr}\n{tail(server.maillog)}"
        server.stop()
    raise RuntimeError(f"postfix did not greet:\n{last}")
