"""What the console shows, computed from store records: filters, table rows, group counts, detail.

Pure functions over plain data (no Textual, no I/O) so they are cheap to test and the widgets stay
thin. Every untrusted string goes through `text.clean()` / `text.cell()` before it reaches a widget.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

from rich.text import Text

from checks.config import Rule
from checks.model import DnsResult, Evidence, HostAttempt, ProbeResult, Verdict
from console.findings_text import finding_extras, finding_text, fix_reason_text, rule_advice
from console.i18n import tr
from console.opdc import opdc_line
from console.rules import (
    BUCKETS,
    FIXED_VERIFIED,
    FOLLOWUP_FIXED,
    FOLLOWUP_NONE,
    FOLLOWUP_WAITING,
    UNCHECKED,
    WAITING_STATES,
    Record,
    Ruleset,
    Scope,
    current_address,
    followup_status,
    group_of,
    is_stale,
    short_name,
)
from console.thai import be_date, thai_sort_key
from console.tui.text import be_long, be_short, cell, clean, field, one_line, wrap_label

R = TypeVar("R", bound=Record)

# Column ids in display order; which ones show depends on the terminal width.
SORTABLE: tuple[str, ...] = ("seq", "name", "district", "province", "address", "group", "checked")

GROUP_STYLES: dict[str, str] = {"A": "bold green", "BE": "bold red", "W": "bold blue"}
MARK = "●"


def describe_scope(scope: Scope, lang: str) -> str:
    """The scope in words, for the top bar (and what an export says it holds)."""
    parts: list[str] = []
    if scope.search:
        parts.append(tr("filter.search", lang, text=one_line(scope.search)))
    if scope.group:
        parts.append(tr("filter.group", lang, group=scope.group))
    if scope.bucket:
        parts.append(tr("filter.bucket", lang, bucket="B–E" if scope.bucket == "BE" else scope.bucket))
    for name in ("province", "district", "kind"):
        value = getattr(scope, name)
        if value:
            parts.append(tr(f"filter.{name}", lang, value=one_line(value)))
    if scope.followup_only:
        parts.append(tr("filter.followup", lang))
    if scope.followup_status:
        parts.append(tr("filter.followup_status", lang, value=tr(f"followup.status.{scope.followup_status}", lang)))
    if scope.changed_since:
        shown = be_date(scope.changed_since) if lang == "th" else scope.changed_since
        parts.append(tr("filter.changed", lang, value=shown))
    return ", ".join(parts) if parts else tr("status.no_filter", lang)


def group_label(rule: Rule | None, lang: str) -> str:
    if rule is None:
        return ""
    return rule.label_en if lang == "en" and rule.label_en else rule.label_th


def problem_fix(rule: Rule | None, lang: str, codes: Iterable[str] = ()) -> tuple[str, str]:
    return rule_advice(rule, lang, codes)


def seq_number(rec: Record) -> tuple[int, str]:
    return _seq_key(rec.agency.seq or "")


@lru_cache(maxsize=65536)
def _seq_key(seq: str) -> tuple[int, str]:
    """ลำดับที่ as a number for sorting ("12" before "100"); cached: every keystroke sorts the table."""
    if seq.isascii() and seq.isdigit():  # the usual ลำดับที่ (the first screen sorts every agency by it)
        return (int(seq), seq)
    digits = "".join(ch for ch in seq if "0" <= ch <= "9")
    return (int(digits) if digits else 1 << 60, seq)


def sort_records(records: Sequence[R], column: str, reverse: bool, ruleset: Ruleset) -> list[R]:
    """The records in the order of one table column (ties by ลำดับที่); `reverse` for descending."""
    order = {r.group: i for i, r in enumerate(ruleset.rules)}

    def by_group(rec: R) -> tuple[Any, ...]:
        group = group_of(rec)
        return (order.get(group, len(order) + 1) if group else len(order) + 2, seq_number(rec))

    def by_checked(rec: R) -> tuple[Any, ...]:
        verdict = rec.verdict
        return (verdict.checked_at if verdict else "", seq_number(rec))

    keys: dict[str, Callable[[R], tuple[Any, ...]]] = {
        "name": lambda rec: (thai_sort_key(rec.agency.name), seq_number(rec)),
        "district": lambda rec: (thai_sort_key(rec.agency.district), thai_sort_key(rec.agency.name)),
        "province": lambda rec: (
            thai_sort_key(rec.agency.province), thai_sort_key(rec.agency.district), thai_sort_key(rec.agency.name)
        ),
        "address": lambda rec: (current_address(rec).casefold(), seq_number(rec)),
        "group": by_group,
        "checked": by_checked,
    }
    # the key is chosen once per sort, not per record (the first screen sorts every agency by ลำดับที่)
    key = keys.get(column) or (lambda rec: (_seq_key(rec.agency.seq or ""), rec.agency.name))
    return sorted(records, key=key, reverse=reverse)


# ---------------------------------------------------------------------------------------------
# Table rows
# ---------------------------------------------------------------------------------------------


def flag_labels(rec: Record, lang: str) -> list[str]:
    """The operators' own marks first (a narrow column shows only the first), then the verdict's flags."""
    labels: list[str] = []
    if is_stale(rec):
        labels.append(tr("flag.stale", lang))
    status = followup_status(rec)
    if status == FOLLOWUP_FIXED:
        labels.append(tr("flag.fixed", lang))
    elif status == FOLLOWUP_WAITING:
        labels.append(tr("flag.called", lang))
    if rec.notes:
        labels.append(tr("flag.note", lang))
    verdict = rec.verdict
    if verdict is not None:
        labels.extend(tr(f"flag.{flag}", lang) for flag in verdict.flags)
    return labels


def followup_label(state: str | None, lang: str) -> str:
    if not state:
        return tr("detail.followup_none", lang)
    if state == FIXED_VERIFIED:
        return tr("followup.fixed_verified", lang)
    return tr("followup.called", lang) if state in WAITING_STATES else one_line(state)


def followup_cell(rec: Record, lang: str) -> Text:
    """The follow-up column: blank until someone called, then waiting (yellow) or fixed (green)."""
    status = followup_status(rec)
    if status == FOLLOWUP_NONE:
        return Text("", end="")
    return cell(tr(f"followup.cell.{status}", lang), style="green" if status == FOLLOWUP_FIXED else "yellow")


def group_text(group: str | None, ruleset: Ruleset) -> Text:
    if group is None:
        return Text(UNCHECKED, style="dim", end="")
    return Text(group, style=GROUP_STYLES.get(ruleset.bucket(group), ""), end="")


def row_cells(
    rec: Record, columns: Sequence[str], lang: str, marked: bool, ruleset: Ruleset
) -> list[Text]:
    """One table row: every cell a literal Text (a str cell would be parsed as markup)."""
    agency = rec.agency
    verdict = rec.verdict
    values: dict[str, Text] = {
        "mark": Text(MARK if marked else " ", style="bold yellow", end=""),
        "seq": cell(agency.seq or ""),
        "name": cell(short_name(agency.name)),
        "district": cell(agency.district),
        "province": cell(agency.province),
        "address": cell(current_address(rec)),
        "group": group_text(group_of(rec), ruleset),
        "followup": followup_cell(rec, lang),
        "flags": cell(", ".join(flag_labels(rec, lang)), style="yellow"),
        "checked": cell(be_short(verdict.checked_at, lang) if verdict else "", style="dim"),
    }
    return [values[c] for c in columns]


# ---------------------------------------------------------------------------------------------
# Group counts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupLine:
    key: str  # "group:B3", "bucket:A", "unchecked", "all"
    code: str
    label: str
    count: int
    percent: float
    delta: int | None
    bucket: str


def snapshot_counts(snapshot: dict[str, Any] | None, scope: Scope) -> Counter[str] | None:
    """Group counts of a stored snapshot, restricted to the scope's province when one is chosen.

    Snapshots are kept per province: a scope narrower than that (search, district, kind, …) has no
    previous figure to compare with, so None (no change shown) rather than a misleading difference.
    """
    if not snapshot:
        return None
    if scope.search or scope.district or scope.kind or scope.followup_only or scope.changed_since:
        return None
    if scope.followup_status:
        return None
    counts: Counter[str] = Counter()
    per_province = snapshot.get("counts") or {}
    for province, groups in per_province.items():
        if scope.province and province != scope.province:
            continue
        for group, n in (groups or {}).items():
            counts[str(group)] += int(n)
    return counts


def group_lines(
    counts: Counter[str],
    previous: Counter[str] | None,
    ruleset: Ruleset,
    lang: str,
    show_empty: bool = False,
) -> list[GroupLine]:
    """The groups pane's lines: all, each bucket, each group with agencies (or a previous count), unchecked."""
    total = sum(counts.values())
    rules = ruleset.rules

    def pct(n: int) -> float:
        return 100.0 * n / total if total else 0.0

    def delta(n: int, prev: int | None) -> int | None:
        return None if previous is None or prev is None else n - prev

    lines: list[GroupLine] = [
        GroupLine("all", "", tr("groups.all", lang), total, 100.0 if total else 0.0, None, "")
    ]
    for bucket in BUCKETS:
        n = _bucket_count(counts, bucket, ruleset)
        prev = _bucket_count(previous, bucket, ruleset) if previous is not None else None
        lines.append(
            GroupLine(
                f"bucket:{bucket}",
                bucket,
                tr(f"groups.bucket.{bucket}", lang),
                n,
                pct(n),
                delta(n, prev),
                bucket,
            )
        )
    for rule in rules:
        n = counts.get(rule.group, 0)
        prev = previous.get(rule.group, 0) if previous is not None else None
        if not n and not prev and not show_empty:
            continue  # an empty group says nothing and costs a line at 80x24
        bucket = ruleset.bucket(rule.group)
        if sum(1 for b in ruleset.buckets.values() if b == bucket) == 1:
            continue  # the bucket line already says it (W)
        lines.append(
            GroupLine(
                f"group:{rule.group}",
                rule.group,
                group_label(rule, lang),
                n,
                pct(n),
                delta(n, prev),
                bucket,
            )
        )
    unchecked = counts.get(UNCHECKED, 0)
    if unchecked:
        lines.append(
            GroupLine(
                "unchecked", UNCHECKED, tr("groups.unchecked", lang), unchecked, pct(unchecked), None, ""
            )
        )
    return lines


def _bucket_count(counts: Counter[str], bucket: str, ruleset: Ruleset) -> int:
    return sum(n for group, n in counts.items() if group != UNCHECKED and ruleset.bucket(group) == bucket)


def bar(percent: float, width: int) -> str:
    """A bar of eighth blocks: readable without colour (NO_COLOR) and over SSH."""
    eighths = round(max(0.0, min(100.0, percent)) / 100.0 * width * 8)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest] if rest else ""
    return ("█" * full + partial).ljust(width)[:width]


def group_columns(lines: Sequence[GroupLine]) -> tuple[int, int]:
    """Cells for the count and for the change since the previous scan: as many as the widest value
    needs (no change anywhere: no column), so a narrow pane keeps its room for the group's name."""
    count = max((len(str(line.count)) for line in lines), default=1)
    delta = max((len(f"{line.delta:+d}") + 1 for line in lines if line.delta), default=0)
    return count, delta


def group_line_text(line: GroupLine, bar_width: int = 8, width: int = 0, columns: tuple[int, int] = (5, 5)) -> Text:
    """One line of the groups pane: code, count, share, bar, change since the previous scan, label.
    Given the pane's `width`, a label too long for it goes on under itself, broken between words
    (console.tui.text.wrap_label); `columns` are the count's and the change's cells (group_columns)."""
    count_width, delta_width = columns
    style = GROUP_STYLES.get(line.bucket, "bold")
    is_bucket = not line.key.startswith("group:")
    code = {"all": "∑", "bucket:BE": "B–E"}.get(line.key, line.code)
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append(f"{code:<3} ", style=style if line.key != "all" else "bold")
    text.append(f"{line.count:>{count_width}} {line.percent:5.1f}% ", style="bold" if is_bucket else "")
    if bar_width:
        text.append(bar(line.percent, bar_width) + " ", style=style or "bold")
    if line.delta:
        good = (line.delta > 0) == (line.bucket == "A")
        text.append(f"{line.delta:+d}".rjust(delta_width - 1) + " ", style="green" if good else "red")
    elif delta_width:
        text.append(" " * delta_width, style="dim")
    label = line.label
    if is_bucket and line.key.startswith("bucket:"):
        label = label.split("  ", 1)[-1]
    indent = text.cell_len
    for i, part in enumerate(wrap_label(label, width - indent if width else 0)):
        text.append(f"\n{' ' * indent}{part}" if i else part, style="bold" if is_bucket else "")
    return text


# ---------------------------------------------------------------------------------------------
# Detail pane
# ---------------------------------------------------------------------------------------------


def _heading(text: Text, label: str) -> None:
    text.append("\n")
    text.append(label, style="bold underline")
    text.append("\n")


def _kv(text: Text, label: str, value: object, style: str = "") -> None:
    text.append(f"{label}: ", style="bold")
    text.append(one_line(value), style=style)
    text.append("\n")


def _dns_lines(out: Text, dns: DnsResult, lang: str, indent: str) -> None:
    out.append(f"{indent}{tr('detail.dns', lang)} {one_line(dns.domain)}: ", style="bold")
    out.append(one_line(dns.status))
    if dns.implicit_mx:
        out.append(" (implicit MX)")
    if dns.error:
        out.append(f" — {one_line(dns.error)}", style="red")
    out.append(f"  {dns.elapsed_ms:.0f} ms\n", style="dim")
    for host in dns.hosts:
        addrs = ", ".join(one_line(a) for a in host.addresses) or "—"
        out.append(f"{indent}  MX {host.preference} {one_line(host.name)}  [{addrs}]\n")


def _transcript_lines(out: Text, attempt: HostAttempt, lang: str, indent: str) -> None:
    for exchange in attempt.transcript:
        out.append(f"{indent}    > {one_line(exchange.command)}\n", style="cyan")
        if exchange.reply is None:
            out.append(f"{indent}    < {tr('detail.no_reply', lang)}\n", style="dim")
            continue
        lines = str(exchange.reply.text).splitlines() or [""]
        for i, line in enumerate(lines):
            prefix = f"{exchange.reply.code}{'-' if i < len(lines) - 1 else ' '}"
            if i == 0 and exchange.reply.enhanced:
                prefix += f"{one_line(exchange.reply.enhanced)} "
            out.append(f"{indent}    < {prefix}{one_line(line)}\n")


def _attempt_lines(out: Text, attempt: HostAttempt, lang: str, indent: str) -> None:
    out.append(f"{indent}{tr('detail.host', lang)} ", style="bold")
    out.append(f"{one_line(attempt.host)} {one_line(attempt.ip or '—')}:{attempt.port}")
    out.append(f"  → {one_line(attempt.outcome)}")
    if attempt.starttls is True:
        out.append("  STARTTLS")
    elif attempt.starttls is False:
        out.append("  no STARTTLS", style="yellow")
    if attempt.tls_error:
        out.append(f"  TLS: {one_line(attempt.tls_error)}", style="yellow")
    out.append(f"  {attempt.elapsed_ms:.0f} ms\n", style="dim")
    _transcript_lines(out, attempt, lang, indent)


def probe_lines(probe: ProbeResult, lang: str, indent: str = "  ") -> Text:
    """The evidence of one probe: DNS answers, hosts tried with IPs, SMTP transcript."""
    out = Text(end="")
    out.append(f"{indent}{one_line(probe.address)}", style="bold")
    out.append(f"  → {one_line(probe.outcome)}")
    if probe.tries > 1:
        out.append(f"  ({tr('detail.tries', lang)} {probe.tries})", style="dim")
    out.append(f"  {probe.elapsed_ms:.0f} ms\n", style="dim")
    if probe.dns is not None:
        _dns_lines(out, probe.dns, lang, indent)
    for attempt in probe.attempts:
        _attempt_lines(out, attempt, lang, indent)
    if probe.rcpt is not None:
        out.append(f"{indent}RCPT: ", style="bold")
        out.append(one_line(probe.rcpt.one_line()) + "\n")
    if probe.catch_all:
        out.append(f"{indent}{tr('detail.catch_all', lang)}", style="yellow")
        if probe.catch_all_reply is not None:
            out.append(f": {one_line(probe.catch_all_reply.one_line())}")
        out.append("\n")
    return out


def _verdict_section(text: Text, verdict: Verdict, ruleset: Ruleset, lang: str) -> None:
    rule = ruleset.rule(verdict.group)
    text.append(f"{tr('detail.group', lang)}: ", style="bold")
    text.append_text(group_text(verdict.group, ruleset))
    text.append(f"  {clean(group_label(rule, lang))}\n", style="bold")
    problem, fix = problem_fix(rule, lang, (f.code for f in verdict.findings))
    if problem:
        _kv(text, tr("detail.problem", lang), problem)
    if fix:
        _kv(text, tr("detail.fix", lang), fix)
    evidence: Evidence = verdict.evidence
    if evidence.normalized and evidence.normalized != evidence.declared:
        _kv(text, tr("detail.normalized", lang), evidence.normalized)
    fix_info = verdict.suggested_fix
    if fix_info is not None:
        if fix_info.works is True:
            state, style = tr("detail.fix_works", lang), "green"
        elif fix_info.works is False:
            state, style = tr("detail.fix_fails", lang), "red"
        else:
            state, style = tr("detail.fix_unprobed", lang), "yellow"
        text.append(f"{tr('detail.suggested', lang)}: ", style="bold")
        text.append(one_line(fix_info.address), style="bold")
        text.append(f"  ({state})", style=style)
        if fix_info.reason:
            text.append(f"  {one_line(fix_reason_text(fix_info.reason, lang))}", style="dim")
        text.append("\n")
    if verdict.flags:
        _kv(
            text,
            tr("detail.flags", lang),
            ", ".join(tr(f'flag.{f}', lang) for f in verdict.flags),
            "yellow",
        )
    _kv(text, tr("detail.checked_at", lang), be_long(verdict.checked_at, lang))
    if verdict.findings:
        _heading(text, tr("detail.findings", lang))
        for finding in verdict.findings:
            # the sentence in the operator's language; the finding's code is for supervisors (`y` copies it)
            text.append("  • ")
            text.append(one_line(finding_text(finding, lang, declared=evidence.declared)))
            text.append("\n")
            for key, value in finding_extras(finding):
                text.append(f"      {one_line(key)} = {one_line(value)}\n", style="dim")
    if evidence.probe is not None:
        _heading(text, tr("detail.evidence", lang))
        text.append_text(probe_lines(evidence.probe, lang))
    if evidence.fix_probe is not None:
        _heading(text, tr("detail.fix_evidence", lang))
        text.append_text(probe_lines(evidence.fix_probe, lang))


def _agency_section(text: Text, rec: Record, lang: str) -> None:
    """Name, area, phone, what the list says, the address to check, the follow-up state."""
    agency = rec.agency
    text.append(one_line(agency.name), style="bold reverse")
    text.append("\n")
    facts = [
        (tr("detail.seq", lang), agency.seq or ""),
        (tr("detail.district", lang), agency.district),
        (tr("detail.province", lang), agency.province),
        (tr("detail.kind", lang), agency.kind),
    ]
    text.append("  ".join(f"{k} {one_line(v)}" for k, v in facts if v))
    text.append("\n")
    _kv(text, tr("detail.phone", lang), agency.phone or "—")
    if agency.code:
        _kv(text, tr("detail.code", lang), agency.code)
    notes = [
        (agency.upgraded, "detail.upgraded", "blue"),
        (not agency.announced, "detail.announced_no", "red"),
        (agency.parent_announcement, "detail.parent", ""),
    ]
    for shown, key, style in notes:
        if shown:
            text.append(tr(key, lang) + "\n", style=style)
    _kv(text, tr("detail.declared", lang), agency.declared or "—")
    current = current_address(rec)
    if current != agency.declared:
        _kv(text, tr("detail.current", lang), current, "bold")
    _kv(text, tr("detail.followup", lang), followup_label(rec.followup, lang))
    for other_id, other_seq in getattr(rec, "duplicate_of", None) or ():  # the store's flag (issue 13)
        text.append(tr("detail.duplicate", lang, row=other_seq or other_id) + "\n", style="yellow")
    if opdc := opdc_line(agency, group_of(rec), lang):  # OPDC's own round beside ours (console.opdc)
        text.append(one_line(opdc) + "\n")


def _corrections_section(text: Text, rec: Record, lang: str) -> None:
    _heading(text, tr("detail.corrections", lang))
    for corr in rec.corrections:
        text.append(f"  {be_long(field(corr, 'at', ''), lang)} {one_line(field(corr, 'operator', ''))}: ", style="dim")
        text.append(f"{one_line(field(corr, 'old_address', ''))} → {one_line(field(corr, 'new_address', ''))}")
        reason = field(corr, "reason", "")
        if reason:
            text.append(f"  ({one_line(reason)})")
        group = field(corr, "recheck_group")
        if group:
            text.append(f"  → {one_line(group)}", style="bold")
        text.append("\n")


def _notes_section(text: Text, rec: Record, lang: str) -> None:
    _heading(text, tr("detail.notes", lang))
    for note in rec.notes:
        text.append(f"  {be_long(field(note, 'at', ''), lang)} {one_line(field(note, 'operator', ''))}: ", style="dim")
        text.append(one_line(field(note, "text", "")) + "\n")


def _history_section(text: Text, history: Sequence[object], ruleset: Ruleset, lang: str) -> None:
    _heading(text, tr("detail.history", lang))
    for entry in history[:20]:  # newest first
        at = field(entry, "checked_at") or field(entry, "at") or ""
        group = field(entry, "group") or ""
        address = field(entry, "address") or field(entry, "declared") or ""
        text.append(f"  {be_long(str(at), lang)}  ", style="dim")
        text.append_text(group_text(str(group) if group else None, ruleset))
        if address:
            text.append(f"  {one_line(address)}")
        text.append("\n")


def _source_changes_section(text: Text, changes: Sequence[object], lang: str) -> None:
    _heading(text, tr("detail.source_changes", lang))
    for change in changes[-10:]:
        if isinstance(change, dict):
            parts = [f"{k}={one_line(v)}" for k, v in change.items() if k != "at"]
            text.append(f"  {be_long(str(change.get('at', '')), lang)} " + "; ".join(parts) + "\n")
        else:
            text.append(f"  {one_line(change)}\n")


def detail_text(rec: Record | None, ruleset: Ruleset, lang: str) -> Text:
    """Everything known about one agency, as literal text (untrusted parts never become markup)."""
    if rec is None:
        return Text(tr("detail.empty", lang), style="dim", end="")
    text = Text(end="")
    _agency_section(text, rec, lang)
    if rec.notes:  # what the operator was told on the phone: near the top, not below the SMTP transcript
        _notes_section(text, rec, lang)
    verdict = rec.verdict
    if verdict is None:
        text.append(f"{tr('detail.group', lang)}: {tr('detail.not_checked', lang)}\n", style="dim")
    else:
        if is_stale(rec):  # the list now declares another address: this verdict is history
            stale = tr("detail.stale", lang, address=one_line(verdict.evidence.declared))
            text.append(stale + "\n", style="bold yellow")
        _verdict_section(text, verdict, ruleset, lang)
    if rec.corrections:
        _corrections_section(text, rec, lang)
    history = list(rec.history or ())
    if history:
        _history_section(text, history, ruleset, lang)
    changes = list(rec.source_changes or ())
    if changes:
        _source_changes_section(text, changes, lang)
    return text


def summary_text(rec: Record, ruleset: Ruleset, lang: str) -> str:
    """A plain-text summary to paste into a chat or a ticket (`y`)."""
    agency = rec.agency
    verdict = rec.verdict
    lines = [
        one_line(agency.name),
        f"{tr('detail.district', lang)} {one_line(agency.district)} {tr('detail.province', lang)} {one_line(agency.province)}",
        f"{tr('detail.declared', lang)}: {one_line(agency.declared)}",
    ]
    current = current_address(rec)
    if current != agency.declared:
        lines.append(f"{tr('detail.current', lang)}: {one_line(current)}")
    if agency.phone:
        lines.append(f"{tr('detail.phone', lang)}: {one_line(agency.phone)}")
    if verdict is None:
        lines.append(f"{tr('detail.group', lang)}: {tr('detail.not_checked', lang)}")
    else:
        rule = ruleset.rule(verdict.group)
        lines.append(f"{tr('detail.group', lang)}: {verdict.group} {group_label(rule, lang)}")
        problem, fix = problem_fix(rule, lang, (f.code for f in verdict.findings))
        if problem:
            lines.append(f"{tr('detail.problem', lang)}: {problem}")
        if fix:
            lines.append(f"{tr('detail.fix', lang)}: {fix}")
        if verdict.suggested_fix is not None:
            works = verdict.suggested_fix.works
            state = tr(
                "detail.fix_works"
                if works
                else "detail.fix_fails"
                if works is False
                else "detail.fix_unprobed",
                lang,
            )
            reason = verdict.suggested_fix.reason
            lines.append(
                f"{tr('detail.suggested', lang)}: {one_line(verdict.suggested_fix.address)} ({state})"
                + (f" {one_line(fix_reason_text(reason, lang))}" if reason else "")
            )
        sentences = [
            one_line(finding_text(finding, lang, declared=verdict.evidence.declared))
            for finding in verdict.findings
        ]
        if sentences:
            lines.append(f"{tr('detail.findings', lang)}:")
            lines.extend(
                f"• {sentence} ({one_line(finding.code)})"  # not "-": a pasted line must never read as a formula
                for sentence, finding in zip(sentences, verdict.findings, strict=True)
            )
        evidence = one_line(verdict.evidence.one_line())
        if evidence and not any(evidence.split(" — ")[0] in sentence for sentence in sentences):
            lines.append(f"{tr('detail.evidence', lang)}: {evidence}")  # not already in a sentence
        lines.append(f"{tr('detail.checked_at', lang)}: {be_long(verdict.checked_at, lang)}")
    return "\n".join(lines)


def with_verdict(rec: R, verdict: Verdict) -> R:
    """The record with a fresh verdict (until the store is reloaded); a new group is a change."""
    old = rec.verdict
    changed_at = rec.group_changed_at
    if old is None or old.group != verdict.group or changed_at is None:
        changed_at = verdict.checked_at
    return replace(rec, verdict=verdict, group_changed_at=changed_at)  # type: ignore[type-var]


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"
