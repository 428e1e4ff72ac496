"""The import merge: a freshly read list against the stored agencies, in one transaction's table.

Identity rule (README "Which stored agency a row is"): a row is the stored agency with the same
13-digit code, else the same name + district + province (compared without spaces, case-folded),
else the same id; each stored agency is claimed by at most one row, first come first served. A matched
agency keeps its stored id, so its verdicts, corrections and notes stay attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinydb.table import Table

from checks.model import Agency
from console.store.layer import put_many, stable_id
from console.store.text import match_key


def _name_key(agency: dict[str, Any] | Agency) -> tuple[str, str, str]:
    if isinstance(agency, Agency):
        return (match_key(agency.name), match_key(agency.district), match_key(agency.province))
    return (
        match_key(agency.get("name", "")),
        match_key(agency.get("district", "")),
        match_key(agency.get("province", "")),
    )


def merge_agencies(
    table: Table, incoming: Sequence[Agency], *, import_id: str, at: str
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Merge `incoming` into the agencies table; returns (added, changed, unchanged, missing) ids.

    A changed declared address is recorded in source_changes. Agencies absent from the list are
    kept (and reported as missing) only for the provinces the list covers.
    """
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    stored: dict[str, tuple[int, dict[str, Any]]] = {}
    for doc in table.all():
        stored[doc["agency"]["id"]] = (doc.doc_id, dict(doc))
    by_code: dict[str, str | None] = {}
    by_name: dict[tuple[str, str, str], str | None] = {}
    for aid, (_, doc) in stored.items():
        a = doc["agency"]
        if a.get("code"):
            by_code[a["code"]] = None if a["code"] in by_code else aid  # ambiguous → None
        nk = _name_key(a)
        by_name[nk] = None if nk in by_name else aid
    claimed: set[str] = set()
    updates: dict[int, dict[str, Any]] = {}
    for agency in incoming:
        nk = _name_key(agency)
        candidates = [
            by_code.get(agency.code) if agency.code else None,
            by_name.get(nk) if agency.name else None,
            agency.id if agency.id in stored else None,
        ]
        match = next((c for c in candidates if c and c not in claimed), None)
        if match is not None:
            claimed.add(match)
            doc_id, doc = stored[match]
            old = Agency.from_json(doc["agency"])
            new = Agency.from_json({**agency.to_json(), "id": match})
            if new == old:
                unchanged.append(match)
                continue
            changes = list(doc.get("source_changes") or ())
            if new.declared != old.declared:
                changes.append({"at": at, "old": old.declared, "new": new.declared, "import_id": import_id})
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
            new_id = f"{agency.id}~{suffix}"
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
        while table.get(doc_id=doc_id) is not None or doc_id in updates:
            doc_id += 1
        updates[doc_id] = doc
        added.append(new_id)
    provinces = {match_key(a.province) for a in incoming}
    everywhere = "" in provinces
    missing = [
        aid
        for aid, (_, doc) in stored.items()
        if aid not in claimed and (everywhere or match_key(doc["agency"].get("province", "")) in provinces)
    ]
    put_many(table, updates)
    return added, changed, unchanged, missing
