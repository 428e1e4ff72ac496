"""Modal screens: help, confirmation, prompts, the correction dialog and the filter dialog.

Screens return the operator's answer with `dismiss()`; the app does the work (and the I/O).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from console.findings_text import problems_text
from console.i18n import tr
from console.rules import FOLLOWUP_STATUSES, Scope, parse_since
from console.tui.text import cell, clean, one_line


class HelpScreen(ModalScreen[None]):
    """Every key, generated from the real (possibly remapped) bindings, with its id for config."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_help", show=False),
        Binding("question_mark", "dismiss_help", show=False),
        Binding("q", "dismiss_help", show=False),
    ]

    def __init__(
        self, rows: Sequence[tuple[str, str, str]], lang: str, legend: Sequence[tuple[str, str]] = ()
    ) -> None:
        """`legend`: (group code, what it means) for every group, listed after the keys."""
        super().__init__()
        self.rows = list(rows)
        self.lang = lang
        self.legend = list(legend)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Static(Text(tr("help.title", self.lang), style="bold", end=""), classes="dialog-title")
            yield Static(Text(tr("help.grammar", self.lang), end=""), classes="dialog-hint")
            table: DataTable[Text] = DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield table
            yield Static(Text(tr("help.close", self.lang), style="dim", end=""), classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one("#help-table", DataTable)
        table.add_column(Text(tr("help.key", self.lang), style="bold"), key="key")
        table.add_column(Text(tr("help.action", self.lang), style="bold"), key="action")
        table.add_column(Text(tr("help.id", self.lang), style="bold"), key="id")
        for key, description, binding_id in self.rows:
            table.add_row(cell(key, "bold"), cell(description), cell(binding_id, "dim"))
        if self.legend:
            table.add_row(cell(""), cell(tr("help.legend", self.lang), "bold underline"), cell(""))
            for code, meaning in self.legend:
                table.add_row(cell(code, "bold"), cell(meaning), cell(""))
        table.focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no before a bulk action: Enter/y confirms, Esc/n cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", show=False),
        Binding("n", "answer(False)", show=False),
        Binding("y", "answer(True)", show=False),
        Binding("enter", "answer(True)", show=False, priority=True),
    ]

    def __init__(self, question: str, lang: str) -> None:
        super().__init__()
        self.question = question
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(
                Text(self.question, style="bold", end=""), id="confirm-question", classes="dialog-title"
            )
            yield Static(
                Text(f"{tr('dlg.yes', self.lang)}    {tr('dlg.no', self.lang)}", style="dim", end=""),
                classes="dialog-hint",
            )

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PromptScreen(ModalScreen[str | None]):
    """One line of input (a note, a path) with a default; Enter returns it, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", show=False)]

    def __init__(
        self, title: str, hint: str, value: str = "", placeholder: str = "", prompt_id: str = "prompt"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.value = value
        self.placeholder = placeholder
        self.prompt_id = prompt_id

    def compose(self) -> ComposeResult:
        with Vertical(id=f"{self.prompt_id}-box", classes="dialog"):
            yield Static(Text(self.title_text, style="bold", end=""), classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id=f"{self.prompt_id}-input")
            yield Static(Text(self.hint, style="dim", end=""), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    address: str
    reason: str


AddressReader = Callable[[str], Any]


class CorrectionScreen(ModalScreen[CorrectionRequest | None]):
    """Type the agency's corrected address; it is validated as you type, Enter saves and rechecks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", show=False),
        Binding("ctrl+s", "use_suggestion", show=False),
    ]

    def __init__(
        self, name: str, current: str, lang: str, reader: AddressReader | None, initial: str = ""
    ) -> None:
        super().__init__()
        self.agency_name = name
        self.current = current
        self.lang = lang
        self.reader = reader
        self.initial = initial or current
        self.suggestion: str | None = None
        self.valid = False
        self._force = False

    def compose(self) -> ComposeResult:
        with Vertical(id="correct-box", classes="dialog"):
            yield Static(
                Text(
                    tr("dlg.correct_title", self.lang, name=one_line(self.agency_name)), style="bold", end=""
                ),
                classes="dialog-title",
            )
            yield Static(Text(tr("dlg.correct_current", self.lang, address=one_line(self.current)), end=""))
            yield Input(
                value=self.initial, placeholder=tr("dlg.correct_address", self.lang), id="correct-address"
            )
            yield Static(id="correct-validation", markup=False)
            yield Input(placeholder=tr("dlg.correct_reason", self.lang), id="correct-reason")
            yield Static(Text(tr("dlg.correct_hint", self.lang), style="dim", end=""), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#correct-address", Input).focus()
        self.validate_address(self.initial)

    def validate_address(self, value: str) -> None:
        """Show read_address's verdict on what is typed: problem and suggestion, literally."""
        value = value.strip()
        self._force = False
        self.suggestion = None
        out = Text(end="")
        if not value:
            self.valid = False
            out.append(tr("dlg.correct_empty", self.lang), style="dim")
        elif self.reader is None:
            self.valid = "@" in value
            out.append(tr("dlg.correct_ok", self.lang, address=one_line(value)), style="green")
        else:
            try:
                reading = self.reader(value)
            except Exception as exc:  # a validator crash must not lose the operator's typing
                reading = None
                out.append(one_line(exc), style="red")
            if reading is not None:
                self.valid = bool(getattr(reading, "ok", False))
                address = getattr(reading, "address", None) or value
                if self.valid:
                    out.append(tr("dlg.correct_ok", self.lang, address=one_line(address)), style="green")
                else:
                    # the problems in the operator's language, naming the offending characters; the
                    # suggestion has its own line below. Unknown codes fall back to the reader's message.
                    problems = tuple(getattr(reading, "problems", None) or ())
                    fallback = getattr(reading, "message", "") or ", ".join(one_line(p) for p in problems)
                    message = problems_text(
                        problems, getattr(reading, "notes", None), None, self.lang, fallback=str(fallback)
                    )
                    out.append(tr("dlg.correct_problem", self.lang, problem=one_line(message)), style="red")
                suggestion = getattr(reading, "suggestion", None)
                if suggestion and clean(suggestion) != value:
                    self.suggestion = clean(suggestion)
                    out.append("\n")
                    out.append(
                        tr("dlg.correct_suggestion", self.lang, suggestion=one_line(suggestion)),
                        style="yellow",
                    )
        self.query_one("#correct-validation", Static).update(out)

    @on(Input.Changed, "#correct-address")
    def address_changed(self, event: Input.Changed) -> None:
        self.validate_address(event.value)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        address = self.query_one("#correct-address", Input).value.strip()
        reason = self.query_one("#correct-reason", Input).value.strip()
        if not address:
            return
        if address == self.current.strip():  # a correction that changes nothing would only clutter the record
            self.query_one("#correct-validation", Static).update(
                Text(tr("dlg.correct_same", self.lang), style="bold yellow", end="")
            )
            return
        if not self.valid and not self._force:
            self._force = True
            self.query_one("#correct-validation", Static).update(
                Text(tr("dlg.correct_invalid", self.lang) + " (Enter ×2)", style="bold red", end="")
            )
            return
        self.dismiss(CorrectionRequest(address, reason))

    def action_use_suggestion(self) -> None:
        if self.suggestion:
            field = self.query_one("#correct-address", Input)
            field.value = self.suggestion
            field.cursor_position = len(self.suggestion)

    def action_cancel(self) -> None:
        self.dismiss(None)


_ANY = "__any__"


class TickBox(Checkbox):
    """A checkbox whose glyph says on (✓) or off (blank), not only its colour (a monochrome SSH
    terminal drew the same X both ways)."""

    def __init__(self, label: str, value: bool, **kwargs: Any) -> None:
        super().__init__(label, value, **kwargs)
        self.BUTTON_INNER = "✓" if value else " "

    @on(Checkbox.Changed)
    def _glyph(self, event: Checkbox.Changed) -> None:
        self.BUTTON_INNER = "✓" if event.value else " "
        self.refresh()


class FilterScreen(ModalScreen[Scope | None]):
    """Province, district, kind, group, follow-up and changed-since in one dialog.

    Enter applies from any field, as the button says; only an open dropdown takes Enter to choose
    its option. Fields are one line each (compact) so the whole dialog fits 80x24.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", show=False),
        Binding("ctrl+s", "apply", show=False),
        Binding("enter", "apply_on_enter", show=False, priority=True),
        Binding("down", "focus_next", show=False),
        Binding("up", "focus_previous", show=False),
    ]

    def __init__(
        self,
        scope: Scope,
        groups: Sequence[tuple[str, str]],
        provinces: Sequence[str],
        districts: dict[str, Sequence[str]],
        kinds: Sequence[str],
        lang: str,
    ) -> None:
        """`districts`: province → its districts, so the district list follows the province chosen."""
        super().__init__()
        self.scope = scope
        self.groups = groups
        self.provinces = provinces
        self.districts_of = districts
        self.kinds = kinds
        self.lang = lang

    def _options(self, values: Sequence[tuple[str, str]], label: str) -> list[tuple[Text, str]]:
        """"<label>: any" first, then each (value, shown) as literal text."""
        options: list[tuple[Text, str]] = [(Text(f"{label}: {tr('dlg.any', self.lang)}", end=""), _ANY)]
        options += [(Text(f"{label}: {one_line(shown)}", end=""), value) for value, shown in values]
        return options

    def _select(
        self, values: Sequence[tuple[str, str]], current: str | None, select_id: str, label: str
    ) -> Select[str]:
        options = self._options(values, label)
        known = {v for _, v in options}
        return Select(
            options, value=current if current in known else _ANY, allow_blank=False, id=select_id, compact=True
        )

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="filters-box", classes="dialog"):
            yield Static(Text(tr("dlg.filters_title", lang), style="bold", end=""), classes="dialog-title")
            with VerticalScroll():
                # the phone list first: at 80x24 it must not be below the fold
                yield TickBox(tr("dlg.followup_only", lang), self.scope.followup_only, id="filter-followup", compact=True)
                yield self._select(
                    [(s, tr(f"followup.status.{s}", lang)) for s in FOLLOWUP_STATUSES],
                    self.scope.followup_status,
                    "filter-followup-status",
                    tr("dlg.followup_status", lang),
                )
                yield self._select(
                    [(g, f"{g} {label}") for g, label in self.groups],
                    self.scope.group,
                    "filter-group",
                    tr("col.group", lang),
                )
                yield self._select(
                    [(p, p) for p in self.provinces],
                    self.scope.province,
                    "filter-province",
                    tr("col.province", lang),
                )
                yield self._select(
                    [(d, d) for d in self._districts(self.scope.province)],
                    self.scope.district,
                    "filter-district",
                    tr("col.district", lang),
                )
                yield self._select(
                    [(k, k) for k in self.kinds], self.scope.kind, "filter-kind", tr("detail.kind", lang)
                )
                yield Input(
                    value=self.scope.changed_since or "",
                    placeholder=tr("dlg.changed_since", lang),
                    id="filter-changed",
                    compact=True,
                )
            yield Static(id="filter-error", markup=False)  # outside the scroll: always in view
            with Horizontal(classes="dialog-buttons"):
                yield Button(tr("dlg.yes", lang), id="filter-apply", variant="primary")
                yield Button(tr("dlg.no", lang), id="filter-cancel")
            yield Static(Text(tr("dlg.filters_hint", lang), style="dim", end=""), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#filter-group", Select).focus()

    def _districts(self, province: str | None) -> list[str]:
        if province:
            return sorted(self.districts_of.get(province, ()))
        return sorted({d for ds in self.districts_of.values() for d in ds})

    @on(Select.Changed, "#filter-province")
    def province_changed(self, event: Select.Changed) -> None:
        """Only the chosen province's districts; a district of another province is dropped."""
        province = None if event.value in (_ANY, Select.BLANK) else str(event.value)
        district = self.query_one("#filter-district", Select)
        keep = district.value
        names = self._districts(province)
        district.set_options(self._options([(d, d) for d in names], tr("col.district", self.lang)))
        district.value = keep if keep in names else _ANY

    def _value(self, select_id: str) -> str | None:
        value = self.query_one(f"#{select_id}", Select).value
        return None if value == _ANY or value is Select.BLANK else str(value)

    def result(self) -> Scope:
        """The chosen scope; ValueError when the changed-since date cannot be read."""
        changed = parse_since(self.query_one("#filter-changed", Input).value)
        group = self._value("filter-group")
        return replace(
            self.scope,
            group=group,
            bucket=None if group else self.scope.bucket,  # a bucket chosen in the groups pane stays
            province=self._value("filter-province"),
            district=self._value("filter-district"),
            kind=self._value("filter-kind"),
            followup_only=self.query_one("#filter-followup", Checkbox).value,
            followup_status=self._value("filter-followup-status"),
            changed_since=changed,
        )

    @on(Button.Pressed, "#filter-apply")
    @on(Input.Submitted, "#filter-changed")
    def action_apply(self) -> None:
        try:
            scope = self.result()
        except ValueError:
            typed = one_line(self.query_one("#filter-changed", Input).value)
            error = self.query_one("#filter-error", Static)
            error.update(Text(tr("dlg.changed_since_bad", self.lang, value=typed), style="bold red", end=""))
            error.display = True
            self.query_one("#filter-changed", Input).focus()
            return
        self.dismiss(scope)

    def action_apply_on_enter(self) -> None:
        """Enter applies, except in an open dropdown (it picks the option) or on a button (it presses it)."""
        if isinstance(self.focused, Button) or any(select.expanded for select in self.query(Select)):
            raise SkipAction()
        self.action_apply()

    def action_focus_next(self) -> None:
        if any(select.expanded for select in self.query(Select)):
            raise SkipAction()
        self.focus_next()

    def action_focus_previous(self) -> None:
        if any(select.expanded for select in self.query(Select)):
            raise SkipAction()
        self.focus_previous()

    @on(Button.Pressed, "#filter-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

