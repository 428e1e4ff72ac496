"""The operations console: agencies, groups, detail and scan progress, all keyboard driven.

The app owns the state (records, scope, marks, scan progress) and does every store/runner call in a
worker; the widgets in `widgets.py` only display what they are handed. Streaming scan results are
applied to `self.records` at once and reach the table in batches every ~300 ms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from checks.events import (
    AgencyChecked,
    CanaryFailed,
    CanaryRestored,
    PreflightWarning,
    ProberBlocked,
    RetryScheduled,
    ScanFinished,
    ScanPaused,
    ScanResumed,
    ScanStarted,
)
from console.corrections import other_owners, shared_address_warning
from console.i18n import other_language, scan_reason, tr
from console.rules import (
    UNCHECKED,
    Ruleset,
    Scope,
    count_groups,
    current_address,
    group_of,
    needs_followup,
    rec_id,
    scope_filter,
    search_haystack,
)
from console.seams import ConsoleConfig, ConsoleRunner, ConsoleStore
from console.trends import trend_points
from console.tui.columns import ALL_COLUMNS
from console.tui.commands import ActionsProvider, PaletteEntry
from console.tui.screens import (
    AddressReader,
    ConfirmScreen,
    CorrectionRequest,
    CorrectionScreen,
    FilterScreen,
    HelpScreen,
    PromptScreen,
    default_reader,
)
from console.tui.text import one_line
from console.tui.view import (
    CALLED_STATES,
    SORTABLE,
    describe_scope,
    detail_text,
    fmt_duration,
    group_label,
    group_lines,
    group_text,
    row_cells,
    snapshot_counts,
    sort_records,
    summary_text,
    with_verdict,
)
from console.tui.watching import ConsoleWatch, newly_fixed
from console.tui.widgets import AgencyTable, DetailPane, GroupsPane, ProgressPane
from console.watch.lock import WatchLockHeld

NARROW_BELOW = 120  # columns: below this one pane at a time, at or above it side by side
WIDE_FROM = 160  # columns: from here every table column and a wider side pane
FLUSH_SECONDS = 0.3
POLL_SECONDS = 2.0
BACKLOG_SHOWN_S = 10.0  # name the host that holds the scan up once it needs this long
SEARCH_DEBOUNCE = 0.15  # seconds between two table updates while typing a search
IMPORT_PROBLEMS_LOGGED = 200  # bad rows named in the log; the rest are counted (saraban import lists all)
FOLLOWUP_CALLED = "called_waiting"
AGENCY_SORTS = frozenset({"seq", "name", "district", "province"})  # orders a verdict cannot change
PANES: tuple[str, ...] = ("agencies", "groups", "detail", "progress")

# (key, action, binding id, shown in the footer). Descriptions come from i18n ("key.<id>").
BINDING_SPECS: tuple[tuple[str, str, str, bool], ...] = (
    ("slash", "search", "filter", True),
    ("ctrl+p,colon", "command_palette", "palette", False),
    ("question_mark", "help", "help", True),
    ("1", "pane('agencies')", "pane_agencies", False),
    ("2", "pane('groups')", "pane_groups", False),
    ("3", "pane('detail')", "pane_detail", False),
    ("4", "pane('progress')", "pane_progress", False),
    ("space", "mark", "mark", False),
    ("escape", "back_out", "back", False),
    ("q", "quit_app", "quit", True),
    ("r", "recheck", "recheck", True),
    ("R", "recheck_scope", "recheck_scope", False),
    ("s", "scan", "scan", True),
    ("x", "stop", "stop", False),
    ("c", "correct", "correct", True),
    ("n", "note", "note", True),
    ("w", "called", "called", True),
    ("e", "export", "export", True),
    ("i", "import_list", "import", False),
    ("l", "language", "language", True),
    ("y", "copy", "copy", False),
    ("f", "filters", "filters", True),
    ("o", "sort", "sort", False),
    ("O", "sort_reverse", "sort_reverse", False),
    ("M", "clear_marks", "clear_marks", False),
    ("5", "trends", "pane_trends", False),
    ("W", "watch", "watch", False),
)
# What a supervisor's read-only console (saraban serve) must not do: these keys and palette entries
# are absent there, and the app refuses the actions if they are sent anyway (check_action).
WRITE_ACTIONS: frozenset[str] = frozenset(
    {"recheck", "recheck_scope", "scan", "stop", "correct", "note", "called", "export", "import_list", "watch"}
)


def _freshest(full: Any, light: Any) -> Any:
    """The store's full record (evidence, history) with the list's verdict when that one is newer
    (streamed from a scan the runner has not saved yet)."""
    verdict = light.verdict
    if verdict is not None and (full.verdict is None or verdict.checked_at > full.verdict.checked_at):
        return with_verdict(full, verdict)
    return full


def _make_bindings() -> list[Binding]:
    return [
        Binding(
            key,
            action,
            tr(f"key.{binding_id}", "th"),
            show=show,
            id=binding_id,
            priority=action == "command_palette",
        )
        for key, action, binding_id, show in BINDING_SPECS
    ]


class MainScreen(Screen[None]):
    """The four panes; tells the app when the terminal width crosses the narrow/wide line."""

    def compose(self) -> ComposeResult:
        yield Static(id="topbar", markup=False)
        yield Input(id="search", placeholder="")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield AgencyTable(id="agencies")
            with Vertical(id="right"):
                yield GroupsPane(id="groups")
                yield DetailPane(id="detail")
        yield ProgressPane(id="progress")
        yield Footer()

    def on_mount(self) -> None:
        app = self.app
        if isinstance(app, SarabanApp):
            app.main_ready()

    def on_resize(self, event: Resize) -> None:
        app = self.app
        if isinstance(app, SarabanApp):
            app.width_changed(event.size.width)


class SarabanApp(App[None]):
    """saraban: check Section 10 addresses, read the groups, follow up by phone, correct and recheck."""

    CSS_PATH = "app.tcss"
    TITLE = "saraban"
    BINDINGS: ClassVar[list[Binding]] = _make_bindings()  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {ActionsProvider}

    def __init__(
        self,
        store: ConsoleStore,
        runner: ConsoleRunner,
        config: ConsoleConfig,
        *,
        title_suffix: str = "",
        autostart_scan: bool = False,
        clock: Callable[[], datetime] | None = None,
        address_reader: AddressReader | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.read_only = read_only
        self.store = store
        self.runner = runner
        self.config = config
        self.title_suffix = title_suffix
        self.autostart_scan = autostart_scan
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now().astimezone())
        self.address_reader = address_reader if address_reader is not None else default_reader()
        self.lang: str = config.language or "th"
        self.operator: str = config.operator or ""
        self.ruleset = Ruleset.of(config.engine)
        self.rules = self.ruleset.rules
        # data
        self.records: dict[str, Any] = {}
        self._full: dict[str, Any] = {}  # agency id → full record (evidence, history) for the detail pane
        self.order: list[str] = []
        self.scope = Scope()
        self.marked: set[str] = set()
        self.sort_column = "seq"
        self.sort_reverse = False
        self.pending: set[str] = set()
        self.generation: Any = None
        self.snapshots: list[dict[str, Any]] = []
        self.selected_id: str | None = None
        self.loaded = False
        # layout
        self.narrow = False
        self.wide = False
        self.pane = "agencies"
        # scan progress
        self.scan_state = "idle"  # idle, running, paused, finished, stopped
        self.scan_reason = ""
        self.scan_total: int | None = None
        self.scan_done = 0
        self.scan_started: datetime | None = None
        self.scan_elapsed: float | None = None
        self.scan_tallies: Counter[str] = Counter()
        self.retries: dict[str, int] = {}
        self.canary: tuple[str, int] | None = None
        self._progress_dirty = True
        self._search_timer: Timer | None = None
        self._haystacks: dict[str, tuple[Any, str]] = {}
        self._sort_cache: tuple[tuple[str, bool], list[str]] | None = None
        self._search_applied_at = 0.0  # time.monotonic() of the last search applied to the table
        self._polling = False
        self._blocked_notified = False
        self._detail_shown: tuple[str | None, str | None] = (None, None)
        self._sticky: tuple[Scope, frozenset[str]] = (Scope(), frozenset())
        self._watch_shown: str | None = None
        self.watching = ConsoleWatch(
            store, config, busy=lambda: bool(getattr(self.runner, "running", False)),
            on_fixed=lambda fixed: self.call_later(self._refresh_topbar), clock=self.clock,
        )

    # ------------------------------------------------------------------------------------------
    # Setup
    # ------------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(id="main")

    def on_mount(self) -> None:
        self._localise_bindings()
        keys = self.config.keys
        if keys:
            self.set_keymap(dict(keys))
            known = {binding_id for _, _, binding_id, _ in BINDING_SPECS}
            unknown = sorted(str(k) for k in keys if k not in known)
            if unknown:
                self.notify(
                    tr("msg.unknown_keys", self.lang, ids=", ".join(one_line(k) for k in unknown)),
                    severity="warning",
                    markup=False,
                    timeout=15,
                )

    def main_ready(self) -> None:
        """The main screen is composed: lay it out, load the store, start the timers."""
        suffix = one_line(self.title_suffix)
        self.title = f"saraban {suffix}" if suffix else "saraban"
        self.width_changed(self.size.width)
        self._relabel()
        self.set_interval(FLUSH_SECONDS, self.flush_pending)
        self.set_interval(POLL_SECONDS, self._poll)
        self.run_guarded(self._initial_load(), "load")
        self.query_one("#agencies", AgencyTable).focus()

    async def _initial_load(self) -> None:
        await self._reload()
        self.loaded = True
        if self.autostart_scan:
            self.start_scan(None)

    def width_changed(self, width: int) -> None:
        try:
            self.query_one("#agencies", AgencyTable)
        except NoMatches:
            return  # not composed yet: on_mount calls again
        narrow = width < NARROW_BELOW
        wide = width >= WIDE_FROM
        first = not self.query_one("#agencies", AgencyTable).column_ids
        self.query_one("#topbar").screen.set_class(wide, "-xwide")  # the main screen, even under a dialog
        if narrow != self.narrow or wide != self.wide or first:
            self.narrow = narrow
            self.wide = wide
            self._apply_layout()
            self._set_columns()
            if not first:
                self._rebuild_table()

    def _apply_layout(self) -> None:
        """Wide: table beside groups and detail, progress below. Narrow: one pane at a time."""
        try:
            left = self.query_one("#left")
            right = self.query_one("#right")
            groups = self.query_one("#groups")
            detail = self.query_one("#detail")
            progress = self.query_one("#progress")
            body = self.query_one("#body")
        except Exception:
            return
        screen = self.query_one("#topbar").screen
        screen.set_class(self.narrow, "-narrow")
        screen.set_class(not self.narrow, "-wide")
        if not self.narrow:
            for widget in (left, right, groups, detail, progress, body):
                widget.display = True
            return
        pane = self.pane
        body.display = pane != "progress"
        left.display = pane == "agencies"
        right.display = pane in ("groups", "detail")
        groups.display = pane == "groups"
        detail.display = pane == "detail"
        progress.display = pane == "progress"

    def _set_columns(self) -> None:
        """Offer every column; the table shows the ones its width holds (the group always)."""
        labels = {c: tr(f"col.{c}", self.lang) for c in ALL_COLUMNS}
        self.query_one("#agencies", AgencyTable).set_columns(ALL_COLUMNS, labels)

    def _localise_bindings(self) -> None:
        """Binding descriptions (footer, help, palette) in the current language; keys and ids unchanged."""
        specs = {binding_id for _, _, binding_id, _ in BINDING_SPECS}
        key_to_bindings = self._bindings.key_to_bindings
        for key, bindings in list(key_to_bindings.items()):
            key_to_bindings[key] = [
                dataclasses.replace(b, description=tr(f"key.{b.id}", self.lang)) if b.id in specs else b
                for b in bindings
            ]
        self.refresh_bindings()

    def _relabel(self) -> None:
        """Pane titles and placeholders in the current language."""
        self.query_one("#left").border_title = tr("pane.agencies", self.lang)
        self.query_one("#groups").border_title = tr("pane.groups", self.lang)
        self.query_one("#detail").border_title = tr("pane.detail", self.lang)
        self.query_one("#progress").border_title = tr("pane.progress", self.lang)
        self.query_one("#search", Input).placeholder = tr("search.placeholder", self.lang)

    # ------------------------------------------------------------------------------------------
    # Workers and I/O
    # ------------------------------------------------------------------------------------------

    def run_guarded(self, coro: Awaitable[Any], group: str, exclusive: bool = False) -> None:
        """Run store/runner work in a worker; an error becomes a notification, never a crash."""

        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.error(exc)
                self.notify(tr("msg.error", self.lang, error=one_line(exc)), severity="error", markup=False)

        self.run_worker(guarded(), group=group, exclusive=exclusive, exit_on_error=False)

    @staticmethod
    async def io(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Blocking store calls run in a thread so the screen keeps drawing."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def _reload(self) -> None:
        # The table needs group and flags only: light records skip the probe transcripts and history,
        # which the detail pane loads for the one selected agency.
        records = await self.io(self.store.records, with_history=False, light=True)
        self._full.clear()
        generation = await self.io(self.store.generation)
        try:
            snapshots = await self.io(self.store.snapshots)
        except Exception:
            snapshots = []
        self.generation = generation
        self.snapshots = list(snapshots or [])
        # A national store is millions of long-lived objects; without this every full collection of
        # the cyclic GC walks them all (~0.1 s) and lands in the middle of a keystroke or a redraw.
        gc.freeze()
        self.apply_records(records)
        gc.freeze()

    async def _reload_one(self, agency_id: str) -> None:
        rec = await self.io(self.store.record, agency_id)
        if rec is not None:
            self.records[agency_id] = rec
            self.pending.add(agency_id)
        self.generation = await self.io(self.store.generation)
        self.flush_pending()

    def _poll(self) -> None:
        """Pick up other operators' changes (the store's generation moves when anyone writes)."""
        if self.watching.status(self.lang) != self._watch_shown:
            self._refresh_topbar()  # the watcher's next run, round under way, or it just ended
        if self._polling or not self.loaded:
            return
        self._polling = True

        async def poll() -> None:
            try:
                generation = await self.io(self.store.generation)
                if generation != self.generation:
                    await self._reload()
            finally:
                self._polling = False

        self.run_guarded(poll(), "poll")

    # ------------------------------------------------------------------------------------------
    # State → screen
    # ------------------------------------------------------------------------------------------

    @staticmethod
    def _signature(rec: Any) -> tuple[Any, ...]:
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

    def apply_records(self, records: Iterable[Any]) -> None:
        """Replace the records (after a reload), updating only rows whose content changed."""
        new = {rec_id(r): r for r in records}
        for key, rec in new.items():
            # a streamed verdict can be newer than what the runner has saved so far: keep it
            old = self.records.get(key)
            kept = old.verdict if old is not None else None
            if kept is not None and (rec.verdict is None or kept.checked_at > rec.verdict.checked_at):
                new[key] = with_verdict(rec, kept)
        changed = {
            key
            for key, rec in new.items()
            if key not in self.records or self._signature(self.records[key]) != self._signature(rec)
        }
        removed = set(self.records) - set(new)
        for rec in newly_fixed(self.records, new):  # the watcher (here or anywhere) verified a fix
            self.notify(tr("notify.fixed", self.lang, name=one_line(rec.agency.name)), markup=False, timeout=15)
        self.records = new
        self._sort_cache = None
        self.marked &= set(new)
        for key in removed:
            self._haystacks.pop(key, None)
        self.pending |= changed
        if removed or not self.order:
            self._rebuild_table()
        self.flush_pending(force_groups=True)

    def _sorted_ids(self) -> list[str]:
        """Every agency id in the table's sort order, sorted once and reused until records change."""
        key = (self.sort_column, self.sort_reverse)
        if self._sort_cache is None or self._sort_cache[0] != key:
            ordered = sort_records(list(self.records.values()), self.sort_column, self.sort_reverse, self.ruleset)
            self._sort_cache = (key, [rec_id(r) for r in ordered])
        return self._sort_cache[1]

    def _kept(self) -> frozenset[str]:
        """Agencies the operator just corrected or rechecked: they stay on screen in the scope they were
        acted on in, even when the new verdict takes them out of it (the result must be seen)."""
        scope, ids = self._sticky
        if scope != self.scope:
            self._sticky = (self.scope, frozenset())  # another view: what was kept is let go for good
            return frozenset()
        return ids

    def in_scope(self) -> list[Any]:
        """Records in the current scope ignoring its group (what the groups pane counts), in sort order."""
        test = scope_filter(self.scope.without_group(), self.ruleset, self._haystack)
        kept = self._kept()
        records = self.records
        chosen = ((key, records.get(key)) for key in self._sorted_ids())
        return [r for key, r in chosen if r is not None and (test(r) or key in kept)]

    def visible_records(self, in_scope: list[Any] | None = None) -> list[Any]:
        """The table's rows in order; pass `in_scope()` when already computed (one pass per keystroke)."""
        base = self.in_scope() if in_scope is None else in_scope
        if not (self.scope.group or self.scope.bucket):
            return base
        test = scope_filter(self.scope, self.ruleset, self._haystack)
        kept = self._kept()
        return [r for r in base if test(r) or rec_id(r) in kept]

    def _keep_on_screen(self, agency_id: str) -> None:
        scope, ids = self._sticky
        self._sticky = (self.scope, (ids if scope == self.scope else frozenset()) | {agency_id})

    def _haystack(self, rec: Any) -> str:
        """The record's search text, made once per record object (a keystroke scans every agency)."""
        key = rec_id(rec)
        cached = self._haystacks.get(key)
        if cached is not None and cached[0] is rec:
            return cached[1]
        text = search_haystack(rec)
        self._haystacks[key] = (rec, text)
        return text

    def _cells(self, key: str) -> list[Text]:
        """One row's cells, asked for by the table only when it draws that row."""
        rec = self.records.get(key)
        if rec is None:
            return []
        columns = self.query_one("#agencies", AgencyTable).column_ids
        return row_cells(rec, columns, self.lang, key in self.marked, self.ruleset)

    def _rebuild_table(self) -> None:
        table = self.query_one("#agencies", AgencyTable)
        in_scope = self.in_scope()
        self.order = [rec_id(r) for r in self.visible_records(in_scope)]
        table.rebuild(self.order, self._cells, keep=self.selected_id)
        self.pending.clear()
        self.selected_id = table.current_key()
        self._refresh_groups(in_scope)
        self._refresh_topbar()
        self._refresh_detail()

    def flush_pending(self, force_groups: bool = False) -> None:
        """Apply pending record changes to the screen: rows in place, or one rebuild when the set changed."""
        if self.pending:
            if self.sort_column not in AGENCY_SORTS:
                self._sort_cache = None  # a new verdict or address can move a row
            pending, self.pending = self.pending, set()
            for key in pending:
                self._full.pop(key, None)  # reload the selected one's history and evidence
            new_order = [rec_id(r) for r in self.visible_records()]
            if new_order != self.order:
                self._rebuild_table()
            else:
                table = self.query_one("#agencies", AgencyTable)
                for key in pending:
                    rec = self.records.get(key)
                    if rec is not None:
                        table.update_row(key)
                self._refresh_groups()
                self._refresh_topbar()
                if self.selected_id in pending:
                    self._refresh_detail()
        elif force_groups:
            self._refresh_groups()
            self._refresh_topbar()
            self._refresh_detail()
        if self._progress_dirty or self.scan_state == "running":  # rate and ETA move with the clock
            self._progress_dirty = False
            self._refresh_progress()

    def _refresh_topbar(self) -> None:
        """One line, most urgent first: at 80 columns its end is cut off."""
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        text.append(f" {self.title} ", style="bold reverse")
        if self.scan_state in ("running", "paused"):
            text.append(" ")
            done = f"{self.scan_done}/{self.scan_total or '?'}"
            label = (
                tr("progress.running", self.lang)
                if self.scan_state == "running"
                else tr("progress.paused", self.lang, reason=self._reason(self.scan_reason))
            )
            text.append(f"{label} {done}", style="bold cyan")
            text.append("  ·")
        if self.canary is not None:
            text.append(" ")
            text.append(
                tr(
                    "progress.canary_failed",
                    self.lang,
                    reason=one_line(self.canary[0]),
                    withheld=self.canary[1],
                ),
                style="bold red",
            )
            text.append("  ·")
        watch_status = self._watch_shown = self.watching.status(self.lang)
        if watch_status:
            text.append(" ")
            text.append(watch_status, style="bold green")
            text.append("  ·")
        if self.marked:
            text.append(" ")
            text.append(tr("status.marked", self.lang, n=len(self.marked)), style="bold yellow")
            text.append("  ·")
        text.append(" ")
        text.append(
            tr("status.scope", self.lang, shown=len(self.order), total=len(self.records)), style="bold"
        )
        text.append("  ·  ")
        text.append(tr("status.filter", self.lang, desc=describe_scope(self.scope, self.lang)))
        text.append("  ·  ")
        text.append(tr("status.sort", self.lang, col=tr(f"col.{self.sort_column}", self.lang)), style="dim")
        if self.operator and not self.narrow:
            text.append(f"  ·  {one_line(self.operator)}", style="dim")
        self.query_one("#topbar", Static).update(text)

    def _refresh_groups(self, in_scope: list[Any] | None = None) -> None:
        base = self.scope.without_group()
        counts = count_groups(self.in_scope() if in_scope is None else in_scope)
        previous_snapshot = self._previous_snapshot(counts, base)
        previous = snapshot_counts(previous_snapshot, base) if previous_snapshot else None
        lines = group_lines(counts, previous, self.ruleset, self.lang)
        if previous_snapshot:
            footer = tr("groups.since", self.lang, at=self._be(previous_snapshot.get("at", "")))
        else:
            footer = tr("groups.no_snapshot", self.lang)
        selected = (
            f"group:{self.scope.group}"
            if self.scope.group
            else (
                "unchecked"
                if self.scope.bucket == UNCHECKED
                else f"bucket:{self.scope.bucket}"
                if self.scope.bucket
                else "all"
            )
        )
        self.query_one("#groups", GroupsPane).show(lines, footer, selected)

    def _previous_snapshot(self, counts: Counter[str], scope: Scope) -> dict[str, Any] | None:
        """The snapshot to compare with: the latest one unless it is the state shown now (then the one before)."""
        if not self.snapshots:
            return None
        latest = self.snapshots[-1]
        current = Counter({g: n for g, n in counts.items() if g != UNCHECKED and n})
        latest_counts = snapshot_counts(latest, scope) or Counter()
        latest_counts = Counter({g: n for g, n in latest_counts.items() if n})
        if latest_counts == current and len(self.snapshots) > 1:
            return self.snapshots[-2]
        return latest

    def _refresh_detail(self) -> None:
        agency_id = self.selected_id
        rec = self.records.get(agency_id) if agency_id else None
        full = self._full.get(agency_id) if agency_id else None
        if rec is not None and full is not None:
            # The store's full record (history, evidence), with a newer streamed verdict when there is one.
            rec = _freshest(full, rec)
        # A different agency, or a new verdict for this one, starts at the top (group and problem),
        # not wherever the previous text had been scrolled to.
        verdict = rec.verdict if rec is not None else None
        shown = (agency_id, verdict.checked_at if verdict is not None else None)
        pane = self.query_one("#detail", DetailPane)
        pane.show(detail_text(rec, self.ruleset, self.lang))
        if shown != self._detail_shown:
            self._detail_shown = shown
            pane.scroll_home(animate=False, immediate=True)
        if agency_id and full is None and agency_id in self.records:
            self.run_worker(partial(self._load_full, agency_id), group="detail", exclusive=True,
                            exit_on_error=False)

    async def _load_full(self, agency_id: str) -> None:
        """The whole record of the selected agency (evidence and history) from the store, off the loop."""
        try:
            full = await self.io(self.store.record, agency_id)
        except KeyError:
            return
        self._full[agency_id] = full
        if self.selected_id == agency_id:
            self._refresh_detail()

    def _refresh_progress(self) -> None:
        pane = self.query_one("#progress", ProgressPane)
        lang = self.lang
        state = Text(end="")
        if self.scan_state == "idle":
            state.append(tr("progress.idle", lang), style="dim")
        elif self.scan_state == "running":
            state.append(tr("progress.running", lang), style="bold cyan")
        elif self.scan_state == "paused":
            state.append(tr("progress.paused", lang, reason=self._reason(self.scan_reason)), style="bold yellow")
        elif self.scan_state == "finished":
            state.append(
                tr(
                    "progress.finished",
                    lang,
                    done=self.scan_done,
                    total=self.scan_total or 0,
                    elapsed=fmt_duration(self.scan_elapsed),
                ),
                style="bold green",
            )
        else:
            state.append(
                tr(
                    "progress.stopped",
                    lang,
                    reason=self._reason(self.scan_reason),
                    done=self.scan_done,
                    total=self.scan_total or 0,
                ),
                style="bold yellow",
            )
        rate, eta = self._rate_eta()
        backlog = self._backlog()
        if backlog is not None and (eta is None or backlog.seconds > eta):
            eta = backlog.seconds  # the limits of the busiest host, not the average so far, decide the end
        line = Text(
            tr(
                "progress.line",
                lang,
                done=self.scan_done,
                total=self.scan_total if self.scan_total is not None else "?",
                rate=f"{rate:.1f}" if rate else "—",
                eta=fmt_duration(eta) if eta is not None else "—",
                retries=len(self.retries),
            ),
            end="",
            no_wrap=True,
            overflow="ellipsis",
        )
        if backlog is not None and backlog.seconds >= BACKLOG_SHOWN_S and backlog.host:
            line.append("  ·  ")
            line.append(
                tr("progress.backlog", lang, host=one_line(backlog.host), waiting=f"{backlog.waiting:,}"),
                style="yellow",
            )
        if self.canary is None:
            canary = Text(tr("progress.canary_ok", lang), style="green", end="")
        else:
            canary = Text(
                tr("progress.canary_failed", lang, reason=one_line(self.canary[0]), withheld=self.canary[1]),
                style="bold red",
                end="",
            )
        tallies = Text(f"{tr('progress.tallies', lang)}: ", style="bold", end="")
        for rule in self.rules:
            n = self.scan_tallies.get(rule.group, 0)
            if n:
                tallies.append_text(group_text(rule.group, self.ruleset))
                tallies.append(f" {n}  ")
        pane.set_class(self.scan_state == "idle" and not pane.has_lines, "-idle")
        pane.show(
            state,
            self.scan_total if self.scan_state != "idle" else None,
            self.scan_done,
            line,
            canary,
            tallies,
        )

    def _reason(self, reason: str) -> str:
        """Why a scan paused or stopped, one line, in the operator's language."""
        return one_line(scan_reason(reason, self.lang))

    def _backlog(self) -> Any | None:
        """The runner's view of the slowest queue (in-process arithmetic, no I/O)."""
        if self.scan_state not in ("running", "paused"):
            return None
        try:
            return self.runner.backlog()
        except Exception:  # an estimate must never break the progress pane
            return None

    def _rate_eta(self) -> tuple[float | None, float | None]:
        if self.scan_started is None or self.scan_state not in ("running", "paused"):
            return None, None
        elapsed = (self.clock() - self.scan_started).total_seconds()
        if elapsed <= 0 or self.scan_done <= 0:
            return None, None
        rate = self.scan_done / elapsed
        remaining = (self.scan_total or 0) - self.scan_done
        return rate, (remaining / rate if rate > 0 else None)

    def _be(self, iso: str) -> str:
        from console.tui.text import be_long

        return be_long(iso, self.lang)

    # ------------------------------------------------------------------------------------------
    # Table events
    # ------------------------------------------------------------------------------------------

    @on(AgencyTable.RowHighlighted, "#agencies")
    def row_highlighted(self, event: AgencyTable.RowHighlighted) -> None:
        key = event.key
        if key != self.selected_id:
            self.selected_id = key
            self._refresh_detail()

    @on(AgencyTable.RowSelected, "#agencies")
    def row_selected(self, event: AgencyTable.RowSelected) -> None:
        """Enter on a row: the detail pane (narrow) or focus it (wide)."""
        self.selected_id = event.key
        self._refresh_detail()
        if self.narrow:
            self.action_pane("detail")

    @on(AgencyTable.HeaderSelected, "#agencies")
    def header_selected(self, event: AgencyTable.HeaderSelected) -> None:
        column = event.column
        if column in SORTABLE:
            self.set_sort(column, not self.sort_reverse if column == self.sort_column else False)

    @on(GroupsPane.Chosen)
    def group_chosen(self, event: GroupsPane.Chosen) -> None:
        key = event.key
        if key == "all":
            self.scope = dataclasses.replace(self.scope, group=None, bucket=None)
        elif key == "unchecked":
            self.scope = dataclasses.replace(self.scope, group=None, bucket=UNCHECKED)
        elif key.startswith("bucket:"):
            self.scope = dataclasses.replace(self.scope, group=None, bucket=key.split(":", 1)[1])
        elif key.startswith("group:"):
            self.scope = dataclasses.replace(self.scope, group=key.split(":", 1)[1], bucket=None)
        self._rebuild_table()
        if self.narrow:
            self.action_pane("agencies")

    # ------------------------------------------------------------------------------------------
    # Search
    # ------------------------------------------------------------------------------------------

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        if not search.has_class("visible"):
            for rec in self.records.values():  # make the search texts now, not on the first keystroke
                self._haystack(rec)
        search.add_class("visible")
        if self.narrow and self.pane != "agencies":
            self.action_pane("agencies")
        search.focus()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        """Filter as you type: the first keystroke applies at once, a burst is applied at most every
        SEARCH_DEBOUNCE seconds (and its last value always)."""
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        value = event.value

        def apply() -> None:
            self._search_timer = None
            if value != self.scope.search:
                self.scope = dataclasses.replace(self.scope, search=value)
                self._rebuild_table()
            self._search_applied_at = time.monotonic()

        wait = self._search_applied_at + SEARCH_DEBOUNCE - time.monotonic()
        if wait <= 0:
            apply()
        else:
            self._search_timer = self.set_timer(wait, apply)

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if event.value != self.scope.search:
            self.scope = dataclasses.replace(self.scope, search=event.value)
            self._rebuild_table()
        if not event.value:
            self.query_one("#search", Input).remove_class("visible")
        self.query_one("#agencies", AgencyTable).focus()

    def _close_search(self) -> None:
        search = self.query_one("#search", Input)
        if self._search_timer is not None:
            self._search_timer.stop()
        search.value = ""
        search.remove_class("visible")
        if self.scope.search:
            self.scope = dataclasses.replace(self.scope, search="")
            self._rebuild_table()
        self.query_one("#agencies", AgencyTable).focus()

    # ------------------------------------------------------------------------------------------
    # Navigation
    # ------------------------------------------------------------------------------------------

    def action_pane(self, name: str) -> None:
        if name not in PANES:
            return
        self.pane = name
        if self.narrow:
            self._apply_layout()
        target = {
            "agencies": "#agencies",
            "groups": "#groups",
            "detail": "#detail",
            "progress": "#progress-log",
        }[name]
        self.query_one(target).focus()

    def action_back_out(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus or search.has_class("visible"):
            self._close_search()
        elif self.narrow and self.pane != "agencies":
            self.action_pane("agencies")
        elif self.marked:
            self.action_clear_marks()
        elif self.scope.active:
            self.scope = Scope()
            self._rebuild_table()
            self.notify(tr("msg.filter_cleared", self.lang), markup=False)
        elif self.focused is not self.query_one("#agencies"):
            self.action_pane("agencies")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only (saraban serve): the write actions are disabled and hidden, wherever they come from."""
        return not (self.read_only and action in WRITE_ACTIONS)

    def action_trends(self) -> None:
        """A / B–E / W share per scan for the whole store, or the province of the current filter."""
        from console.tui.trends import TrendScreen  # the chart library loads when first asked for

        province = self.scope.province
        points = trend_points(self.snapshots, self.rules, province)
        area = one_line(province) if province else tr("trend.all", self.lang)
        self.push_screen(TrendScreen(points, area, self.lang))

    def action_watch(self) -> None:
        """Turn the watcher on (it takes the store's watch lock) or off (sessions under way finish)."""
        if self.watching.on:
            self.watching.stop()
            self.notify(tr("notify.watch_off", self.lang), markup=False)
        else:
            try:
                loop = self.watching.start()
            except WatchLockHeld as held:
                self.notify(tr("watch.held", self.lang, owner=one_line(str(held))), severity="warning",
                            markup=False, timeout=15)
                return
            self.run_worker(loop, group="watch", exclusive=True)
            self.notify(tr("notify.watch_on", self.lang), markup=False)
        self._refresh_topbar()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows(), self.lang))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """Key, description and id of every active binding (after the config's keymap)."""
        rows: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or not self.check_action(binding.action, ()):
                continue
            ident = binding.id or binding.action
            description = binding.description
            if binding.id is None:  # Textual's own: described in the operator's language too
                description = tr(f"textual.{binding.action}", self.lang)
                if description == f"textual.{binding.action}":
                    description = binding.description
            if (ident, binding.key) in seen:
                continue
            seen.add((ident, binding.key))
            rows.append((self.get_key_display(binding), description, ident))
        order = {binding_id: i for i, (_, _, binding_id, _) in enumerate(BINDING_SPECS)}
        rows.sort(key=lambda r: (order.get(r[2], len(order)), r[0]))
        return rows

    async def action_quit(self) -> None:
        """Textual's ctrl+q: the same question as q while a scan runs."""
        self.action_quit_app()

    def action_quit_app(self) -> None:
        if self.runner.running:

            def answer(ok: bool | None) -> None:
                if ok:
                    self._stop_runner()
                    self.exit()

            self.push_screen(ConfirmScreen(tr("dlg.confirm_quit_scan", self.lang), self.lang), answer)
        else:
            self.exit()

    # ------------------------------------------------------------------------------------------
    # Selection and marks
    # ------------------------------------------------------------------------------------------

    def selected_record(self) -> Any | None:
        key = self.query_one("#agencies", AgencyTable).current_key() if self.order else None
        return self.records.get(key) if key else None

    def _targets(self) -> list[str]:
        """Marked agencies when there are marks, else the selected one."""
        if self.marked:
            return [key for key in self.order if key in self.marked] + sorted(self.marked - set(self.order))
        rec = self.selected_record()
        return [rec_id(rec)] if rec is not None else []

    def action_mark(self) -> None:
        table = self.query_one("#agencies", AgencyTable)
        key = table.current_key()
        if key is None:
            return
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        table.update_row(key)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)
        self._refresh_topbar()

    def action_clear_marks(self) -> None:
        if not self.marked:
            return
        marked, self.marked = self.marked, set()
        table = self.query_one("#agencies", AgencyTable)
        for key in marked:
            if key in self.records:
                table.update_row(key)
        self._refresh_topbar()
        self.notify(tr("msg.marks_cleared", self.lang), markup=False)

    def set_sort(self, column: str, reverse: bool) -> None:
        self.sort_column = column
        self.sort_reverse = reverse
        self._rebuild_table()
        label = tr(f"col.{column}", self.lang) + (" ↓" if reverse else "")
        self.notify(tr("msg.sorted", self.lang, col=label), markup=False, timeout=2)

    def action_sort(self) -> None:
        index = SORTABLE.index(self.sort_column) if self.sort_column in SORTABLE else -1
        self.set_sort(SORTABLE[(index + 1) % len(SORTABLE)], False)

    def action_sort_reverse(self) -> None:
        self.set_sort(self.sort_column, not self.sort_reverse)

    def set_scope(self, scope: Scope) -> None:
        self.scope = scope
        search = self.query_one("#search", Input)
        if search.value != scope.search:
            search.value = scope.search
        search.set_class(bool(scope.search), "visible")
        self._rebuild_table()

    def action_filters(self) -> None:
        records = list(self.records.values())
        provinces = sorted({r.agency.province for r in records if r.agency.province})
        districts: dict[str, set[str]] = {}
        for r in records:
            if r.agency.district:
                districts.setdefault(r.agency.province, set()).add(r.agency.district)
        kinds = sorted({r.agency.kind for r in records if r.agency.kind})
        groups = [(r.group, group_label(r, self.lang)) for r in self.rules]

        def done(scope: Scope | None) -> None:
            if scope is not None:
                self.set_scope(scope)

        by_province = {p: sorted(ds) for p, ds in districts.items()}
        self.push_screen(FilterScreen(self.scope, groups, provinces, by_province, kinds, self.lang), done)

    # ------------------------------------------------------------------------------------------
    # Scans and rechecks
    # ------------------------------------------------------------------------------------------

    def on_scan_event(self, event: Any) -> None:
        """Runner events, on the app's loop: state changes now, screen updates at the next flush."""
        lang = self.lang
        now = self.clock()
        stamp = now.strftime("%H:%M:%S")
        log: Text | None = None
        if isinstance(event, ScanStarted):
            self.scan_state = "running"
            self.scan_total = event.total
            self.scan_done = 0
            self.scan_started = now
            self.scan_elapsed = None
            self.scan_tallies = Counter()
            self.retries = {}
            self._blocked_notified = False
            log = Text(tr("event.started", lang, total=event.total), style="bold")
        elif isinstance(event, AgencyChecked):
            key = str(event.agency.id)
            rec = self.records.get(key)
            if rec is not None:
                self.records[key] = with_verdict(rec, event.verdict)
                self.pending.add(key)
            self.scan_done = event.done
            self.scan_total = event.total
            self.scan_tallies[event.verdict.group] += 1
            for address in (event.agency.declared, event.verdict.evidence.normalized or ""):
                self.retries.pop(address, None)
            if not self.ruleset.is_quiet(event.verdict.group):  # the log is for what the network said
                log = Text(end="")
                log.append_text(group_text(event.verdict.group, self.ruleset))
                log.append(f"  {one_line(event.agency.name)}  {one_line(event.agency.declared)}")
        elif isinstance(event, RetryScheduled):
            self.retries[event.address] = event.attempt
            log = Text(
                tr(
                    "event.retry",
                    lang,
                    address=one_line(event.address),
                    host=one_line(event.host) or "DNS",  # a lookup to retry has no mail host yet
                    attempt=event.attempt,
                    delay=f"{event.delay_s:.0f}",
                    reason=one_line(event.reason),
                ),
                style="yellow",
            )
        elif isinstance(event, CanaryFailed):
            self.canary = (event.reason, event.withheld)
            message = tr("event.canary_failed", lang, reason=one_line(event.reason), withheld=event.withheld)
            log = Text(message, style="bold red")
            self.notify(message, severity="error", markup=False)
        elif isinstance(event, CanaryRestored):
            self.canary = None
            log = Text(tr("event.canary_restored", lang, after=f"{event.after_s:.0f}"), style="green")
        elif isinstance(event, ProberBlocked):
            message = tr("event.blocked", lang, host=one_line(event.host), reply=one_line(event.reply))
            log = Text(message, style="bold red")
            if not self._blocked_notified:  # one toast per scan; the log keeps every host
                self._blocked_notified = True
                self.notify(message, severity="warning", markup=False)
        elif isinstance(event, PreflightWarning):  # a doctor check warned before the scan (it goes on)
            log = Text(one_line(event.message), style="yellow")
            self.notify(one_line(event.message), severity="warning", markup=False)
        elif isinstance(event, ScanPaused):
            self.scan_state = "paused"
            self.scan_reason = event.reason
            log = Text(tr("event.paused", lang, reason=self._reason(event.reason)), style="yellow")
        elif isinstance(event, ScanResumed):
            self.scan_state = "running"
            self.scan_reason = ""
            log = Text(tr("event.resumed", lang))
        elif isinstance(event, ScanFinished):
            self.retries = {}  # nothing waits any more (catch-all and fix probes have no row of their own)
            self._finish(event)
            log = None
        if log is not None:
            self.query_one("#progress", ProgressPane).log_line(Text(f"{stamp} ", style="dim", end="") + log)
        self._progress_dirty = True
        if isinstance(event, ScanStarted | ScanPaused | ScanResumed | CanaryFailed | CanaryRestored):
            self._refresh_topbar()

    def _finish(self, event: ScanFinished) -> None:
        if self.scan_state in ("finished", "stopped") and self.scan_done == event.done:
            return
        self.scan_done = event.done
        self.scan_total = event.total
        self.scan_elapsed = event.elapsed_s
        if event.stopped:
            self.scan_state = "stopped"
            self.scan_reason = event.stopped
            message = tr(
                "event.stopped",
                self.lang,
                reason=self._reason(event.stopped),
                done=event.done,
                total=event.total,
            )
        else:
            self.scan_state = "finished"
            message = tr("event.finished", self.lang, done=event.done, total=event.total)
        stamp = self.clock().strftime("%H:%M:%S")
        self.query_one("#progress", ProgressPane).log_line(Text(f"{stamp} {message}", style="bold", end=""))
        self.notify(message, markup=False)
        self._progress_dirty = True
        self._refresh_topbar()

    def start_scan(self, agency_ids: list[str] | None) -> None:
        if self.runner.running or self.scan_state in ("running", "paused"):
            self.notify(tr("msg.scan_running", self.lang), severity="warning", markup=False)
            return
        self.scan_state = "running"
        self.scan_total = len(agency_ids) if agency_ids is not None else len(self.records)
        self.scan_done = 0
        self.scan_started = self.clock()
        self._progress_dirty = True
        self._refresh_topbar()

        async def scan() -> None:
            try:
                result = await self.runner.scan(agency_ids, self.on_scan_event)
                if isinstance(result, ScanFinished):
                    self._finish(result)
            finally:
                if self.scan_state in ("running", "paused"):
                    self.scan_state = "stopped"
                    self._progress_dirty = True
                await self._reload()

        self.run_guarded(scan(), "scan", exclusive=True)

    def action_scan(self) -> None:
        if self.watching.round_running and not self.runner.running:  # the pause key holds the watcher too
            paused = self.watching.toggle_pause()
            self.notify(tr("msg.scan_paused" if paused else "msg.scan_resumed", self.lang), markup=False)
            self._refresh_topbar()
            return
        if self.runner.running:
            if self.scan_state == "paused":
                self.runner.resume()
                self.scan_state = "running"
                self.notify(tr("msg.scan_resumed", self.lang), markup=False)
            else:
                self.runner.pause()
                self.scan_state = "paused"
                self.notify(tr("msg.scan_paused", self.lang), markup=False)
            self._progress_dirty = True
            self._refresh_topbar()
            return
        self.start_scan(None)

    def _stop_runner(self) -> None:
        try:
            self.runner.stop()
        except Exception as exc:
            self.notify(tr("msg.error", self.lang, error=one_line(exc)), severity="error", markup=False)

    def action_stop(self) -> None:
        if not self.runner.running:
            self.notify(tr("msg.scan_not_running", self.lang), markup=False)
            return
        self._stop_runner()
        self.notify(tr("msg.scan_stopping", self.lang), markup=False)

    def _confirm(self, question: str, then: Callable[[], None]) -> None:
        def answer(ok: bool | None) -> None:
            if ok:
                then()

        self.push_screen(ConfirmScreen(question, self.lang), answer)

    def action_recheck(self) -> None:
        targets = self._targets()
        if not targets:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        if len(targets) == 1:
            self.recheck_one(targets[0])
            return
        self._confirm(
            tr("dlg.confirm_recheck", self.lang, n=len(targets)), lambda: self._bulk_recheck(targets)
        )

    def _bulk_recheck(self, targets: list[str]) -> None:
        self.start_scan(targets)
        self.marked.clear()
        self._rebuild_table()

    def action_recheck_scope(self) -> None:
        targets = list(self.order)
        if not targets:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        self._confirm(tr("dlg.confirm_recheck", self.lang, n=len(targets)), lambda: self.start_scan(targets))

    def recheck_one(self, agency_id: str) -> None:
        self._keep_on_screen(agency_id)
        rec = self.records.get(agency_id)
        name = one_line(rec.agency.name) if rec else agency_id
        self.notify(tr("msg.rechecking", self.lang, name=name), markup=False, timeout=3)

        async def recheck() -> None:
            verdict = await self.runner.recheck(agency_id)
            if verdict is not None and agency_id in self.records:
                self.records[agency_id] = with_verdict(self.records[agency_id], verdict)
                self.pending.add(agency_id)
            await self._reload_one(agency_id)
            group = verdict.group if verdict is not None else "?"
            self.notify(tr("msg.rechecked", self.lang, name=name, group=group), markup=False)

        self.run_guarded(recheck(), "recheck")

    # ------------------------------------------------------------------------------------------
    # Corrections, notes, follow-up
    # ------------------------------------------------------------------------------------------

    def action_correct(self) -> None:
        rec = self.selected_record()
        if rec is None:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        agency_id = rec_id(rec)

        def done(request: CorrectionRequest | None) -> None:
            if request is None:
                return
            owners = other_owners(self.records.values(), agency_id, request.address)
            if not owners:
                self.correct(agency_id, request.address, request.reason)
                return
            warning = shared_address_warning(request.address, owners, self.lang)
            self._confirm(f"{warning}\n{tr('correct.shared_confirm', self.lang)}",
                          lambda: self.correct(agency_id, request.address, request.reason))  # fmt: skip

        self.push_screen(
            CorrectionScreen(rec.agency.name, current_address(rec), self.lang, self.address_reader), done
        )

    def correct(self, agency_id: str, address: str, reason: str) -> None:
        """Save the correction and recheck at once; the detail pane shows the new verdict."""
        self._keep_on_screen(agency_id)
        rec = self.records.get(agency_id)
        name = one_line(rec.agency.name) if rec else agency_id
        self.notify(tr("msg.rechecking", self.lang, name=name), markup=False, timeout=3)

        async def work() -> None:
            result = await self.runner.correct(agency_id, address, reason, self.operator, recheck=True)
            verdict = result[1] if isinstance(result, tuple) and len(result) > 1 else None
            if verdict is not None and agency_id in self.records:
                self.records[agency_id] = with_verdict(self.records[agency_id], verdict)
            await self._reload_one(agency_id)
            if verdict is not None:
                message = tr(
                    "msg.corrected", self.lang, name=name, address=one_line(address), group=verdict.group
                )
            else:
                message = tr("msg.corrected_no_check", self.lang, name=name, address=one_line(address))
            self.notify(message, markup=False)

        self.run_guarded(work(), "correct")

    def action_note(self) -> None:
        rec = self.selected_record()
        if rec is None:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        agency_id = rec_id(rec)
        name = one_line(rec.agency.name)

        def done(text: str | None) -> None:
            if not text:
                return

            async def work() -> None:
                await self.io(self.store.add_note, agency_id, text, self.operator)
                await self._reload_one(agency_id)
                self.notify(tr("msg.note_saved", self.lang, name=name), markup=False)

            self.run_guarded(work(), "note")

        self.push_screen(
            PromptScreen(
                tr("dlg.note_title", self.lang, name=name), tr("dlg.note_hint", self.lang), prompt_id="note"
            ),
            done,
        )

    def action_called(self) -> None:
        targets = self._targets()
        if not targets:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        if len(targets) == 1:
            rec = self.records[targets[0]]
            state = None if rec.followup in CALLED_STATES else FOLLOWUP_CALLED
            self._set_followup(targets, state)
            return
        self._confirm(
            tr("dlg.confirm_called", self.lang, n=len(targets)),
            lambda: self._set_followup(targets, FOLLOWUP_CALLED),
        )

    def _set_followup(self, targets: list[str], state: str | None) -> None:
        async def work() -> None:
            for agency_id in targets:
                await self.io(self.store.set_followup, agency_id, state, self.operator)
            if len(targets) > 1:
                self.marked.clear()
            await self._reload()
            if state is None:
                name = (
                    one_line(self.records[targets[0]].agency.name)
                    if targets[0] in self.records
                    else targets[0]
                )
                self.notify(tr("msg.uncalled", self.lang, name=name), markup=False)
            else:
                self.notify(tr("msg.called", self.lang, n=len(targets)), markup=False)

        self.run_guarded(work(), "followup")

    # ------------------------------------------------------------------------------------------
    # Export, import, language, clipboard
    # ------------------------------------------------------------------------------------------

    def followup_items(self) -> list[Any]:
        return [
            self.records[key]
            for key in self.order
            if key in self.records and needs_followup(self.records[key], self.ruleset)
        ]

    def default_export_path(self) -> Path:
        today = self.clock()
        stamp = f"{today.year + 543}-{today.month:02d}-{today.day:02d}"
        province = self.scope.province
        if not province:
            provinces = {self.records[k].agency.province for k in self.order if k in self.records}
            province = next(iter(provinces)) if len(provinces) == 1 else "all"
        safe = "".join(ch for ch in one_line(province) if ch not in '/\\:*?"<>|').strip() or "all"
        directory = Path(self.config.export_dir or Path.cwd())
        return directory / f"followup-{safe.replace(' ', '_')}-{stamp}.xlsx"

    def action_export(self) -> None:
        items = self.followup_items()
        if not items:
            self.notify(tr("msg.export_empty", self.lang), markup=False)
            return

        def done(path: str | None) -> None:
            if path:
                self.run_guarded(self._export_to_typed(path, items), "export")

        self.push_screen(
            PromptScreen(
                tr("dlg.export_title", self.lang, n=len(items)),
                tr("dlg.export_hint", self.lang),
                value=str(self.default_export_path()),
                prompt_id="export",
            ),
            done,
        )

    async def _export_to_typed(self, typed: str, items: list[Any]) -> None:
        """The path as typed: a directory gets the default name; an existing file is overwritten only
        when the operator says so. Looked at off the loop (a network share may hang)."""
        from console.export import export_target

        try:
            target, exists = await self.io(export_target, typed, self.default_export_path().name)
        except (OSError, RuntimeError, ValueError) as exc:
            self.notify(
                tr("msg.export_bad_path", self.lang, path=one_line(typed), error=one_line(exc)),
                severity="error",
                markup=False,
                timeout=15,
            )
            return
        if exists:
            self._confirm(
                tr("msg.export_exists", self.lang, path=one_line(target)),
                lambda: self.run_guarded(self.export_to(target, items), "export"),
            )
        else:
            await self.export_to(target, items)

    async def export_to(self, path: Path, items: list[Any]) -> None:
        from console import export

        path = export.export_suffix(path)
        lang = self.lang
        entries = [
            (rec.agency, rec.verdict, current_address(rec), [note.text for note in rec.notes or ()], rec.followup)
            for rec in items
        ]
        rows = await self.io(export.followup_records, entries, self.rules, lang=lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        # never onto the store, a device, a FIFO or a folder (the operator already agreed to replace a file)
        path = await self.io(export.check_target, path, store_path=self.store.path, force=True)
        await self.io(export.write_followup, path, rows, lang=lang)
        self.notify(
            tr("msg.exported", self.lang, n=len(items), path=one_line(path)), markup=False, timeout=10
        )

    def action_export_letter(self) -> None:
        """The province's letter attachment to its districts (console.letter), from the palette: the
        checked agencies in view that need follow-up, one print-ready sheet per district."""
        items = [rec for rec in self.followup_items() if rec.verdict is not None]
        if not items:
            self.notify(tr("msg.letter_empty", self.lang), markup=False)
            return
        default = self.default_export_path()
        default = default.with_name(default.name.replace("followup-", "letter-", 1))

        def done(path: str | None) -> None:
            if path:
                self.run_guarded(self._write_letter(path, default.name, items), "export")

        self.push_screen(
            PromptScreen(
                tr("dlg.letter_title", self.lang, n=len(items)),
                tr("dlg.letter_hint", self.lang),
                value=str(default),
                prompt_id="export",
            ),
            done,
        )

    async def _write_letter(self, typed: str, default_name: str, items: list[Any]) -> None:
        from console.export import ExportTargetError, check_target, export_target
        from console.letter import write_letter

        try:
            target, exists = await self.io(export_target, typed, default_name)
            target = target.with_suffix(".xlsx")

            async def write() -> None:
                # never onto the store, a device, a FIFO or a folder (replacing a file was agreed to)
                path = await self.io(check_target, target, store_path=self.store.path, force=True)
                n = await self.io(write_letter, path, items, self.rules)
                self.notify(tr("msg.letter_done", self.lang, n=n, path=one_line(target)), markup=False, timeout=10)

            if exists:
                self._confirm(tr("msg.export_exists", self.lang, path=one_line(target)),
                              lambda: self.run_guarded(write(), "export"))  # fmt: skip
            else:
                await write()
        except (OSError, RuntimeError, ValueError, ExportTargetError) as exc:
            self.notify(
                tr("msg.export_bad_path", self.lang, path=one_line(typed), error=one_line(exc)),
                severity="error",
                markup=False,
                timeout=15,
            )

    def action_import_list(self) -> None:
        def done(line: str | None) -> None:
            if line:
                self.run_guarded(self.import_from(line), "import")

        self.push_screen(
            PromptScreen(
                tr("dlg.import_title", self.lang), tr("dlg.import_hint", self.lang), prompt_id="import"
            ),
            done,
        )

    async def import_from(self, line: str) -> None:
        """Import a list named on the prompt (`PATH [--sheet NAME] [--map COLUMN=FIELD]`).

        Bad rows are named (row, field, why) in a notice and, up to IMPORT_PROBLEMS_LOGGED, in the
        progress log; a file with no readable agency changes nothing in the store.
        """
        from console.importer import ListReadError, parse_import_line, read_agencies
        from console.runner import record_offline

        try:
            request = parse_import_line(line)
            source = request.source if "://" in request.source else str(Path(request.source).expanduser())
            result = await self.io(read_agencies, source, sheet=request.sheet, mapping=request.mapping)
        except ListReadError as exc:
            self.notify(one_line(exc), severity="error", markup=False, timeout=20)
            return
        problems = list(getattr(result, "problems", None) or ())
        progress = self.query_one("#progress", ProgressPane)
        for problem in problems[:IMPORT_PROBLEMS_LOGGED]:
            progress.log_line(Text(self._row_problem(problem), style="yellow", end=""))
        if len(problems) > IMPORT_PROBLEMS_LOGGED:
            more = len(problems) - IMPORT_PROBLEMS_LOGGED
            progress.log_line(Text(tr("msg.import_more", self.lang, n=more, source=one_line(source)), end=""))
        if problems:
            self._progress_dirty = True
        if not result.agencies:
            first = "\n".join(self._row_problem(p) for p in problems[:3])
            self.notify(
                tr("msg.import_nothing", self.lang, source=one_line(source)) + (f"\n{first}" if first else ""),
                severity="error",
                markup=False,
                timeout=20,
            )
            return
        if problems:
            shown = "\n".join(self._row_problem(p) for p in problems[:3])
            self.notify(
                tr("msg.import_problems", self.lang, n=len(problems)) + f"\n{shown}",
                severity="warning",
                markup=False,
                timeout=20,
            )
        report = await self.io(self.store.merge_import, result.agencies, source=result.source, operator=self.operator)
        await self.io(record_offline, self.store, self.config.engine)  # groups known without the network show at once

        def size(value: Any) -> int:
            return value if isinstance(value, int) else len(value or ())

        self.notify(
            tr(
                "msg.imported",
                self.lang,
                added=size(getattr(report, "added", 0)),
                changed=size(getattr(report, "changed", 0)),
                unchanged=size(getattr(report, "unchanged", 0)),
                missing=size(getattr(report, "missing", 0)),
            ),
            markup=False,
            timeout=10,
        )
        await self._reload()
        # New agencies and changed addresses have no verdict for what they declare now: offer to check them
        touched = [*(getattr(report, "added", None) or ()), *(getattr(report, "changed", None) or ())]
        waiting = [k for k in dict.fromkeys(str(t) for t in touched) if k in self.records and group_of(self.records[k]) is None]
        if waiting and not self.runner.running:
            self._confirm(tr("dlg.confirm_check_imported", self.lang, n=len(waiting)), lambda: self.start_scan(waiting))

    def _row_problem(self, problem: Any) -> str:
        return tr(
            "msg.import_row",
            self.lang,
            row=problem.row,
            field=one_line(problem.field),
            message=one_line(problem.message),
        )

    def action_language(self) -> None:
        self.lang = other_language(self.lang)
        self._localise_bindings()
        self._relabel()
        self._set_columns()
        self._rebuild_table()
        self._refresh_progress()
        self.notify(tr("msg.language", self.lang), markup=False, timeout=2)

    def action_copy(self) -> None:
        rec = self.selected_record()
        if rec is None:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        agency_id = rec_id(rec)

        async def work() -> None:
            # the whole record (findings with their evidence), with a newer streamed verdict if any
            full = self._full.get(agency_id) or await self.io(self.store.record, agency_id) or rec
            self.copy_to_clipboard(summary_text(_freshest(full, rec), self.ruleset, self.lang))
            self.notify(tr("msg.copied", self.lang, name=one_line(rec.agency.name)), markup=False, timeout=3)

        self.run_guarded(work(), "copy")

    # ------------------------------------------------------------------------------------------
    # Command palette
    # ------------------------------------------------------------------------------------------

    def _key_label(self, binding_id: str, default: str) -> str:
        """The key as the operator presses it, after the config's keymap."""
        keys = self._keymap.get(binding_id) or default
        return self.get_key_display(Binding(keys.split(",")[0].strip(), ""))

    def palette_entries(self) -> list[PaletteEntry]:
        """Every binding as a command, then quick filters (group, bucket, province, district)."""
        lang = self.lang
        entries: list[PaletteEntry] = []
        for key, action, binding_id, _ in BINDING_SPECS:
            if binding_id in ("palette", "back") or not self.check_action(action, ()):
                continue
            entries.append(
                PaletteEntry(
                    f"{tr(f'key.{binding_id}', lang)} ({self._key_label(binding_id, key)})",
                    "",
                    lambda action=action: self.call_later(self.run_action, action),
                )
            )
        entries.append(PaletteEntry(tr("key.export_letter", lang), "", self.action_export_letter))
        entries.append(PaletteEntry(tr("palette.clear_filter", lang), "", lambda: self.set_scope(Scope())))
        entries.append(
            PaletteEntry(
                tr("palette.followup", lang),
                "",
                lambda: self.set_scope(dataclasses.replace(self.scope, followup_only=True)),
            )
        )
        for rule in self.rules:
            entries.append(
                PaletteEntry(
                    tr(
                        "palette.filter_group",
                        lang,
                        group=rule.group,
                        label=group_label(rule, lang),
                    ),
                    "",
                    lambda g=rule.group: self.set_scope(
                        dataclasses.replace(self.scope, group=g, bucket=None)
                    ),
                )
            )
        provinces = sorted({r.agency.province for r in self.records.values() if r.agency.province})
        for province in provinces:
            entries.append(
                PaletteEntry(
                    f"{tr('palette.filter_province', lang)}: {province}",
                    "",
                    lambda p=province: self.set_scope(
                        dataclasses.replace(self.scope, province=p, district=None)
                    ),
                    discover=False,
                )
            )
        districts = sorted(
            {(r.agency.province, r.agency.district) for r in self.records.values() if r.agency.district}
        )
        for province, district in districts:
            entries.append(
                PaletteEntry(
                    f"{tr('palette.filter_district', lang)}: {district} ({province})",
                    "",
                    lambda p=province, d=district: self.set_scope(
                        dataclasses.replace(self.scope, province=p, district=d)
                    ),
                    discover=False,
                )
            )
        return entries
