"""The doctor's DNS checks against a real unbound: PTR and FCrDNS, blocklists, SPF (pyspf via our resolver).

The simulator answers what we think DNS servers send; unbound answers what a real recursive server
sends for PTR, a static-zone NXDOMAIN under a blocklist zone, a 127.255.255.x refusal and a TXT SPF
record, and pyspf must reach it through the configured resolver (not /etc/resolv.conf).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from checks.config import DnsConfig, DoctorConfig, EngineConfig, SmtpConfig
from checks.doctor import FAIL, PASS, UNKNOWN, WARN, DoctorReport, run_doctor

from .mailstack import (
    DNSBL_REFUSING_ZONE,
    DNSBL_ZONE,
    DOMAIN,
    NO_PTR_IP,
    OUR_IP,
    PROBE_FROM,
    PROBE_HELO,
    UNCONFIRMED_IP,
    Unbound,
)

pytestmark = pytest.mark.integration

DNS_CHECKS = ("reverse_dns", "dnsbl", "spf")


def config(unbound: Unbound, ip: str, zones: tuple[str, ...] = (DNSBL_ZONE,)) -> EngineConfig:
    return EngineConfig(
        dns=DnsConfig(nameservers=("127.0.0.1",), port=unbound.port, timeout=1, lifetime=3),
        smtp=SmtpConfig(helo_name=PROBE_HELO, mail_from=PROBE_FROM),
        doctor=replace(DoctorConfig(), public_ip=ip, dnsbl_zones=zones, timeout=6.0),
    )


def doctor(engine: EngineConfig) -> DoctorReport:
    return asyncio.run(run_doctor(engine, only=DNS_CHECKS, ipv6_probe=lambda: None))


def status(report: DoctorReport, check: str) -> tuple[str, str]:
    result = report.result(check)
    assert result is not None
    return result.status, result.code


def test_our_address_with_matching_ptr_listed_and_spf_pass(unbound: Unbound) -> None:
    report = doctor(config(unbound, OUR_IP))
    assert status(report, "reverse_dns") == (PASS, "ptr_ok")
    assert status(report, "dnsbl") == (FAIL, "dnsbl_listed")
    assert status(report, "spf") == (PASS, "spf_pass")
    dnsbl = report.result("dnsbl")
    assert dnsbl is not None and dnsbl.detail["listed"] == DNSBL_ZONE


def test_an_address_without_ptr_not_listed_and_spf_fail(unbound: Unbound) -> None:
    report = doctor(config(unbound, NO_PTR_IP))
    assert status(report, "reverse_dns") == (FAIL, "ptr_missing")
    assert status(report, "dnsbl") == (PASS, "dnsbl_clean")  # NXDOMAIN from the static zone
    assert status(report, "spf") == (FAIL, "spf_fail")
    spf = report.result("spf")
    assert spf is not None and spf.detail["domain"] == DOMAIN


def test_a_ptr_that_does_not_resolve_back_is_not_confirmed(unbound: Unbound) -> None:
    report = doctor(config(unbound, UNCONFIRMED_IP))
    assert status(report, "reverse_dns") == (WARN, "ptr_not_confirmed")
    ptr = report.result("reverse_dns")
    assert ptr is not None and ptr.detail["ptr"] == f"other.{DOMAIN}"


def test_a_blocklist_refusing_our_resolver_is_could_not_ask(unbound: Unbound) -> None:
    report = doctor(config(unbound, OUR_IP, zones=(DNSBL_REFUSING_ZONE,)))
    assert status(report, "dnsbl") == (UNKNOWN, "dnsbl_unknown")
