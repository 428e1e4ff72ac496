"""What the store hands out: plain frozen records, no file or TinyDB detail."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from checks.model import Agency, Evidence, Finding, ProbeResult, SuggestedFix, Verdict
from console.store.codec import parse_json

T = TypeVar("T")


@functools.cache
def frozen_maker(cls: type[T]) -> Callable[..., T]:
    """A constructor that builds exactly what ``cls(*values)`` builds, for a frozen slots dataclass, at
    a fifth of the cost: a list view turns 20,000 index rows into 40,000 such objects.

    Python's frozen dataclass ``__init__`` sets each field through ``object.__setattr__`` (~4 us for an
    `Agency`). This one builds a non-frozen twin with the same fields, defaults and slots, then sets its
    class to `cls`, which Python allows between classes of the same layout: the result is a `cls`
    (frozen, equal and hashing like any other). Only for classes whose ``__init__`` does nothing else;
    made once per class."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or hasattr(cls, "__post_init__") or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__} is not a frozen slots dataclass with a plain __init__")
    twin = dataclasses.make_dataclass(
        cls.__name__,
        [
            (f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory, kw_only=f.kw_only))
            for f in fields
        ],
        slots=True,
    )
    if twin.__slots__ != cls.__slots__:  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} has slots beyond its fields")

    def make(*values: Any, **named: Any) -> T:
        built = twin(*values, **named)
        built.__class__ = cls
        return built  # type: ignore[no-any-return]

    make.__doc__ = f"{cls.__name__}(*values, **named), built fast (`frozen_maker`)."
    return make


@dataclass(frozen=True)
class Correction:
    """An operator typed the address an agency says it now uses: who, when, old → new, why."""

    id: str
    agency_id: str
    operator: str
    at: str
    old_address: str
    new_address: str
    reason: str
    recheck_group: str | None = None
    recheck_at: str | None = None
    login: str = ""  # the Unix login that made it (operator is the name given; login cannot be chosen)


@dataclass(frozen=True)
class Note:
    id: str
    agency_id: str
    operator: str
    at: str
    text: str
    login: str = ""


class ProbeBook:
    """The compact probes of one verdict shard's list view, kept as the JSON bytes they were read as and
    parsed on the first question: a table of 20,000 rows never asks, a phone line or the watcher asks
    for a few. Shared by the summaries of that shard."""

    __slots__ = ("_parsed", "_raw")

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._parsed: dict[str, Any] | None = None

    def probes(self, agency_id: str) -> tuple[ProbeResult | None, ProbeResult | None]:
        """(probe, fix probe) of the agency's current verdict, compact."""
        if self._parsed is None:
            try:
                parsed = parse_json(self._raw) if self._raw else {}
            except (ValueError, RecursionError):
                parsed = {}
            self._parsed = parsed if isinstance(parsed, dict) else {}
        pair = self._parsed.get(agency_id) or (None, None)
        return tuple(ProbeResult.from_json(p) if p else None for p in pair)  # type: ignore[return-value]


NO_PROBES = ProbeBook(b"")


@dataclass(slots=True, eq=False)
class EvidenceSummary:
    """A list view's evidence: what was declared and decided, and the compact probes when read.

    Read-only by convention (not frozen: building 20,000 frozen objects costs a list view ~0.1 s)."""

    declared: str
    normalized: str | None
    rule: str
    rule_index: int
    checked_at: str
    agency_id: str = ""
    book: ProbeBook = NO_PROBES
    elapsed_ms: float = 0.0

    @property
    def probe(self) -> ProbeResult | None:
        return self.book.probes(self.agency_id)[0]

    @property
    def fix_probe(self) -> ProbeResult | None:
        return self.book.probes(self.agency_id)[1]

    def evidence(self) -> Evidence:
        """The same evidence as a `checks.model.Evidence` (compact probes)."""
        probe, fix_probe = self.book.probes(self.agency_id)
        return Evidence(self.declared, self.normalized, probe, fix_probe, self.rule, self.rule_index, self.checked_at)

    def one_line(self) -> str:
        """`Evidence.one_line()` of the compact evidence (the same text as for the full verdict)."""
        return self.evidence().one_line()


@dataclass(slots=True, eq=False)
class VerdictSummary:
    """What a list view needs of a verdict (`Store.records(light=True)`): group, findings, flags, the
    suggested fix, when, and a summary of the evidence. It answers every attribute a caller reads of
    a compact `Verdict` the same way (`rules`, the table, exports and the watcher agree on both).

    Findings, flag tuples and fixes are shared between summaries (they are immutable)."""

    agency_id: str
    group: str
    findings: tuple[Finding, ...]
    flags: tuple[str, ...]
    evidence: EvidenceSummary
    suggested_fix: SuggestedFix | None = None
    checked_at: str = ""

    @property
    def finding_codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def verdict(self) -> Verdict:
        """The same compact verdict as a `checks.model.Verdict`."""
        return Verdict(
            self.agency_id,
            self.group,
            self.findings,
            self.flags,
            self.evidence.evidence(),
            self.suggested_fix,
            self.checked_at,
        )


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    """Everything the console shows about one agency."""

    agency: Agency
    verdict: Verdict | VerdictSummary | None  # a summary from records(light=True)
    history: tuple[Verdict, ...]  # newest first, bounded by Store.history_limit, compact evidence
    corrections: tuple[Correction, ...]  # oldest first
    notes: tuple[Note, ...]  # oldest first
    followup: str | None
    source_changes: tuple[dict, ...]  # {"at","old","new","import_id"}, oldest first
    # checked_at of the verdict that first gave the current group, known without reading the history;
    # "" when the group has not changed as far back as the store remembers; None: never checked
    group_changed_at: str | None = None
    # other agencies this one may duplicate (same name + district + province, or same address):
    # (agency id, its ลำดับที่ or ""), until an operator says "same" or "different"
    duplicate_of: tuple[tuple[str, str], ...] = ()

    @property
    def current_address(self) -> str:
        """The address to check: the latest correction's, else the one declared in the list."""
        if self.corrections:
            return self.corrections[-1].new_address
        return self.agency.declared


@dataclass(frozen=True)
class ImportReport:
    import_id: str
    source: str
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    missing: list[str]


def correction_doc(corr: Correction) -> dict[str, Any]:
    return {
        "id": corr.id,
        "agency_id": corr.agency_id,
        "operator": corr.operator,
        "at": corr.at,
        "old_address": corr.old_address,
        "new_address": corr.new_address,
        "reason": corr.reason,
        "recheck_group": corr.recheck_group,
        "recheck_at": corr.recheck_at,
        "login": corr.login,
    }


def correction_from(doc: dict[str, Any]) -> Correction:
    return Correction(
        doc["id"],
        doc["agency_id"],
        doc.get("operator", ""),
        doc.get("at", ""),
        doc.get("old_address", ""),
        doc.get("new_address", ""),
        doc.get("reason", ""),
        doc.get("recheck_group"),
        doc.get("recheck_at"),
        doc.get("login") or "",
    )


def note_doc(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "agency_id": note.agency_id,
        "operator": note.operator,
        "at": note.at,
        "text": note.text,
        "login": note.login,
    }
