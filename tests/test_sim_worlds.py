"""The simulated worlds tell the truth about themselves, and the SimInternet serves them on loopback."""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import threading
import unicodedata
from collections import Counter
from pathlib import Path

import dns.asyncresolver
import dns.exception
import dns.resolver
import pytest

from checks.address import read_address
from checks.config import EngineConfig, PolicyConfig, SmtpConfig
from checks.model import FLAGS
from checks.sim.internet import SimInternet, SimInternetThread
from checks.sim.world import (
    DNS_A_ONLY,
    DNS_MX,
    DNS_NXDOMAIN,
    HOST_NORMAL,
    MAILBOX_OK,
    World,
)
from checks.sim.worlds import CATALOGUE_FLAGS, catalogue_world, national_world, tak_agencies

TAK_TSV = Path(__file__).parent / "data" / "tak-2568.tsv"
GROUPS = ("A1", "A2", "B1", "B2", "B3", "C", "D1", "D2", "D3", "E", "W")
LOCAL_KINDS = {"องค์การบริหารส่วนตำบล", "เทศบาลตำบล", "เทศบาลเมือง", "เทศบาลนคร", "องค์การบริหารส่วนจังหวัด"}
BUCKET = {"A1": "A", "A2": "A", "W": "W"}  # every other group is in OPDC's "B-E" bucket
OPDC_SHARES = {"A": 6536 / 8286, "BE": 1454 / 8286, "W": 296 / 8286}


@pytest.fixture(scope="module")
def nation() -> World:
    return national_world()


@pytest.fixture(scope="module")
def catalogue() -> World:
    return catalogue_world()


# -- helpers: an independent reading of a world's data -------------------------------------------


def _listening_hosts(world: World, domain: str) -> list:
    """The normal hosts mail for `domain` can reach (MX targets that exist, or the A record's host)."""
    spec = world.domains.get(domain)
    if spec is None:
        return []
    by_ip = world.host_by_ip()
    if spec.mode == DNS_MX:
        hosts = [world.hosts.get(name) for _, name in spec.mx]
    elif spec.mode == DNS_A_ONLY:
        hosts = [by_ip.get(ip) for ip in spec.a]
    else:
        return []
    return [h for h in hosts if h is not None and h.behaviour == HOST_NORMAL]


def _accepts(world: World, address: str) -> bool:
    """Some reachable normal host accepts the mailbox at once or after a short greylist."""
    domain = address.rsplit("@", 1)[1].lower()
    hosts = _listening_hosts(world, domain)
    return any(
        not h.reject_prober
        and h.greylist_seconds < 1.0
        and (h.mailboxes.get(address.lower()) == MAILBOX_OK
             or (h.catch_all and address.lower() not in h.mailboxes))
        for h in hosts
    )


def _edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b: gmial.com is 1 from gmail.com."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _check_world_consistency(world: World) -> None:
    """What each expected group claims is what the world's data says (a generator bug shows here)."""
    problems: list[str] = []
    for agency in world.agencies:
        group = world.expected[agency.id]
        reading = read_address(agency.declared)
        if group in ("W", "C"):
            continue
        if group == "B3":
            if reading.ok:
                problems.append(f"{agency.id}: B3 but {agency.declared!r} reads as valid")
            continue
        if not reading.ok:
            problems.append(f"{agency.id}: {group} but {agency.declared!r} is invalid: {reading.problems}")
            continue
        address = reading.address or ""
        domain = address.rsplit("@", 1)[1].lower()
        if group in ("A1", "A2") and not _accepts(world, address):
            problems.append(f"{agency.id}: {group} but no reachable host accepts {address}")
        if group == "D1":
            spec = world.domains.get(domain)
            if spec is not None and spec.mode != DNS_NXDOMAIN:
                problems.append(f"{agency.id}: D1 but {domain} exists ({spec.mode})")
        if group == "D2" and (_listening_hosts(world, domain) or world.domains.get(domain) is None):
            problems.append(f"{agency.id}: D2 but {domain} has a listening host or does not exist")
        if group == "D3":
            hosts = _listening_hosts(world, domain)
            if not hosts or any(h.catch_all or h.mailboxes.get(address.lower()) == MAILBOX_OK for h in hosts):
                problems.append(f"{agency.id}: D3 but {address} is not rejected by a reachable host")
        if agency.parent_announcement != (group == "A2"):
            problems.append(f"{agency.id}: parent_announcement does not match {group}")
    assert problems == []


def _check_network_layout(world: World) -> None:
    ips = [h.ip for h in world.hosts.values()]
    assert len(ips) == len(set(ips)), "host IPs must be unique"
    for ip in ips:
        address = ipaddress.ip_address(ip)
        assert address in ipaddress.ip_network("127.0.0.0/8")
        assert ip != "127.0.0.1"
    assert world.canary_ip in ips, "the canary must have an SMTP listener"


# -- the national world --------------------------------------------------------------------------


def test_national_world_has_opdc_scale(nation: World) -> None:
    assert len(nation.agencies) == 8286
    assert len({a.id for a in nation.agencies}) == 8286
    assert len({a.province for a in nation.agencies}) == 77
    local = [a for a in nation.agencies if a.kind in LOCAL_KINDS]
    assert len(local) == 7842
    assert len({(a.province, a.district) for a in local}) == 878
    assert set(nation.expected) == {a.id for a in nation.agencies}


def test_national_rows_are_numbered_like_one_list(nation: World) -> None:
    """ลำดับที่ runs 1..n over the whole list in list order (as the national list behind the Tak rows
    does), so a national store sorted by ลำดับที่ shows distinct numbers, not 77 rows of "1"."""
    assert [a.seq for a in nation.agencies] == [str(i) for i in range(1, len(nation.agencies) + 1)]
    provinces = [a.province for a in nation.agencies]
    runs = [p for i, p in enumerate(provinces) if i == 0 or provinces[i - 1] != p]
    assert len(runs) == 77  # each province's rows are together: its sheet is one block with gaps


def test_national_world_group_mix_matches_opdc(nation: World) -> None:
    buckets = Counter(BUCKET.get(g, "BE") for g in nation.expected.values())
    for bucket, share in OPDC_SHARES.items():
        assert abs(buckets[bucket] / 8286 - share) <= 0.015, (bucket, buckets[bucket])
    groups = Counter(nation.expected.values())
    assert set(groups) == set(GROUPS)
    assert groups["E"] < 100  # kept few and cheap


def test_national_world_is_dominated_by_one_shared_host(nation: World) -> None:
    on_dla = [a for a in nation.agencies if a.declared.endswith("@dla.go.th")]
    assert len(on_dla) >= 4500
    dla = nation.hosts["mx.dla.go.th"]
    assert dla.pipelining and dla.starttls and dla.error_limit == 20
    # the long tail: a few hundred small mail hosts, each serving a few domains
    assert 250 <= len(nation.hosts) <= 600
    domains_per_host = Counter(
        name for spec in nation.domains.values() if spec.mode == DNS_MX for _, name in spec.mx
    )
    assert max(domains_per_host.values()) < len(nation.domains) / 5


def test_national_world_data_agrees_with_expectations(nation: World) -> None:
    _check_world_consistency(nation)
    _check_network_layout(nation)


def test_national_world_stalls_nothing(nation: World) -> None:
    """No silent or dripping hosts, and greylists only where a short wait or a quick E settles it."""
    behaviours = {h.behaviour for h in nation.hosts.values()}
    assert behaviours <= {"normal", "refuse", "greeting_421"}
    grey = [h for h in nation.hosts.values() if h.greylist_seconds > 0]
    assert 1 <= len(grey) <= 3


def test_national_list_has_copy_paste_rows_to_try_the_duplicate_decision(nation: World) -> None:
    """A few rows repeat the name of the row above in the same district (the demo's `d` needs them);
    each keeps its own address, so both are checked and keep their own expected group."""
    from console.store.duplicates import duplicate_groups

    flagged = duplicate_groups(nation.agencies)
    by_id = {a.id: a for a in nation.agencies}
    assert 5 <= len(flagged) <= 40
    for agency_id, others in flagged.items():
        agency = by_id[agency_id]
        (other,) = (by_id[o] for o in others)
        assert abs(int(agency.seq) - int(other.seq)) == 1  # the row above or below
        assert (agency.name, agency.district, agency.province) == (other.name, other.district, other.province)
        assert agency.declared != other.declared and agency_id in nation.expected


def test_national_names_are_nfc_thai(nation: World) -> None:
    for agency in nation.agencies:
        for text in (agency.name, agency.district, agency.province):
            assert text and unicodedata.normalize("NFC", text) == text
            assert any("\u0e01" <= ch <= "\u0e5b" for ch in text), text
    thai_digit_rows = [a for a in nation.agencies if any("๐" <= ch <= "๙" for ch in a.declared)]
    assert thai_digit_rows and all(nation.expected[a.id] == "B3" for a in thai_digit_rows)


def test_no_accidental_typo_suspects(nation: World, catalogue: World) -> None:
    policy = PolicyConfig()
    known = set(policy.well_known_domains) | set(policy.free_mail_domains)
    domains: dict[str, str] = {}  # domain → an agency declaring it
    for world in (nation, catalogue):
        for agency in world.agencies:
            reading = read_address(agency.declared)
            if reading.ok and "typo_suspect" not in CATALOGUE_FLAGS.get(agency.id, ()):
                domains.setdefault((reading.address or "").rsplit("@", 1)[1].lower(), agency.id)
    assert "dla.go.th" in domains and "gmail.com" in domains
    for domain, agency_id in domains.items():
        near = [k for k in known
                if k != domain and abs(len(k) - len(domain)) <= 1 and _edit_distance(k, domain) <= 1]
        assert domain in known or not near, (agency_id, domain, near)


def test_national_world_is_deterministic() -> None:
    # How fast it is built is a bench figure, not a timed test (it failed under load).
    first = national_world()
    second = national_world()
    other = national_world(seed=1)
    assert first.agencies == second.agencies
    assert first.expected == second.expected
    assert {k: (v.mode, v.mx, v.a) for k, v in first.domains.items()} == {
        k: (v.mode, v.mx, v.a) for k, v in second.domains.items()
    }
    assert [a.declared for a in other.agencies] != [a.declared for a in first.agencies]


@pytest.mark.parametrize("n", [1, 37, 500, 2000])
def test_smaller_national_worlds_scale(n: int) -> None:
    world = national_world(n)
    assert len(world.agencies) == n
    buckets = Counter(BUCKET.get(g, "BE") for g in world.expected.values())
    if n >= 500:
        for bucket, share in OPDC_SHARES.items():
            assert abs(buckets[bucket] / n - share) <= 0.015
    _check_world_consistency(world)
    _check_network_layout(world)


# -- the catalogue -------------------------------------------------------------------------------


def test_catalogue_covers_every_group(catalogue: World) -> None:
    assert set(catalogue.expected.values()) == set(GROUPS)
    assert set(CATALOGUE_FLAGS) == set(catalogue.expected) == {a.id for a in catalogue.agencies}
    for flags in CATALOGUE_FLAGS.values():
        assert set(flags) <= set(FLAGS)
    seen_flags = {f for flags in CATALOGUE_FLAGS.values() for f in flags}
    assert seen_flags == {"catch_all", "implicit_mx", "no_starttls", "suggested_fix", "typo_suspect",
                          "prober_blocked"}


def test_catalogue_plays_every_behaviour(catalogue: World) -> None:
    behaviours = {h.behaviour for h in catalogue.hosts.values()}
    assert behaviours == {"normal", "refuse", "silent", "greeting_421", "drip", "huge_line", "garbage",
                          "close_mid_reply"}
    modes = {d.mode for d in catalogue.domains.values()}
    assert modes == {"mx", "nxdomain", "null_mx", "a_only", "no_records", "servfail", "no_answer", "garbage",
                     "truncated"}


def test_catalogue_data_agrees_with_expectations(catalogue: World) -> None:
    _check_world_consistency(catalogue)
    _check_network_layout(catalogue)
    # only the no-STARTTLS case lacks STARTTLS, so the no_starttls flag stays precise
    no_tls = [h.name for h in catalogue.hosts.values() if not h.starttls and h.behaviour == HOST_NORMAL]
    assert no_tls == ["mail.tambonnostarttls.go.th"]


def test_catalogue_holds_the_tak_rows_exactly(catalogue: World) -> None:
    with TAK_TSV.open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    to_ascii = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
    by_id = {a.id: a for a in catalogue.agencies}
    assert [a.id for a in tak_agencies()] == ["tak-47", "tak-326", "tak-636"]
    for row, agency in zip(rows, tak_agencies(), strict=True):
        seq, name, district, province, _announced, _order, declared, _problem = row
        assert agency == by_id[agency.id]
        assert (agency.seq, agency.name, agency.district, agency.province, agency.declared) == (
            seq.translate(to_ascii), name, district, province, declared)
    assert [catalogue.expected[i] for i in ("tak-47", "tak-326", "tak-636")] == ["B2", "B1", "B3"]
    # row 1: the .co.th domain does not exist; row 2: gmail exists but not this mailbox;
    # row 3: the ASCII-digit form of the Thai-digit address is a real mailbox
    assert catalogue.domains["tambonthungluang.co.th"].mode == DNS_NXDOMAIN
    assert _listening_hosts(catalogue, "gmail.com")
    assert not _accepts(catalogue, "Tasailuadmeasod@gmail.com")
    fix = read_address("saraban_๖๖๓๐๑๙@dla.go.th").suggestion
    assert fix == "saraban_663019@dla.go.th" and _accepts(catalogue, fix)


def test_catalogue_b3_fixes_work_where_promised(catalogue: World) -> None:
    for agency_id in ("cat-b3-thai-digits", "cat-b3-two-addresses", "cat-b3-mailto", "cat-b3-fullwidth-at",
                      "cat-b3-spaces"):
        agency = next(a for a in catalogue.agencies if a.id == agency_id)
        fix = read_address(agency.declared).suggestion
        assert fix is not None and _accepts(catalogue, fix), agency_id
    dead = next(a for a in catalogue.agencies if a.id == "cat-b3-thai-digits-dead")
    fix = read_address(dead.declared).suggestion
    assert fix is not None and not _accepts(catalogue, fix)


# -- SimInternet ----------------------------------------------------------------------------------


def _resolver(port: int, lifetime: float = 2.0) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.timeout = min(lifetime, 1.0)
    resolver.lifetime = lifetime
    return resolver


async def _banner(ip: str, port: int) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), 3.0)
    try:
        return await asyncio.wait_for(reader.readline(), 3.0)
    finally:
        writer.close()


async def test_sim_internet_serves_dns_and_smtp(catalogue: World) -> None:
    async with SimInternet(catalogue) as sim:
        resolver = _resolver(sim.dns.port)
        mx = await resolver.resolve("dla.go.th", "MX")
        assert [r.exchange.to_text(omit_final_dot=True) for r in mx] == ["mx.dla.go.th"]
        a = await resolver.resolve("mx.dla.go.th", "A")
        ip = a[0].address
        assert ip == catalogue.hosts["mx.dla.go.th"].ip
        assert (await _banner(ip, sim.smtp.port)).startswith(b"220 mx.dla.go.th")
        with pytest.raises(dns.resolver.NXDOMAIN):
            await resolver.resolve("tambonthungluang.co.th", "MX")
        # the canary the engine is told about resolves and listens
        config = sim.engine_config()
        canary = await resolver.resolve(config.canary.resolve, "A")
        host, port = config.canary.connect.rsplit(":", 1)
        assert canary[0].address == host
        assert (await _banner(host, int(port))).startswith(b"220 ")
    assert not sim.running


async def test_engine_config_points_at_the_sim(catalogue: World) -> None:
    base = EngineConfig(smtp=SmtpConfig(retries=5))
    async with SimInternet(catalogue) as sim:
        config = sim.engine_config(base, retry_delay=0.25)
        assert config.dns.nameservers == ("127.0.0.1",) and config.dns.port == sim.dns.port
        assert (config.dns.timeout, config.dns.lifetime) == (1.0, 2.0)
        assert config.smtp.port == sim.smtp.port
        assert config.smtp.helo_name == "probe.saraban.go.th"
        assert config.smtp.mail_from == "saraban-probe@opdc.go.th"
        assert (config.smtp.timeout, config.smtp.deadline, config.smtp.retry_delay) == (3.0, 20.0, 0.25)
        assert config.smtp.retries == 5  # the base is kept where not overridden
        assert config.canary.resolve == catalogue.canary_name
        assert config.canary.connect == f"{catalogue.canary_ip}:{sim.smtp.port}"
        assert sim.engine_config().smtp.retry_delay == 1.0
        slack = sim.engine_config(dns_timeout=2.0, dns_lifetime=4.0)
        assert (slack.dns.timeout, slack.dns.lifetime) == (2.0, 4.0)


async def test_network_down_silences_dns_and_smtp(catalogue: World) -> None:
    async with SimInternet(catalogue) as sim:
        resolver = _resolver(sim.dns.port, lifetime=0.6)
        sim.set_network_down(True)
        with pytest.raises(dns.exception.Timeout):
            await resolver.resolve("dla.go.th", "MX")
        ip = catalogue.hosts["mx.dla.go.th"].ip
        try:
            line = await _banner(ip, sim.smtp.port)
        except (ConnectionError, OSError):
            line = b""
        assert not line.startswith(b"220")
        sim.set_network_down(False)
        mx = await resolver.resolve("dla.go.th", "MX")
        assert len(mx) == 1
        assert (await _banner(ip, sim.smtp.port)).startswith(b"220")


async def test_sim_internet_without_a_canary_host_still_listens_there() -> None:
    world = World(canary_name="canary.example.go.th", canary_ip="127.1.2.3")
    async with SimInternet(world) as sim:
        assert (await _banner("127.1.2.3", sim.smtp.port)).startswith(b"220 ")
        assert world.hosts == {}  # the world itself is left alone


async def test_sim_internet_serves_a_national_world() -> None:
    world = national_world(400)
    async with SimInternet(world) as sim:
        resolver = _resolver(sim.dns.port)
        mx = await resolver.resolve("dla.go.th", "MX")
        assert mx[0].exchange.to_text(omit_final_dot=True) == "mx.dla.go.th"
        assert (await _banner(world.hosts["mx.dla.go.th"].ip, sim.smtp.port)).startswith(b"220")


def test_sim_internet_thread_starts_and_stops(catalogue: World) -> None:
    runner = SimInternetThread(catalogue)
    with runner as sim:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = sim.dns.port
        resolver.lifetime = 2.0
        answer = resolver.resolve("dla.go.th", "MX")
        assert answer[0].exchange.to_text(omit_final_dot=True) == "mx.dla.go.th"
        (thread,) = [t for t in threading.enumerate() if t.name == "saraban-sim-internet"]
        assert thread.is_alive()
    assert not thread.is_alive()
    assert not sim.running
    runner.stop()  # a second stop is harmless


@pytest.mark.slow
def test_full_national_scan_gives_every_expected_group() -> None:
    """The whole country through the engine (about 75 s, paced by politeness): run with --slow."""
    from checks.scheduler import Scanner

    world = national_world()
    with SimInternetThread(world) as sim:
        config = sim.engine_config(dns_timeout=2.0, dns_lifetime=4.0)
        scanner = Scanner(config)
        finished = asyncio.run(scanner.run(world.agencies))
        violations = sim.smtp.audit.violations(
            config.politeness.max_sessions_per_host,
            config.politeness.rcpt_per_session,
            config.politeness.sessions_per_minute,
        )
    assert finished.stopped is None, finished.stopped
    wrong = {a.id: (world.expected[a.id], scanner.verdicts[a.id].group) for a in world.agencies
             if scanner.verdicts[a.id].group != world.expected[a.id]}
    assert wrong == {}
    assert violations == []
