"""A small SOCKS5 server (RFC 1928 CONNECT, RFC 1929 username/password) for the simulated internet.

For `saraban bench` and the demo's "through a proxy" runs, and for fast tests of how the engine takes
a proxy's refusals. The integration tests use a real one (Debian's dante) instead. It relays only to
loopback addresses: nothing it is asked for ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import struct
import sys
from collections.abc import Callable
from pathlib import Path

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
        self._transports: set[asyncio.BaseTransport] = set()  # both sides of every relayed connection

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and cut every relayed connection (a proxy that dies mid-session)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for transport in list(self._transports):
            transport.abort()
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
        self._transports.add(writer.transport)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._handlers.discard(task)
            self._transports.discard(writer.transport)
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
        self._transports.add(up_writer.transport)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._transports.discard(up_writer.transport)
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





class SimSocks5Process:
    """The same server in a child process (`python -m checks.sim.socks5`), as a real relay is another
    machine: the bench's "through a SOCKS5 proxy" line then measures the proxy path, not a Python
    relay sharing the engine's process and CPU."""

    def __init__(self, start_timeout: float = 20.0) -> None:
        self.start_timeout = start_timeout
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    async def __aenter__(self) -> SimSocks5Process:
        root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "checks.sim.socks5", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=env)
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(self.start_timeout):
                line = await self.proc.stdout.readline()
            self.port = int(line.split()[-1])
        except (TimeoutError, ValueError, IndexError):
            await self.__aexit__()
            raise RuntimeError("the simulated SOCKS5 proxy did not start") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the child stops when its stdin closes
        try:
            async with asyncio.timeout(10.0):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _serve_until_stdin_closes() -> None:
    async with SimSocks5Server() as server:
        print(f"listening {server.port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


__all__ = ["SimSocks5Process", "SimSocks5Server"]

if __name__ == "__main__":
    asyncio.run(_serve_until_stdin_closes())
