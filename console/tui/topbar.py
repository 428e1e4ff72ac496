"""The top bar: one line, most urgent first (at 80 columns its end is cut off)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.i18n import scan_reason, tr
from console.tui.state import ConsoleState, ScanProgress
from console.tui.text import one_line
from console.tui.view import describe_scope


def topbar_text(
    title: str, state: ConsoleState, progress: ScanProgress, lang: str, operator: str = "", watch: str | None = None
) -> Text:
    """Scan state, canary, the watcher, marks, rows shown of all, the filter, the sort, the operator."""
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append(f" {title} ", style="bold reverse")
    if progress.active:
        text.append(" ")
        done = f"{progress.done}/{progress.total or '?'}"
        label = (
            tr("progress.paused", lang, reason=one_line(scan_reason(progress.reason, lang)))
            if progress.state == "paused"
            else tr("progress.running", lang)
        )
        text.append(f"{label} {done}", style="bold cyan")
        text.append("  ·")
    if progress.canary is not None:
        text.append(" ")
        reason, withheld = progress.canary
        text.append(
            tr("progress.canary_failed", lang, reason=one_line(reason), withheld=withheld), style="bold red"
        )
        text.append("  ·")
    if watch:
        text.append(" ")
        text.append(watch, style="bold green")
        text.append("  ·")
    if state.marked:
        text.append(" ")
        text.append(tr("status.marked", lang, n=len(state.marked)), style="bold yellow")
        text.append("  ·")
    text.append(" ")
    text.append(tr("status.scope", lang, shown=len(state.order), total=len(state.records)), style="bold")
    text.append("  ·  ")
    text.append(tr("status.filter", lang, desc=describe_scope(state.scope, lang)))
    text.append("  ·  ")
    text.append(tr("status.sort", lang, col=tr(f"col.{state.sort_column}", lang)), style="dim")
    if operator:
        text.append("  ·  " + tr("status.operator", lang, name=one_line(operator)), style="dim")
    return text


class TopBar(Static):
    """One line: scan state, marks, scope, sort."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self._shown: Text | None = None

    def show(self, text: Text) -> None:
        """Redraw only what changed; the bar is one line whatever it says (app.tcss), so no layout."""
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)
