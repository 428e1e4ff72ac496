"""The footer: Textual's own, redrawn only when the keys it shows change.

Textual rebuilds its footer (a widget per key) on every focus change and binding refresh, five
times while the console starts alone, and each rebuild costs about as much as drawing the table.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Footer that skips a rebuild when the keys, words and states it would show are the same."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._drawn: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        """Textual's keys, already in the compact style: each key would otherwise restyle itself
        once mounted (a dozen style passes at start, as much as laying out the whole screen)."""
        for widget in super().compose():
            if self.compact and "footer-key--key" in widget.COMPONENT_CLASSES:  # a key, not a label or group
                widget.add_class("-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        palette = screen.app.COMMAND_PALETTE_BINDING  # drawn on the right even when not "shown"
        shown = tuple(
            (key, found.binding.action, found.binding.key_display, found.binding.description, found.enabled, found.tooltip)
            for key, found in screen.active_bindings.items()
            if found.binding.show or key == palette
        )
        if shown == self._drawn:
            return
        super().bindings_changed(screen)
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._drawn = shown  # a rebuild is on its way
