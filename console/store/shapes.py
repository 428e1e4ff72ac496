"""What a well-formed document of each store table looks like.

A file can be valid JSON and still be wrong (a string where a document belongs, a missing agency id,
a 5,000-digit number): such a document is damage. It is set aside, named with its file and agency,
and left exactly as it is on disk, while every other agency stays readable and writable.
"""

from __future__ import annotations

from typing import Any

from console.store.codec import HugeNumber

_PLAIN = frozenset((str, bool, int, type(None)))
_STRINGS: dict[str, tuple[str, ...]] = {
    "corrections": ("id", "agency_id", "new_address"),
    "notes": ("id", "agency_id", "operator", "at", "text"),
    "followups": ("agency_id",),
    "verdicts": ("agency_id",),
}
_OPTIONAL_STRINGS: dict[str, tuple[str, ...]] = {
    "corrections": ("operator", "at", "old_address", "reason", "recheck_group", "recheck_at", "login"),
    "notes": ("login",),
    "followups": ("state", "operator", "at", "login"),
    "verdicts": ("current", "compact", "group", "group_changed_at", "saved_at"),  # current: schema 2
}
_OPTIONAL_INTS: dict[str, tuple[str, ...]] = {
    "corrections": ("n",),
    "notes": ("n",),
    "verdicts": ("kept", "crc"),  # kept: schema 2
}


def agency_of(doc: object) -> str | None:
    """The agency a (possibly malformed) document is about, when that much can be told."""
    if not isinstance(doc, dict):
        return None
    aid = doc["agency"].get("id") if isinstance(doc.get("agency"), dict) else doc.get("agency_id")
    return aid if isinstance(aid, str) and aid else None


def _agency_problem(doc: dict[str, Any]) -> str | None:
    """Why an agencies document is not well formed; None when it is."""
    agency = doc.get("agency")
    if not isinstance(agency, dict):
        return "no agency in the document"
    if not isinstance(agency.get("id"), str) or not agency["id"]:
        return "the agency has no id"
    if not all(isinstance(agency.get(key), str) for key in ("name", "declared")):
        return "the agency has no name or declared address"
    if not _PLAIN.issuperset(map(type, agency.values())):  # a HugeNumber is not a plain str
        return "a field of the agency is neither text, a yes/no nor a number"
    changes = doc.get("source_changes")
    if changes is not None and (not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes)):
        return "its source changes are not a list of changes"
    return None


_VERDICT_KEYS = frozenset(
    ("agency_id", "current", "compact", "group", "group_changed_at", "saved_at", "kept", "crc", "full", "segs")
)
_VERDICT_INTS = frozenset(("kept", "crc"))


def _ints(value: object, size: int) -> bool:
    if type(value) is not list or len(value) != size:
        return False
    return all(type(x) is int and x >= 0 for x in value)  # type: ignore[attr-defined]


def _counts(segs: object) -> bool:
    """A verdict document's "segs": [[segment, n], ...] of non-negative ints."""
    if type(segs) is not list:
        return False
    for pair in segs:
        if type(pair) is not list or len(pair) != 2:
            return False
        a, b = pair
        if type(a) is not int or type(b) is not int or a < 0 or b < 0:
            return False
    return True


def _bad_place(doc: dict[str, Any]) -> str | None:
    """Why the document's "full" (segment, offset, line) or "segs" ([[segment, n], ...]) is malformed."""
    full = doc.get("full")
    if full is not None and not _ints(full, 3):
        return "'full' is not where a verdict is"
    segs = doc.get("segs")
    if segs is not None and not _counts(segs):
        return "'segs' is not a list of segment counts"
    return None


_WRITTEN = ("agency_id", "compact", "crc", "group", "group_changed_at", "saved_at", "full", "segs")


def _as_written(doc: dict[str, Any]) -> bool:
    """The document with exactly the keys, in the order, a schema-3 save writes them, all well typed."""
    aid, short, crc, group, changed, saved, full, segs = doc.values()
    if not (
        type(aid) is str and aid and type(short) is str and type(crc) is int and type(group) is str
        and type(saved) is str and (changed is None or type(changed) is str)
    ):
        return False
    return (full is None or _ints(full, 3)) and _counts(segs)


def plain_verdict(doc: dict[str, Any]) -> bool:
    """The verdict document exactly as this store writes it (a shard holds ~300 and every batch reads
    them): accepted at a glance; anything else gets the full check and its reason."""
    if len(doc) == 8 and tuple(doc) == _WRITTEN:
        return _as_written(doc)
    if not _VERDICT_KEYS.issuperset(doc):
        return False
    aid = doc.get("agency_id")
    if type(aid) is not str or not aid:
        return False
    for key, value in doc.items():
        kind = type(value)
        if kind is str or value is None or (kind is int and key in _VERDICT_INTS):
            continue
        if kind is not list:
            return False
        if not (_ints(value, 3) if key == "full" else key == "segs" and _counts(value)):
            return False
    return True


def problem(table: str, doc: object) -> str | None:
    """Why `doc` is not a well-formed document of `table`; None when it is."""
    if table == "verdicts" and type(doc) is dict and plain_verdict(doc):
        return None
    if not isinstance(doc, dict):
        return f"a {type(doc).__name__} where a document belongs"
    if table == "agencies":
        return _agency_problem(doc)
    huge = next((k for k, v in doc.items() if isinstance(v, HugeNumber)), None)
    if huge is not None:
        return f"{huge!r} holds a number of {len(doc[huge])} digits"
    for key in _STRINGS.get(table, ()):
        if not isinstance(doc.get(key), str) or not doc.get(key):
            return f"{key!r} is missing or not text"
    for key in _OPTIONAL_STRINGS.get(table, ()):
        if not isinstance(doc.get(key), str | None):
            return f"{key!r} is not text"
    for key in _OPTIONAL_INTS.get(table, ()):
        value = doc.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return f"{key!r} is not a number"
    if table == "verdicts":
        if (why := _bad_place(doc)) is not None:
            return why
        history = doc.get("history")
        if history is not None and (
            not isinstance(history, list) or not all(isinstance(h, str) for h in history)
        ):
            return "a history entry is not a verdict"
    return None


def well_formed(table: str, docs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str | None, str]]]:
    """Split a raw table into its good documents and the damaged ones (key → (agency id, why))."""
    good: dict[str, Any] = {}
    bad: dict[str, tuple[str | None, str]] = {}
    for key, doc in docs.items():
        why = problem(table, doc)
        if why is None:
            good[key] = doc
        else:
            bad[key] = (agency_of(doc), why)
    return good, bad
