"""`saraban serve`: the console in a browser, read-only, for supervisors without SSH accounts.

textual-serve runs one console process per browser tab (a websocket each; the process ends when the
tab closes) with `saraban tui --read-only`: the same panes, search, filters and trend chart, no
writes. We build textual-serve's aiohttp application ourselves from its public handlers so a
middleware can check the token: on 127.0.0.1 none is needed (reach it through an SSH tunnel); any
other address requires one, carried by the URL (`/?token=...`). The page's later requests (static
files, the websocket) carry it as a same-site, HTTP-only cookie set by that first request.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import ipaddress
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

COOKIE = "saraban_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ServeError(Exception):
    """serve cannot start as asked (port in use, a token missing...); the message says what to do."""


@dataclass(frozen=True, slots=True)
class ServeSettings:
    host: str
    port: int
    token: str | None  # None: no token asked (loopback only)
    store: Path
    config: Path | None
    lang: str
    public_url: str | None = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings(host: str, port: int, token: str | None, store: Path, config: Path | None, lang: str,
             public_url: str | None = None) -> ServeSettings:
    """Another address than loopback always gets a token (the given one, else a fresh random one)."""
    if not 0 < port < 65536:
        raise ServeError(f"--port {port}: must be a port number 1-65535")
    if token is not None and len(token) < 16:
        raise ServeError("--token must be at least 16 characters (or leave it out and one is made for you)")
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    return ServeSettings(host, port, token, store, config, lang, public_url)


def console_command(s: ServeSettings) -> str:
    """The read-only console each browser tab gets (textual-serve runs it through the shell: quoted)."""
    argv = [sys.executable, "-m", "console.cli", "--store", str(s.store), "--lang", s.lang]
    if s.config is not None:
        argv += ["--config", str(s.config)]
    argv += ["tui", "--read-only"]
    return " ".join(shlex.quote(a) for a in argv)


def url_of(s: ServeSettings) -> str:
    base = s.public_url or f"http://{s.host if ':' not in s.host else f'[{s.host}]'}:{s.port}"
    return f"{base}/?token={s.token}" if s.token else f"{base}/"


def token_middleware(token: str | None) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None:
            return await handler(request)
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(
                status=403,
                text="saraban serve: this view needs its token: open the URL that saraban serve printed "
                "(…/?token=…).\n",
            )
        response = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return check


def build_app(s: ServeSettings, title: str = "saraban") -> web.Application:
    """textual-serve's routes (its public handlers) behind our token check."""
    base = s.public_url or f"http://{s.host if ':' not in s.host else f'[{s.host}]'}:{s.port}"
    server = Server(console_command(s), host=s.host, port=s.port, title=title, public_url=base)
    app = web.Application(middlewares=[token_middleware(s.token)])
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(server.templates_path))
    app.add_routes(
        [
            web.get("/", server.handle_index, name="index"),
            web.get("/ws", server.handle_websocket, name="websocket"),
            web.static("/static", server.statics_path, name="static"),
        ]
    )
    return app


async def serve(s: ServeSettings, *, ready: Callable[[str], None] = print) -> None:
    """Listen until SIGTERM/SIGINT; a port in use is a ServeError saying so."""
    runner = web.AppRunner(build_app(s), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, s.host, s.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {s.port} on {s.host} is already in use: choose another with --port") from None
        raise ServeError(f"cannot listen on {s.host}:{s.port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready(url_of(s))
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        await runner.cleanup()
