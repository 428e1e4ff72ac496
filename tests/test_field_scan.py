"""A real scan's guards: placeholder identity refused, the doctor before a full scan, the pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from checks import events as ev
from checks.model import Agency
from checks.sim.field import REFERENCE_HOSTS, blocked_world, doctor_world
from checks.sim.internet import SimInternet, SimInternetThread
from checks.sim.world import MAILBOX_OK, World
from console.cli import main
from console.config import AppConfig
from console.doctor import preflight_for
from console.runner import IdentityRefused, Runner
from console.store import Store

DATA = Path(__file__).parent / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------------------------- identity
def test_placeholder_identity_is_refused_for_a_real_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "office.toml"
    config.write_text('[general]\nlanguage = "en"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), "check", str(DATA / "tak-2568.tsv"), "--json")
    assert code == 2
    assert out == ""
    assert "[smtp] helo_name / [smtp] mail_from" in err and str(config) in err
    assert "saraban-probe.invalid" in err and "reject" in err


def test_placeholder_identity_refusal_in_thai_names_the_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "office.toml"
    config.write_text('[smtp]\nhelo_name = "probe.tak.go.th"\n', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(config), "check", str(DATA / "tak-2568.tsv"))
    assert code == 2
    assert "ไม่เริ่มตรวจอินเทอร์เน็ตจริง: [smtp] mail_from ใน" in err
    assert "[smtp] helo_name" not in err  # that one is set: only the placeholder key is named


def test_placeholder_identity_is_accepted_for_sim_and_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(DATA / "tak-2568.tsv"), "--sim", "catalogue", "--json")
    assert code == 0 and len(out.splitlines()) == 3
    store = tmp_path / "demo.json"
    code, out, _ = run(capsys, "--store", str(store), "demo", "--no-tui", "--agencies", "40", "--delay-ms", "0")
    assert code == 0, out
    assert Store(store).records()[0].verdict is not None


def test_a_recheck_with_placeholder_identity_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    store.merge_import([Agency(id="a1", name="อบต.ทดสอบ", declared="saraban@tak.go.th")], source="t", operator="t")
    runner = Runner(store, AppConfig(store_path=tmp_path / "s.json"))
    with pytest.raises(IdentityRefused, match=r"\[smtp\] helo_name"):
        asyncio.run(runner.recheck("a1"))
    finished = asyncio.run(runner.scan())
    assert finished.stopped is not None and finished.stopped.startswith("identity:") and finished.done == 0
    assert store.records()[0].verdict is None


# ---------------------------------------------------------------------------------------------- doctor first
def _world_with_agencies(situation: str) -> World:
    world = doctor_world(situation)
    mail = world.hosts["mail.opdc.go.th"]
    for i in range(3):
        address = f"saraban{i}@opdc.go.th"
        mail.mailboxes[address] = MAILBOX_OK
        world.agencies.append(Agency(id=f"o{i}", name=f"หน่วยงาน {i}", declared=address, province="ตาก"))
    return world


def _office_config(path: Path, internet: SimInternet) -> Path:
    """A real office's config file whose DNS, SMTP and doctor point at the simulated internet."""
    cfg = internet.engine_config()
    hosts = ", ".join(f'"{h}"' for h in REFERENCE_HOSTS)
    path.write_text(
        f'[general]\nlanguage = "en"\n'
        f'[dns]\nnameservers = ["127.0.0.1"]\nport = {cfg.dns.port}\ntimeout = 1.0\nlifetime = 2.0\n'
        f'[smtp]\nport = {cfg.smtp.port}\nhelo_name = "{cfg.smtp.helo_name}"\nmail_from = "{cfg.smtp.mail_from}"\n'
        "timeout = 2.0\ndeadline = 10.0\nretries = 0\n"
        f'[canary]\nresolve = "{cfg.canary.resolve}"\nconnect = "{cfg.canary.connect}"\ninterval = 0.5\n'
        f'[doctor]\npublic_ip_resolver = "127.0.0.1"\npublic_ip_port = {cfg.dns.port}\nreference_hosts = [{hosts}]\n'
        "timeout = 2.0\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture()
def blocked_office(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    world = _world_with_agencies("port25_blocked")
    with SimInternetThread(world) as internet:
        config = _office_config(tmp_path / "office.toml", internet)
        store = tmp_path / "store.json"
        Store(store).merge_import(world.agencies, source="t", operator="t")
        yield config, store


def test_check_all_runs_the_doctor_first_and_a_failure_stops_it(
    blocked_office: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, store = blocked_office
    code, out, _ = run(capsys, "--config", str(config), "--store", str(store), "check", "--all")
    assert code == 3
    assert "Scan not started: Outbound port" in out and "open outbound port 25" in out
    assert all(r.verdict is None for r in Store(store).records())


def test_a_doctor_warning_is_shown_and_the_scan_goes_on(tmp_path: Path) -> None:
    async def scan() -> tuple[ev.ScanFinished, list[ev.Event]]:
        world = _world_with_agencies("ptr_mismatch")
        async with SimInternet(world) as internet:
            engine = internet.engine_config()
            engine = replace(engine, doctor=replace(engine.doctor, timeout=2.0))
            config = AppConfig(engine=engine, store_path=tmp_path / "s.json", language="en")
            store = Store(config.store_path)
            store.merge_import(world.agencies, source="t", operator="t")
            events: list[ev.Event] = []
            finished = await Runner(store, config, preflight=preflight_for(config)).scan(None, events.append)
            return finished, events

    finished, events = asyncio.run(scan())
    warnings = [e.message for e in events if isinstance(e, ev.PreflightWarning)]
    assert len(warnings) == 1 and "is not helo_name probe.saraban.go.th" in warnings[0]
    assert finished.stopped is None and finished.counts == {"A1": 3}


# ---------------------------------------------------------------------------------------------- the pilot
def _blocked_store(tmp_path: Path, world: World) -> Path:
    store = tmp_path / "store.json"
    Store(store).merge_import(world.agencies, source="t", operator="t")
    return store


def test_pilot_stops_a_national_scan_when_most_hosts_reject_the_prober(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _blocked_store(tmp_path, blocked_world())
    code, out, _ = run(capsys, "--store", str(store), "--lang", "en", "check", "--all", "--sim", "blocked")
    assert code == 3
    assert "it is our side, not the agencies'" in out
    assert "32 of 40 mail hosts refused our sender" in out
    groups = [r.verdict.group if r.verdict else None for r in Store(store).records()]
    assert "D3" not in groups and set(groups) == {None}


def test_pilot_passes_when_only_a_few_hosts_reject_and_the_scan_goes_on(tmp_path: Path) -> None:
    world = blocked_world(refusing_share=0.1)

    async def scan() -> ev.ScanFinished:
        async with SimInternet(world) as internet:
            engine = internet.engine_config(dns_timeout=2.0, dns_lifetime=4.0)  # a loaded CI machine
            config = AppConfig(engine=engine, store_path=tmp_path / "s.json")
            store = Store(config.store_path)
            store.merge_import(world.agencies, source="t", operator="t")
            return await Runner(store, config).scan()

    finished = asyncio.run(scan())
    assert finished.stopped is None and finished.done == len(world.agencies)
    # the 6 refusing hosts' 24 agencies are E (the prober is blocked there), never D; the rest ready
    assert finished.counts.get("E", 0) >= 24 and finished.counts.get("A1", 0) >= 200
    assert not any(g.startswith("D") for g in finished.counts)


def test_pilot_stops_when_every_host_is_silent(tmp_path: Path) -> None:
    world = blocked_world(domains=12, per_domain=20, refusing_share=1.0, silent=True)

    async def scan() -> ev.ScanFinished:
        async with SimInternet(world) as internet:
            engine = internet.engine_config(timeout=0.5, deadline=3.0)
            engine = replace(engine, pilot=replace(engine.pilot, size=10), canary=replace(engine.canary, connect=""))
            config = AppConfig(engine=engine, store_path=tmp_path / "s.json", language="en")
            store = Store(config.store_path)
            store.merge_import(world.agencies, source="t", operator="t")
            return await Runner(store, config).scan()

    finished = asyncio.run(scan())
    assert finished.stopped is not None and finished.stopped.startswith("pilot: silent: 10/10")
    assert finished.done == 0


# ---------------------------------------------------------------------------------------------- IPv6
def test_an_ipv6_only_mail_host_is_not_probed_by_default_and_never_d2() -> None:
    from checks.scheduler import Scanner
    from checks.sim.world import DNS_MX, DomainSpec, HostSpec

    world = World()
    world.hosts["mx6.tambon6.go.th"] = HostSpec(name="mx6.tambon6.go.th", ip="::1")
    world.domains["tambon6.go.th"] = DomainSpec("tambon6.go.th", DNS_MX, ((10, "mx6.tambon6.go.th"),))
    agency = Agency(id="v6", name="อบต.หกหก", declared="saraban@tambon6.go.th")

    async def scan() -> str:
        async with SimInternet(world) as internet:
            scanner = Scanner(internet.engine_config(retries=0))
            await scanner.run([agency])
            verdict = scanner.verdicts["v6"]
            assert verdict.evidence.probe is not None
            attempts = verdict.evidence.probe.attempts
            assert attempts and all(a.ip is None and a.outcome == "timeout" for a in attempts)  # not tried
            return verdict.group

    assert asyncio.run(scan()) == "E"
