"""What the console knows, apart from how it is drawn: records, scope, sort, marks, scan progress.

No Textual and no I/O: the app feeds it store reads and runner events and asks it what to show,
so every rule of the screen (what a row is, what stays on screen, what a scan's ETA is) is tested
without a terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import itemgetter
from typing import Any

from checks import events as ev
from checks.model import Verdict
from console.rules import (
    UNCHECKED,
    Record,
    Ruleset,
    Scope,
    current_address,
    group_of,
    needs_followup,
    rec_id,
    scope_filter,
    search_haystack,
    search_matcher,
    tally_groups,
)
from console.tui.view import SORTABLE, snapshot_counts, sort_records, with_verdict

Row = tuple[str, Record, "str | None"]  # (agency id, record, effective group)
AGENCY_SORTS = frozenset({"seq", "name", "district", "province"})  # orders a verdict cannot change
Snapshot = Mapping[str, Any]


def _signature(rec: Record) -> tuple[object, ...]:
    """What a table row shows of a record: a row is redrawn only when this changes."""
    verdict = rec.verdict
    return (
        rec.agency,
        verdict.group if verdict else None,
        verdict.checked_at if verdict else None,
        len(rec.notes or ()),
        len(rec.corrections or ()),
        rec.followup,
        current_address(rec),
        len(rec.history or ()),
    )


def scope_for_group_line(scope: Scope, key: str) -> Scope:
    """The scope after choosing a line of the groups pane ("all", "unchecked", "bucket:BE", "group:B3")."""
    if key == "followup":  # the phone list: B–E without what waits for an answer (console.rules)
        return replace(scope, group=None, bucket=None, followup_only=True)
    scope = replace(scope, followup_only=False)
    if key == "all":
        return replace(scope, group=None, bucket=None)
    if key == "unchecked":
        return replace(scope, group=None, bucket=UNCHECKED)
    kind, _, value = key.partition(":")
    if kind == "bucket":
        return replace(scope, group=None, bucket=value)
    if kind == "group":
        return replace(scope, group=value, bucket=None)
    return scope


def group_line_key(scope: Scope) -> str:
    """The groups pane's line that stands for the scope's group or bucket."""
    if scope.group:
        return f"group:{scope.group}"
    if scope.bucket == UNCHECKED:
        return "unchecked"
    if scope.bucket:
        return f"bucket:{scope.bucket}"
    return "followup" if scope.followup_only else "all"


@dataclass
class ConsoleState:
    """The agencies and the operator's view of them."""

    ruleset: Ruleset
    records: dict[str, Record] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    sort_column: str = "seq"
    sort_reverse: bool = False
    marked: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)  # changed records not yet on screen
    order: list[str] = field(default_factory=list)  # the table's rows, as last shown
    selected_id: str | None = None
    generation: Hashable | None = None  # the store's, when the records were read
    snapshots: list[Snapshot] = field(default_factory=list)
    _sticky: tuple[Scope, frozenset[str]] = field(default_factory=lambda: (Scope(), frozenset()))
    _haystacks: dict[str, tuple[Record, str]] = field(default_factory=dict)
    _groups: dict[str, tuple[Record, str | None]] = field(default_factory=dict)
    _sort_cache: tuple[tuple[str, bool], list[str]] | None = None
    _version: int = 0  # moves whenever a record is replaced
    _sorts: int = 0  # moves whenever the order is worked out again
    _rows: tuple[object, list[Row]] | None = None  # rows(), with what they were made from
    _texts: tuple[list[Row], list[str]] | None = None  # search_texts(), for one rows() list
    _picked: tuple[list[Record], list[Row]] | None = None  # in_scope()'s last answer and its rows

    # -- records ----------------------------------------------------------------------------

    def apply_records(self, records: Iterable[Record]) -> bool:
        """Replace the records (after a reload): marks changed rows pending; True when rows went away.

        A streamed verdict newer than what the runner has saved so far is kept."""
        new = {r.agency.id: r for r in records}  # rec_id, inlined: once per agency
        old_records = self.records
        if old_records:
            for key, rec in new.items():
                old = old_records.get(key)
                kept = old.verdict if old is not None else None
                if kept is not None and (rec.verdict is None or kept.checked_at > rec.verdict.checked_at):
                    new[key] = with_verdict(rec, kept)
            changed = self._changed_keeping_derived(old_records, new)
            removed = set(old_records) - set(new)
        else:  # the first load: every record is new (the first screen waits for this at 20,000 agencies)
            changed, removed = set(new), set()
        self.records = new
        self._version += 1
        self._sort_cache = None
        self.marked &= set(new)
        for key in removed:
            self._haystacks.pop(key, None)
            self._groups.pop(key, None)
        self.pending |= changed
        return bool(removed)

    def _changed_keeping_derived(self, old_records: dict[str, Record], new: dict[str, Record]) -> set[str]:
        """The keys whose row changed. A reload reads every record anew, so an unchanged one is a new
        object with the same name, place, address and verdict: its search text and effective group
        are kept for it (during a scan the console reloads every poll, and made all 8,286 again)."""
        changed: set[str] = set()
        haystacks, groups = self._haystacks, self._groups
        for key, rec in new.items():
            old = old_records.get(key)
            if old is None or _signature(old) != _signature(rec):
                changed.add(key)
                continue
            cached = haystacks.get(key)
            if cached is not None and cached[0] is old:  # the signature holds the agency and the address
                haystacks[key] = (rec, cached[1])
            known = groups.get(key)
            if known is not None and known[0] is old:  # and the verdict's group, time and the address
                groups[key] = (rec, known[1])
        return changed

    def apply_record(self, rec: Record) -> None:
        """One record read again (after a recheck, a note, a correction)."""
        key = rec_id(rec)
        self.records[key] = rec
        self._version += 1
        self.pending.add(key)

    def apply_verdict(self, agency_id: str, verdict: Verdict) -> bool:
        """A verdict streamed from a scan or a recheck; False for an agency the console does not hold."""
        rec = self.records.get(agency_id)
        if rec is None:
            return False
        self.records[agency_id] = with_verdict(rec, verdict)
        self._version += 1
        self.pending.add(agency_id)
        return True

    def take_pending(self) -> set[str]:
        """The changed records to draw now; a new verdict or address can move a row in most sorts."""
        pending, self.pending = self.pending, set()
        if pending and self.sort_column not in AGENCY_SORTS:
            self._sort_cache = None
        return pending

    # -- scope and order --------------------------------------------------------------------

    def group(self, rec: Record) -> str | None:
        """The record's effective group (console.rules.group_of), worked out once per record object:
        the groups pane and the group filters ask it of every agency at each keystroke."""
        key = rec.agency.id  # rec_id without the call: this runs for every agency at each keystroke
        cached = self._groups.get(key)
        if cached is not None and cached[0] is rec:
            return cached[1]
        group = group_of(rec)
        self._groups[key] = (rec, group)
        return group

    def haystack(self, rec: Record) -> str:
        """The record's search text, made once per record object (a keystroke tests every agency)."""
        key = rec.agency.id  # as in group()
        cached = self._haystacks.get(key)
        if cached is not None and cached[0] is rec:
            return cached[1]
        text = search_haystack(rec)
        self._haystacks[key] = (rec, text)
        return text

    def prepare_search(self) -> None:
        """Make every search text now, not on the first keystroke."""
        self.search_texts()

    def rows(self) -> list[Row]:
        """(id, record, effective group) of every agency in sort order, made once per change of the
        records or the order: a keystroke then reads these, not each record through its caches."""
        ids = self.sorted_ids()
        stamp = (self._version, self._sorts)
        if self._rows is None or self._rows[0] != stamp:
            records = self.records
            self._rows = (stamp, [(key, rec, self.group(rec)) for key in ids if (rec := records.get(key)) is not None])
        return self._rows[1]

    def search_texts(self) -> list[str]:
        """The search text of each of `rows()`, in the same order (made when a search is first typed)."""
        rows = self.rows()
        if self._texts is None or self._texts[0] is not rows:
            self._texts = (rows, [self.haystack(rec) for _, rec, _ in rows])
        return self._texts[1]

    def sorted_ids(self) -> list[str]:
        """Every agency id in sort order, sorted once and reused until the records change."""
        key = (self.sort_column, self.sort_reverse)
        if self._sort_cache is None or self._sort_cache[0] != key:
            ordered = sort_records(list(self.records.values()), self.sort_column, self.sort_reverse, self.ruleset)
            self._sort_cache = (key, [rec_id(r) for r in ordered])
            self._sorts += 1
        return self._sort_cache[1]

    def kept(self) -> frozenset[str]:
        """Agencies just corrected or rechecked: they stay on screen in the scope they were acted on
        in, even when the new verdict takes them out of it (the result must be seen)."""
        scope, ids = self._sticky
        if scope != self.scope:
            self._sticky = (self.scope, frozenset())  # another view: what was kept is let go for good
            return frozenset()
        return ids

    def keep_on_screen(self, agency_id: str) -> None:
        scope, ids = self._sticky
        self._sticky = (self.scope, (ids if scope == self.scope else frozenset()) | {agency_id})

    def in_scope(self) -> list[Record]:
        """Records in the scope ignoring its group (what the groups pane counts), in sort order."""
        scope = self.scope.without_group()
        kept = self.kept()
        rows = self.rows()
        match = search_matcher(scope.search)
        rest = replace(scope, search="") if match is not None else scope
        test = scope_filter(rest, self.ruleset, self.haystack, self.group) if rest.active else None
        if match is not None:  # the search first, one test per text
            picked = [
                row for row, text in zip(rows, self.search_texts(), strict=True)
                if (match(text) and (test is None or test(row[1]))) or row[0] in kept
            ]
        elif test is not None:
            picked = [row for row in rows if test(row[1]) or row[0] in kept]
        else:
            picked = rows
        chosen = [row[1] for row in picked]
        self._picked = (chosen, picked)  # group_counts reads the groups from here
        return chosen

    def visible(self, in_scope: list[Record] | None = None) -> list[Record]:
        """The table's rows in order; pass `in_scope()` when already computed (one pass per keystroke)."""
        base = self.in_scope() if in_scope is None else in_scope
        if not (self.scope.group or self.scope.bucket):
            return base
        test = scope_filter(self.scope, self.ruleset, self.haystack, self.group)
        kept = self.kept()
        return [r for r in base if test(r) or rec_id(r) in kept]

    def visible_ids(self) -> list[str]:
        return [rec_id(r) for r in self.visible()]

    # -- sort -------------------------------------------------------------------------------

    def next_sort(self) -> tuple[str, bool]:
        """The column `o` sorts by next (ascending)."""
        index = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
        return SORTABLE[(index + 1) % len(SORTABLE)], False

    def header_sort(self, column: str) -> tuple[str, bool] | None:
        """A click on a header: that column ascending, or the other way when it is already the sort."""
        if column not in SORTABLE:
            return None
        return column, (not self.sort_reverse if column == self.sort_column else False)

    # -- marks and targets ------------------------------------------------------------------

    def toggle_mark(self, agency_id: str) -> bool:
        """Mark or unmark; True when now marked."""
        if agency_id in self.marked:
            self.marked.discard(agency_id)
            return False
        self.marked.add(agency_id)
        return True

    def targets(self, selected: str | None) -> list[str]:
        """What an action applies to: the marked agencies (table order first), else the selected one."""
        if self.marked:
            return [key for key in self.order if key in self.marked] + sorted(self.marked - set(self.order))
        return [selected] if selected is not None and selected in self.records else []

    def followup_items(self) -> list[Record]:
        """The rows on screen that need follow-up (console.rules): what `e` exports."""
        return [r for key in self.order if (r := self.records.get(key)) is not None and needs_followup(r, self.ruleset, self.group)]

    def unchecked_of(self, ids: Iterable[str]) -> list[str]:
        """Of these agencies, those with no verdict about the address they declare now."""
        return [k for k in dict.fromkeys(ids) if k in self.records and self.group(self.records[k]) is None]

    # -- the groups pane's comparison ---------------------------------------------------------

    def group_counts(self, in_scope: list[Record] | None = None) -> Counter[str]:
        """count_groups of the scope, from the groups kept per record (every keystroke counts them all)."""
        records = self.in_scope() if in_scope is None else in_scope
        if self._picked is not None and self._picked[0] is records:  # the rows in_scope() just chose
            return tally_groups(map(itemgetter(2), self._picked[1]))
        return tally_groups(map(self.group, records))

    def previous_snapshot(self, counts: Counter[str]) -> Snapshot | None:
        """The snapshot to compare with: the latest, unless it is what is shown now (then the one before)."""
        if not self.snapshots:
            return None
        scope = self.scope.without_group()
        latest = self.snapshots[-1]
        current = Counter({g: n for g, n in counts.items() if g != UNCHECKED and n})
        latest_counts = Counter({g: n for g, n in (snapshot_counts(latest, scope) or Counter()).items() if n})
        if latest_counts == current:  # the latest is this very scan: compare with the one before, if any
            return self.snapshots[-2] if len(self.snapshots) > 1 else None
        return latest


@dataclass
class ScanProgress:
    """The scan as the operator follows it: state, counts, rate and ETA, retries, the canary."""

    state: str = "idle"  # idle, loading, running, paused, finished, stopped
    reason: str = ""
    total: int | None = None
    done: int = 0
    started: datetime | None = None
    elapsed: float | None = None
    tallies: Counter[str] = field(default_factory=Counter)
    retries: dict[str, int] = field(default_factory=dict)
    canary: tuple[str, int] | None = None  # (reason, agencies withheld) while our own network fails
    blocked_notified: bool = False
    stop_requested: bool = False  # `x` before the runner took the scan in hand

    @property
    def active(self) -> bool:
        """A scan is under way (its agencies may still be loading)."""
        return self.state in ("loading", "running", "paused")

    def begin(self, total: int, now: datetime) -> None:
        """The operator started a scan: shown at once, while the runner still reads its agencies."""
        self.state = "loading"
        self.stop_requested = False
        self.total = total
        self.done = 0
        self.started = now
        self.elapsed = None

    def apply(self, event: ev.Event, now: datetime) -> None:
        """A runner event (on the app's loop); the end of a scan goes through `finish`."""
        if isinstance(event, ev.ScanStarted):
            self.state, self.total, self.done, self.started, self.elapsed = "running", event.total, 0, now, None
            self.tallies, self.retries, self.blocked_notified = Counter(), {}, False
        elif isinstance(event, ev.AgencyChecked):
            self.done, self.total = event.done, event.total
            self.tallies[event.verdict.group] += 1
            for address in (event.agency.declared, event.verdict.evidence.normalized or ""):
                self.retries.pop(address, None)
        elif isinstance(event, ev.RetryScheduled):
            self.retries[event.address] = event.attempt
        elif isinstance(event, ev.CanaryFailed):
            self.canary = (event.reason, event.withheld)
        elif isinstance(event, ev.CanaryRestored):
            self.canary = None
        elif isinstance(event, ev.ScanPaused):
            self.state, self.reason = "paused", event.reason
        elif isinstance(event, ev.ScanResumed):
            self.state, self.reason = "running", ""

    def finish(self, event: ev.ScanFinished) -> bool:
        """The scan ended; False when this end was already taken in (the runner reports it twice)."""
        if self.state in ("finished", "stopped") and self.done == event.done:
            return False
        self.retries = {}  # nothing waits any more
        self.done, self.total, self.elapsed = event.done, event.total, event.elapsed_s
        self.state = "stopped" if event.stopped else "finished"
        self.reason = event.stopped or ""
        return True

    def ended_without_report(self) -> None:
        """The scan's worker ended (an error, a cancel) without a ScanFinished."""
        if self.active:
            self.state = "stopped"

    def toggle_pause(self) -> str:
        """`s` during a scan: pause or resume; returns the new state."""
        self.state = "running" if self.state == "paused" else "paused"
        return self.state

    def rate_eta(self, now: datetime) -> tuple[float | None, float | None]:
        """Agencies per second so far, and seconds left at that rate."""
        if self.started is None or self.state not in ("running", "paused"):
            return None, None
        elapsed = (now - self.started).total_seconds()
        if elapsed <= 0 or self.done <= 0:
            return None, None
        rate = self.done / elapsed
        remaining = (self.total or 0) - self.done
        return rate, (remaining / rate if rate > 0 else None)


def tallies_in_rule_order(progress: ScanProgress, ruleset: Ruleset) -> Sequence[tuple[str, int]]:
    """The scan's counts per group, in the ruleset's order, only groups seen."""
    return [(r.group, progress.tallies[r.group]) for r in ruleset.rules if progress.tallies.get(r.group)]
