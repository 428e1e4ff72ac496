"""Simulated SMTP servers on loopback, playing the behaviours of `checks.sim.world.HostSpec`.

One listener per host IP (127.0.0.0/8), all on one common port, so the prober connects to
`(host ip, port)` exactly as it would to real mail hosts on port 25. The server records every line
it receives (so tests can prove that injected text never reaches a mail server) and audits how
polite the prober was (concurrent sessions, RCPT per session, new sessions per minute, DATA).
It never crashes on bad input: over-long lines get a 500, undecodable bytes are tolerated.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from checks.sim.cert import server_context
from checks.sim.world import (
    HOST_CLOSE_MID_REPLY,
    HOST_DRIP,
    HOST_GARBAGE,
    HOST_GREETING_421,
    HOST_HUGE_LINE,
    HOST_REFUSE,
    HOST_SILENT,
    MAILBOX_BLOCKS_PROBER,
    MAILBOX_DISABLED,
    MAILBOX_FULL,
    MAILBOX_OK,
    HostSpec,
)

MAX_LINE = 4096  # longer command lines get "500 5.5.2 line too long" (RFC 5321 allows 512)
MAX_KEPT_LINE = 4096  # bytes of one received line kept in `received`
DRIP_INTERVAL = 2.0  # seconds between banner bytes of HOST_DRIP
HUGE_LINE_SIZE = 1024 * 1024


@dataclass(slots=True)
class HostStats:
    """What one host IP saw of the prober."""

    sessions: int = 0  # total sessions (connections that got past the `down` switch)
    active: int = 0
    max_concurrent: int = 0
    rcpt: int = 0  # total RCPT commands
    max_rcpt_per_session: int = 0
    max_sessions_per_minute: int = 0  # most new sessions in any 60 s window
    data_commands: int = 0
    starts: deque[float] = field(default_factory=deque)  # session start times within the last 60 s


@dataclass(slots=True)
class PolitenessAudit:
    """Per host IP politeness statistics, and the limits they break."""

    hosts: dict[str, HostStats] = field(default_factory=dict)

    def stats(self, ip: str) -> HostStats:
        st = self.hosts.get(ip)
        if st is None:
            st = self.hosts[ip] = HostStats()
        return st

    @property
    def data_commands(self) -> int:
        return sum(s.data_commands for s in self.hosts.values())

    @property
    def total_sessions(self) -> int:
        return sum(s.sessions for s in self.hosts.values())

    @property
    def total_rcpt(self) -> int:
        return sum(s.rcpt for s in self.hosts.values())

    def session_started(self, ip: str, now: float | None = None) -> None:
        st = self.stats(ip)
        now = time.monotonic() if now is None else now
        st.sessions += 1
        st.active += 1
        st.max_concurrent = max(st.max_concurrent, st.active)
        st.starts.append(now)
        while st.starts and st.starts[0] <= now - 60.0:
            st.starts.popleft()
        st.max_sessions_per_minute = max(st.max_sessions_per_minute, len(st.starts))

    def session_ended(self, ip: str, rcpt_in_session: int) -> None:
        st = self.stats(ip)
        st.active -= 1
        st.max_rcpt_per_session = max(st.max_rcpt_per_session, rcpt_in_session)

    def violations(self, max_sessions: int, rcpt_per_session: int, sessions_per_minute: int) -> list[str]:
        """Human-readable lines, one per broken limit per host; empty when the prober was polite."""
        out: list[str] = []
        for ip in sorted(self.hosts):
            st = self.hosts[ip]
            if st.max_concurrent > max_sessions:
                out.append(f"{ip}: {st.max_concurrent} concurrent sessions (limit {max_sessions})")
            if st.max_rcpt_per_session > rcpt_per_session:
                out.append(f"{ip}: {st.max_rcpt_per_session} RCPT in one session (limit {rcpt_per_session})")
            if st.max_sessions_per_minute > sessions_per_minute:
                out.append(
                    f"{ip}: {st.max_sessions_per_minute} new sessions in 60 s (limit {sessions_per_minute})"
                )
            if st.data_commands:
                out.append(f"{ip}: {st.data_commands} DATA commands (a probe must never send DATA)")
        return out


class _Closed(Exception):
    """The session is over (QUIT, 421, hostile close, client gone)."""


class _Session:
    """One SMTP session with one client, for one HostSpec."""

    def __init__(self, server: SimSmtpServer, spec: HostSpec, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.spec = spec
        self.reader = reader
        self.writer = writer
        self.delay = spec.reply_delay if spec.reply_delay is not None else server.delay
        self.buffer = bytearray()
        self.discarding = False  # inside an over-long line: drop bytes until its end
        self.helo = False
        self.tls = False
        self.mail_from: str | None = None
        self.rcpt_count = 0
        self.errors = 0
        # Latency is paid once per flight: the first reply after the client sent something new. Commands
        # a client pipelined arrive together and are answered together, as on a real network.
        self.new_flight = True

    # -- I/O --------------------------------------------------------------------------------
    async def send(self, data: bytes, delay: bool = True) -> None:
        if delay and self.delay > 0 and self.new_flight:
            await asyncio.sleep(self.delay)
        if delay:
            self.new_flight = False
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, *lines: str) -> None:
        """One (possibly multi-line) reply: all lines but the last use the "250-" continuation form."""
        out = []
        for i, line in enumerate(lines):
            code, rest = line[:3], line[4:]
            sep = "-" if i < len(lines) - 1 else " "
            out.append(f"{code}{sep}{rest}\r\n")
        await self.send(_encode("".join(out)))

    async def read_line(self) -> bytes | None:
        """The next command line without CRLF; None for an over-long line; raises _Closed at EOF."""
        while True:
            nl = self.buffer.find(b"\n")
            if nl != -1:
                line = bytes(self.buffer[:nl])
                del self.buffer[: nl + 1]
                if self.discarding:
                    self.discarding = False
                    return None
                if len(line) > MAX_LINE:
                    self._record(line)
                    return None
                self._record(line)
                return line.rstrip(b"\r")
            if len(self.buffer) > MAX_LINE:
                if not self.discarding:
                    self._record(bytes(self.buffer))
                self.discarding = True
                self.buffer.clear()
            data = await self.reader.read(65536)
            if not data:
                raise _Closed
            self.buffer.extend(data)
            self.new_flight = True

    def _record(self, line: bytes) -> None:
        self.server.received.append((self.spec.ip, line[:MAX_KEPT_LINE]))

    # -- the session --------------------------------------------------------------------------
    async def run(self) -> None:
        spec = self.spec
        behaviour = spec.behaviour
        if behaviour == HOST_SILENT:
            while await self.reader.read(65536):
                pass
            return
        if behaviour == HOST_GREETING_421:
            await self.send(_encode(f"421 4.3.2 {spec.name} Service not available\r\n"))
            return
        if behaviour == HOST_GARBAGE:
            await self.send(_garbage())
            while True:
                await self.read_line()
                await self.send(_garbage())
        banner = _encode(f"220 {spec.greeting_name or spec.name} {spec.banner}\r\n")
        if behaviour == HOST_DRIP:
            for i in range(len(banner)):
                if i:
                    await asyncio.sleep(DRIP_INTERVAL)
                await self.send(banner[i : i + 1], delay=False)
        else:
            await self.send(banner)
        while True:
            line = await self.read_line()
            if line is None:
                await self.reply("500 5.5.2 Error: line too long")
                continue
            await self.command(line)

    async def command(self, line: bytes) -> None:
        spec = self.spec
        text = line.decode("utf-8", "replace")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        if spec.error_limit and self.errors >= spec.error_limit and verb != "QUIT":
            await self.reply("421 4.7.0 Error: too many errors")
            raise _Closed
        if verb == "EHLO":
            self.helo = True
            self.mail_from = None
            if spec.behaviour == HOST_HUGE_LINE:
                await self.send(b"250 " + b"x" * HUGE_LINE_SIZE + b"\r\n")
                return
            lines = [f"250 {spec.name} Hello {arg.strip()[:64]}"]
            if spec.pipelining:
                lines.append("250 PIPELINING")
            if spec.starttls and not self.tls:
                lines.append("250 STARTTLS")
            lines += ["250 ENHANCEDSTATUSCODES", "250 8BITMIME"]
            await self.reply(*lines)
        elif verb == "HELO":
            self.helo = True
            self.mail_from = None
            await self.reply(f"250 {spec.name}")
        elif verb == "STARTTLS":
            await self.starttls()
        elif verb == "MAIL":
            await self.mail(arg)
        elif verb == "RCPT":
            await self.rcpt(arg)
        elif verb == "RSET":
            self.mail_from = None
            await self.reply("250 2.0.0 Ok")
        elif verb == "NOOP":
            await self.reply("250 2.0.0 Ok")
        elif verb == "QUIT":
            await self.reply("221 2.0.0 Bye")
            raise _Closed
        elif verb == "DATA":
            self.server.audit.stats(spec.ip).data_commands += 1
            await self.reply("554 5.5.1 Error: no valid recipients (this simulator never takes mail)")
        else:
            await self.reply("500 5.5.2 Error: command not recognized")

    async def starttls(self) -> None:
        if not self.spec.starttls or self.tls:
            await self.reply("502 5.5.1 Error: command not implemented")
            return
        await self.reply("220 2.0.0 Ready to start TLS")
        # RFC 3207 4.2: anything pipelined after STARTTLS is plaintext an attacker may have injected
        self.buffer.clear()
        try:
            await self.writer.start_tls(server_context())
        except OSError as exc:  # TLS errors and timeouts are OSErrors too
            raise _Closed from exc
        self.tls = True
        self.helo = False
        self.mail_from = None

    async def mail(self, arg: str) -> None:
        if not self.helo:
            await self.reply("503 5.5.1 Error: send HELO/EHLO first")
            return
        if self.mail_from is not None:
            await self.reply("503 5.5.1 Error: nested MAIL command")
            return
        if not arg.upper().startswith("FROM:"):
            await self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
            return
        if self.spec.reject_prober:
            await self.reply("554 5.7.1 Service unavailable; client host blocked using a test blocklist")
            return
        self.mail_from = _address(arg[5:])
        await self.reply("250 2.1.0 Ok")

    async def rcpt(self, arg: str) -> None:
        spec = self.spec
        if self.mail_from is None:
            await self.reply("503 5.5.1 Error: need MAIL command")
            return
        if not arg.upper().startswith("TO:"):
            await self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
            return
        self.rcpt_count += 1
        self.server.audit.stats(spec.ip).rcpt += 1
        rcpt = _address(arg[3:]).lower()
        reply = self._verdict(rcpt)
        if not reply.startswith("2"):
            self.errors += 1
        if spec.behaviour == HOST_CLOSE_MID_REPLY:
            raw = f"{reply}\r\n".encode()
            await self.send(raw[: len(raw) // 2])
            raise _Closed
        await self.reply(reply)

    def _verdict(self, rcpt: str) -> str:
        spec = self.spec
        if spec.max_rcpt_per_session and self.rcpt_count > spec.max_rcpt_per_session:
            return "452 4.5.3 Error: too many recipients"
        if spec.greylist_seconds > 0:
            key = (spec.ip, (self.mail_from or "").lower(), rcpt)
            now = time.monotonic()
            first = self.server.greylist.setdefault(key, now)
            if now - first < spec.greylist_seconds:
                return "450 4.7.1 Recipient address rejected: greylisted, try again later"
        state = spec.mailboxes.get(rcpt)
        if state == MAILBOX_OK or (state is None and spec.catch_all):
            return "250 2.1.5 Ok"
        if state == MAILBOX_DISABLED:
            return "550 5.2.1 Mailbox disabled, not accepting messages"
        if state == MAILBOX_FULL:
            return "552 5.2.2 Mailbox full, over quota"
        if state == MAILBOX_BLOCKS_PROBER:
            return "550 5.7.1 Recipient address rejected: policy rejection of this sender"
        return "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"


def _address(arg: str) -> str:
    """The address inside <...> of a MAIL/RCPT argument (parameters after it ignored)."""
    arg = arg.strip()
    if arg.startswith("<"):
        end = arg.find(">")
        return arg[1:end] if end != -1 else arg[1:]
    return arg.split(" ", 1)[0]


def _encode(text: str) -> bytes:
    """Untrusted text (banners) goes out raw; lone surrogates carry the original bytes when they can."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _garbage() -> bytes:
    """Random bytes that cannot be read as an SMTP reply (first byte is never a digit)."""
    body = os.urandom(200)
    return b"\xff" + body.replace(b"\n", b"\x00") + b"\r\n"


class SimSmtpServer:
    """SMTP listeners for many simulated hosts on one common port (one listener per host IP)."""

    def __init__(self, hosts: Iterable[HostSpec], port: int = 0, delay: float = 0.0) -> None:
        self.hosts: dict[str, HostSpec] = {}
        for h in hosts:
            self.hosts[h.ip] = h
        self.port = port
        self.delay = delay
        self.delay_model = "per_flight"  # see _Session.new_flight
        self.down = False
        self.audit = PolitenessAudit()
        self.received: list[tuple[str, bytes]] = []
        self.greylist: dict[tuple[str, str, str], float] = {}  # (ip, sender, rcpt) → first seen
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Bind every non-refusing host IP on one port (the first bind picks it when port is 0)."""
        listening = [h for h in self.hosts.values() if h.behaviour != HOST_REFUSE]
        for attempt in range(20):
            try:
                await self._bind_all(listening)
                return
            except OSError as exc:
                await self._close_servers()
                if exc.errno != errno.EADDRINUSE or attempt == 19:
                    raise
                self.port = 0  # somebody else holds our port on one of the IPs: pick another

    async def _bind_all(self, listening: list[HostSpec]) -> None:
        if not listening:
            if not self.port:
                with socket.socket() as s:  # a port on which nothing listens: every host refuses
                    s.bind(("127.0.0.1", 0))
                    self.port = s.getsockname()[1]
            return
        for spec in listening:
            server = await asyncio.start_server(
                lambda r, w, spec=spec: self._handle(spec, r, w),
                host=spec.ip,
                port=self.port,
                backlog=512,
            )
            self._servers.append(server)
            if not self.port:
                self.port = server.sockets[0].getsockname()[1]

    async def _close_servers(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()

    async def stop(self) -> None:
        """Close the listeners and every open session."""
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close_servers()

    async def __aenter__(self) -> SimSmtpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def received_commands(self, ip: str | None = None) -> list[str]:
        """Every received line as text (undecodable bytes replaced), optionally for one host IP."""
        return [
            line.rstrip(b"\r").decode("utf-8", "replace")
            for host_ip, line in self.received
            if ip is None or host_ip == ip
        ]

    async def _handle(self, spec: HostSpec, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            sock = writer.get_extra_info("socket")
            if sock is not None:  # abortive close: the client sees a reset, like a cut port 25
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        self.audit.session_started(spec.ip)
        session = _Session(self, spec, reader, writer)
        try:
            await session.run()
        except (_Closed, OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:  # never let one bad session take the simulator down
            pass
        finally:
            self.audit.session_ended(spec.ip, session.rcpt_count)
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()
