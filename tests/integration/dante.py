"""A private dante SOCKS5 server (Debian's dante-server) on loopback: config, start, stop, kill.

Why a real one: python-socks and our reading of its errors must hold against what a real proxy answers
(RFC 1928 reply codes, how it refuses by ruleset, what a dead proxy looks like mid-session), not only
against our own small SOCKS5 server in checks/sim.

It listens on a free loopback port with its own config, log and pid file under a temporary directory,
relays only to 127.0.0.1 on the ports a test allows, and runs in its own process group so the test
can stop it — or kill it in the middle of a scan — without touching any other dante on the machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .mailstack import START_TIMEOUT, STOP_TIMEOUT, free_port, run, tail

DANTED = Path("/usr/sbin/danted")


def dante_conf(base: Path, port: int, allow_ports: tuple[int, ...], *, username_auth: bool) -> str:
    """danted.conf: loopback in and out; CONNECT allowed to 127.0.0.1 on `allow_ports`, everything else
    blocked by ruleset (so a test can provoke "connection not allowed by ruleset")."""
    method = "username" if username_auth else "none"
    passes = "".join(
        "socks pass {\n"
        f"  from: 127.0.0.0/8 to: 127.0.0.1/32 port = {allowed}\n"
        "  command: connect\n"
        "  protocol: tcp\n"
        "}\n"
        for allowed in allow_ports
    )
    return (
        f"logoutput: {base}/danted.log\n"
        f"internal: 127.0.0.1 port = {port}\n"
        "external: 127.0.0.1\n"
        "clientmethod: none\n"
        f"socksmethod: {method}\n"
        "user.privileged: root\n"
        "user.unprivileged: nobody\n"
        "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}\n"
        f"{passes}"
        "socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: error\n}\n"
    )


@dataclass
class Dante:
    port: int
    base: Path
    allow_ports: tuple[int, ...]
    username_auth: bool
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.base / "danted.log"

    def listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"\x05\x01\x00")  # SOCKS5, one method: none (or refused with 0xff)
                sock.settimeout(1.0)
                return sock.recv(2)[:1] == b"\x05"
        except OSError:
            return False

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until it answers a SOCKS5 greeting."""
        conf = self.base / "danted.conf"
        conf.write_text(dante_conf(self.base, self.port, self.allow_ports, username_auth=self.username_auth))
        check = run([str(DANTED), "-V", "-f", str(conf)])
        if check.returncode != 0:
            raise RuntimeError(f"danted -V: {check.stdout}{check.stderr}\n{tail(self.log)}")
        with (self.base / "danted.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [str(DANTED), "-f", str(conf), "-p", str(self.base / "danted.pid"), "-N", "1"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends it and its children only
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.listening():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"danted did not answer on port {self.port}:\n{tail(self.log)}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """End this dante (the mother and every child it forked); SIGKILL = the proxy dies abruptly."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        pgid = proc.pid  # start_new_session: the group id is the mother's pid
        try:
            os.killpg(pgid, sig)
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and self.listening():
            time.sleep(0.05)
        # children that outlived the mother (same group) go too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def start_dante(base: Path, allow_ports: tuple[int, ...], *, username_auth: bool = False) -> Dante:
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    last = ""
    for _ in range(3):  # a port taken between free_port() and bind: try another
        server = Dante(free_port(), base, allow_ports, username_auth)
        try:
            server.start()
            return server
        except RuntimeError as exc:
            last = str(exc)
    raise RuntimeError(last)
