"""How the engine reaches a mail host's TCP port: directly, or through a SOCKS5 proxy.

One seam (`Connector`) for every outbound SMTP connection — probe sessions, the network canary and
doctor's port-25 check — so that with `[smtp] proxy` set nothing goes to port 25 on its own.
Names are resolved here, locally (DNS stays ours); the proxy is only ever asked for an IP address.

A proxy's own failure (cannot reach it, authentication refused, "connection not allowed by ruleset",
"host unreachable" reported by the proxy) raises `ProxyFailed`: it is our side, never the agency's.
A destination that refuses the connection is relayed as `ConnectionRefusedError`, exactly as without
a proxy, and a timeout as `TimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Protocol

from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType
from python_socks.async_.asyncio import Proxy

from checks.config import SocksProxy

__all__ = [
    "Connector",
    "DirectConnector",
    "ProxyFailed",
    "Socks5Connector",
    "connector_for",
    "open_stream",
    "proxy_reachable",
]

# RFC 1928 section 6 reply codes, in the words an operator can act on
SOCKS5_REPLIES: dict[int, str] = {
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
}
SOCKS5_CONNECTION_REFUSED = 0x05


class ProxyFailed(Exception):
    """The SOCKS5 proxy itself failed (not the mail host): our side, temporary, never a D verdict."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # the proxy's RFC 1928 reply code, when it sent one


class Connector(Protocol):
    """Opens a TCP connection to host:port and hands back the connected, non-blocking socket."""

    @property
    def label(self) -> str:
        """How the connection goes, for evidence: "" when direct, "socks5 host:port" through a proxy."""
        ...

    async def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        """Connected socket, or ConnectionRefusedError / TimeoutError / OSError / ProxyFailed."""
        ...


async def _resolve(host: str, port: int) -> list[tuple[socket.AddressFamily, tuple[str, int]]]:
    """Every address of `host` (an IP literal resolves to itself), IPv4 first: resolved locally."""
    bare = host.strip("[]")
    infos = await asyncio.get_running_loop().getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    found = [(family, (str(addr[0]), int(addr[1]))) for family, _t, _p, _c, addr in infos]
    found.sort(key=lambda item: item[0] != socket.AF_INET)
    if not found:
        raise OSError(f"{host}: no address")
    return found


class DirectConnector:
    """A plain TCP connection from this machine."""

    label = ""

    async def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            last: OSError | None = None
            for family, address in await _resolve(host, port):
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, address)
                except OSError as exc:
                    sock.close()
                    last = exc
                    continue
                except BaseException:
                    sock.close()
                    raise
                return sock
            assert last is not None
            raise last


class Socks5Connector:
    """A TCP connection made by a SOCKS5 proxy (RFC 1928), with username/password auth when configured."""

    def __init__(self, proxy: SocksProxy) -> None:
        self.proxy = proxy

    @property
    def label(self) -> str:
        return f"socks5 {self.proxy.display}"

    async def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        cfg = self.proxy
        async with asyncio.timeout(timeout):
            ip = (await _resolve(host, port))[0][1][0]  # DNS stays local: the proxy only sees an IP
        client = Proxy(
            ProxyType.SOCKS5,
            cfg.host,
            cfg.port,
            username=cfg.username or None,
            password=cfg.password or None,
            rdns=False,
        )
        try:
            sock = await client.connect(dest_host=ip, dest_port=port, timeout=timeout)
        except ProxyTimeoutError as exc:
            raise TimeoutError(f"through {self.label}: timed out") from exc
        except ProxyConnectionError as exc:
            why = os.strerror(exc.errno) if isinstance(exc.errno, int) else str(exc)
            raise ProxyFailed(f"cannot connect to the SOCKS5 proxy {cfg.display}: {why}") from exc
        except ProxyError as exc:
            code = exc.error_code
            if code == SOCKS5_CONNECTION_REFUSED:
                # the destination itself refused (the proxy relays its RST): as if connected directly
                raise ConnectionRefusedError(f"{ip}:{port} refused the connection (via {self.label})") from exc
            words = SOCKS5_REPLIES.get(code, str(exc)) if code is not None else str(exc)
            raise ProxyFailed(f"SOCKS5 proxy {cfg.display} refused to connect to {ip}:{port}: {words}", code) from exc
        sock.setblocking(False)
        return sock


def connector_for(proxy: SocksProxy | None) -> Connector:
    """The connector the configuration asks for: through `proxy` when one is set."""
    return Socks5Connector(proxy) if proxy is not None else DirectConnector()


async def open_stream(
    connector: Connector, host: str, port: int, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A reader/writer pair over `connector` (for the canary and doctor: read a greeting, say QUIT)."""
    sock = await connector.connect(host, port, timeout)
    try:
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        with contextlib.suppress(OSError):
            sock.close()
        raise


async def proxy_reachable(proxy: SocksProxy, timeout: float) -> str | None:
    """None when the proxy accepts a TCP connection, else why not (for a canary without a target)."""
    try:
        sock = await DirectConnector().connect(proxy.host, proxy.port, timeout)
    except (OSError, TimeoutError) as exc:
        return f"cannot connect to the SOCKS5 proxy {proxy.display}: {type(exc).__name__} {exc}".strip()
    sock.close()
    return None
