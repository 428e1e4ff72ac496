"""Run a World's DNS and SMTP servers on loopback, and hand the engine settings that point at them.

`SimInternet` is an async context manager for tests and async callers. `SimInternetThread` runs the
same in its own thread and event loop, so the console's loop (Textual) and the simulated servers do
not slow each other down during a demo of a national scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from types import TracebackType

from checks.config import EngineConfig
from checks.sim.dns_server import SimDnsServer
from checks.sim.smtp_server import SimSmtpServer
from checks.sim.world import HOST_NORMAL, HostSpec, World

PROBE_HELO = "probe.saraban.go.th"
PROBE_MAIL_FROM = "saraban-probe@opdc.go.th"


class SimInternet:
    """Runs a World's DNS and SMTP servers on loopback; async context manager.

    DNS listens on 127.0.0.1 (UDP and TCP, one port); every mail host listens on its own 127.x.y.z
    address at one common SMTP port. The canary IP always gets a listener: if the world has no host
    there, a plain one is added to the SMTP server (the world itself is not changed).

    The servers share the caller's event loop. That is fine for the catalogue and worlds of a few
    thousand agencies; for a full national scan use `SimInternetThread` (measured: 8,286 agencies
    in one loop with `engine_config()`'s 1 s DNS timeout starve the sim's DNS and trip the canary;
    with the thread the same scan gives every expected group, in about 75 s, paced by politeness).
    """

    def __init__(self, world: World, *, delay: float = 0.0, dns_port: int = 0, smtp_port: int = 0) -> None:
        self.world = world
        self.delay = delay
        hosts = list(world.hosts.values())
        if not any(h.ip == world.canary_ip for h in hosts):
            hosts.append(HostSpec(name=world.canary_name, ip=world.canary_ip, behaviour=HOST_NORMAL,
                                  starttls=True, banner="ESMTP canary"))
        # The sim identity's sender domain must receive mail, as a real office's does (the doctor checks it):
        # a world that does not serve it gets an MX to the canary host, in its extra records.
        sender_domain = PROBE_MAIL_FROM.rpartition("@")[2]
        if sender_domain not in world.domains:
            world.records.setdefault((sender_domain, "MX"), (f"10 {world.canary_name}.",))
        self.dns = SimDnsServer(world, host="127.0.0.1", port=dns_port, delay=delay)
        self.smtp = SimSmtpServer(hosts, port=smtp_port, delay=delay)
        self._started = False

    async def start(self) -> None:
        """Bind DNS, then SMTP; if SMTP cannot bind, DNS is closed again."""
        if self._started:
            return
        await self.dns.start()
        try:
            await self.smtp.start()
        except BaseException:
            await self.dns.stop()
            raise
        self._started = True

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        try:
            await self.smtp.stop()
        finally:
            await self.dns.stop()

    async def __aenter__(self) -> SimInternet:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._started

    def engine_config(self, base: EngineConfig | None = None, *, dns_timeout: float = 1.0,
                      dns_lifetime: float = 2.0, **smtp_overrides: object) -> EngineConfig:
        """A copy of `base` pointed at this internet, with timeouts small enough for tests.

        `smtp_overrides` replace fields of the SMTP settings last (e.g. `retry_delay=0.2`,
        `retries=0`). Worlds' expectations assume retry_delay >= 1 s (short greylists pass on retry).
        A full national scan needs more DNS slack (`dns_timeout=2.0, dns_lifetime=4.0`): measured,
        the engine's own loop stalls past 1 s at that scale and the 1 s default then turns a few
        dozen healthy domains into DNS timeouts.
        """
        base = base or EngineConfig()
        dns = dataclasses.replace(base.dns, nameservers=("127.0.0.1",), port=self.dns.port,
                                  timeout=dns_timeout, lifetime=dns_lifetime)
        smtp_fields: dict[str, object] = {
            "port": self.smtp.port,
            "helo_name": PROBE_HELO,
            "mail_from": PROBE_MAIL_FROM,
            "timeout": 3.0,
            "deadline": 20.0,
            "retry_delay": 1.0,
            "proxy": None,  # the simulated hosts are on this machine: an office relay must not be asked for them
        }
        smtp_fields.update(smtp_overrides)
        smtp = dataclasses.replace(base.smtp, **smtp_fields)  # type: ignore[arg-type]
        canary = dataclasses.replace(
            base.canary,
            resolve=self.world.canary_name,
            connect=f"{self.world.canary_ip}:{self.smtp.port}",
            timeout=min(base.canary.timeout, 2.0),
            interval=min(base.canary.interval, 1.0),
        )
        doctor = dataclasses.replace(
            base.doctor,
            public_ip_resolver="127.0.0.1",  # the sim's DNS plays the "what is my address" service too
            public_ip_port=self.dns.port,
            reference_hosts=self.world.reference_hosts or (self.world.canary_name,),
            timeout=min(base.doctor.timeout, 3.0),
        )
        return dataclasses.replace(base, dns=dns, smtp=smtp, canary=canary, doctor=doctor)

    def set_network_down(self, down: bool) -> None:
        """Our own outage: DNS drops every query and every SMTP connection is reset."""
        self.dns.down = down
        self.smtp.down = down


class SimInternetThread:
    """The same, running in its own thread with its own event loop (for the Textual demo and CLI).

    `start()` blocks until both servers listen and returns the `SimInternet` (its ports and
    `engine_config()` are then usable from any thread; `set_network_down` only flips flags, so it
    is safe to call from another thread too). `stop()` closes the servers and joins the thread.
    """

    def __init__(self, world: World, *, delay: float = 0.0, start_timeout: float = 30.0) -> None:
        self.sim = SimInternet(world, delay=delay)
        self._start_timeout = start_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> SimInternet:
        if self._thread is not None:
            return self.sim
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="saraban-sim-internet", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            self.stop()
            raise TimeoutError("the simulated internet did not start in time")
        if self._error is not None:
            error = self._error
            self._thread.join()
            self._thread = None
            raise error
        return self.sim

    def stop(self) -> None:
        thread, loop, event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(event.set)
        thread.join(timeout=10.0)
        self._thread = None

    def __enter__(self) -> SimInternet:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()
            self._ready.set()  # never leave start() waiting

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            await self.sim.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await self.sim.stop()


__all__ = ["PROBE_HELO", "PROBE_MAIL_FROM", "SimInternet", "SimInternetThread"]
