"""The import merge: a freshly read list against the stored agencies, in one transaction's table.

Identity rule (README "Which stored agency a row is"), tried in this order for each row; a stored
agency is claimed by at most one row:

1. the same 13-digit agency code (when exactly one stored agency has it);
2. the same name + district + province (compared without spaces, case-folded); when several stored
   agencies share them (duplicate names), the one declaring the same address, else the same ลำดับที่,
   else the first in list order;
3. the same id (the importer's: the code, or a hash of name + district + province, with ~2, ~3… for
   the 2nd, 3rd row naming the same agency);
4. a renamed agency: the one stored agency of the same district and province declaring the same
   address that no row of this list names;
5. otherwise a new agency.

A matched agency keeps its stored id, so its verdicts, corrections, notes and history stay attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinydb.table import Table

from checks.model import Agency
from console.store.layer import put_many, stable_id
from console.store.text import match_key, order_key


def _name_key(agency: Agency) -> tuple[str, str, str]:
    return (match_key(agency.name), match_key(agency.district), match_key(agency.province))


def _place_address(agency: Agency) -> tuple[str, str, str] | None:
    if "@" not in agency.declared:
        return None
    return (match_key(agency.declared), match_key(agency.district), match_key(agency.province))


def merge_agencies(
    table: Table,
    incoming: Sequence[Agency],
    *,
    import_id: str,
    at: str,
    reserved: set[int] | frozenset[int] = frozenset(),
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Merge `incoming` into the agencies table; returns (added, changed, unchanged, missing) ids.

    A changed declared address is recorded in source_changes. Agencies absent from the list are
    kept (and reported as missing) only for the provinces the list covers.
    """
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    stored: dict[str, tuple[int, dict[str, Any], Agency]] = {}
    for doc in table.all():
        agency = Agency.from_json(doc["agency"])
        stored[agency.id] = (doc.doc_id, dict(doc), agency)
    order = sorted(stored, key=lambda aid: order_key(stored[aid][2]))
    by_code: dict[str, list[str]] = {}
    by_name: dict[tuple[str, str, str], list[str]] = {}
    by_place: dict[tuple[str, str, str], list[str]] = {}
    for aid in order:
        agency = stored[aid][2]
        if agency.code:
            by_code.setdefault(agency.code, []).append(aid)
        by_name.setdefault(_name_key(agency), []).append(aid)
        place = _place_address(agency)
        if place is not None:
            by_place.setdefault(place, []).append(aid)
    named = {_name_key(a) for a in incoming}
    claimed: set[str] = set()

    def by_name_match(agency: Agency) -> str | None:
        free = [aid for aid in by_name.get(_name_key(agency), ()) if aid not in claimed]
        if len(free) <= 1:
            return free[0] if free else None
        same_address = [aid for aid in free if stored[aid][2].declared.strip() == agency.declared.strip()]
        same_seq = [aid for aid in free if agency.seq and stored[aid][2].seq == agency.seq]
        return (same_address or same_seq or free)[0]

    def renamed(agency: Agency) -> str | None:
        place = _place_address(agency)
        free = [
            aid
            for aid in by_place.get(place, ())
            if place is not None
            if aid not in claimed and _name_key(stored[aid][2]) not in named
        ]
        return free[0] if len(free) == 1 else None

    updates: dict[int, dict[str, Any]] = {}
    for agency in incoming:
        codes = [aid for aid in by_code.get(agency.code, ()) if aid not in claimed] if agency.code else []
        match = (
            (codes[0] if len(codes) == 1 else None)
            or (by_name_match(agency) if agency.name else None)
            or (agency.id if agency.id in stored and agency.id not in claimed else None)
            or renamed(agency)
        )
        if match is not None:
            claimed.add(match)
            doc_id, doc, old = stored[match]
            new = Agency.from_json({**agency.to_json(), "id": match})
            if new == old:
                unchanged.append(match)
                continue
            changes = list(doc.get("source_changes") or ())
            if new.declared != old.declared:
                changes.append({"at": at, "old": old.declared, "new": new.declared, "import_id": import_id})
            if _name_key(new)[0] != _name_key(old)[0]:
                changes.append({"at": at, "old_name": old.name, "new_name": new.name, "import_id": import_id})
            updates[doc_id] = {
                **doc,
                "agency": new.to_json(),
                "source_changes": changes,
                "updated_at": at,
                "import_id": import_id,
            }
            changed.append(match)
            continue
        new_id = agency.id
        suffix = 2
        while new_id in stored or new_id in claimed:
            new_id = f"{agency.id.split('~')[0]}~{suffix}"
            suffix += 1
        claimed.add(new_id)
        doc = {
            "agency": Agency.from_json({**agency.to_json(), "id": new_id}).to_json(),
            "source_changes": [],
            "added_at": at,
            "updated_at": at,
            "import_id": import_id,
        }
        doc_id = stable_id(new_id)
        while table.get(doc_id=doc_id) is not None or doc_id in updates or doc_id in reserved:
            doc_id += 1
        updates[doc_id] = doc
        added.append(new_id)
    provinces = {match_key(a.province) for a in incoming}
    everywhere = "" in provinces
    missing = [
        aid
        for aid, (_, _, agency) in stored.items()
        if aid not in claimed and (everywhere or match_key(agency.province) in provinces)
    ]
    put_many(table, updates)
    return added, changed, unchanged, missing
