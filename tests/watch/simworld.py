"""A small simulated internet for the watcher: agencies whose mail a test can fix while it runs."""

from __future__ import annotations

from checks.model import Agency
from checks.sim.world import DNS_MX, MAILBOX_OK, DomainSpec, HostSpec, World

PROVINCE = "ตาก"


def watch_world(*, greylist_seconds: float = 0.6, slow_reply: float = 0.0, extra_waiting: int = 0) -> World:
    """`wait-1` has no mailbox yet (D3), `wait-2` stays broken, `grey-1` is greylisted (E first),
    `ok-1` works; `extra_waiting` more D3 agencies for load."""
    world = World()
    world.hosts["canary.opdc.go.th"] = HostSpec("canary.opdc.go.th", "127.0.0.1", banner="ESMTP canary")
    fixme = HostSpec("mx.tambonfixme.go.th", "127.0.10.1", reply_delay=slow_reply or None)
    grey = HostSpec("mx.tambongrey.go.th", "127.0.10.2", greylist_seconds=greylist_seconds)
    for host, domain in ((fixme, "tambonfixme.go.th"), (grey, "tambongrey.go.th")):
        world.hosts[host.name] = host
        world.domains[domain] = DomainSpec(domain, DNS_MX, ((10, host.name),))
    fixme.mailboxes["ok@tambonfixme.go.th"] = MAILBOX_OK
    grey.mailboxes["saraban@tambongrey.go.th"] = MAILBOX_OK
    rows = [
        ("wait-1", "เทศบาลตำบลรอแก้", "saraban@tambonfixme.go.th"),
        ("wait-2", "อบต.ยังไม่แก้", "broken@tambonfixme.go.th"),
        ("grey-1", "อบต.เกรย์ลิสต์", "saraban@tambongrey.go.th"),
        ("ok-1", "อบต.พร้อม", "ok@tambonfixme.go.th"),
    ]
    rows += [(f"load-{i:04d}", f"อบต.ทดสอบ {i}", f"load{i}@tambonfixme.go.th") for i in range(extra_waiting)]
    for index, (agency_id, name, address) in enumerate(rows):
        world.agencies.append(
            Agency(agency_id, name, address, seq=str(index + 1), district="แม่สอด", province=PROVINCE,
                   kind="องค์การบริหารส่วนตำบล")
        )
    return world


def create_mailbox(world: World, address: str) -> None:
    """The agency fixed it: the mailbox now exists (the running sim reads the same spec)."""
    domain = address.rpartition("@")[2]
    host = world.hosts[world.domains[domain].mx[0][1]]
    host.mailboxes[address.lower()] = MAILBOX_OK
