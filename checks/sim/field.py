"""Simulated worlds of the field: what our own side of the internet looks like to the mail hosts.

`doctor_world(situation)` plays one situation `saraban doctor` must recognise (reverse DNS present,
missing or not matching, our address blocklisted, SPF pass or fail, port 25 silently dropped, a
transparent proxy answering for every host); `blocked_world()` is a country whose mail hosts mostly
refuse our prober, for the pilot. All addresses "of ours" are documentation addresses (RFC 5737) that
exist only as DNS data here: nothing ever connects to them.
"""

from __future__ import annotations

from checks.model import Agency
from checks.sim.internet import PROBE_HELO, PROBE_MAIL_FROM
from checks.sim.world import DNS_MX, HOST_NORMAL, HOST_SILENT, MAILBOX_OK, DomainSpec, HostSpec, World

OUR_IP = "203.0.113.25"  # what the "what is my address" service answers in these worlds
OTHER_IP = "198.51.100.7"  # somebody else's address
MYIP_NAME = "myip.opendns.com"
REFERENCE_HOSTS: tuple[str, ...] = ("mx.ref-mail.co.th", "mx1.ref-provider.com", "mx.ref-gov.go.th")

SITUATIONS: tuple[str, ...] = (
    "healthy",
    "ptr_missing",
    "ptr_mismatch",
    "blocklisted",
    "dnsbl_refused",
    "spf_fail",
    "port25_blocked",
    "intercepted",
    "placeholder",
)


def _reverse(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def doctor_world(situation: str = "healthy") -> World:
    """A small world where our own identity is in the state `situation` names (see SITUATIONS)."""
    if situation not in SITUATIONS:
        raise ValueError(f"unknown situation {situation!r} (known: {', '.join(SITUATIONS)})")
    world = World()
    sender_domain = PROBE_MAIL_FROM.rpartition("@")[2]
    mail = HostSpec(name=f"mail.{sender_domain}", ip="127.3.0.1", starttls=True)
    mail.mailboxes[PROBE_MAIL_FROM.lower()] = MAILBOX_OK
    world.hosts[mail.name] = mail
    world.domains[sender_domain] = DomainSpec(sender_domain, DNS_MX, ((10, mail.name),))
    for index, name in enumerate(REFERENCE_HOSTS):
        host = HostSpec(name=name, ip=f"127.3.1.{index + 1}", starttls=True, banner="ESMTP ready")
        if situation == "port25_blocked":
            host.behaviour = HOST_SILENT
        if situation == "intercepted":
            host.greeting_name = "smtp-gw.office-firewall.co.th"
            host.banner = "ESMTP Service ready"
        world.hosts[name] = host
    world.reference_hosts = REFERENCE_HOSTS
    world.canary_name = REFERENCE_HOSTS[0]
    world.canary_ip = world.hosts[REFERENCE_HOSTS[0]].ip
    records = world.records
    records[(MYIP_NAME, "A")] = (OUR_IP,)
    records[(PROBE_HELO, "A")] = (OUR_IP,)
    if situation == "ptr_mismatch":
        isp_name = "host-203-0-113-25.dynamic.isp-net.co.th"
        records[(_reverse(OUR_IP), "PTR")] = (isp_name + ".",)
        records[(isp_name, "A")] = (OUR_IP,)
    elif situation != "ptr_missing":
        records[(_reverse(OUR_IP), "PTR")] = (PROBE_HELO + ".",)
    spf_ip = OTHER_IP if situation == "spf_fail" else OUR_IP
    records[(sender_domain, "TXT")] = (f'"v=spf1 ip4:{spf_ip} -all"',)
    listed = ".".join(reversed(OUR_IP.split(".")))
    if situation == "blocklisted":
        records[(f"{listed}.zen.spamhaus.org", "A")] = ("127.0.0.2",)
        records[(f"{listed}.zen.spamhaus.org", "TXT")] = ('"Listed by SBL, see https://check.spamhaus.org/"',)
    if situation == "dnsbl_refused":
        records[(f"{listed}.zen.spamhaus.org", "A")] = ("127.255.255.254",)
    return world


def blocked_world(domains: int = 60, per_domain: int = 4, refusing_share: float = 0.8, *,
                  silent: bool = False) -> World:
    """A country whose mail hosts mostly refuse our prober at MAIL FROM (554 5.7.1, a blocklist), or
    (`silent`) never greet us, spread evenly over the list.

    Every agency's mailbox exists: a correct scan blames none of them; a pilot sees "it is us".
    """
    world = World()
    for d in range(domains):
        domain = f"tambon{d:03d}.go.th"
        refuses = int((d + 1) * refusing_share) > int(d * refusing_share)
        host = HostSpec(name=f"mail.{domain}", ip=f"127.4.{d // 250}.{d % 250 + 1}", starttls=True,
                        reject_prober=refuses and not silent, behaviour=HOST_SILENT if refuses and silent else HOST_NORMAL)
        world.hosts[host.name] = host
        world.domains[domain] = DomainSpec(domain, DNS_MX, ((10, host.name),))
        for a in range(per_domain):
            address = f"saraban{a}@{domain}"
            host.mailboxes[address] = MAILBOX_OK
            agency = Agency(id=f"b{d:03d}-{a}", name=f"อบต.ทดสอบ {d}-{a}", declared=address, province="ตาก",
                            kind="องค์การบริหารส่วนตำบล")
            world.agencies.append(agency)
            world.expected[agency.id] = "E" if refuses else "A1"
    canary = HostSpec(name="canary.opdc.go.th", ip="127.4.9.1", starttls=True, banner="ESMTP canary")
    world.hosts[canary.name] = canary
    world.canary_name, world.canary_ip = canary.name, canary.ip
    return world


__all__ = ["OUR_IP", "REFERENCE_HOSTS", "SITUATIONS", "blocked_world", "doctor_world"]
