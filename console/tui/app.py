"""The operations console: agencies, groups, detail and scan progress, all keyboard driven.

The app composes the panes and routes: keys and messages become changes of the console state
(`state.py`, no Textual), store and runner calls run in workers, and each pane draws what the state
says (`topbar.py`, `groups_pane.py`, `detail_pane.py`, `progress_pane.py`, `agency_table.py`).
Streaming scan results are applied to the state at once and reach the table in batches every ~300 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import ActiveBinding, Binding
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from checks import events as ev
from checks.address import read_address
from checks.model import Verdict
from console.corrections import other_owners, shared_address_warning
from console.followup_text import count_followup
from console.i18n import other_language, tr
from console.rules import (
    CALLED_WAITING,
    UNCHECKED,
    WAITING_STATES,
    Record,
    Ruleset,
    Scope,
    current_address,
    rec_id,
)
from console.seams import ConsoleConfig, ConsoleRunner, ConsoleStore, ImportOutcome
from console.tui.agency_table import AgencyTable
from console.tui.columns import ALL_COLUMNS
from console.tui.commands import (
    BINDING_IDS,
    WRITE_ACTIONS,
    ActionsProvider,
    PaletteEntry,
    binding_order,
    localised,
    make_bindings,
    palette_entries,
)
from console.tui.detail_pane import DetailPane
from console.tui.duplicates import Answer, DuplicateScreen, duplicate_partner
from console.tui.footer import KeyFooter
from console.tui.groups_pane import GroupsPane, groups_view
from console.tui.progress_pane import (
    ProgressPane,
    blocked_message,
    canary_failed_message,
    event_text,
    finished_message,
)
from console.tui.search_box import SearchBox
from console.tui.state import ConsoleState, ScanProgress, scope_for_group_line
from console.tui.text import one_line
from console.tui.topbar import TopBar, topbar_text
from console.tui.view import detail_text, group_label, row_cells, summary_text, with_verdict
from console.tui.watching import ConsoleWatch, newly_fixed
from console.watch.lock import WatchLockHeld

if TYPE_CHECKING:  # the dialogs (console.tui.screens) load when first opened, not before the first screen
    from checks.scheduler import Backlog
    from console.tui.screens import AddressReader, CorrectionRequest

NARROW_BELOW = 120  # columns: below this one pane at a time, at or above it side by side
WIDE_FROM = 160  # columns: from here every table column and a wider side pane
FLUSH_SECONDS = 0.3
POLL_SECONDS = 2.0
# Objects allocated (less those freed) between two young collections once the first load is in. At
# Python's 700, drawing one search keystroke at 8,286 agencies ran the collector ~9 times (6-8 ms of
# the keystroke's 50 ms), though nearly all it walked was alive and soon freed by the refresh itself.
YOUNG_COLLECTION_AFTER = 20_000
SEARCH_DEBOUNCE = 0.15  # seconds between two table updates while typing a search
STARTUP_HOLD = 2.0  # seconds at most that drawing waits for the first load
IMPORT_PROBLEMS_LOGGED = 200  # bad rows named in the log; the rest are counted (saraban import lists all)
PANES: dict[str, str] = {"agencies": "#agencies", "groups": "#groups", "detail": "#detail", "progress": "#progress"}
T = TypeVar("T")


def _freshest(full: Record, light: Record) -> Record:
    """The store's full record (evidence, history) with the list's verdict when that one is newer
    (streamed from a scan the runner has not saved yet)."""
    verdict = light.verdict
    if verdict is not None and (full.verdict is None or verdict.checked_at > full.verdict.checked_at):
        return with_verdict(full, verdict)
    return full


class MainScreen(Screen[None]):
    """The four panes; tells the app when the terminal width crosses the narrow/wide line."""

    # The table has the keys from the start: Textual would focus the search box first (the footer
    # then built for its keys, and built again when the app moved the focus to the table).
    AUTO_FOCUS = "#agencies"

    def compose(self) -> ComposeResult:
        app = self.app
        if isinstance(app, SarabanApp):  # laid out for the terminal's width before the panes are styled
            app.layout_classes(self, app.size.width, update=False)  # no child to restyle yet
        yield TopBar(id="topbar")
        yield SearchBox(self._typed, id="search", placeholder="")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield AgencyTable(id="agencies")
            with Vertical(id="right"):
                yield GroupsPane(id="groups")
                yield DetailPane(id="detail")
        yield ProgressPane(id="progress", classes="-idle")  # as show_progress leaves it while no scan runs
        yield KeyFooter(compact=True)  # at 80 columns the essential keys fit whole

    def on_mount(self) -> None:
        app = self.app
        if isinstance(app, SarabanApp):
            app.main_ready()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's answer, with our keys' footer words in the operator's current language (the
        footer and the help screen read this; which key runs what is left to Textual)."""
        active = super().active_bindings
        app = self.app
        if not isinstance(app, SarabanApp):
            return active
        return {key: found._replace(binding=app.localised(found.binding)) for key, found in active.items()}

    def on_resize(self, event: Resize) -> None:
        app = self.app
        if isinstance(app, SarabanApp):
            app.width_changed(event.size.width)

    def _typed(self, value: str) -> None:
        app = self.app
        if isinstance(app, SarabanApp):
            app.search_changed(value)


FULL_FOOTER_FROM = 100  # columns: below this the footer keeps the keys an officer phones with, whole


class SarabanApp(App[None]):
    """saraban: check Section 10 addresses, read the groups, follow up by phone, correct and recheck."""

    CSS_PATH = "app.tcss"
    TITLE = "saraban"
    BINDINGS: ClassVar[list[Binding]] = make_bindings()  # type: ignore[assignment]
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
        self.address_reader: AddressReader = address_reader if address_reader is not None else read_address
        self.lang: str = config.language or "th"
        self.operator: str = config.operator or ""
        self.ruleset = Ruleset.of(config.engine)
        self.state = ConsoleState(self.ruleset)
        self.state.scope = self.home_scope()
        self.progress = ScanProgress()
        self._full: dict[str, Record] = {}  # agency id → full record (evidence, history) for the detail pane
        self.loaded = False
        self.narrow = False
        self.wide = False
        self.pane = "agencies"
        self._progress_dirty = True
        self._search_timer: Timer | None = None
        self._column_prefer: tuple[str, ...] = ()  # what the table was last offered (_set_columns)
        self._column_labels: dict[str, str] = {}
        self._short_footer = False  # under FULL_FOOTER_FROM columns: q and l leave the footer (help has them)
        self.key_overrides: dict[str, str] = {}  # the config's keymap (binding id -> keys), as given to Textual
        self._search_applied_at = 0.0  # time.monotonic() of the last search applied to the table
        self._polling = False
        self._frozen = False
        self._watch_shown: str | None = None
        self._duplicate_key_shown = False  # `d` is in the footer while the selected row is flagged
        self._startup_batch = contextlib.ExitStack()  # drawing held while the first load runs
        self.watching = ConsoleWatch(
            store, config, busy=lambda: self.runner.running,  # type: ignore[arg-type]
            on_fixed=lambda fixed: self.call_later(self._refresh_topbar), clock=self.clock,
        )

    # -- the state, under the names the tests and the bench read --------------------------------

    @property
    def records(self) -> dict[str, Record]:
        return self.state.records

    @property
    def scope(self) -> Scope:
        return self.state.scope

    @property
    def order(self) -> list[str]:
        return self.state.order

    @property
    def marked(self) -> set[str]:
        return self.state.marked

    @property
    def selected_id(self) -> str | None:
        return self.state.selected_id

    @property
    def sort_column(self) -> str:
        return self.state.sort_column

    @property
    def scan_state(self) -> str:
        return self.progress.state

    @property
    def scan_done(self) -> int:
        return self.progress.done

    @property
    def canary(self) -> tuple[str, int] | None:
        return self.progress.canary

    @property
    def snapshots(self) -> list[Mapping[str, Any]]:
        return self.state.snapshots

    def visible_records(self) -> list[Record]:
        return self.state.visible()

    def palette_entries(self) -> list[PaletteEntry]:
        return palette_entries(self)

    # ------------------------------------------------------------------------------------------
    # Setup and layout
    # ------------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(id="main")

    def on_mount(self) -> None:
        keys = dict(self.config.keys)
        if keys:
            self.key_overrides = keys
            self.set_keymap(keys)
            unknown = sorted(str(k) for k in keys if k not in BINDING_IDS)
            if unknown:
                message = tr("msg.unknown_keys", self.lang, ids=", ".join(one_line(k) for k in unknown))
                self.notify(message, severity="warning", markup=False, timeout=15)

    def main_ready(self) -> None:
        """The main screen is composed: lay it out, load the store, start the timers."""
        suffix = one_line(self.title_suffix)
        self.title = f"saraban {suffix}" if suffix else "saraban"
        self.width_changed(self.size.width)
        self._relabel()
        self.set_interval(FLUSH_SECONDS, self.flush_pending)
        self.set_interval(POLL_SECONDS, self.poll)
        # Until the agencies are in, the screen is laid out and drawn once, not at every step of
        # start-up (the footer's keys, the first sizes): those passes would share the CPU with the
        # store read. Held at most STARTUP_HOLD seconds (a slow share still shows the console).
        self._startup_batch.enter_context(self.batch_update())
        self.set_timer(STARTUP_HOLD, self._startup_batch.close)
        self.run_guarded(self._initial_load(), "load")
        self.table.focus()

    async def _initial_load(self) -> None:
        try:
            await self._reload()
        finally:
            self._startup_batch.close()  # in the same step as the rows: the next refresh draws them
        self.loaded = True
        if self.autostart_scan:
            self.start_scan(None)

    @property
    def table(self) -> AgencyTable:
        return self.query_one("#agencies", AgencyTable)

    def width_changed(self, width: int) -> None:
        try:
            table = self.table
        except NoMatches:
            return  # not composed yet: on_mount calls again
        narrow, wide = width < NARROW_BELOW, width >= WIDE_FROM
        short_footer = width < FULL_FOOTER_FROM
        if short_footer != self._short_footer:
            self._short_footer = short_footer
            self.refresh_bindings()  # the footer asks MainScreen.active_bindings again
        first = not table.column_ids
        self.layout_classes(self.query_one("#topbar").screen, width)  # the main screen, even under a dialog
        if narrow != self.narrow or wide != self.wide or first:
            self.narrow, self.wide = narrow, wide
            self._apply_layout()
            self._set_columns()
            if not first:
                self._rebuild_table()

    @staticmethod
    def layout_classes(screen: Screen[Any], width: int, update: bool = True) -> None:
        """The main screen's classes for a terminal `width` columns wide (app.tcss lays out by them).
        Set before the panes are mounted, they are styled once instead of once more at start."""
        narrow = width < NARROW_BELOW
        screen.set_class(width >= WIDE_FROM, "-xwide", update=update)
        screen.set_class(narrow, "-narrow", update=update)
        screen.set_class(not narrow, "-wide", update=update)

    def _apply_layout(self) -> None:
        """Wide: table beside groups and detail, progress below. Narrow: one pane at a time."""
        pane = self.pane
        shown = {
            "#left": pane == "agencies",
            "#right": pane in ("groups", "detail"),
            "#groups": pane == "groups",
            "#detail": pane == "detail",
            "#progress": pane == "progress",
            "#body": pane != "progress",
        }
        for selector, narrow_display in shown.items():
            self.query_one(selector).display = narrow_display or not self.narrow

    def _set_columns(self, shown: Sequence[Record] = ()) -> None:
        """Offer every column; the table shows the ones its width holds (the group always). A search
        whose rows span provinces puts the province first (two "อบต.ทุ่งหิน" told apart); a follow-up
        view puts the follow-up column before the district."""
        prefer: list[str] = []
        if self.state.scope.search and shown:
            first = shown[0].agency.province  # stops at the first row of another province
            if any(r.agency.province != first for r in shown):
                prefer.append("province")
        scope = self.state.scope
        if scope.followup_status or scope.followup_only or (scope.search and any(r.followup for r in shown)):
            prefer.append("followup")  # a follow-up view: its status before the district
        labels = {c: tr(f"col.{c}", self.lang) for c in ALL_COLUMNS}
        if tuple(prefer) != self._column_prefer or labels != self._column_labels:
            self._column_prefer, self._column_labels = tuple(prefer), labels
            self.table.set_columns(ALL_COLUMNS, labels, prefer)

    def localised(self, binding: Binding) -> Binding:
        """`binding` as the footer shows it now (language, width): see MainScreen.active_bindings."""
        return localised(binding, self.lang, self._short_footer)

    def _relabel(self) -> None:
        """Pane titles and placeholders in the current language."""
        for selector, key in (("#left", "agencies"), ("#groups", "groups"), ("#detail", "detail"), ("#progress", "progress")):
            self.query_one(selector).border_title = tr(f"pane.{key}", self.lang)
        self.query_one("#search", Input).placeholder = tr("search.placeholder", self.lang)

    # ------------------------------------------------------------------------------------------
    # Workers and I/O
    # ------------------------------------------------------------------------------------------

    def run_guarded(self, coro: Awaitable[object], group: str, exclusive: bool = False) -> None:
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
    async def io(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Blocking store calls run in a thread so the screen keeps drawing."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def _reload(self) -> None:
        """Read every record again. The store's generation is read first: a write that lands while the
        records are read moves it past what is kept here, so the next poll reads again."""
        # A national store is millions of long-lived objects. While the first load makes them, the
        # cyclic GC would walk them again and again (a fifth of the load's time); afterwards every
        # full collection would walk them all (~0.1 s) and land in a keystroke. So the first load
        # runs without it and what it made is frozen. Once: later reloads replace only what changed,
        # and freezing again on every poll would pin each old copy for good. The launcher may have
        # kept it off through start-up already (cli.cmd_tui): it is turned on here either way.
        first = not self._frozen
        if first:
            gc.disable()
        try:
            generation, records, snapshots = await self.io(self._read_store)
            self._full.clear()
            self.state.generation = generation
            self.state.snapshots = snapshots
            self.apply_records(records)
        finally:
            if first:
                self._frozen = True
                gc.freeze()
                gc.set_threshold(YOUNG_COLLECTION_AFTER, *gc.get_threshold()[1:])  # process-wide: the console is the process
                gc.enable()

    def _read_store(self) -> tuple[Hashable, Sequence[Record], list[Mapping[str, Any]]]:
        """The generation, then the records and the snapshots, in one trip off the loop (the first
        screen waits for it; each trip back to a busy loop costs a turn of it)."""
        generation = self.store.generation()
        # The table needs group and flags only: light records skip the probe transcripts and
        # history, which the detail pane loads for the one selected agency.
        records = self.store.records(with_history=False, light=True)
        try:
            snapshots: list[Mapping[str, Any]] = list(self.store.snapshots())
        except Exception:
            snapshots = []
        return generation, records, snapshots

    async def _reload_one(self, agency_id: str) -> None:
        """One record read again after this console changed it. The store's generation is left alone:
        only a full reload may say "everything up to here is shown" (another operator's write may be
        in between)."""
        rec = await self.io(self.store.record, agency_id)
        if rec is not None:
            self.state.apply_record(rec)
        self.flush_pending()

    def poll(self) -> None:
        """Pick up other operators' changes (the store's generation moves when anyone writes)."""
        if self.watching.status(self.lang) != self._watch_shown:
            self._refresh_topbar()  # the watcher's next run, round under way, or it just ended
        if self._polling or not self.loaded:
            return
        self._polling = True

        async def poll() -> None:
            try:
                if await self.io(self.store.generation) != self.state.generation:
                    await self._reload()
            finally:
                self._polling = False

        self.run_guarded(poll(), "poll")

    # ------------------------------------------------------------------------------------------
    # State → screen
    # ------------------------------------------------------------------------------------------

    def apply_records(self, records: Sequence[Record]) -> None:
        """Replace the records, updating only rows whose content changed."""
        old = self.state.records
        removed = self.state.apply_records(records)
        for rec in newly_fixed(old, self.state.records):  # type: ignore[arg-type]  # the watcher verified a fix
            self.notify(tr("notify.fixed", self.lang, name=one_line(rec.agency.name)), markup=False, timeout=15)
        if removed or not self.state.order:
            self._rebuild_table()  # every pane drawn anew
            self.flush_pending()
        else:
            self.flush_pending(force_groups=True)

    def cells_of(self, key: str) -> list[Text]:
        """One row's cells, asked for by the table only when it draws that row."""
        rec = self.state.records.get(key)
        if rec is None:
            return []
        return row_cells(rec, self.table.column_ids, self.lang, key in self.state.marked, self.ruleset)

    def _rebuild_table(self, to_first: bool = False, changed: Collection[str] | None = None) -> None:
        """Show the scope's rows; `to_first`: the cursor goes to the first row (a new search's first hit).
        `changed`: the records changed since the table last drew them (None: any may have; a new
        filter or sort changes none, so rows already drawn are not drawn again)."""
        table = self.table
        pending = self.state.take_pending()  # drawn now, in their new order and with their new cells
        for key in pending:
            self._full.pop(key, None)
        if changed is not None:
            changed = {*changed, *pending}
        in_scope = self.state.in_scope()
        shown = self.state.visible(in_scope)
        self.state.order = [r.agency.id for r in shown]  # rec_id, inlined: once per agency per keystroke
        first_row = self.state.order[0] if to_first and self.state.order else None
        self._set_columns(shown)
        table.rebuild(self.state.order, self.cells_of, keep=first_row or self.state.selected_id, changed=changed)
        self.state.selected_id = table.current_key()
        self._refresh_groups(in_scope)
        self._refresh_topbar()
        self._refresh_detail()

    def flush_pending(self, force_groups: bool = False) -> None:
        """Apply pending record changes to the screen: rows in place, or one rebuild when the set changed."""
        pending = self.state.take_pending()
        if pending:
            for key in pending:
                self._full.pop(key, None)  # reload the selected one's history and evidence
            if self.state.visible_ids() != self.state.order:
                self._rebuild_table(changed=pending)
            else:
                for key in pending:
                    if key in self.state.records:
                        self.table.update_row(key)
                self._refresh_groups()
                self._refresh_topbar()
                if self.state.selected_id in pending:
                    self._refresh_detail()
        elif force_groups:
            self._refresh_groups()
            self._refresh_topbar()
            self._refresh_detail()
        if self._progress_dirty or self.progress.state == "running":  # rate and ETA move with the clock
            self._progress_dirty = False
            self._refresh_progress()

    def _refresh_topbar(self) -> None:
        operator = self.operator if not self.narrow else ""
        watch = self._watch_shown = self.watching.status(self.lang)
        text = topbar_text(self.title, self.state, self.progress, self.lang, operator, watch)
        self.query_one("#topbar", TopBar).show(text)

    def _refresh_groups(self, in_scope: list[Record] | None = None) -> None:
        self.query_one("#groups", GroupsPane).show(*groups_view(self.state, self.lang, in_scope))

    def _refresh_detail(self) -> None:
        agency_id = self.state.selected_id
        rec = self.state.records.get(agency_id) if agency_id else None
        full = self._full.get(agency_id) if agency_id else None
        if rec is not None and full is not None:
            rec = _freshest(full, rec)  # history and evidence, with a newer streamed verdict if any
        verdict = rec.verdict if rec is not None else None
        about = (agency_id, verdict.checked_at if verdict is not None else None)
        self.query_one("#detail", DetailPane).show(detail_text(rec, self.ruleset, self.lang), about)
        self._sync_duplicate_key()  # `d` is about the row the detail shows, however it came to be selected
        if agency_id and full is None and agency_id in self.state.records:
            # once the new rows are on screen: the read (a shard of the store) must not hold up the
            # frame a keystroke or a cursor move is waiting for; the light record is shown meanwhile
            self.call_after_refresh(self._start_full, agency_id)

    def _start_full(self, agency_id: str) -> None:
        if self.state.selected_id == agency_id and agency_id not in self._full:
            self.run_worker(partial(self._load_full, agency_id), group="detail", exclusive=True, exit_on_error=False)

    async def _load_full(self, agency_id: str) -> None:
        """The whole record of the selected agency (evidence and history) from the store, off the loop."""
        try:
            full = await self.io(self.store.record, agency_id)
        except KeyError:
            return
        self._full[agency_id] = full
        if self.state.selected_id == agency_id:
            self._refresh_detail()

    def _refresh_progress(self) -> None:
        pane = self.query_one("#progress", ProgressPane)
        pane.show_progress(self.progress, self.lang, self.ruleset, self.clock(), self._backlog())

    def _backlog(self) -> Backlog | None:
        """The runner's view of the slowest queue (in-process arithmetic, no I/O)."""
        if self.progress.state not in ("running", "paused"):
            return None
        try:
            return self.runner.backlog()
        except Exception:  # an estimate must never break the progress pane
            return None

    # ------------------------------------------------------------------------------------------
    # Table and groups pane events
    # ------------------------------------------------------------------------------------------

    @on(AgencyTable.RowHighlighted, "#agencies")
    def row_highlighted(self, event: AgencyTable.RowHighlighted) -> None:
        if event.key != self.state.selected_id:
            self.state.selected_id = event.key
            self._refresh_detail()

    @on(AgencyTable.RowSelected, "#agencies")
    def row_selected(self, event: AgencyTable.RowSelected) -> None:
        """Enter on a row: the detail pane (narrow) or focus it (wide)."""
        self.state.selected_id = event.key
        self._refresh_detail()
        if self.narrow:
            self.action_pane("detail")

    @on(AgencyTable.HeaderSelected, "#agencies")
    def header_selected(self, event: AgencyTable.HeaderSelected) -> None:
        sort = self.state.header_sort(event.column)
        if sort is not None:
            self.set_sort(*sort)

    @on(GroupsPane.Chosen)
    def group_chosen(self, event: GroupsPane.Chosen) -> None:
        self.state.scope = scope_for_group_line(self.state.scope, event.key)
        self._rebuild_table(changed=())
        if self.narrow:
            self.action_pane("agencies")

    # ------------------------------------------------------------------------------------------
    # Search and filters
    # ------------------------------------------------------------------------------------------

    def _search_for(self, value: str) -> None:
        """A changed search shows its first hit (not the row selected before, which was the last hit
        of the previous search after an Esc)."""
        if value != self.state.scope.search:
            self.state.scope = dataclasses.replace(self.state.scope, search=value)
            self._rebuild_table(to_first=bool(value), changed=())

    def _stop_search_timer(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        if not search.has_class("visible"):
            self.state.prepare_search()
        search.add_class("visible")
        if self.narrow and self.pane != "agencies":
            self.action_pane("agencies")
        search.focus()

    def search_changed(self, value: str) -> None:
        """Filter as you type (the search box calls this as the key is typed): the first keystroke
        applies at once, a burst is applied at most every SEARCH_DEBOUNCE seconds (and its last value always)."""
        self._stop_search_timer()

        def apply() -> None:
            self._search_timer = None
            self._search_for(value)
            self._search_applied_at = time.monotonic()

        wait = self._search_applied_at + SEARCH_DEBOUNCE - time.monotonic()
        if wait <= 0:
            apply()
        else:
            self._search_timer = self.set_timer(wait, apply)

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        self._stop_search_timer()
        self._search_for(event.value)
        if not event.value:
            self.query_one("#search", Input).remove_class("visible")
        self.table.focus()

    def _close_search(self) -> None:
        search = self.query_one("#search", Input)
        self._stop_search_timer()
        search.value = ""
        search.remove_class("visible")
        self._search_for("")
        self.table.focus()

    def set_scope(self, scope: Scope) -> None:
        self.state.scope = scope
        search = self.query_one("#search", Input)
        if search.value != scope.search:
            search.value = scope.search
        search.set_class(bool(scope.search), "visible")
        self._rebuild_table(changed=())

    def action_filters(self) -> None:
        from console.tui.screens import FilterScreen

        agencies = [r.agency for r in self.state.records.values()]
        districts: dict[str, set[str]] = {}
        for agency in agencies:
            if agency.district:
                districts.setdefault(agency.province, set()).add(agency.district)
        dialog = FilterScreen(
            self.state.scope,
            [(r.group, group_label(r, self.lang)) for r in self.ruleset.rules],
            sorted({a.province for a in agencies if a.province}),
            {p: sorted(ds) for p, ds in districts.items()},
            sorted({a.kind for a in agencies if a.kind}),
            self.lang,
        )
        self.push_screen(dialog, lambda scope: self.set_scope(scope) if scope is not None else None)

    # ------------------------------------------------------------------------------------------
    # Navigation, help, quit
    # ------------------------------------------------------------------------------------------

    def action_pane(self, name: str) -> None:
        if name not in PANES:
            return
        self.pane = name
        if self.narrow:
            self._apply_layout()
        self.query_one(PANES[name]).focus()

    def action_back_out(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus or search.has_class("visible"):
            self._close_search()
        elif self.narrow and self.pane != "agencies":
            self.action_pane("agencies")
        elif self.state.marked:
            self.action_clear_marks()
        elif self.state.scope != self.home_scope():
            self._clear_filters()
        elif self.focused is not self.table:
            self.action_pane("agencies")

    def home_scope(self) -> Scope:
        """Where the console opens and Esc ends: the config's `[console] province` (a helpdesk works
        on one), else everything."""
        return Scope(province=self.config.console.province or None)

    def _clear_filters(self) -> None:
        """Esc: every filter but the province goes; Esc again (only the province left) returns to the
        config's province; ctrl+p "clear all filters" clears everything."""
        target = Scope(province=self.state.scope.province)
        if self.state.scope == target:
            target = self.home_scope()
        self.set_scope(target)
        if target.province:
            self.notify(tr("msg.filter_kept_province", self.lang, province=one_line(target.province)), markup=False)
        else:
            self.notify(tr("msg.filter_cleared", self.lang), markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only (saraban serve): the write actions are disabled and hidden, wherever they come from.
        `d` (same agency or not) is offered only on a row flagged as a possible duplicate."""
        if self.read_only and action in WRITE_ACTIONS:
            return False
        return action != "duplicate" or duplicate_partner(self.selected_record()) is not None

    def action_trends(self) -> None:
        """A / B–E / W share per scan for the whole store, or the province of the current filter."""
        from console.trends import trend_points
        from console.tui.trends import TrendScreen  # the chart library loads when first asked for

        province = self.state.scope.province
        points = trend_points(self.state.snapshots, self.ruleset.rules, province)
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
                message = tr("watch.held", self.lang, owner=one_line(str(held)))
                self.notify(message, severity="warning", markup=False, timeout=15)
                return
            self.run_worker(loop, group="watch", exclusive=True)
            self.notify(tr("notify.watch_on", self.lang), markup=False)
        self._refresh_topbar()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands (Theme, Keys, Screenshot…) still answer when typed, but the palette
        opens on ours: the officer's list is not headed by English window commands."""
        for command in super().get_system_commands(screen):
            yield SystemCommand(command.title, command.help, command.callback, discover=False)

    def action_help(self) -> None:
        from console.tui.screens import HelpScreen

        legend = [(rule.group, group_label(rule, self.lang)) for rule in self.ruleset.rules]
        legend.append((UNCHECKED, tr("groups.unchecked", self.lang)))
        self.push_screen(HelpScreen(self.help_rows(), self.lang, legend))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """Key, description and id of every active binding (after the config's keymap)."""
        rows: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or not self.check_action(binding.action, ()):
                continue
            ident = binding.id or binding.action
            # ours: the full description (the footer shows a shorter one)
            description = tr(f"key.{binding.id}", self.lang) if binding.id in BINDING_IDS else binding.description
            if binding.id is None:  # Textual's own: described in the operator's language too
                translated = tr(f"textual.{binding.action}", self.lang)
                description = binding.description if translated == f"textual.{binding.action}" else translated
            if (ident, binding.key) in seen:
                continue
            seen.add((ident, binding.key))
            rows.append((self.get_key_display(binding), description, ident))
        if not self.read_only and all(r[2] != "duplicate" for r in rows):  # documented on every row
            rows.append((self.key_label("duplicate", "d"), tr("key.duplicate", self.lang), "duplicate"))
        rows.sort(key=lambda r: (binding_order(r[2]), r[0]))
        return rows

    def key_label(self, binding_id: str, default: str) -> str:
        """The key as the operator presses it, after the config's keymap."""
        keys = self.key_overrides.get(binding_id) or default
        return self.get_key_display(Binding(keys.split(",")[0].strip(), ""))

    def run_bound_action(self, action: str) -> None:
        """A palette entry runs the same action as its key, after the palette has closed."""
        self.call_later(self.run_action, action)

    def action_command_palette(self) -> None:
        """Textual's palette, with its search line in the operator's language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            placeholder = tr("palette.placeholder", self.lang)
            self.push_screen(CommandPalette(id="--command-palette", placeholder=placeholder))

    async def action_quit(self) -> None:
        """Textual's ctrl+q: the same question as q while a scan runs."""
        self.action_quit_app()

    def action_quit_app(self) -> None:
        if self.runner.running or self.progress.active:
            self._confirm(tr("dlg.confirm_quit_scan", self.lang), lambda: (self._stop_runner(), self.exit()))
        else:
            self.exit()

    def _confirm(self, question: str, then: Callable[[], object]) -> None:
        from console.tui.screens import ConfirmScreen

        self.push_screen(ConfirmScreen(question, self.lang), lambda ok: then() if ok else None)

    # ------------------------------------------------------------------------------------------
    # Selection, marks, sort
    # ------------------------------------------------------------------------------------------

    def selected_record(self) -> Record | None:
        key = self.table.current_key() if self.state.order else None
        return self.state.records.get(key) if key else None

    def _targets(self) -> list[str]:
        """Marked agencies when there are marks, else the selected one."""
        return self.state.targets(self.table.current_key() if self.state.order else None)

    def _need_selection(self) -> Record | None:
        rec = self.selected_record()
        if rec is None:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
        return rec

    def action_mark(self) -> None:
        table = self.table
        key = table.current_key()
        if key is None:
            return
        marked = self.state.toggle_mark(key)
        table.update_row(key)
        # The cursor stays on the row just marked: an operator presses ↓ to go on, and `↓ space ↓ space`
        # marks two rows in a row instead of skipping one. The mark glyph and this count are the sign.
        message = "msg.marked" if marked else "msg.unmarked"
        self.notify(tr(message, self.lang, n=len(self.state.marked)), markup=False, timeout=2)
        self._refresh_topbar()

    def action_clear_marks(self) -> None:
        if not self.state.marked:
            return
        marked, self.state.marked = self.state.marked, set()
        for key in marked:
            if key in self.state.records:
                self.table.update_row(key)
        self._refresh_topbar()
        self.notify(tr("msg.marks_cleared", self.lang), markup=False)

    def set_sort(self, column: str, reverse: bool) -> None:
        self.state.sort_column, self.state.sort_reverse = column, reverse
        self._rebuild_table(changed=())
        label = tr(f"col.{column}", self.lang) + (" ↓" if reverse else "")
        self.notify(tr("msg.sorted", self.lang, col=label), markup=False, timeout=2)

    def action_sort(self) -> None:
        self.set_sort(*self.state.next_sort())

    def action_sort_reverse(self) -> None:
        self.set_sort(self.state.sort_column, not self.state.sort_reverse)

    # ------------------------------------------------------------------------------------------
    # Scans and rechecks
    # ------------------------------------------------------------------------------------------

    def on_scan_event(self, event: ev.Event) -> None:
        """Runner events, on the app's loop: state changes now, screen updates at the next flush."""
        self.progress.apply(event, self.clock())
        if isinstance(event, ev.AgencyChecked):
            self.state.apply_verdict(str(event.agency.id), event.verdict)
        elif isinstance(event, ev.CanaryFailed):
            self.notify(canary_failed_message(event, self.lang), severity="error", markup=False)
        elif isinstance(event, ev.PreflightWarning):  # a doctor check warned before the scan (it goes on)
            self.notify(one_line(event.message), severity="warning", markup=False)
        elif isinstance(event, ev.ProberBlocked) and not self.progress.blocked_notified:
            self.progress.blocked_notified = True  # one toast per scan; the log keeps every host
            self.notify(blocked_message(event, self.lang), severity="warning", markup=False)
        if isinstance(event, ev.ScanFinished):
            self._finished(event)
        else:
            log = event_text(event, self.lang, self.ruleset)
            if log is not None:
                self.query_one("#progress", ProgressPane).log_line(log, self.clock().strftime("%H:%M:%S"))
        self._progress_dirty = True
        if isinstance(event, ev.ScanStarted | ev.ScanPaused | ev.ScanResumed | ev.CanaryFailed | ev.CanaryRestored):
            self._refresh_topbar()

    def _finished(self, event: ev.ScanFinished) -> None:
        if not self.progress.finish(event):
            return
        message = finished_message(self.progress, self.lang)
        stamp = self.clock().strftime("%H:%M:%S")
        self.query_one("#progress", ProgressPane).log_line(Text(f"{stamp} {message}", style="bold", end=""))
        self.notify(message, markup=False)
        self._progress_dirty = True
        self._refresh_topbar()

    def start_scan(self, agency_ids: list[str] | None) -> None:
        if self.runner.running or self.progress.active:
            self.notify(tr("msg.scan_running", self.lang), severity="warning", markup=False)
            return
        total = len(agency_ids) if agency_ids is not None else len(self.state.records)
        self.progress.begin(total, self.clock())
        self._progress_dirty = True
        self._refresh_topbar()

        async def scan() -> None:
            try:
                if self.progress.stop_requested:  # `x` before the runner began
                    stopped = ev.ScanFinished(total, 0, {}, 0.0, "stopped by operator")
                    self._finished(stopped)
                    return
                result = await self.runner.scan(agency_ids, self.on_scan_event)
                self._finished(result)
            finally:
                self.progress.ended_without_report()
                self._progress_dirty = True
                await self._reload()

        self.run_guarded(scan(), "scan", exclusive=True)

    def action_scan(self) -> None:
        if self.watching.round_running and not self.runner.running:  # the pause key holds the watcher too
            paused = self.watching.toggle_pause()
            self.notify(tr("msg.scan_paused" if paused else "msg.scan_resumed", self.lang), markup=False)
            self._refresh_topbar()
            return
        if not (self.runner.running and self.progress.state in ("running", "paused")):
            self.start_scan(None)
            return
        if self.progress.toggle_pause() == "paused":
            self.runner.pause()
            self.notify(tr("msg.scan_paused", self.lang), markup=False)
        else:
            self.runner.resume()
            self.notify(tr("msg.scan_resumed", self.lang), markup=False)
        self._progress_dirty = True
        self._refresh_topbar()

    def _stop_runner(self) -> None:
        try:
            self.runner.stop()
        except Exception as exc:
            self.notify(tr("msg.error", self.lang, error=one_line(exc)), severity="error", markup=False)

    def action_stop(self) -> None:
        """`x`: stop the scan, also while it is still reading its agencies."""
        if not (self.runner.running or self.progress.active):
            self.notify(tr("msg.scan_not_running", self.lang), markup=False)
            return
        self.progress.stop_requested = True
        self._stop_runner()
        self.notify(tr("msg.scan_stopping", self.lang), markup=False)

    def action_recheck(self) -> None:
        targets = self._targets()
        if not targets:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
        elif len(targets) == 1:
            self.recheck_one(targets[0])
        else:
            self._confirm(tr("dlg.confirm_recheck", self.lang, n=len(targets)), lambda: self._bulk_recheck(targets))

    def _bulk_recheck(self, targets: list[str]) -> None:
        self.start_scan(targets)
        self.state.marked.clear()
        self._rebuild_table()

    def action_recheck_scope(self) -> None:
        targets = list(self.state.order)
        if not targets:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
            return
        self._confirm(tr("dlg.confirm_recheck", self.lang, n=len(targets)), lambda: self.start_scan(targets))

    def _agency_name(self, agency_id: str) -> str:
        rec = self.state.records.get(agency_id)
        return one_line(rec.agency.name) if rec else agency_id

    def _apply_verdict(self, agency_id: str, verdict: Verdict | None) -> None:
        if verdict is not None:
            self.state.apply_verdict(agency_id, verdict)

    def recheck_one(self, agency_id: str) -> None:
        self.state.keep_on_screen(agency_id)
        name = self._agency_name(agency_id)
        self.notify(tr("msg.rechecking", self.lang, name=name), markup=False, timeout=3)

        async def recheck() -> None:
            verdict = await self.runner.recheck(agency_id)
            self._apply_verdict(agency_id, verdict)
            await self._reload_one(agency_id)
            group = verdict.group if verdict is not None else "?"
            self.notify(tr("msg.rechecked", self.lang, name=name, group=group), markup=False)

        self.run_guarded(recheck(), "recheck")

    # ------------------------------------------------------------------------------------------
    # Corrections, notes, follow-up
    # ------------------------------------------------------------------------------------------

    def action_correct(self) -> None:
        from console.tui.screens import CorrectionScreen

        rec = self._need_selection()
        if rec is None:
            return
        agency_id = rec_id(rec)

        def done(request: CorrectionRequest | None) -> None:
            if request is None:
                return
            owners = other_owners(self.state.records.values(), agency_id, request.address)
            if not owners:
                self.correct(agency_id, request.address, request.reason)
                return
            warning = shared_address_warning(request.address, owners, self.lang)
            self._confirm(f"{warning}\n{tr('correct.shared_confirm', self.lang)}",
                          lambda: self.correct(agency_id, request.address, request.reason))  # fmt: skip

        dialog = CorrectionScreen(rec.agency.name, current_address(rec), self.lang, self.address_reader)
        self.push_screen(dialog, done)

    def correct(self, agency_id: str, address: str, reason: str) -> None:
        """Save the correction and recheck at once; the detail pane shows the new verdict."""
        self.state.keep_on_screen(agency_id)
        name = self._agency_name(agency_id)
        self.notify(tr("msg.rechecking", self.lang, name=name), markup=False, timeout=3)

        async def work() -> None:
            _, verdict = await self.runner.correct(agency_id, address, reason, self.operator, recheck=True)
            self._apply_verdict(agency_id, verdict)
            await self._reload_one(agency_id)
            shown = one_line(address)
            if verdict is not None:
                message = tr("msg.corrected", self.lang, name=name, address=shown, group=verdict.group)
            else:
                message = tr("msg.corrected_no_check", self.lang, name=name, address=shown)
            self.notify(message, markup=False)

        self.run_guarded(work(), "correct")

    def action_note(self) -> None:
        from console.tui.screens import PromptScreen

        rec = self._need_selection()
        if rec is None:
            return
        agency_id, name = rec_id(rec), one_line(rec.agency.name)

        async def save(text: str) -> None:
            await self.io(self.store.add_note, agency_id, text, self.operator)
            await self._reload_one(agency_id)
            self.notify(tr("msg.note_saved", self.lang, name=name), markup=False)

        title, hint = tr("dlg.note_title", self.lang, name=name), tr("dlg.note_hint", self.lang)
        self.push_screen(
            PromptScreen(title, hint, prompt_id="note"),
            lambda text: self.run_guarded(save(text), "note") if text else None,
        )

    def action_called(self) -> None:
        targets = self._targets()
        if not targets:
            self.notify(tr("msg.no_selection", self.lang), markup=False)
        elif len(targets) == 1:
            state = None if self.state.records[targets[0]].followup in WAITING_STATES else CALLED_WAITING
            self._set_followup(targets, state)
        else:
            question = tr("dlg.confirm_called", self.lang, n=len(targets))
            self._confirm(question, lambda: self._set_followup(targets, CALLED_WAITING))

    def _set_followup(self, targets: list[str], state: str | None) -> None:
        async def work() -> None:
            for agency_id in targets:
                await self.io(self.store.set_followup, agency_id, state, self.operator)
            if len(targets) > 1:
                self.state.marked.clear()
            await self._reload()
            if state is None:
                self.notify(tr("msg.uncalled", self.lang, name=self._agency_name(targets[0])), markup=False)
            else:
                self.notify(tr("msg.called", self.lang, n=len(targets)), markup=False)

        self.run_guarded(work(), "followup")

    def _sync_duplicate_key(self) -> None:
        """Show or hide `d` in the footer when the selected row's duplicate flag changes."""
        flagged = duplicate_partner(self.selected_record()) is not None
        if flagged != self._duplicate_key_shown:
            self._duplicate_key_shown = flagged
            self.refresh_bindings()

    def action_duplicate(self) -> None:
        """A row flagged "possible duplicate of row N": the operator says same agency, or different."""
        rec = self._need_selection()
        other_id = duplicate_partner(rec)
        other = self.state.records.get(other_id) if other_id else None
        if rec is None or other_id is None or other is None:
            if rec is not None:
                self.notify(tr("dup.none", self.lang), markup=False)
            return
        agency_id = rec_id(rec)

        def decided(answer: Answer | None) -> None:
            if answer is not None:
                self.run_guarded(self._decide_duplicate(agency_id, other_id, answer), "duplicate")

        self.push_screen(DuplicateScreen(rec, other, self.lang), decided)

    async def _decide_duplicate(self, agency_id: str, other_id: str, answer: Answer) -> None:
        """The same store call as `saraban same` / `saraban different`, off the event loop."""
        other_row = one_line(self.state.records[other_id].agency.seq or other_id)
        confirm = self.store.confirm_same if answer == "same" else self.store.confirm_different
        await self.io(confirm, agency_id, other_id, self.operator)
        await self._reload()  # the detail is shown again, and with it the footer's `d`
        message = "msg.dup_same" if answer == "same" else "msg.dup_different"
        self.notify(tr(message, self.lang, name=self._agency_name(agency_id), other=other_row), markup=False)

    # ------------------------------------------------------------------------------------------
    # Export, import, language, clipboard
    # ------------------------------------------------------------------------------------------

    def followup_items(self) -> list[Record]:
        return self.state.followup_items()

    def default_export_path(self) -> Path:
        today = self.clock()
        stamp = f"{today.year + 543}-{today.month:02d}-{today.day:02d}"
        province = self.state.scope.province
        if not province:
            provinces = {self.state.records[k].agency.province for k in self.state.order if k in self.state.records}
            province = next(iter(provinces)) if len(provinces) == 1 else "all"
        safe = "".join(ch for ch in one_line(province) if ch not in '/\\:*?"<>|').strip() or "all"
        directory = Path(self.config.export_dir or Path.cwd())
        return directory / f"followup-{safe.replace(' ', '_')}-{stamp}.xlsx"

    def action_export(self) -> None:
        from console.tui.screens import PromptScreen

        items = self.followup_items()
        if not items:
            self.notify(tr("msg.export_empty", self.lang), markup=False)
            return
        dialog = PromptScreen(
            tr("dlg.export_title", self.lang, n=len(items)),
            " · ".join(filter(None, (self._export_excludes(), tr("dlg.export_hint", self.lang)))),
            value=str(self.default_export_path()),
            prompt_id="export",
        )
        self.push_screen(
            dialog,
            lambda path: self.run_guarded(
                self._export_to_typed(path, self.default_export_path().name, lambda t: self.export_to(t, items)),
                "export",
            )
            if path
            else None,
        )

    def _export_excludes(self) -> str:
        """What the phone list leaves out of the rows on screen, in the words the groups pane and
        `saraban export`/`report` use (console.followup_text)."""
        shown = [r for key in self.state.order if (r := self.state.records.get(key)) is not None]
        return count_followup(shown, self.ruleset, self.state.group).excludes(self.lang)

    async def _export_to_typed(
        self, typed: str, default_name: str, write: Callable[[Path], Awaitable[None]], *, xlsx_only: bool = False
    ) -> None:
        """The path as typed: a directory gets the default name; an existing file is overwritten only
        when the operator says so. Looked at off the loop (a network share may hang)."""
        from console.export import export_target

        try:
            target, exists = await self.io(export_target, typed, default_name, xlsx_only=xlsx_only)
        except (OSError, RuntimeError, ValueError) as exc:
            message = tr("msg.export_bad_path", self.lang, path=one_line(typed), error=one_line(exc))
            self.notify(message, severity="error", markup=False, timeout=15)
            return
        if exists:
            question = tr("msg.export_exists", self.lang, path=one_line(target))
            self._confirm(question, lambda: self.run_guarded(write(target), "export"))
        else:
            await write(target)

    async def export_to(self, path: Path, items: list[Record]) -> None:
        """The phone list of `items` to `path` (XLSX, or CSV by its suffix); the folder is made off the loop."""
        from console import export

        path = export.export_suffix(path)
        entries = [export.record_item(rec) for rec in items]
        rows = await self.io(export.followup_records, entries, self.ruleset.rules, lang=self.lang)
        await self.io(path.parent.mkdir, parents=True, exist_ok=True)
        # never onto the store, a device, a FIFO or a folder (the operator already agreed to replace a file)
        path = await self.io(export.check_target, path, store_path=self.store.path, force=True)
        await self.io(export.write_followup, path, rows, lang=self.lang)
        self.notify(tr("msg.exported", self.lang, n=len(items), path=one_line(path)), markup=False, timeout=10)

    def action_export_letter(self) -> None:
        """The province's letter attachment to its districts (console.letter), from the palette: the
        checked agencies in view that need follow-up, one print-ready sheet per district."""
        from console.tui.screens import PromptScreen

        items = [rec for rec in self.followup_items() if rec.verdict is not None]
        if not items:
            self.notify(tr("msg.letter_empty", self.lang), markup=False)
            return
        default = self.default_export_path()
        default = default.with_name(default.name.replace("followup-", "letter-", 1))
        dialog = PromptScreen(
            tr("dlg.letter_title", self.lang, n=len(items)),
            tr("dlg.letter_hint", self.lang),
            value=str(default),
            prompt_id="export",
        )
        self.push_screen(
            dialog,
            lambda path: self.run_guarded(
                self._export_to_typed(path, default.name, lambda t: self._letter_to(t, items), xlsx_only=True),
                "export",
            )
            if path
            else None,
        )

    async def _letter_to(self, target: Path, items: list[Record]) -> None:
        from console.export import ExportTargetError, check_target
        from console.letter import write_letter

        try:
            await self.io(target.parent.mkdir, parents=True, exist_ok=True)
            # never onto the store, a device, a FIFO or a folder (replacing a file was agreed to)
            path = await self.io(check_target, target, store_path=self.store.path, force=True)
            n = await self.io(write_letter, path, items, self.ruleset.rules)
        except (OSError, RuntimeError, ValueError, ExportTargetError) as exc:
            message = tr("msg.export_bad_path", self.lang, path=one_line(target), error=one_line(exc))
            self.notify(message, severity="error", markup=False, timeout=15)
            return
        self.notify(tr("msg.letter_done", self.lang, n=n, path=one_line(target)), markup=False, timeout=10)

    def action_import_list(self) -> None:
        from console.tui.screens import PromptScreen

        dialog = PromptScreen(tr("dlg.import_title", self.lang), tr("dlg.import_hint", self.lang), prompt_id="import")
        self.push_screen(dialog, lambda line: self.run_guarded(self.import_from(line), "import") if line else None)

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
        problems = [self._row_problem(p) for p in result.problems]
        self._log_import_problems(problems, source)
        first = "\n".join(problems[:3])
        if not result.agencies:
            message = tr("msg.import_nothing", self.lang, source=one_line(source)) + (f"\n{first}" if first else "")
            self.notify(message, severity="error", markup=False, timeout=20)
            return
        if problems:
            message = tr("msg.import_problems", self.lang, n=len(problems)) + f"\n{first}"
            self.notify(message, severity="warning", markup=False, timeout=20)
        report = await self.io(self.store.merge_import, result.agencies, source=result.source, operator=self.operator)
        await self.io(record_offline, self.store, self.config.engine)  # groups known without the network show at once
        counts = {name: len(getattr(report, name)) for name in ("added", "changed", "unchanged", "missing")}
        self.notify(tr("msg.imported", self.lang, **counts), markup=False, timeout=10)
        await self._reload()
        self._offer_check(report)

    def _log_import_problems(self, problems: list[str], source: str) -> None:
        progress = self.query_one("#progress", ProgressPane)
        for problem in problems[:IMPORT_PROBLEMS_LOGGED]:
            progress.log_line(Text(problem, style="yellow", end=""))
        if len(problems) > IMPORT_PROBLEMS_LOGGED:
            more = len(problems) - IMPORT_PROBLEMS_LOGGED
            progress.log_line(Text(tr("msg.import_more", self.lang, n=more, source=one_line(source)), end=""))
        if problems:
            self._progress_dirty = True

    def _offer_check(self, report: ImportOutcome) -> None:
        """New agencies and changed addresses have no verdict for what they declare now: offer to check them."""
        waiting = self.state.unchecked_of(str(t) for t in (*report.added, *report.changed))
        if waiting and not (self.runner.running or self.progress.active):
            question = tr("dlg.confirm_check_imported", self.lang, n=len(waiting))
            self._confirm(question, lambda: self.start_scan(waiting))

    def _row_problem(self, problem: Any) -> str:
        return tr("msg.import_row", self.lang, row=problem.row, field=one_line(problem.field), message=one_line(problem.message))

    def action_language(self) -> None:
        self.lang = other_language(self.lang)
        self.refresh_bindings()  # footer words in the new language (MainScreen.active_bindings)
        self._relabel()
        self._set_columns()
        self._rebuild_table()
        self._refresh_progress()
        self.notify(tr("msg.language", self.lang), markup=False, timeout=2)

    def action_copy(self) -> None:
        rec = self._need_selection()
        if rec is None:
            return
        agency_id = rec_id(rec)

        async def work() -> None:
            # the whole record (findings with their evidence), with a newer streamed verdict if any
            full = self._full.get(agency_id) or await self.io(self.store.record, agency_id) or rec
            self.copy_to_clipboard(summary_text(_freshest(full, rec), self.ruleset, self.lang))
            self.notify(tr("msg.copied", self.lang, name=one_line(rec.agency.name)), markup=False, timeout=3)

        self.run_guarded(work(), "copy")
