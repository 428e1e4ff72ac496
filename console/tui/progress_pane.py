"""The progress pane: a scan's state, bar, rate and ETA, retries, the canary, tallies, and a log of
what the network said."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from checks import events as ev
from console.i18n import scan_reason, tr
from console.rules import Ruleset
from console.tui.state import ScanProgress, tallies_in_rule_order
from console.tui.text import one_line
from console.tui.view import fmt_duration, group_text

if TYPE_CHECKING:
    from textual.widgets import RichLog

    from checks.scheduler import Backlog

BACKLOG_SHOWN_S = 10.0  # name the host that holds the scan up once it needs this long


def _reason(reason: str, lang: str) -> str:
    return one_line(scan_reason(reason, lang))


def state_text(progress: ScanProgress, lang: str) -> Text:
    """Idle, running, paused (why), finished (how long) or stopped (why, how far)."""
    state = progress.state
    total = progress.total or 0
    if state == "idle":
        message, style = tr("progress.idle", lang), "dim"
    elif state in ("running", "loading"):
        message, style = tr("progress.running", lang), "bold cyan"
    elif state == "paused":
        message, style = tr("progress.paused", lang, reason=_reason(progress.reason, lang)), "bold yellow"
    elif state == "finished":
        elapsed = fmt_duration(progress.elapsed)
        message, style = tr("progress.finished", lang, done=progress.done, total=total, elapsed=elapsed), "bold green"
    else:
        reason = _reason(progress.reason, lang)
        message, style = tr("progress.stopped", lang, reason=reason, done=progress.done, total=total), "bold yellow"
    text = Text(end="")
    text.append(message, style=style)  # a span, as the theme maps it (a base style would be raw ANSI cyan)
    return text


def rate_text(progress: ScanProgress, lang: str, now: datetime, backlog: Backlog | None) -> Text:
    """Done of total, rate, ETA (the busiest host's limits when they decide the end), retries."""
    rate, eta = progress.rate_eta(now)
    if backlog is not None and (eta is None or backlog.seconds > eta):
        eta = backlog.seconds
    line = Text(
        tr(
            "progress.line",
            lang,
            done=progress.done,
            total=progress.total if progress.total is not None else "?",
            rate=f"{rate:.1f}" if rate else "—",
            eta=fmt_duration(eta) if eta is not None else "—",
            retries=len(progress.retries),
        ),
        end="",
        no_wrap=True,
        overflow="ellipsis",
    )
    if backlog is not None and backlog.seconds >= BACKLOG_SHOWN_S and backlog.host:
        line.append("  ·  ")
        line.append(
            tr("progress.backlog", lang, host=one_line(backlog.host), waiting=f"{backlog.waiting:,}"), style="yellow"
        )
    return line


def canary_text(progress: ScanProgress, lang: str) -> Text:
    if progress.canary is None:
        return Text(tr("progress.canary_ok", lang), style="green", end="")
    reason, withheld = progress.canary
    return Text(
        tr("progress.canary_failed", lang, reason=one_line(reason), withheld=withheld), style="bold red", end=""
    )


def tallies_text(progress: ScanProgress, lang: str, ruleset: Ruleset) -> Text:
    tallies = Text(f"{tr('progress.tallies', lang)}: ", style="bold", end="")
    for group, n in tallies_in_rule_order(progress, ruleset):
        tallies.append_text(group_text(group, ruleset))
        tallies.append(f" {n}  ")
    return tallies


def _retry_text(event: ev.RetryScheduled, lang: str) -> Text:
    message = tr(
        "event.retry",
        lang,
        address=one_line(event.address),
        host=one_line(event.host) or "DNS",  # a lookup to retry has no mail host yet
        attempt=event.attempt,
        delay=f"{event.delay_s:.0f}",
        reason=one_line(event.reason),
    )
    return Text(message, style="yellow")


def event_text(event: ev.Event, lang: str, ruleset: Ruleset) -> Text | None:
    """The log line for a runner event; None for what is not news (a ready agency, the end: said apart)."""
    if isinstance(event, ev.ScanStarted):
        return Text(tr("event.started", lang, total=event.total), style="bold")
    if isinstance(event, ev.AgencyChecked):
        if ruleset.is_quiet(event.verdict.group):  # the log is for what the network said
            return None
        log = Text(end="")
        log.append_text(group_text(event.verdict.group, ruleset))
        log.append(f"  {one_line(event.agency.name)}  {one_line(event.agency.declared)}")
        return log
    if isinstance(event, ev.RetryScheduled):
        return _retry_text(event, lang)
    if isinstance(event, ev.CanaryFailed):
        return Text(canary_failed_message(event, lang), style="bold red")
    if isinstance(event, ev.CanaryRestored):
        return Text(tr("event.canary_restored", lang, after=f"{event.after_s:.0f}"), style="green")
    if isinstance(event, ev.ProberBlocked):
        return Text(blocked_message(event, lang), style="bold red")
    if isinstance(event, ev.PreflightWarning):  # a doctor check warned before the scan (it goes on)
        return Text(one_line(event.message), style="yellow")
    if isinstance(event, ev.ScanPaused):
        return Text(tr("event.paused", lang, reason=_reason(event.reason, lang)), style="yellow")
    if isinstance(event, ev.ScanResumed):
        return Text(tr("event.resumed", lang))
    return None


def canary_failed_message(event: ev.CanaryFailed, lang: str) -> str:
    return tr("event.canary_failed", lang, reason=one_line(event.reason), withheld=event.withheld)


def blocked_message(event: ev.ProberBlocked, lang: str) -> str:
    return tr("event.blocked", lang, host=one_line(event.host), reply=one_line(event.reply))


def finished_message(progress: ScanProgress, lang: str) -> str:
    if progress.state == "stopped":
        reason = _reason(progress.reason, lang)
        return tr("event.stopped", lang, reason=reason, done=progress.done, total=progress.total or 0)
    return tr("event.finished", lang, done=progress.done, total=progress.total or 0)


class ProgressPane(Vertical):
    """A running scan: bar, rate, ETA, retries, canary, per-group tallies and a log of notable events."""

    has_lines = False  # once something is logged the log stays on screen, scan or not

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._log: RichLog | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="progress-state", markup=False)
        bar = ProgressBar(id="progress-bar", show_eta=False)
        bar.display = False  # idle until show_progress says otherwise (an idle bar would animate)
        yield bar
        yield Static(id="progress-line", markup=False)
        yield Static(id="progress-canary", markup=False)
        yield Static(id="progress-tallies", markup=False)
        # The log (below these) is made when a scan or an import first needs it: it is hidden while
        # idle, and its widget loads rich.pretty and attrs, ~25 ms of the first screen's start-up.

    def log_view(self) -> RichLog:
        """The log, made and mounted the first time it is asked for, then kept: a scan logs hundreds
        of lines a second, and each would otherwise look for it in the DOM."""
        if self._log is None:
            from textual.widgets import RichLog

            self._log = RichLog(id="progress-log", markup=False, highlight=False, max_lines=500, wrap=False)
            self.mount(self._log)
        return self._log

    def focus(self, scroll_visible: bool = True) -> Self:
        """The pane's focus is its log's (made if needed): what the operator scrolls with the keys."""
        self.log_view().focus(scroll_visible)
        return self

    def show_progress(
        self, progress: ScanProgress, lang: str, ruleset: Ruleset, now: datetime, backlog: Backlog | None
    ) -> None:
        idle = progress.state == "idle"
        if not idle:
            self.log_view()  # on screen with the scan, empty until something is news
        self.set_class(idle and not self.has_lines, "-idle")
        self.query_one("#progress-state", Static).update(state_text(progress, lang))
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.display = not idle  # an indeterminate bar animates forever: hide it when idle
        if not idle:
            bar.update(total=max(progress.total or 0, 1), progress=progress.done)
        self.query_one("#progress-line", Static).update(rate_text(progress, lang, now, backlog))
        self.query_one("#progress-canary", Static).update(canary_text(progress, lang))
        self.query_one("#progress-tallies", Static).update(tallies_text(progress, lang, ruleset))

    def log_line(self, text: Text, stamp: str | None = None) -> None:
        """One line of the log, after a dim time stamp when given."""
        self.has_lines = True
        line = Text(f"{stamp} ", style="dim", end="") + text if stamp is not None else text
        self.log_view().write(line)
