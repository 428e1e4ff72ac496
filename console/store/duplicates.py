"""Possible duplicates: rows that name the same agency (name + district + province), or that declare the
same address (often a copy-paste error). Both rows stay agencies; the operator decides (console.store
`confirm_same` / `confirm_different`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from checks.model import Agency
from console.store.text import match_key


def _address_key(declared: str) -> str:
    return match_key(declared) if "@" in declared else ""


def duplicate_groups(agencies: Sequence[Agency]) -> dict[str, tuple[str, ...]]:
    """agency id → the ids of the other agencies it may duplicate (in list order)."""
    by_key: dict[tuple[str, ...], list[str]] = {}
    for agency in agencies:
        if agency.name:
            by_key.setdefault(
                ("n", match_key(agency.name), match_key(agency.district), match_key(agency.province)), []
            ).append(agency.id)
        address = _address_key(agency.declared)
        if address:
            by_key.setdefault(("a", address), []).append(agency.id)
    found: dict[str, dict[str, None]] = {}
    for ids in by_key.values():
        if len(ids) < 2:
            continue
        for aid in ids:
            others = found.setdefault(aid, {})
            others.update((other, None) for other in ids if other != aid)
    return {aid: tuple(others) for aid, others in found.items()}


def pair_of(agency: Agency) -> tuple[str, str]:
    """How a record names an agency it may duplicate: (id, ลำดับที่ or "")."""
    return (agency.id, agency.seq or "")


def duplicate_pairs(
    duplicates: Mapping[str, Sequence[str]], agencies: Mapping[str, tuple[Agency, object]]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """agency id → (id, ลำดับที่ or "") of each listed agency it may duplicate, before any operator's
    decision: worked out once per version of the list, not at every read of every record (one pair
    per agency, shared by the records that name it)."""
    pair = {aid: pair_of(entry[0]) for aid, entry in agencies.items()}
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for aid, others in duplicates.items():
        try:
            out[aid] = tuple(map(pair.__getitem__, others))
        except KeyError:  # one is not listed (never from `duplicate_groups` over the same agencies)
            if listed := tuple(pair[other] for other in others if other in pair):
                out[aid] = listed
    return out
