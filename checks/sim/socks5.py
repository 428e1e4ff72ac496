"""A small SOCKS5 server (RFC 1928 CONNECT, RFC 1929 username/password) for the simulated internet.

For `saraban bench` and the demo's "through a proxy" runs, and for fast tests of how the engine takes
a proxy's refusals. The integration tests use a real one (Debian's dante) instead. It relays only to
loopback addresses: nothing it is asked for ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import Callable

REPLY_OK = 0x00
REPLY_GENERAL_FAILURE = 0x01
REPLY_NOT_ALLOWED = 0x02
REPLY_HOST_UNREACHABLE = 0x04
REPLY_REFUSED = 0x05
REPLY_COMMAND_NOT_SUPPORTED = 0x07
REPLY_ADDRESS_NOT_SUPPORTED = 0x08
_RELAY_CHUNK = 65536


class SimSocks5Server:
    """SOCKS5 on 127.0.0.1:`port` (0 = any free port). `allow(ip, port)` is its ruleset."""

    def __init__(
        self,
        *,
        port: int = 0,
        username: str = "",
        password: str = "",
        allow: Callable[[str, int], bool] | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.port = port
        self.username = username
        self.password = password
        self.allow = allow or (lambda ip, port: True)
        self.connect_timeout = connect_timeout
        self.connections = 0  # CONNECT requests relayed
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every relayed connection (a proxy that dies mid-session)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def __aenter__(self) -> SimSocks5Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        auth = f"{self.username}:{self.password}@" if self.username else ""
        return f"socks5://{auth}127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5:
            return
        wanted = 0x02 if self.username else 0x00
        if wanted not in methods:
            writer.write(b"\x05\xff")
            return
        writer.write(bytes((5, wanted)))
        if wanted == 0x02:
            _ver, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode("utf-8", "replace")
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode("utf-8", "replace")
            good = user == self.username and password == self.password
            writer.write(b"\x01\x00" if good else b"\x01\x01")
            if not good:
                return
        _ver, command, _rsv, atyp = await reader.readexactly(4)
        if atyp == 0x01:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif atyp == 0x03:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode("ascii", "replace")
        elif atyp == 0x04:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            return self._reply(writer, REPLY_ADDRESS_NOT_SUPPORTED)
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 0x01:
            return self._reply(writer, REPLY_COMMAND_NOT_SUPPORTED)
        if not _loopback(host) or not self.allow(host, port):
            return self._reply(writer, REPLY_NOT_ALLOWED)
        try:
            async with asyncio.timeout(self.connect_timeout):
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except ConnectionRefusedError:
            return self._reply(writer, REPLY_REFUSED)
        except (OSError, TimeoutError):
            return self._reply(writer, REPLY_HOST_UNREACHABLE)
        self.connections += 1
        self._reply(writer, REPLY_OK)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, code: int) -> None:
        writer.write(bytes((5, code, 0, 1)) + socket.inet_aton("0.0.0.0") + b"\x00\x00")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(_RELAY_CHUNK):
            sink.write(data)
            await sink.drain()
    finally:
        with contextlib.suppress(Exception):
            if sink.can_write_eof():
                sink.write_eof()




class SimSocks5Thread:
    """The same server in its own thread and event loop, so relaying does not slow the engine's loop
    (the bench's "through a SOCKS5 proxy" line measures the proxy path, not a shared loop)."""

    def __init__(self, **server_kwargs: object) -> None:
        self.server = SimSocks5Server(**server_kwargs)  # type: ignore[arg-type]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> SimSocks5Server:
        self._thread = threading.Thread(target=self._run, name="saraban-sim-socks5", daemon=True)
        self._thread.start()
        if not self._ready.wait(10.0) or self._error is not None:
            self.__exit__()
            raise RuntimeError(f"the simulated SOCKS5 proxy did not start: {self._error}")
        return self.server

    def __exit__(self, *exc: object) -> None:
        loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if thread is not None:
            thread.join(10.0)
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()
            self._ready.set()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()


__all__ = ["SimSocks5Server", "SimSocks5Thread"]
