"""`python -m checks.sim serve ...`: the simulated internet in a process of its own.

Why a process: the benchmark measures the engine, and a simulator sharing the engine's event loop
(or its GIL, as a thread) would steal the very CPU being measured. Run like this:

    python -m checks.sim serve --world national --agencies 8286 --seed 2568 --delay-ms 50

It prints one JSON line when it listens::

    {"dns_port": ..., "smtp_port": ..., "canary_name": ..., "canary_ip": ..., "delay_model": "per_reply"}

then reads commands on stdin, one per line, and answers each with exactly one JSON line:

* ``audit`` (or ``audit <ip>``): the politeness audit (see `audit_to_json`), optionally for one host;
* ``reset``: forget the audit (sessions still open keep counting as open);
* ``delay <ms>``: change the reply delay of DNS and SMTP (new sessions use it);
* ``quit`` (or end of input): stop.

The client rebuilds the same `World` from (world, agencies, seed): the worlds are deterministic.
`delay_model` says what a delay costs: "per_reply" = the SMTP simulator sleeps before every reply,
one command after another, so pipelined commands do not share a delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import deque
from typing import Any

from checks.sim.smtp_server import HostStats, PolitenessAudit
from checks.sim.world import World

_STAT_FIELDS = ("sessions", "active", "max_concurrent", "rcpt", "max_rcpt_per_session",
                "max_sessions_per_minute", "data_commands")


def build_world(name: str, agencies: int, seed: int) -> World:
    """The world a (name, agencies, seed) triple stands for, identical in every process."""
    from checks.sim import worlds

    if name == "national":
        return worlds.national_world(agencies, seed=seed)
    if name == "catalogue":
        return worlds.catalogue_world()
    raise ValueError(f"unknown world {name!r}: use national or catalogue")


def audit_to_json(audit: PolitenessAudit, ip: str | None = None) -> dict[str, Any]:
    """Per host statistics plus totals and the worst value of each limit across hosts."""
    hosts = {h: st for h, st in audit.hosts.items() if ip is None or h == ip}
    per_host = {h: {f: getattr(st, f) for f in _STAT_FIELDS} for h, st in sorted(hosts.items())}
    return {
        "hosts": per_host,
        "total_sessions": sum(s.sessions for s in hosts.values()),
        "total_rcpt": sum(s.rcpt for s in hosts.values()),
        "data_commands": sum(s.data_commands for s in hosts.values()),
        "max_concurrent": max((s.max_concurrent for s in hosts.values()), default=0),
        "max_rcpt_per_session": max((s.max_rcpt_per_session for s in hosts.values()), default=0),
        "max_sessions_per_minute": max((s.max_sessions_per_minute for s in hosts.values()), default=0),
    }


def audit_from_json(data: dict[str, Any]) -> PolitenessAudit:
    """The audit back as a `PolitenessAudit`, so `violations(...)` can be asked on the client side."""
    audit = PolitenessAudit()
    for ip, fields in (data.get("hosts") or {}).items():
        audit.hosts[ip] = HostStats(**{f: int(fields.get(f, 0)) for f in _STAT_FIELDS})
    return audit


def _reset(audit: PolitenessAudit) -> PolitenessAudit:
    """A fresh audit that still knows which sessions are open (they end later and must not go negative)."""
    fresh = PolitenessAudit()
    for ip, st in audit.hosts.items():
        if st.active > 0:
            fresh.hosts[ip] = HostStats(active=st.active, max_concurrent=st.active, starts=deque())
    return fresh


async def _serve(args: argparse.Namespace) -> int:
    from checks.sim.cert import server_context
    from checks.sim.internet import SimInternet

    world = build_world(args.world, args.agencies, args.seed)
    server_context()  # make the certificate now: the first STARTTLS must not pay for a key generation
    async with SimInternet(world, delay=max(0.0, args.delay_ms) / 1000.0) as sim:
        ready = {
            "dns_port": sim.dns.port,
            "smtp_port": sim.smtp.port,
            "canary_name": world.canary_name,
            "canary_ip": world.canary_ip,
            "delay_model": getattr(sim.smtp, "delay_model", "per_reply"),
        }
        _answer(ready)
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return 0
            verb, _, arg = line.strip().partition(" ")
            verb = verb.lower()
            if verb == "":
                continue
            if verb == "quit":
                _answer({"ok": True})
                return 0
            if verb == "audit":
                data = audit_to_json(sim.smtp.audit, arg.strip() or None)
                data["dns_queries"] = sim.dns.queries
                _answer(data)
            elif verb == "reset":
                sim.smtp.audit = _reset(sim.smtp.audit)
                _answer({"ok": True})
            elif verb == "delay":
                try:
                    ms = float(arg)
                except ValueError:
                    _answer({"error": f"delay wants milliseconds, got {arg.strip()[:40]!r}"})
                    continue
                sim.smtp.delay = sim.dns.delay = max(0.0, ms) / 1000.0
                _answer({"ok": True, "delay_ms": max(0.0, ms)})
            else:
                _answer({"error": f"unknown command {verb[:40]!r}: audit, reset, delay <ms>, quit"})


def _answer(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checks.sim", description="the simulated internet")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve a world's DNS and SMTP on loopback, controlled on stdin")
    p.add_argument("--world", choices=("national", "catalogue"), default="national")
    p.add_argument("--agencies", type=int, default=8286)
    p.add_argument("--seed", type=int, default=2568)
    p.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
