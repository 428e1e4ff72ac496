"""Command palette (ctrl+p and `:`): every action of the console plus quick filters.

Prompts are built as `rich.text.Text` because the palette parses plain strings as markup and
quick-filter titles contain data (province and district names) that must show literally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.tui.text import one_line

if TYPE_CHECKING:
    from console.tui.app import SarabanApp


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str  # may contain data: always shown as Text
    help: str  # constant (translated) text only
    run: Callable[[], Any]
    discover: bool = True  # listed before anything is typed


class ActionsProvider(Provider):
    """Commands for every binding of the app and filters by group, province and district."""

    def _entries(self) -> Iterable[PaletteEntry]:
        app: SarabanApp = self.app  # type: ignore[assignment]
        return app.palette_entries()

    async def discover(self) -> Hits:
        for entry in self._entries():
            if entry.discover:
                yield DiscoveryHit(
                    Text(one_line(entry.title), end=""), entry.run, text=entry.title, help=entry.help or None
                )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries():
            title = one_line(entry.title)
            score = matcher.match(title)
            if score <= 0:
                continue
            display = Text(title, end="")
            _, offsets = matcher.fuzzy_search.match(query, title)
            for offset in offsets:
                display.stylize("bold underline", offset, offset + 1)
            yield Hit(score, display, partial(entry.run), text=title, help=entry.help or None)
