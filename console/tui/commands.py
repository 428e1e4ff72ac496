"""The console's keys and its command palette (ctrl+p and `:`): every binding, and quick filters.

Prompts are built as `rich.text.Text` because the palette parses plain strings as markup and
quick-filter titles contain data (province and district names) that must show literally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from rich.text import Text
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.i18n import tr
from console.rules import FOLLOWUP_FIXED, FOLLOWUP_NONE, FOLLOWUP_WAITING, Scope
from console.tui.state import ConsoleState
from console.tui.text import one_line
from console.tui.view import group_label

# (key, action, binding id, shown in the footer). Descriptions come from i18n ("key.<id>").
# (key, action, binding id, shown in the footer). Descriptions come from i18n ("key.<id>"; the footer's
# shorter "keyf.<id>" where one exists). Footer keys come first, most needed first: at 80 columns the
# footer is cut on the right, so what an officer phones with (/, f, w, c, e) is never the part cut.
BINDING_SPECS: tuple[tuple[str, str, str, bool], ...] = (
    ("slash", "search", "filter", True),
    ("f", "filters", "filters", True),
    ("w", "called", "called", True),
    ("c", "correct", "correct", True),
    ("e", "export", "export", True),
    ("r", "recheck", "recheck", True),
    ("n", "note", "note", True),
    ("d", "duplicate", "duplicate", True),  # in the footer only on a row flagged as a possible duplicate
    ("question_mark", "help", "help", True),
    ("s", "scan", "scan", True),
    ("q", "quit_app", "quit", True),
    ("l", "language", "language", True),
    ("ctrl+p,colon", "command_palette", "palette", False),
    ("1", "pane('agencies')", "pane_agencies", False),
    ("2", "pane('groups')", "pane_groups", False),
    ("3", "pane('detail')", "pane_detail", False),
    ("4", "pane('progress')", "pane_progress", False),
    ("space", "mark", "mark", False),
    ("escape", "back_out", "back", False),
    ("R", "recheck_scope", "recheck_scope", False),
    ("x", "stop", "stop", False),
    ("i", "import_list", "import", False),
    ("y", "copy", "copy", False),
    ("o", "sort", "sort", False),
    ("O", "sort_reverse", "sort_reverse", False),
    ("M", "clear_marks", "clear_marks", False),
    ("5", "trends", "pane_trends", False),
    ("W", "watch", "watch", False),
)
# What a supervisor's read-only console (saraban serve) must not do: these keys and palette entries
# are absent there, and the app refuses the actions if they are sent anyway (check_action).
WRITE_ACTIONS: frozenset[str] = frozenset(
    {
        "recheck", "recheck_scope", "scan", "stop", "correct", "note", "called", "export", "import_list", "watch",
        "duplicate",
    }
)
BINDING_IDS: frozenset[str] = frozenset(binding_id for _, _, binding_id, _ in BINDING_SPECS)
FOOTER_IDS: dict[str, bool] = {binding_id: show for _, _, binding_id, show in BINDING_SPECS}
WIDE_FOOTER_ONLY: frozenset[str] = frozenset({"quit", "language"})  # known keys, in help and the palette


def footer_label(binding_id: str, lang: str) -> str:
    """The footer's word for a key: short where the help's description is long."""
    short = tr(f"keyf.{binding_id}", lang)
    return short if short != f"keyf.{binding_id}" else tr(f"key.{binding_id}", lang)


def make_bindings(lang: str = "th") -> list[Binding]:
    return [
        Binding(
            key,
            action,
            footer_label(binding_id, lang),
            show=show,
            id=binding_id,
            priority=action == "command_palette",
        )
        for key, action, binding_id, show in BINDING_SPECS
    ]


def localised(binding: Binding, lang: str, short_footer: bool) -> Binding:
    """One of our bindings as the footer shows it: its word in `lang`; below FULL_FOOTER_FROM
    columns (`short_footer`) q and l leave the footer (help lists them). Textual's own pass as they are."""
    if binding.id not in BINDING_IDS:
        return binding
    shown = FOOTER_IDS.get(binding.id, False) and not (short_footer and binding.id in WIDE_FOOTER_ONLY)
    return replace(binding, description=footer_label(binding.id, lang), show=shown)


def binding_order(binding_id: str) -> int:
    """Where a binding stands in the help screen (ours in BINDING_SPECS order, Textual's after)."""
    order = {b: i for i, (_, _, b, _) in enumerate(BINDING_SPECS)}
    return order.get(binding_id, len(order))


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str  # may contain data: always shown as Text
    help: str  # constant (translated) text only
    run: Callable[[], object]
    discover: bool = True  # listed before anything is typed
    # a key's command that writes (w marks "called") ranks below a filter the same words find: typing
    # "รอแก้ไข" is asking for the list, not marking the selected agency
    weight: float = 1.0


class PaletteHost(Protocol):
    """What the palette needs of the app: the state, the language, and two ways to act."""

    state: ConsoleState
    lang: str

    def key_label(self, binding_id: str, default: str) -> str: ...
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None: ...
    def run_bound_action(self, action: str) -> None: ...
    def set_scope(self, scope: Scope) -> None: ...


def palette_entries(host: PaletteHost) -> list[PaletteEntry]:
    """Every binding as a command, then quick filters (follow-up, group, province, district)."""
    lang = host.lang
    state = host.state
    entries = [
        PaletteEntry(
            f"{tr(f'key.{binding_id}', lang)} ({host.key_label(binding_id, key)})",
            "",
            partial(host.run_bound_action, action),
            weight=0.9 if action in WRITE_ACTIONS else 1.0,
        )
        for key, action, binding_id, _ in BINDING_SPECS
        if binding_id not in ("palette", "back") and host.check_action(action, ())
    ]

    def scoped(**changes: object) -> Callable[[], None]:
        return lambda: host.set_scope(replace(state.scope, **changes))  # type: ignore[arg-type]

    entries.append(PaletteEntry(tr("key.export_letter", lang), "", partial(host.run_bound_action, "export_letter")))
    entries.append(PaletteEntry(tr("palette.clear_filter", lang), "", lambda: host.set_scope(Scope())))
    entries.append(PaletteEntry(tr("palette.followup", lang), "", scoped(followup_only=True)))
    for status in (FOLLOWUP_WAITING, FOLLOWUP_FIXED, FOLLOWUP_NONE):  # "รอแก้ไข" finds who she called
        title = tr("palette.followup_status", lang, value=tr(f"followup.status.{status}", lang))
        entries.append(PaletteEntry(title, "", scoped(followup_status=status)))
    for rule in state.ruleset.rules:
        title = tr("palette.filter_group", lang, group=rule.group, label=group_label(rule, lang))
        entries.append(PaletteEntry(title, "", scoped(group=rule.group, bucket=None)))
    agencies = [r.agency for r in state.records.values()]
    for province in sorted({a.province for a in agencies if a.province}):
        title = f"{tr('palette.filter_province', lang)}: {province}"
        entries.append(PaletteEntry(title, "", scoped(province=province, district=None), discover=False))
    for province, district in sorted({(a.province, a.district) for a in agencies if a.district}):
        title = f"{tr('palette.filter_district', lang)}: {district} ({province})"
        entries.append(PaletteEntry(title, "", scoped(province=province, district=district), discover=False))
    return entries


class ActionsProvider(Provider):
    """Commands for every binding of the app and filters by group, province and district."""

    def _entries(self) -> Iterable[PaletteEntry]:
        host: PaletteHost = self.app  # type: ignore[assignment]
        return palette_entries(host)

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
            score = matcher.match(title) * entry.weight
            if score <= 0:
                continue
            display = Text(title, end="")
            _, offsets = matcher.fuzzy_search.match(query, title)
            for offset in offsets:
                display.stylize("bold underline", offset, offset + 1)
            yield Hit(score, display, partial(entry.run), text=title, help=entry.help or None)
