"""`saraban doctor` against the simulated internet: each field situation, its status and its advice."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from checks.config import EngineConfig, SmtpConfig
from checks.doctor import FAIL, PASS, UNKNOWN, WARN, DoctorReport, run_doctor
from checks.sim.field import OUR_IP, doctor_world
from checks.sim.internet import SimInternet
from console.cli import main
from console.doctor import problem, todo


async def diagnose(situation: str, **smtp: str) -> DoctorReport:
    async with SimInternet(doctor_world(situation)) as internet:
        config = internet.engine_config()
        if smtp:
            config = replace(config, smtp=replace(config.smtp, **smtp))
        config = replace(config, doctor=replace(config.doctor, timeout=2.0))
        return await run_doctor(config, ipv6_probe=lambda: None)


def only_problem(report: DoctorReport) -> tuple[str, str, str]:
    """The one check that is not a pass: (check, status, code)."""
    others = [(r.check, r.status, r.code) for r in report.results if r.status != PASS]
    assert len(others) == 1, others
    return others[0]


def advice(report: DoctorReport, check: str, lang: str = "en") -> str:
    result = report.result(check)
    assert result is not None
    return problem(result, lang) + " / " + todo(result, lang)


def test_healthy_identity_passes_every_check() -> None:
    report = asyncio.run(diagnose("healthy"))
    assert [r.status for r in report.results] == [PASS] * len(report.results)
    assert report.public_ip == OUR_IP
    assert report.status == PASS


def test_ptr_present_and_matching() -> None:
    report = asyncio.run(diagnose("healthy"))
    ptr = report.result("reverse_dns")
    assert ptr is not None and ptr.code == "ptr_ok"
    assert ("PTR 25.113.0.203.in-addr.arpa", "probe.saraban.go.th") in [(e.asked, e.answer) for e in ptr.evidence]


def test_ptr_missing_fails_and_sends_to_our_network_administrator() -> None:
    report = asyncio.run(diagnose("ptr_missing"))
    assert only_problem(report) == ("reverse_dns", FAIL, "ptr_missing")
    text = advice(report, "reverse_dns")
    assert OUR_IP in text and "set the PTR" in text and "network administrator" in text
    assert "ตั้ง PTR ของ 203.0.113.25 เป็น probe.saraban.go.th" in advice(report, "reverse_dns", "th")


def test_ptr_mismatched_with_helo_name_warns() -> None:
    report = asyncio.run(diagnose("ptr_mismatch"))
    assert only_problem(report) == ("reverse_dns", WARN, "ptr_helo_mismatch")
    assert "host-203-0-113-25.dynamic.isp-net.co.th" in advice(report, "reverse_dns")
    assert report.status == WARN


def test_blocklisted_address_fails_naming_the_list() -> None:
    report = asyncio.run(diagnose("blocklisted"))
    assert only_problem(report) == ("dnsbl", FAIL, "dnsbl_listed")
    text = advice(report, "dnsbl")
    assert "zen.spamhaus.org" in text and "delisting" in text and "do not run a national scan" in text


def test_spamhaus_refusing_a_public_resolver_is_could_not_ask_not_listed() -> None:
    report = asyncio.run(diagnose("dnsbl_refused"))
    assert only_problem(report) == ("dnsbl", UNKNOWN, "dnsbl_unknown")
    assert "127.255.255" in advice(report, "dnsbl")
    assert report.status == WARN


def test_spf_pass() -> None:
    report = asyncio.run(diagnose("healthy"))
    spf = report.result("spf")
    assert spf is not None and (spf.status, spf.code) == (PASS, "spf_pass")


def test_spf_fail_tells_the_mail_administrator_what_to_add() -> None:
    report = asyncio.run(diagnose("spf_fail"))
    assert only_problem(report) == ("spf", FAIL, "spf_fail")
    assert f"add ip4:{OUR_IP} to the SPF of opdc.go.th" in advice(report, "spf")


def test_port_25_silently_dropped_is_blocked_by_our_network() -> None:
    report = asyncio.run(diagnose("port25_blocked"))
    assert only_problem(report) == ("port25", FAIL, "port25_blocked")
    text = advice(report, "port25")
    assert "open outbound port 25" in text and "SOCKS5" in text
    port25 = report.result("port25")
    assert port25 is not None and all("silent" in e.answer for e in port25.evidence)


def test_intercepting_proxy_is_told_apart_from_reachable_hosts() -> None:
    report = asyncio.run(diagnose("intercepted"))
    assert only_problem(report) == ("port25", FAIL, "port25_intercepted")
    assert "smtp-gw.office-firewall.co.th" in advice(report, "port25")


def test_placeholder_identity_fails_naming_both_keys() -> None:
    placeholder = SmtpConfig()
    report = asyncio.run(diagnose("healthy", helo_name=placeholder.helo_name, mail_from=placeholder.mail_from))
    failing = {r.check: r.code for r in report.failures()}
    assert failing == {"helo_name": "helo_placeholder", "mail_from": "sender_placeholder"}
    assert "[smtp] helo_name" in advice(report, "helo_name") and "[smtp] mail_from" in advice(report, "mail_from")


def test_a_dead_network_gives_could_not_tell_with_what_was_tried() -> None:
    """Nothing answers: every network check ends within its timeout as "could not tell", never a hang."""

    async def run() -> DoctorReport:
        async with SimInternet(doctor_world("healthy")) as internet:
            config = internet.engine_config(dns_timeout=0.3, dns_lifetime=0.6)
            config = replace(config, doctor=replace(config.doctor, timeout=1.0))
            internet.set_network_down(True)
            async with asyncio.timeout(20):
                return await run_doctor(config, ipv6_probe=lambda: None)

    report = asyncio.run(run())
    for check in ("mail_from", "public_ip", "reverse_dns", "dnsbl", "spf"):
        result = report.result(check)
        assert result is not None and result.status == UNKNOWN, (check, result)
    public_ip = report.result("public_ip")
    assert public_ip is not None and any("myip.opendns.com" in e.asked for e in public_ip.evidence)
    port25 = report.result("port25")  # not one large provider's name resolves: our DNS is down, a failure
    assert port25 is not None and (port25.status, port25.code) == (FAIL, "dns_dead")
    assert report.status == FAIL
    assert not any("agenc" in advice(report, r.check).lower() for r in report.results if r.status != PASS)


@pytest.mark.parametrize(("situation", "code"), [("healthy", 0), ("ptr_mismatch", 1), ("port25_blocked", 3)])
def test_cli_exit_codes_and_json(situation: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "doctor", "--sim", situation, "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == {0: "pass", 1: "warn", 3: "fail"}[code]
    assert [c["check"] for c in data["checks"]] == [
        "helo_name", "mail_from", "canary", "public_ip", "reverse_dns", "port25", "dnsbl", "spf", "ipv6"
    ]


def test_cli_prints_evidence_and_advice_in_thai(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--sim", "port25_blocked"]) == 3
    out = capsys.readouterr().out
    assert "[ไม่ผ่าน] การออกพอร์ต 25" in out
    assert "ถาม: TCP mx.ref-mail.co.th" in out
    assert "ควรทำ: ขอให้ผู้ดูแลเครือข่ายของสำนักงานเราเปิดการออกพอร์ต 25" in out


def test_canary_is_on_by_default_and_off_only_when_asked(tmp_path: object) -> None:
    from pathlib import Path

    from console.config import parse_config

    identity = '[smtp]\nhelo_name = "probe.tak.go.th"\nmail_from = "saraban@tak.go.th"\n'
    config = parse_config(identity, Path("c.toml")).engine
    assert config.canary.resolve == "tak.go.th"
    assert config.canary.connect == f"{EngineConfig().doctor.reference_hosts[0]}:25"
    off = parse_config(identity + '[canary]\nresolve = "off"\nconnect = "off"\n', Path("c.toml")).engine
    assert (off.canary.resolve, off.canary.connect) == ("", "")


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[doctor]\ndnsbl_zones = ["zen spamhaus org"]\n', "doctor.dnsbl_zones"),
        ('[doctor]\nreference_hosts = ["mx..example"]\n', "doctor.reference_hosts"),
        ('[doctor]\npublic_ip = "203.0.113"\n', "doctor.public_ip"),
        ("[pilot]\nblame_share = 0\n", "pilot.blame_share"),
    ],
)
def test_malformed_doctor_config_is_refused_with_file_line_and_key(toml: str, key: str) -> None:
    from pathlib import Path

    from console.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=rf"^c\.toml:2: {key}: "):
        parse_config(toml, Path("c.toml"))


# ---------------------------------------------------------------------------------------------- through a relay
async def diagnose_via_proxy(situation: str, *, allow: bool = True, public_ip: str = "") -> tuple[DoctorReport, int]:
    from checks.config import parse_socks_url
    from checks.sim.socks5 import SimSocks5Server
    from console.doctor import diagnose as console_diagnose

    async with SimInternet(doctor_world(situation)) as internet, SimSocks5Server(allow=lambda ip, port: allow) as proxy:
        config = internet.engine_config()
        config = replace(
            config,
            smtp=replace(config.smtp, proxy=parse_socks_url(proxy.url)),
            doctor=replace(config.doctor, timeout=2.0, public_ip=public_ip),
        )
        return await console_diagnose(config), proxy.connections


def test_port_25_is_checked_through_the_relay_and_its_address_is_judged() -> None:
    report, relayed = asyncio.run(diagnose_via_proxy("healthy", public_ip=OUR_IP))
    assert relayed >= 3  # every reference host was reached through the relay, not directly
    assert [r.status for r in report.results if r.check != "ipv6"] == [PASS] * 8


def test_behind_a_relay_our_own_address_is_not_the_one_hosts_see() -> None:
    report, _ = asyncio.run(diagnose_via_proxy("healthy"))
    public_ip = report.result("public_ip")
    assert public_ip is not None and (public_ip.status, public_ip.code) == (UNKNOWN, "public_ip_proxy")
    assert "set [doctor] public_ip" in advice(report, "public_ip")


def test_a_relay_refusing_port_25_is_ours() -> None:
    report, _ = asyncio.run(diagnose_via_proxy("healthy", allow=False, public_ip=OUR_IP))
    port25 = report.result("port25")
    assert port25 is not None and (port25.status, port25.code) == (FAIL, "port25_proxy_failed")
    assert "not allowed by ruleset" in advice(report, "port25") and "[smtp] proxy" in advice(report, "port25")
