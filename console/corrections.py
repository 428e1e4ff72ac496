"""What is checked before an operator's correction is recorded: one place for the CLI and the console.

- Another agency's address: an officer on the phone may type the address she sees on her screen (the
  provincial office's `saraban@tak.go.th`) for an อบต.; recording it silently hides the อบต.'s problem
  behind someone else's working mailbox. Both paths warn, naming the other agency (the console asks to
  confirm, the CLI prints the warning and records it: the command was typed on purpose).
- The reason is optional on both paths (REASON_REQUIRED): a phoned-in fix is recorded with who, when and
  old → new anyway, and the officer should not have to invent a sentence to save it; type one when
  there is something to say ("the agency called", "from the new announcement").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from checks.address import read_address
from console.i18n import tr
from console.thai import safe_text

if TYPE_CHECKING:
    from console.store import AgencyRecord

REASON_REQUIRED = False
_SHOWN = 3  # other agencies named in a warning


def address_key(address: str) -> str:
    """An address as compared: the validated form when it is valid, case and surrounding spaces ignored."""
    reading = read_address(address)
    return (reading.address if reading.ok and reading.address else address).strip().casefold()


def other_owners(records: Iterable[AgencyRecord], agency_id: str, address: str) -> list[AgencyRecord]:
    """The other agencies whose address now (declared, or corrected) is `address`."""
    key = address_key(address)
    if not key:
        return []
    return [r for r in records if r.agency.id != agency_id and address_key(r.current_address) == key]


def shared_address_warning(address: str, owners: list[AgencyRecord], lang: str) -> str:
    """ "saraban@tak.go.th is already the address of สำนักงานจังหวัดตาก (เมืองตาก, ตาก): ..." """
    names = ", ".join(
        f"{safe_text(r.agency.name)} ({', '.join(safe_text(p) for p in (r.agency.district, r.agency.province) if p)})"
        for r in owners[:_SHOWN]
    )
    if len(owners) > _SHOWN:
        names += tr("correct.shared_more", lang, n=len(owners) - _SHOWN)
    return tr("correct.shared", lang, address=safe_text(address), names=names)
