"""The SMTP probe: one polite session per mail host for a batch of recipients, never DATA.

connect → EHLO (HELO fallback) → STARTTLS when offered (self-signed accepted, outcome recorded) →
EHLO → MAIL FROM → RCPT TO for each recipient (RFC 2920 pipelined when advertised) → QUIT.

Built on aiosmtplib for connect/EHLO/STARTTLS/MAIL. The RCPT stage talks to the transport through a
small reply reader of our own, because aiosmtplib's protocol drops (or never parses) a second reply
that arrives before the first one was picked up — which is exactly what pipelining produces.
Everything the server says is decoded defensively and stripped of terminal controls before it is
stored, and every address is checked before anything goes on the wire (no command injection).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr

import aiosmtplib
from aiosmtplib import (
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPException,
    SMTPHeloError,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from checks.config import SmtpConfig
from checks.connect import ProxyFailed, connector_for
from checks.model import (
    HOST_DROPPED,
    HOST_GREETING_REJECTED,
    HOST_OK,
    HOST_PROTOCOL_ERROR,
    HOST_PROXY_FAILED,
    HOST_REFUSED,
    HOST_SENDER_REJECTED,
    HOST_TIMEOUT,
    HOST_UNREACHABLE,
    Exchange,
    HostAttempt,
    SmtpReply,
)
from checks.replies import classify_reply
from checks.text import strip_unsafe

__all__ = [
    "SessionResult",
    "classify_reply",
    "clean_text",
    "is_safe_address",
    "make_reply",
    "parse_enhanced",
    "probe_session",
]

MAX_REPLY_LINE = 8192  # bytes; a longer reply line is a protocol error (as in aiosmtplib)
MAX_REPLY = 32768  # bytes for one whole (multi-line) reply
MAX_STORED_TEXT = 1000  # characters of reply text kept as evidence
QUIT_TIMEOUT = 2.0
UNCAPPED_FLIGHT = 100  # recipients asked for at once from the queue when rejections are not capped (RFC 5321's minimum)


def _probe_tls_context() -> ssl.SSLContext:
    """One shared client context: nothing secret is sent, so certificates are recorded, not verified.

    Building a context per session (aiosmtplib's default) loads the CA bundle every time: ~50 ms of
    CPU and megabytes of memory per STARTTLS at national scale.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_PROBE_TLS = _probe_tls_context()

# ---------------------------------------------------------------------------------------------
# Untrusted text
# ---------------------------------------------------------------------------------------------
def clean_text(text: str, limit: int = MAX_STORED_TEXT) -> str:
    """Server text made safe to store and show: valid UTF-8, no ESC sequences, no C0 (but tab and
    newline), no DEL/C1, no bidi overrides, and at most `limit` characters."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8", "replace")
    text = strip_unsafe(text, newlines="keep")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)", re.ASCII)


def parse_enhanced(text: str) -> tuple[str | None, str]:
    """Split an RFC 3463 enhanced status code off a reply text: "5.1.1 User unknown" → ("5.1.1", "User unknown").

    In a multi-line reply the same code prefixing later lines is removed too.
    """
    stripped = text.lstrip()
    m = _ENHANCED.match(stripped)
    if m is None:
        return None, text.strip()
    code = m.group(0)
    lines = []
    for line in stripped.split("\n"):
        line = line.strip()
        if line.startswith(code) and (len(line) == len(code) or line[len(code)].isspace()):
            line = line[len(code) :].strip()
        lines.append(line)
    return code, "\n".join(lines).strip()


def make_reply(code: int, raw: str) -> SmtpReply:
    """An SmtpReply from a code and raw (untrusted) text."""
    enhanced, rest = parse_enhanced(clean_text(raw))
    return SmtpReply(code, rest, enhanced)


# ---------------------------------------------------------------------------------------------
# Address safety
# ---------------------------------------------------------------------------------------------
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SAFE_ADDRESS = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{{2,63}}",
    re.ASCII,
)
_HOSTNAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}\.?", re.ASCII)


def is_safe_address(address: str) -> bool:
    """True when `address` is a plain ASCII dot-atom address that goes on the wire exactly as written."""
    if not isinstance(address, str) or len(address) > 254 or not _SAFE_ADDRESS.fullmatch(address):
        return False
    if len(address.rsplit("@", 1)[0]) > 64:
        return False
    # aiosmtplib-style parsing must not rewrite it (it would for "Name <a@b>", lists, comments)
    return parseaddr(address)[1] == address


def _require_safe(address: str, what: str) -> bytes:
    if not is_safe_address(address):
        raise ValueError(f"refusing to send unsafe {what} {address!r}: not a plain ASCII address")
    return address.encode("ascii")


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class SessionResult:
    """One SMTP session with one mail host for a batch of recipients."""

    host: str
    ip: str
    port: int
    outcome: str  # HOST_*: HOST_OK when the RCPT stage was reached and the session ended normally
    prelude: tuple[Exchange, ...] = ()  # connect/banner, EHLO, STARTTLS, EHLO, MAIL FROM
    rcpt: dict[str, Exchange] = field(default_factory=dict)  # recipient → its RCPT exchange (answered only)
    unattempted: tuple[str, ...] = ()  # not answered (dropped, rejection cap, deadline): requeue them
    starttls: bool | None = None  # True used; False not offered / not used / failed; None not reached
    tls_error: str | None = None  # e.g. "self-signed certificate" (not fatal) or a failed handshake
    pipelining_used: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None  # why the session ended early (clean text), if it did
    drop: Exchange | None = None  # the RCPT that got the 421 which ended the session, if any

    def reply_for(self, recipient: str) -> SmtpReply | None:
        ex = self.rcpt.get(recipient)
        return ex.reply if ex else None

    def attempt_for(self, recipient: str) -> HostAttempt:
        """The evidence for one recipient: the prelude plus its own RCPT exchange."""
        ex = self.rcpt.get(recipient)
        if ex is not None:
            transcript = (*self.prelude, ex)
            outcome = HOST_OK
        else:
            transcript = (*self.prelude, self.drop) if self.drop else self.prelude
            outcome = self.outcome
        return HostAttempt(
            host=self.host,
            ip=self.ip,
            port=self.port,
            outcome=outcome,
            starttls=self.starttls,
            tls_error=self.tls_error,
            pipelining=self.pipelining_used,
            transcript=transcript,
            elapsed_ms=self.elapsed_ms,
        )


# ---------------------------------------------------------------------------------------------
# The RCPT-stage reply reader
# ---------------------------------------------------------------------------------------------
class _ReaderError(Exception):
    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class _ReplyReader(asyncio.Protocol):
    """Takes over the transport from aiosmtplib's protocol and queues every complete reply in order.

    Connection loss is forwarded to the original protocol so aiosmtplib's state stays consistent.
    """

    def __init__(self, inner: asyncio.BaseProtocol | None) -> None:
        self.inner = inner
        self.buf = bytearray()
        self.lines: list[bytes] = []
        self.size = 0
        self.code = 0
        self.replies: deque[tuple[int, str]] = deque()
        self.error: str | None = None
        self.closed: str | None = None
        self.waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self.error is None:
            self.buf.extend(data)
            self._parse()
        self._wake()

    def _parse(self) -> None:
        while True:
            nl = self.buf.find(b"\n")
            if nl == -1:
                if len(self.buf) > MAX_REPLY_LINE:
                    self.error = "reply line too long"
                return
            line = bytes(self.buf[: nl + 1])
            del self.buf[: nl + 1]
            if len(line) > MAX_REPLY_LINE:
                self.error = "reply line too long"
                return
            if not (len(line) >= 3 and line[:3].isdigit() and line[3:4] in (b" ", b"-", b"\r", b"\n")):
                self.error = "malformed reply: " + clean_text(line.decode("utf-8", "replace"), 80)
                return
            self.size += len(line)
            if self.size > MAX_REPLY:
                self.error = "reply too long"
                return
            self.code = int(line[:3])
            self.lines.append(line[4:].strip(b" \t\r\n"))
            if line[3:4] != b"-":
                text = b"\n".join(self.lines).decode("utf-8", "replace")
                self.replies.append((self.code, text))
                self.lines, self.size = [], 0

    def eof_received(self) -> bool:
        self.closed = self.closed or "connection closed by the server"
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed is None:
            self.closed = f"connection lost: {exc}" if exc else "connection closed by the server"
        self._wake()
        if self.inner is not None:
            with contextlib.suppress(Exception):
                self.inner.connection_lost(exc)

    async def next_reply(self, timeout: float) -> tuple[int, str]:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self.replies:
                        return self.replies.popleft()
                    if self.error is not None:
                        raise _ReaderError(HOST_PROTOCOL_ERROR, self.error)
                    if self.closed is not None:
                        raise _ReaderError(HOST_DROPPED, self.closed)
                    self.waiter = asyncio.get_running_loop().create_future()
                    await self.waiter
        except TimeoutError:
            raise _ReaderError(HOST_TIMEOUT, "timed out waiting for a reply") from None


# ---------------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------------
def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _ms(t0: float) -> float:
    return (time.monotonic() - t0) * 1000.0


class _Stop(Exception):
    """The session cannot go on; the outcome is already set."""


class _Run:
    def __init__(self, host: str, ip: str, recipients: tuple[str, ...], config: SmtpConfig,
                 max_rejections: int, pipelining: bool,
                 on_answers: Callable[[SessionResult], None] | None = None,
                 more: Callable[[int], Sequence[str]] | None = None) -> None:
        self.host, self.ip, self.recipients, self.config = host, ip, recipients, config
        self.on_answers = on_answers
        self.more = more
        self.started = time.monotonic()
        self.max_rejections = max_rejections
        self.pipelining = pipelining
        self.prelude: list[Exchange] = []
        self.rcpt: dict[str, Exchange] = {}
        self.outcome = HOST_OK
        self.starttls: bool | None = None
        self.tls_error: str | None = None
        self.pipelining_used = False
        self.error: str | None = None
        self.drop: Exchange | None = None
        self.smtp: aiosmtplib.SMTP | None = None
        self.reached_rcpt = False
        self.sni = host.rstrip(".") if host and _HOSTNAME.fullmatch(host) else None

    def fail(self, outcome: str, error: str) -> _Stop:
        self.outcome = outcome
        self.error = clean_text(error, 200).replace("\n", " ")
        return _Stop()

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                self.smtp.close()
            self.smtp = None

    # -- stages ---------------------------------------------------------------------------
    async def run(self) -> None:
        await self.connect()
        await self.hello()
        assert self.smtp is not None
        if self.smtp.supports_extension("starttls"):
            if self.config.starttls:
                await self.start_tls()
            else:
                self.starttls = False
        else:
            self.starttls = False
        await self.mail()
        await self.rcpt_stage()

    async def open_proxied(self, t0: float) -> socket.socket:
        """The TCP connection made by the SOCKS5 proxy; its own failures end the session as ours."""
        connector = connector_for(self.config.proxy)
        label = f"<connect via {connector.label}>"
        try:
            return await connector.connect(self.ip, self.config.port, self.config.timeout)
        except ProxyFailed as exc:
            self.prelude.append(Exchange(label, None, _ms(t0)))
            raise self.fail(HOST_PROXY_FAILED, exc.reason) from None
        except ConnectionRefusedError as exc:
            self.prelude.append(Exchange(label, None, _ms(t0)))
            raise self.fail(HOST_REFUSED, str(exc)) from None
        except TimeoutError:
            self.prelude.append(Exchange(label, None, _ms(t0)))
            raise self.fail(HOST_TIMEOUT, f"connect via {connector.label}: timed out") from None
        except OSError as exc:  # anything else between us and the proxy is ours too, never "unreachable"
            self.prelude.append(Exchange(label, None, _ms(t0)))
            raise self.fail(HOST_PROXY_FAILED, f"{type(exc).__name__}: {exc}") from None

    async def connect(self) -> None:
        cfg = self.config
        self.close()
        t0 = time.monotonic()
        sock = await self.open_proxied(t0) if cfg.proxy is not None else None
        smtp = aiosmtplib.SMTP(
            tls_context=_PROBE_TLS,
            hostname=None if sock is not None else self.ip,
            port=None if sock is not None else cfg.port,
            sock=sock,
            local_hostname=cfg.helo_name,
            timeout=cfg.timeout,
            validate_certs=False,
            start_tls=False,
            use_tls=False,
        )
        connect_label = "<connect>" if sock is None else f"<connect via {connector_for(cfg.proxy).label}>"
        try:
            resp = await smtp.connect()
        except SMTPConnectTimeoutError as exc:
            self.prelude.append(Exchange(connect_label, None, _ms(t0)))
            raise self.fail(HOST_TIMEOUT, str(exc)) from None
        except SMTPConnectResponseError as exc:
            self.prelude.append(Exchange(connect_label, make_reply(exc.code, exc.message), _ms(t0)))
            raise self.fail(HOST_GREETING_REJECTED, f"greeting {exc.code}") from None
        except SMTPConnectError as exc:
            self.prelude.append(Exchange(connect_label, None, _ms(t0)))
            causes = list(_causes(exc))
            if any(isinstance(c, ConnectionRefusedError) for c in causes):
                raise self.fail(HOST_REFUSED, str(exc)) from None
            if any(isinstance(c, ConnectionResetError) for c in causes):
                # Accepted, then reset: a filter or a cut port 25 in between, not proof the host refuses mail.
                raise self.fail(HOST_DROPPED, f"reset before the greeting: {exc}") from None
            if any(isinstance(c, SMTPServerDisconnected) for c in causes):
                raise self.fail(HOST_DROPPED, f"closed before the greeting: {exc}") from None
            # through a proxy the TCP connection already stood: whatever broke it is not "unreachable"
            raise self.fail(HOST_UNREACHABLE if sock is None else HOST_DROPPED, str(exc)) from None
        except SMTPResponseException as exc:  # malformed or over-long greeting
            self.prelude.append(Exchange(connect_label, None, _ms(t0)))
            raise self.fail(HOST_PROTOCOL_ERROR, exc.message) from None
        except SMTPTimeoutError as exc:
            self.prelude.append(Exchange(connect_label, None, _ms(t0)))
            raise self.fail(HOST_TIMEOUT, str(exc)) from None
        except (SMTPException, OSError) as exc:
            self.prelude.append(Exchange(connect_label, None, _ms(t0)))
            raise self.fail(HOST_UNREACHABLE if sock is None else HOST_DROPPED, str(exc)) from None
        self.smtp = smtp
        self.prelude.append(Exchange(connect_label, make_reply(resp.code, resp.message), _ms(t0)))

    def command_failed(self, command: str, t0: float, exc: BaseException, rejected: str) -> _Stop:
        """Record a command that got no usable reply (or a refusal) and say how the session ended."""
        if isinstance(exc, SMTPResponseException) and exc.code >= 0:
            self.prelude.append(Exchange(command, make_reply(exc.code, exc.message), _ms(t0)))
            if exc.code == 421:
                return self.fail(HOST_DROPPED, f"{command}: 421")
            return self.fail(rejected, f"{command}: {exc.code}")
        self.prelude.append(Exchange(command, None, _ms(t0)))
        if isinstance(exc, SMTPResponseException):
            return self.fail(HOST_PROTOCOL_ERROR, f"{command}: {exc.message}")
        if isinstance(exc, TimeoutError):
            return self.fail(HOST_TIMEOUT, f"{command}: {exc}")
        return self.fail(HOST_DROPPED, f"{command}: {exc}")

    async def hello(self) -> None:
        smtp = self.smtp
        assert smtp is not None
        helo = self.config.helo_name
        t0 = time.monotonic()
        try:
            resp = await smtp.ehlo()
            self.prelude.append(Exchange(f"EHLO {helo}", make_reply(resp.code, resp.message), _ms(t0)))
            return
        except SMTPHeloError as exc:
            if exc.code == 421 or not smtp.is_connected:
                raise self.command_failed(f"EHLO {helo}", t0, exc, HOST_GREETING_REJECTED) from None
            self.prelude.append(Exchange(f"EHLO {helo}", make_reply(exc.code, exc.message), _ms(t0)))
        except (SMTPException, OSError) as exc:
            raise self.command_failed(f"EHLO {helo}", t0, exc, HOST_GREETING_REJECTED) from None
        t0 = time.monotonic()
        try:
            resp = await smtp.helo()
        except (SMTPException, OSError) as exc:
            raise self.command_failed(f"HELO {helo}", t0, exc, HOST_GREETING_REJECTED) from None
        self.prelude.append(Exchange(f"HELO {helo}", make_reply(resp.code, resp.message), _ms(t0)))

    async def start_tls(self) -> None:
        smtp = self.smtp
        assert smtp is not None
        t0 = time.monotonic()
        try:
            resp = await smtp.starttls(server_hostname=self.sni)
        except SMTPResponseException as exc:
            if exc.code == 421 or exc.code < 0 or not smtp.is_connected:
                self.starttls = False
                raise self.command_failed("STARTTLS", t0, exc, HOST_DROPPED) from None
            # refused (e.g. 454): carry on in plain text on the same connection
            self.prelude.append(Exchange("STARTTLS", make_reply(exc.code, exc.message), _ms(t0)))
            self.starttls = False
            self.tls_error = clean_text(f"STARTTLS refused: {exc.code} {exc.message}", 300)
            return
        except (SMTPException, OSError, ValueError) as exc:
            # the handshake failed after "220": the connection is unusable; reconnect without TLS
            self.prelude.append(Exchange("STARTTLS", None, _ms(t0)))
            self.starttls = False
            self.tls_error = clean_text(f"TLS handshake failed: {type(exc).__name__}: {exc}", 300)
            self.close()
            await self.connect()
            await self.hello()
            return
        self.prelude.append(Exchange("STARTTLS", make_reply(resp.code, resp.message), _ms(t0)))
        self.starttls = True
        self.tls_error = _certificate_note(smtp)
        await self.hello()

    async def mail(self) -> None:
        smtp = self.smtp
        assert smtp is not None
        sender = self.config.mail_from
        command = f"MAIL FROM:<{sender}>"
        t0 = time.monotonic()
        try:
            resp = await smtp.execute_command(b"MAIL", b"FROM:<" + sender.encode("ascii") + b">")
        except (SMTPException, OSError) as exc:
            raise self.command_failed(command, t0, exc, HOST_SENDER_REJECTED) from None
        self.prelude.append(Exchange(command, make_reply(resp.code, resp.message), _ms(t0)))
        if resp.code == 421:
            raise self.fail(HOST_DROPPED, f"{command}: 421")
        if not 200 <= resp.code < 300:
            raise self.fail(HOST_SENDER_REJECTED, f"{command}: {resp.code}")

    async def rcpt_stage(self) -> None:
        smtp = self.smtp
        assert smtp is not None
        transport = smtp.transport
        if transport is None or transport.is_closing():
            raise self.fail(HOST_DROPPED, "connection lost before RCPT")
        self.reached_rcpt = True
        pipelined = self.pipelining and smtp.supports_extension("pipelining")
        reader = _ReplyReader(smtp.protocol)
        transport.set_protocol(reader)
        pending = list(self.recipients)
        rejections = 0
        capped = self.max_rejections > 0
        timeout = self.config.timeout
        while not capped or rejections < self.max_rejections:
            if not pipelined:
                size = 1
            elif capped:
                size = self.max_rejections - rejections
            else:  # no cap: everything held goes in one flight, topped up from the queue
                size = max(len(pending), UNCAPPED_FLIGHT)
            if len(pending) < size and self.more is not None:
                pending += self.pull(size - len(pending))
            if not pending:
                break
            chunk, pending = pending[:size], pending[size:]
            if transport.is_closing():
                raise self.fail(HOST_DROPPED, reader.closed or "connection lost")
            t0 = time.monotonic()
            transport.write(b"".join(b"RCPT TO:<" + r.encode("ascii") + b">\r\n" for r in chunk))
            if len(chunk) > 1:
                self.pipelining_used = True
            for recipient in chunk:
                command = f"RCPT TO:<{recipient}>"
                try:
                    code, text = await reader.next_reply(timeout)
                except _ReaderError as exc:
                    raise self.fail(exc.outcome, f"{command}: {exc}") from None
                exchange = Exchange(command, make_reply(code, text), _ms(t0))
                if code == 421:
                    self.drop = exchange
                    raise self.fail(HOST_DROPPED, f"{command}: 421")
                self.rcpt[recipient] = exchange
                if not 200 <= code < 300:
                    rejections += 1
        if self.on_answers is not None:
            # The verdicts are known now: the operator on the phone need not wait for QUIT's round trip.
            self.on_answers(self.result(_ms(self.started)))
        # polite goodbye; its outcome does not matter any more, but the session counts until it closes
        with contextlib.suppress(Exception):
            if not transport.is_closing():
                transport.write(b"QUIT\r\n")
                await reader.next_reply(min(timeout, QUIT_TIMEOUT))

    def pull(self, wanted: int) -> list[str]:
        """Up to `wanted` more recipients from the caller's queue, taken only when about to be sent.
        Whatever `more` hands over is this session's to answer (the caller never hands an address the
        session already holds): dropping one here would lose it from both the queue and the result."""
        assert self.more is not None
        got = list(self.more(wanted))
        for r in got:
            _require_safe(r, "recipient")
        self.recipients += tuple(got)
        return got

    def result(self, elapsed_ms: float) -> SessionResult:
        unattempted = tuple(r for r in self.recipients if r not in self.rcpt)
        return SessionResult(
            host=self.host,
            ip=self.ip,
            port=self.config.port,
            outcome=self.outcome,
            prelude=tuple(self.prelude),
            rcpt=dict(self.rcpt),
            unattempted=unattempted,
            starttls=self.starttls,
            tls_error=self.tls_error,
            pipelining_used=self.pipelining_used,
            elapsed_ms=elapsed_ms,
            error=self.error,
            drop=self.drop,
        )


def _certificate_note(smtp: aiosmtplib.SMTP) -> str | None:
    """A short note when the server's certificate would not pass verification (self-signed, expired).

    The probe does not verify certificates (nothing secret is sent); this is evidence only, and
    needs the optional `cryptography` package to look inside the certificate.
    """
    try:
        sslobj = smtp.get_transport_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    except Exception:
        return None
    if not der:
        return "no server certificate"
    try:
        from cryptography import x509
    except ImportError:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        if cert.issuer == cert.subject:
            return clean_text(f"self-signed certificate ({subject})", 300)
        if cert.not_valid_after_utc.timestamp() < time.time():
            return clean_text(f"expired certificate ({subject})", 300)
    except Exception as exc:
        return clean_text(f"unreadable certificate: {exc}", 300)
    return None


async def probe_session(
    host: str,
    ip: str,
    recipients: Sequence[str],
    config: SmtpConfig,
    *,
    max_rejections: int = 8,
    pipelining: bool | None = None,
    on_answers: Callable[[SessionResult], None] | None = None,
    more: Callable[[int], Sequence[str]] | None = None,
) -> SessionResult:
    """Probe `recipients` on one mail host in one session (never DATA), bounded by `config.deadline`.

    Raises ValueError before any connection if a recipient or the sender is not a plain ASCII
    address (the engine only passes validated addresses; this is the last line of defence).
    Stops sending RCPT after `max_rejections` rejected recipients (<= 0: no cap); recipients
    without an answer come back in `unattempted` for the caller to requeue. `on_answers`, when given,
    receives the result as soon as the last RCPT is answered, before the polite QUIT; the function
    still returns only when the connection is closed, so the caller's session count stays honest.
    `more(n)`, when given, is asked for at most n further recipients whenever the session has sent
    all it holds and may send more (the rejection cap not reached): a host's sessions then share one
    queue, taking work only when ready to send it, instead of each holding a batch it may never
    reach (the rest of a batch cut by the rejection cap would wait for that session to end). Pulled
    recipients are in the result like the others (answered, or `unattempted`); an empty answer ends
    the RCPT stage.
    """
    rcpts = tuple(dict.fromkeys(recipients))  # one RCPT per distinct recipient, order kept
    for r in rcpts:
        _require_safe(r, "recipient")
    if config.mail_from:
        _require_safe(config.mail_from, "sender")
    run = _Run(host, ip, rcpts, config, max_rejections,
               config.pipelining if pipelining is None else pipelining, on_answers, more)
    t0 = time.monotonic()
    try:
        async with asyncio.timeout(config.deadline):
            await run.run()
    except _Stop:
        pass
    except TimeoutError:
        if not (run.reached_rcpt and len(run.rcpt) == len(run.recipients)):
            run.fail(HOST_TIMEOUT, f"session deadline of {config.deadline:g} s reached")
    finally:
        run.close()
    return run.result(_ms(t0))
