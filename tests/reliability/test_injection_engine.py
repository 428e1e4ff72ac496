"""Untrusted text never becomes an SMTP command or a terminal escape (issue 6, part 5, engine level).

Declared addresses that smuggle line breaks, NUL, control characters, ESMTP parameters or a second
address are B3 and never reach a mail server as written; what a hostile mail server or DNS zone says
reaches the evidence without ESC, BEL or other control characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from simkit import fast_config

from checks import model as m
from checks.scheduler import Scanner
from checks.sim.internet import SimInternet
from checks.sim.world import (
    DNS_MX,
    HOST_GARBAGE,
    MAILBOX_OK,
    DomainSpec,
    HostSpec,
    World,
)

CANARY_IP = "127.64.0.1"
DOMAIN = "tambon.go.th"
HOST = HostSpec("mx.tambon.go.th", "127.64.1.1", starttls=True)
KNOWN = ("saraban@tambon.go.th", "info@tambon.go.th", "z@w.go.th")

# Every declared text below is B3. Their domains resolve to a live sim host that accepts the
# mailboxes, so anything the engine sent as written would be received and seen by the assertions.
HOSTILE_DECLARED: dict[str, str] = {
    "crlf-rcpt": "saraban@tambon.go.th\r\nRCPT TO:<z@w.go.th>",
    "lf-rcpt": "saraban@tambon.go.th\nRCPT TO:<z@w.go.th>",
    "cr-rcpt": "saraban@tambon.go.th\rRCPT TO:<z@w.go.th>",
    "nul-rcpt": "saraban@tambon.go.th\x00RCPT TO:<z@w.go.th>",
    "unicode-line-separator": "saraban@tambon.go.th\u2028RCPT TO:<z@w.go.th>",
    "c1-next-line": "saraban@tambon.go.th\x85RCPT TO:<z@w.go.th>",
    "close-angle-crlf": "saraban@tambon.go.th>\r\nRCPT TO:<z@w.go.th",
    "bel-inside": "sara\x07ban@tambon.go.th",
    "esc-after": "saraban@tambon.go.th\x1b[31m",
    "notify": "saraban@tambon.go.th NOTIFY=SUCCESS",
    "notify-tab": "saraban@tambon.go.th\tNOTIFY=SUCCESS",
    "orcpt": "saraban@tambon.go.th ORCPT=rfc822;z@w.go.th",
    "angle": "<saraban@tambon.go.th>",
    "display-name-notify": "Saraban <saraban@tambon.go.th> NOTIFY=SUCCESS",
    "two-addresses": "saraban@tambon.go.th,info@tambon.go.th",
    # the literal forms of the issue
    "brief-crlf": "x@y\r\nRCPT TO:<z@w>",
    "brief-notify": "a@b NOTIFY=SUCCESS",
    "brief-angle": "<a@b>",
    "brief-list": "a@b.go.th,c@d.go.th",
}

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ONE_RCPT = re.compile(r"RCPT TO:<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+>", re.ASCII)




def new_world(host: HostSpec) -> World:
    world = World(canary_name="canary.opdc.go.th", canary_ip=CANARY_IP)
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", CANARY_IP)
    world.hosts[host.name] = host
    return world


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string (keys included) in a JSON-like value, with where it is."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key)
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from strings(item, f"{path}[{i}]")


def control_chars(data: Any, *, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(path, text) of every string holding a control character (ESC, BEL, C1, bidi overrides…)."""
    return [(p, s) for p, s in strings(data) if p not in skip and _CONTROL.search(s.replace("\n", "").replace("\t", ""))]


# --------------------------------------------------------------------------------------------
# Declared addresses
# --------------------------------------------------------------------------------------------
async def test_hostile_declared_addresses_never_reach_the_mail_server_as_written() -> None:
    host = replace(HOST, mailboxes={a: MAILBOX_OK for a in KNOWN}, catch_all=False)
    world = new_world(host)
    for domain in (DOMAIN, "w.go.th", "b.go.th", "d.go.th"):
        world.domains[domain] = DomainSpec(domain, DNS_MX, ((10, host.name),))
    agencies = [m.Agency(id=k, name=f"อบต.{k}", declared=v) for k, v in HOSTILE_DECLARED.items()]
    control = m.Agency(id="control", name="อบต.ปกติ", declared="saraban@tambon.go.th")
    async with SimInternet(world) as sim:
        scanner = Scanner(fast_config(sim))
        finished = await scanner.run([*agencies, control])
        lines = sim.smtp.received_commands()
        raw = [line for _ip, line in sim.smtp.received]
    assert finished.stopped is None and finished.unfinished == ()
    # the path to the mail server works (a control agency gets A1, suggested fixes are probed) ...
    assert scanner.verdicts["control"].group == "A1"
    rcpts = [line for line in lines if line.upper().startswith("RCPT")]
    assert any("saraban@tambon.go.th" in line for line in rcpts)
    # ... and yet nothing smuggled arrives there
    for line in lines:
        assert "NOTIFY" not in line.upper() and "ORCPT" not in line.upper(), line
        assert "z@w" not in line, line
    for line in raw:
        assert not _CONTROL.search(line.rstrip(b"\r").decode("utf-8", "replace")), line
        assert b"\x00" not in line and b"\r" not in line.rstrip(b"\r")
    for line in rcpts:
        assert _ONE_RCPT.fullmatch(line), f"not exactly one plain address: {line!r}"
    assert all(not line.upper().startswith("DATA") for line in lines)
    # every hostile text is B3, whatever the probe of a suggested fix found
    for agency in agencies:
        verdict = scanner.verdicts[agency.id]
        assert verdict.group == "B3", (agency.id, verdict.group)
        assert m.BAD_SYNTAX in verdict.finding_codes
        assert verdict.evidence.probe is None  # the declared text itself was never probed
        assert verdict.evidence.normalized is None
        # the engine's own words never echo the control characters of the declared text
        assert not control_chars(verdict.to_json(), skip=(".evidence.declared",)), agency.id
    # a line break or control character may be an attack: no fix is derived from it, nothing probed
    for key in ("crlf-rcpt", "lf-rcpt", "cr-rcpt", "nul-rcpt", "brief-crlf", "bel-inside", "esc-after"):
        verdict = scanner.verdicts[key]
        assert verdict.suggested_fix is None and verdict.evidence.fix_probe is None, key


async def test_an_unsafe_sender_in_the_settings_never_reaches_the_wire() -> None:
    """The last line of defence: a MAIL FROM with a line break in the config sends nothing at all."""
    host = replace(HOST, mailboxes={"saraban@tambon.go.th": MAILBOX_OK})
    world = new_world(host)
    world.domains[DOMAIN] = DomainSpec(DOMAIN, DNS_MX, ((10, host.name),))
    agency = m.Agency(id="a", name="อบต.ก", declared="saraban@tambon.go.th")
    async with SimInternet(world) as sim:
        cfg = fast_config(sim, mail_from="probe@opdc.go.th>\r\nRCPT TO:<z@w.go.th", retries=0)
        scanner = Scanner(cfg)
        finished = await scanner.run([agency])
        lines = sim.smtp.received_commands(host.ip)
    assert finished.stopped is None
    assert lines == []
    verdict = scanner.verdicts["a"]
    assert verdict.group == "E"  # our own fault, never the agency's (not D2/D3)
    assert not control_chars(verdict.to_json())


# --------------------------------------------------------------------------------------------
# What servers say
# --------------------------------------------------------------------------------------------
HOSTILE_BANNER = (
    "ESMTP [bold]x[/] [link=https://evil.example]click[/link] \x1b]2;pwned\x07 \x1b[31mred\x1b[0m "
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b31m \u202eevil\u202c \x00nul \x7fdel"
)


@pytest.mark.parametrize("starttls", [False, True])
async def test_banner_markup_and_escapes_end_in_the_evidence_without_control_characters(starttls: bool) -> None:
    host = replace(HOST, banner=HOSTILE_BANNER, starttls=starttls, mailboxes={"saraban@tambon.go.th": MAILBOX_OK})
    world = new_world(host)
    world.domains[DOMAIN] = DomainSpec(DOMAIN, DNS_MX, ((10, host.name),))
    agencies = [
        m.Agency(id="ok", name="อบต.ก", declared="saraban@tambon.go.th"),
        m.Agency(id="unknown", name="อบต.ข", declared="nobody@tambon.go.th"),
    ]
    async with SimInternet(world) as sim:
        scanner = Scanner(fast_config(sim))
        finished = await scanner.run(agencies)
    assert finished.stopped is None
    assert scanner.verdicts["ok"].group == "A1"
    assert scanner.verdicts["unknown"].group == "D3"
    for verdict in scanner.verdicts.values():
        data = verdict.to_json()
        assert not control_chars(data), control_chars(data)
        banner = next(
            e["reply"]["text"]
            for a in data["evidence"]["probe"]["attempts"]
            for e in a["transcript"]
            if e["command"] == "<connect>"
        )
        # the text is kept as evidence (literally, markup and all), only the controls are gone
        assert "[bold]x[/]" in banner and "red" in banner and "evil" in banner
        assert "pwned" not in banner  # an OSC window title is removed whole, not left half-printed
        assert verdict.evidence.one_line() and not _CONTROL.search(verdict.evidence.one_line())


async def test_mail_host_names_from_dns_with_escapes_stay_inert() -> None:
    """A zone can hold any byte in a label; the MX name comes back escaped (\\027), never raw."""
    name = "mx\\027[31m\\007[bold]x[/].evil.go.th"  # DNS text escapes: the label holds ESC and BEL bytes
    host = HostSpec(name, "127.64.2.1", mailboxes={"saraban@evil.go.th": MAILBOX_OK})
    world = new_world(host)
    world.domains["evil.go.th"] = DomainSpec("evil.go.th", DNS_MX, ((10, name),))
    agency = m.Agency(id="a", name="อบต.ก", declared="saraban@evil.go.th")
    async with SimInternet(world) as sim:
        scanner = Scanner(fast_config(sim))
        await scanner.run([agency])
    verdict = scanner.verdicts["a"]
    assert verdict.group == "A1"  # the host was reached, so its name really went through DNS
    assert not control_chars(verdict.to_json())


async def test_garbage_from_a_mail_host_leaves_no_control_characters_in_the_evidence() -> None:
    host = HostSpec("mx.garbage.go.th", "127.64.3.1", behaviour=HOST_GARBAGE)
    world = new_world(host)
    world.domains["garbage.go.th"] = DomainSpec("garbage.go.th", DNS_MX, ((10, host.name),))
    agencies = [m.Agency(id=f"g{i}", name=f"อบต.{i}", declared=f"saraban{i}@garbage.go.th") for i in range(5)]
    async with SimInternet(world) as sim:
        scanner = Scanner(fast_config(sim, retries=3, retry_delay=0.05))
        await scanner.run(agencies)
    for verdict in scanner.verdicts.values():
        assert verdict.group == "E"
        assert not control_chars(verdict.to_json())
