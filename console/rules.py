"""The follow-up rules, written once: what a record's group is, which bucket a group is in, what
"needs follow-up" and "changed since" mean, and which records a scope selects.

The console, `saraban export`, `saraban report` and `--changed-since` all answer these questions
through this module, so a number on the screen and the same number in a file cannot disagree.
No Textual, no I/O: plain functions over store records.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Protocol

from checks.config import EngineConfig, Rule
from checks.model import Agency, Verdict
from console.thai import to_ascii_digits

# OPDC's three buckets: A (ready), BE (no announcement, wrong format, undeliverable), W (upgraded units).
BUCKET_READY = "A"
BUCKET_FIX = "BE"
BUCKET_UPGRADED = "W"
BUCKETS: tuple[str, ...] = (BUCKET_READY, BUCKET_FIX, BUCKET_UPGRADED)
UNCHECKED = "-"  # the group (and bucket filter) of a record without a verdict about its current address
# Finding codes the list itself decides (no network asked): a group made only of these is not news in a scan log.
LIST_FINDINGS: frozenset[str] = frozenset({"upgraded", "no_announcement", "no_address"})


# ---------------------------------------------------------------------------------------------
# What a record is, for these rules (console.store.AgencyRecord is one)
# ---------------------------------------------------------------------------------------------


class Dated(Protocol):
    """A correction or a list change: something that happened at a time."""

    @property
    def at(self) -> str: ...


class Noted(Protocol):
    """An operator's note."""

    @property
    def text(self) -> str: ...


class Record(Protocol):
    """One agency as the store gives it: the list's row, its latest verdict, what operators did."""

    @property
    def agency(self) -> Agency: ...
    @property
    def verdict(self) -> Verdict | None: ...
    @property
    def history(self) -> Sequence[Verdict]: ...
    @property
    def corrections(self) -> Sequence[Dated]: ...
    @property
    def notes(self) -> Sequence[Noted]: ...
    @property
    def followup(self) -> str | None: ...
    @property
    def current_address(self) -> str: ...
    @property
    def group_changed_at(self) -> str | None: ...
    @property
    def source_changes(self) -> Sequence[Mapping[str, object]]: ...


# ---------------------------------------------------------------------------------------------
# The ruleset's buckets
# ---------------------------------------------------------------------------------------------


def rule_bucket(rule: Rule) -> str:
    """A rule's bucket; an empty `bucket` is read from the group's code (A… → A, W… → W, else BE),
    the same on the screen, in the report and in exports."""
    if rule.bucket in BUCKETS:
        return rule.bucket
    return group_code_bucket(rule.group)


def group_code_bucket(group: str) -> str:
    """The bucket a group's code names (OPDC's letters), for a rule without `bucket` or an unknown group."""
    first = group[:1].upper()
    return first if first in (BUCKET_READY, BUCKET_UPGRADED) else BUCKET_FIX


@dataclass(frozen=True)
class Ruleset:
    """The ordered rules with what the follow-up reads from them.

    `waiting`: the groups of "not yet verifiable" (only temporary answers): the console rechecks them,
    nobody is phoned (the engine's fallback group, E in the default ruleset).
    """

    rules: tuple[Rule, ...]
    waiting: frozenset[str] = frozenset({"E"})
    buckets: dict[str, str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", {r.group: rule_bucket(r) for r in self.rules})

    @classmethod
    def of(cls, engine: EngineConfig) -> Ruleset:
        return cls(tuple(engine.rules), frozenset({engine.fallback_group}))

    def bucket(self, group: str) -> str:
        """The bucket of a group (a group no rule names any more: read from its code)."""
        found = self.buckets.get(group)
        return found if found is not None else group_code_bucket(group)

    @property
    def ready(self) -> frozenset[str]:
        """Groups whose mail works (bucket A): nothing to do."""
        return frozenset(g for g, b in self.buckets.items() if b == BUCKET_READY)

    def is_followup_group(self, group: str | None) -> bool:
        """An agency in this group must fix something: bucket B–E, not a group still waiting for an answer."""
        return group is not None and group not in self.waiting and self.bucket(group) == BUCKET_FIX

    def is_quiet(self, group: str) -> bool:
        """A verdict the list alone decides or that needs nothing (ready, upgraded, no announcement):
        a scan's log is for what the network said."""
        if self.bucket(group) in (BUCKET_READY, BUCKET_UPGRADED):
            return True
        rule = next((r for r in self.rules if r.group == group), None)
        codes = set(rule.any_of) | set(rule.all_of) if rule is not None else set()
        return bool(codes) and codes <= LIST_FINDINGS

    def rule(self, group: str | None) -> Rule | None:
        return next((r for r in self.rules if r.group == group), None) if group else None


# ---------------------------------------------------------------------------------------------
# A record's effective group
# ---------------------------------------------------------------------------------------------


def rec_id(rec: Record) -> str:
    return str(rec.agency.id)


def current_address(rec: Record) -> str:
    """The address to check now: the latest correction's, else the one declared in the list."""
    value = rec.current_address
    return value if isinstance(value, str) else rec.agency.declared


def is_stale(rec: Record) -> bool:
    """The verdict is about another address than the one to check now (a re-import or a correction
    changed it): it is history, and the agency counts as unchecked."""
    verdict = rec.verdict
    if verdict is None:
        return False
    checked = verdict.evidence.declared if verdict.evidence is not None else None
    if not isinstance(checked, str):
        return False
    current = current_address(rec)
    return checked != current and checked.strip() != current.strip()  # equal as-is: the common, fast case


def group_of(rec: Record) -> str | None:
    """The group every surface counts and filters by; None when unchecked or stale (it needs a check,
    not a phone call)."""
    verdict = rec.verdict
    if verdict is None or is_stale(rec):
        return None
    return verdict.group


GroupOf = Callable[[Record], "str | None"]
"""`group_of`, or a caller's cache of its answers (the console works them out once per record read)."""


def bucket_of(rec: Record, ruleset: Ruleset) -> str:
    """The record's bucket, or UNCHECKED."""
    return group_bucket(group_of(rec), ruleset)


def group_bucket(group: str | None, ruleset: Ruleset) -> str:
    """The bucket of an effective group (None: UNCHECKED)."""
    return UNCHECKED if group is None else ruleset.bucket(group)


def needs_followup(rec: Record, ruleset: Ruleset, group_of: GroupOf = group_of) -> bool:
    """The one definition of "needs follow-up": a current verdict in bucket B–E that is not waiting
    for an answer (E). Upgraded units (W), ready ones, unchecked and stale ones are not phoned."""
    return ruleset.is_followup_group(group_of(rec))


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Records near the follow-up list but left out of it, and why (`reason`: waiting, upgraded, unchecked)."""

    reason: str
    groups: tuple[str, ...]
    count: int


def followup_exclusions(records: Iterable[Record], ruleset: Ruleset, group_of: GroupOf = group_of) -> list[Exclusion]:
    """What "needs follow-up" leaves out of these records, with counts (only reasons that occur):
    `waiting` (E: not yet verifiable), `upgraded` (W), `unchecked` (no verdict, or one about an old address)."""
    return exclusions_in_counts(count_groups(records, group_of), ruleset)


def exclusions_in_counts(counts: Mapping[str, int], ruleset: Ruleset) -> list[Exclusion]:
    """`followup_exclusions` of records counted per effective group (`count_groups`)."""
    by_reason: dict[str, dict[str, int]] = {"waiting": {}, "upgraded": {}, "unchecked": {}}
    for group, n in counts.items():
        if not n:
            continue
        if group == UNCHECKED:
            reason = "unchecked"
        elif group in ruleset.waiting:
            reason = "waiting"
        elif ruleset.bucket(group) == BUCKET_UPGRADED:
            reason = "upgraded"
        else:
            continue
        by_reason[reason][group] = n
    return [Exclusion(reason, tuple(sorted(found)), sum(found.values())) for reason, found in by_reason.items() if found]


def followup_in_counts(counts: Mapping[str, int], ruleset: Ruleset) -> int:
    """How many of the records counted per effective group (`count_groups`) need follow-up."""
    return sum(n for group, n in counts.items() if group != UNCHECKED and ruleset.is_followup_group(group))


# ---------------------------------------------------------------------------------------------
# Where the phoning stands: not called, called and waiting for the fix, fixed (verified by a recheck)
# ---------------------------------------------------------------------------------------------

FOLLOWUP_NONE = "none"
FOLLOWUP_WAITING = "waiting"
FOLLOWUP_FIXED = "fixed"
FOLLOWUP_STATUSES: tuple[str, ...] = (FOLLOWUP_NONE, FOLLOWUP_WAITING, FOLLOWUP_FIXED)


# Follow-up states an operator or the watcher stores (Store.set_followup)
CALLED_WAITING = "called_waiting"  # what the console's `w` stores (`saraban followup` suggests it)
WAITING_STATES: frozenset[str] = frozenset({CALLED_WAITING, "called"})  # "called, waiting for the fix"
FIXED_VERIFIED = "fixed_verified"  # "fixed — verified by recheck", set only by the watcher


def followup_status(rec: Record) -> str:
    """Where the phoning of this agency stands (one of FOLLOWUP_STATUSES); any stored state other than
    "fixed — verified" means someone called and waits for the fix."""
    state = rec.followup
    if not state:
        return FOLLOWUP_NONE
    return FOLLOWUP_FIXED if state == FIXED_VERIFIED else FOLLOWUP_WAITING


# ---------------------------------------------------------------------------------------------
# "Changed since": the group changed (or an operator or the list changed the address)
# ---------------------------------------------------------------------------------------------


def _at(entry: object) -> str:
    value = entry.get("at") if isinstance(entry, dict) else getattr(entry, "at", None)
    return str(value) if value else ""


def change_times(rec: Record) -> Iterable[str]:
    """When something about this agency changed: group changes, corrections, list changes."""
    for corr in rec.corrections or ():
        if _at(corr):
            yield _at(corr)
    for change in rec.source_changes or ():
        if _at(change):
            yield _at(change)
    # The store knows when the group last changed; a record without it walks the history.
    group_changed_at = rec.group_changed_at
    if isinstance(group_changed_at, str):
        if group_changed_at:  # "": no change as far back as the store remembers
            yield group_changed_at
        return
    yield from _history_changes(rec)


def _history_changes(rec: Record) -> Iterable[str]:
    # history is newest first; walk it oldest first, then the current verdict
    previous: str | None = None
    entries = list(reversed(list(rec.history or ())))
    for entry in entries:
        if previous is not None and entry.group != previous and entry.checked_at:
            yield entry.checked_at
        previous = entry.group or previous
    verdict = rec.verdict
    if verdict is not None and previous is not None and verdict.group != previous and verdict.checked_at:
        yield verdict.checked_at
    if verdict is not None and not entries and verdict.checked_at:
        yield verdict.checked_at  # a first verdict is a change


def changed_since(rec: Record, since: str) -> bool:
    """Something changed at or after `since` (an ISO date or timestamp, compared at its precision)."""
    return any(at[: len(since)] >= since for at in change_times(rec))


_SINCE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_SINCE_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", re.ASCII)


def parse_since(text: str) -> str | None:
    """A "changed since" date as typed by an operator (or on the command line) → ISO date; None when empty.

    Accepts YYYY-MM-DD and DD/MM/YYYY, Buddhist Era (2569) or Common Era (2026) years, Thai or
    Arabic digits. Raises ValueError for anything else, so the caller can say what is wrong.
    """
    value = to_ascii_digits(text).strip()
    if not value:
        return None
    match = _SINCE_ISO.fullmatch(value)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _SINCE_DMY.fullmatch(value)
        if not match:
            raise ValueError(value)
        day, month, year = (int(g) for g in match.groups())
    if year > 2400:  # Buddhist Era: the year operators write
        year -= 543
    return date(year, month, day).isoformat()  # ValueError for 31/02 and the like


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------

# The abbreviations Thai offices write for local government units: the table shows "อบต.หนองบัวเหนือ"
# so that the part that tells units apart fits, where "องค์การบริหารส่วนตำบล…" would fill the column.
NAME_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("องค์การบริหารส่วนตำบล", "อบต."),
    ("องค์การบริหารส่วนจังหวัด", "อบจ."),
    ("เทศบาลตำบล", "ทต."),
    ("เทศบาลเมือง", "ทม."),
    ("เทศบาลนคร", "ทน."),
)


@lru_cache(maxsize=65536)
def short_name(name: str) -> str:
    """The name as the table shows it: a local unit's long prefix abbreviated (detail and exports keep it)."""
    for prefix, abbreviation in NAME_ABBREVIATIONS:
        if name.startswith(prefix) and len(name) > len(prefix):
            return abbreviation + name[len(prefix) :].lstrip()
    return name


def search_key(text: str) -> str:
    """What search compares: case-folded, Thai digits as Arabic (๖๖๓๐๑๙ finds 663019 and back)."""
    return to_ascii_digits(text).casefold()


@lru_cache(maxsize=8)
def _status_words(status: str) -> str:
    """The follow-up status in every language, so "/รอแก้ไข" finds the agencies someone called."""
    from console.i18n import LANGUAGES, tr

    return " ".join(search_key(tr(f"followup.status.{status}", lang)) for lang in LANGUAGES)


def search_haystack(rec: Record) -> str:
    """What a search matches in the console and in the CLI's --search (one text per record)."""
    agency = rec.agency
    text = search_key(
        " ".join(
            (
                agency.name,
                short_name(agency.name),  # "อบต.หนองบัว" finds it as the operators write it
                agency.district,
                agency.province,
                agency.declared,
                current_address(rec),
                agency.seq or "",
            )
        )
    )
    status = followup_status(rec)
    return text if status == FOLLOWUP_NONE else f"{text} {_status_words(status)}"


# ---------------------------------------------------------------------------------------------
# Scope: which records a view, an export or a report is about
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """A filter. Empty fields mean "any"; every surface selects records with `scope_filter`."""

    search: str = ""
    group: str | None = None
    bucket: str | None = None  # "A", "BE", "W" or UNCHECKED
    province: str | None = None
    district: str | None = None
    kind: str | None = None
    followup_only: bool = False
    followup_status: str | None = None  # one of FOLLOWUP_STATUSES: where the phoning stands
    changed_since: str | None = None  # ISO date (YYYY-MM-DD) or timestamp: the group changed since then
    groups: frozenset[str] = frozenset()  # several groups (the CLI's --group A,B); UNCHECKED for none

    def without_group(self) -> Scope:
        return replace(self, group=None, bucket=None, groups=frozenset())

    @property
    def active(self) -> bool:
        return self != Scope()


def _attribute_test(name: str, value: str) -> Callable[[Record], bool]:
    return lambda rec: getattr(rec.agency, name) == value


def _group_tests(scope: Scope, ruleset: Ruleset, group_of: GroupOf) -> list[Callable[[Record], bool]]:
    tests: list[Callable[[Record], bool]] = []
    if scope.group:
        wanted_group = scope.group
        tests.append(lambda rec: group_of(rec) == wanted_group)
    if scope.groups:
        wanted = scope.groups
        tests.append(lambda rec: (group_of(rec) or UNCHECKED) in wanted)
    if scope.bucket:
        wanted_bucket = scope.bucket
        tests.append(lambda rec: group_bucket(group_of(rec), ruleset) == wanted_bucket)
    if scope.followup_only:
        tests.append(lambda rec: ruleset.is_followup_group(group_of(rec)))
    if scope.followup_status:
        status = scope.followup_status
        tests.append(lambda rec: followup_status(rec) == status)
    return tests


def search_matcher(search: str) -> Callable[[str], bool] | None:
    """What a search asks of a record's `search_haystack`: every word typed is in it (None: no search)."""
    words = search_key(search).split()
    if len(words) == 1:
        word = words[0]
        return lambda text: word in text
    if words:
        return lambda text: all(w in text for w in words)
    return None


def scope_filter(
    scope: Scope,
    ruleset: Ruleset,
    haystack: Callable[[Record], str] = search_haystack,
    group_of: GroupOf = group_of,
) -> Callable[[Record], bool]:
    """A test for "is this record in `scope`" made of only the conditions the scope sets.

    A keystroke in the search box tests every agency, so the scope is read once here rather than
    once per record; `haystack` and `group_of` let a caller reuse search texts and effective groups
    between keystrokes (the same functions' answers, kept per record).
    """
    tests = _group_tests(scope, ruleset, group_of)
    tests += [_attribute_test(name, getattr(scope, name)) for name in ("province", "district", "kind") if getattr(scope, name)]
    if scope.changed_since:
        since = scope.changed_since
        tests.append(lambda rec: changed_since(rec, since))
    match = search_matcher(scope.search)
    if match is not None:
        tests.append(lambda rec: match(haystack(rec)))
    if not tests:
        return lambda rec: True
    if len(tests) == 1:
        return tests[0]
    return lambda rec: all(test(rec) for test in tests)


def select(records: Iterable[Record], scope: Scope, ruleset: Ruleset) -> list[Record]:
    """The records in `scope`, in the order given."""
    test = scope_filter(scope, ruleset)
    return [rec for rec in records if test(rec)]


def count_groups(records: Iterable[Record], group_of: GroupOf = group_of) -> Counter[str]:
    """Records per effective group (UNCHECKED for none): what the groups pane and the report count."""
    return tally_groups([group_of(rec) for rec in records])


def tally_groups(groups: Iterable[str | None]) -> Counter[str]:
    """Effective groups already worked out, counted as `count_groups` counts them."""
    counts: Counter[str | None] = Counter(groups)
    unchecked = counts.pop(None, 0)
    if unchecked:
        counts[UNCHECKED] += unchecked
    return counts  # type: ignore[return-value]  # None is gone
