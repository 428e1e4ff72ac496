"""The trend pane: A / B–E / W share of the checked agencies per scan, dates in BE.

A display widget only: the app hands it the points (`console.trends.trend_points`) for the whole
store or the province in the current filter; it never reads the store. The caption (which may hold a
province name from the list) is plain text; the chart itself only ever sees our own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static
from textual_plotext import PlotextPlot

from console.i18n import tr
from console.thai import be_date
from console.trends import TrendPoint

SERIES: tuple[tuple[str, str, str], ...] = (("A", "trend.a", "green"), ("BE", "trend.be", "red"), ("W", "trend.w", "blue"))
MAX_LABELS = 8  # date labels on the x axis; more scans than this are labelled every n-th


class TrendPane(Vertical):
    """Caption + chart; `show()` replaces what is drawn."""

    DEFAULT_CSS = """
    TrendPane { height: 1fr; }
    TrendPane > #trend-caption { height: auto; padding: 0 1; }
    TrendPane > PlotextPlot { height: 1fr; min-height: 8; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="trend-caption", markup=False)
        yield PlotextPlot(id="trend-plot")

    def show(self, points: Sequence[TrendPoint], area: str, lang: str) -> None:
        caption = self.query_one("#trend-caption", Static)
        plot = self.query_one("#trend-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        if not points:
            caption.update(tr("trend.back", lang) + "  " + tr("trend.empty", lang, area=area))
            plot.refresh()
            return
        last = points[-1]
        caption.update(
            tr("trend.back", lang) + "  " + tr(
                "trend.caption",
                lang,
                area=area,
                n=len(points),
                when=be_date(last.at),
                a=f"{last.share('A'):.1f}",
                be=f"{last.share('BE'):.1f}",
                w=f"{last.share('W'):.1f}",
            )
        )
        xs = list(range(1, len(points) + 1))
        for bucket, label, color in SERIES:
            plt.plot(xs, [p.share(bucket) for p in points], label=tr(label, lang), color=color, marker="braille")
        step = max(1, -(-len(points) // MAX_LABELS))
        ticks = xs[::step]
        plt.xticks(ticks, [be_date(points[i - 1].at) for i in ticks])
        plt.ylim(0, 100)
        plt.yticks([0, 25, 50, 75, 100])
        plt.ylabel("%")
        plot.refresh()


class TrendScreen(Screen[None]):
    """The chart over the whole screen (readable at 80×24); esc, 5 or q go back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,5,q", "app.pop_screen", "Back", show=False),  # said in the caption, in the operator's language
    ]

    def __init__(self, points: Sequence[TrendPoint], area: str, lang: str) -> None:
        super().__init__(id="trends")
        self.points = list(points)
        self.area = area
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield TrendPane(id="trend-pane")

    def on_mount(self) -> None:
        self.query_one(TrendPane).show(self.points, self.area, self.lang)
