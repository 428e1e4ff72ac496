"""The search box over the agency table."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input


class SearchBox(Input):
    """An Input that hands each new value to `on_change` as it is typed, not in a message after it.

    The table is then filtered in the same step as the keystroke, so the screen is laid out and
    drawn once per keystroke instead of twice (once for the box, once for the table).
    """

    def __init__(self, on_change: Callable[[str], None], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._on_change = on_change

    def watch_value(self, value: str) -> None:
        self._on_change(value)
