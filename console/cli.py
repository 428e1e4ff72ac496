"""The `saraban` command line.

`saraban` with no command opens the console on the store; the subcommands are stable for scripts:
exit codes 0 done, 2 bad input, 3 network canary failed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks import events as ev
from checks.model import Agency, Verdict, verdict_record
from console.cli_words import HELP_TH as _HELP_TH
from console.config import AppConfig, ConfigError, load_config
from console.rules import Scope
from console.terminal import json_text, shown

if TYPE_CHECKING:
    from checks.doctor import DoctorReport
    from console.doctor import Preflight

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_CANARY = 3


class CliError(Exception):
    """Bad input: printed as one clear message, exit code 2."""


# ---------------------------------------------------------------------------------------------
# output helpers
# ---------------------------------------------------------------------------------------------
def _err(message: str) -> None:
    print(f"saraban: {shown(message)}", file=sys.stderr)


def _out(text: object = "") -> None:
    """Every line the CLI prints: config, store and typed text may hold escapes (console.terminal)."""
    print(shown(text))


def _os_reason(exc: OSError) -> str:
    """An OSError as what happened and what to do, for one line."""
    import errno

    advice = {
        errno.ENOSPC: "the disk is full: free some space and try again",
        errno.EDQUOT: "the disk quota is used up: free some space and try again",
        errno.EROFS: "the file system is read-only: choose a writable place",
        errno.EACCES: "permission denied: check the permissions or choose another place",
        errno.EPERM: "not permitted: check the permissions or choose another place",
        errno.ENOENT: "no such file or folder: check the path",
        errno.EISDIR: "it is a folder: give a file name",
        errno.ENOTDIR: "a part of the path is not a folder: check the path",
    }
    return advice.get(exc.errno or 0, f"{exc.strerror or exc}")


def _written(out: Path, writer: Any, *args: Any, **kwargs: Any) -> None:
    """Run an export writer; a file-system failure is a message, and nothing half-written is left."""
    try:
        writer(*args, **kwargs)
    except OSError as exc:
        raise CliError(f"{out}: cannot write: {_os_reason(exc)} (nothing was written)") from exc


def _export_target(typed: str, store: Any, force: bool) -> Path:
    """Where a file the CLI writes may go: never onto the store, a device, a FIFO or a folder."""
    from console.export import ExportTargetError, check_target

    try:
        return check_target(Path(typed), store_path=store.path, force=force)
    except ExportTargetError as exc:
        raise CliError(str(exc)) from exc


def _typed_text(value: str, what: str) -> str:
    """Text an operator typed on the command line must say something (the store checks the length)."""
    from checks.text import strip_unsafe

    if not strip_unsafe(value, newlines="drop").strip():
        raise CliError(f"{what}: is empty (or only spaces and control characters); type the text")
    return value


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = 0.0
        self.retries = 0

    def __call__(self, event: ev.Event) -> None:
        import time

        if not self.enabled:
            return
        if isinstance(event, ev.ScanStarted):
            self.started = time.monotonic()
        elif isinstance(event, ev.RetryScheduled):
            self.retries += 1
        elif isinstance(event, ev.AgencyChecked):
            if event.done % 25 and event.done != event.total:
                return
            width = 30
            filled = int(width * event.done / max(1, event.total))
            rate = event.done / max(1e-6, time.monotonic() - self.started)
            bar = "█" * filled + "░" * (width - filled)
            sys.stderr.write(f"\r{bar} {event.done}/{event.total}  {rate:6.1f}/s  retries {self.retries} ")
            sys.stderr.flush()
        elif isinstance(event, ev.ScanFinished | ev.CanaryFailed):
            sys.stderr.write("\n")


def _print_summary(config: AppConfig, groups: Sequence[str | None], finished: ev.ScanFinished | None) -> None:
    """Counts per group and bucket; `groups` are effective groups (None: not checked, or stale)."""
    from console.report import percent, summarize

    summary = summarize(groups, config.engine.rules)
    th = config.language == "th"
    _out(("สรุปผลการตรวจ" if th else "Summary") + f": {summary.total}")
    for rule in config.engine.rules:
        n = summary.by_group.get(rule.group, 0)
        label = rule.label_th if th else (rule.label_en or rule.label_th)
        _out(f"  {rule.group:<3} {n:>6}  {percent(n, summary.checked):>6}  {label}")
    unchecked = summary.by_bucket.get("unchecked", 0)
    if unchecked:
        _out(f"  {'-':<3} {unchecked:>6}          " + ("ยังไม่ได้ตรวจ" if th else "not checked"))
    names = {"A": ("พร้อมใช้งาน", "ready"), "BE": ("ต้องแก้ไข/ติดตาม", "must fix / follow up"), "W": ("ยกฐานะ", "upgraded")}
    _out("กลุ่มใหญ่ (ตามหนังสือ สำนักงาน ก.พ.ร.)" if th else "Buckets (as in OPDC's letter)")
    for bucket, title in (("A", "A"), ("BE", "B–E"), ("W", "W")):
        n = summary.by_bucket.get(bucket, 0)
        _out(f"  {title:<3} {n:>6}  {percent(n, summary.checked):>6}  {names[bucket][0 if th else 1]}")
    if finished is not None and finished.stopped:
        from console.i18n import scan_reason

        _out(("หยุดก่อนเสร็จ: " if th else "stopped early: ") + scan_reason(finished.stopped, config.language))


# ---------------------------------------------------------------------------------------------
# simulated internet for --sim / demo / bench
# ---------------------------------------------------------------------------------------------
def _sim_world(name: str) -> Any:
    from checks.sim import worlds

    if name == "catalogue":
        return worlds.catalogue_world()
    if name == "national":
        return worlds.national_world()
    if name == "blocked":
        from checks.sim.field import blocked_world

        return blocked_world()
    raise CliError(f"unknown simulated world {name!r}: use catalogue, national or blocked")


# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------
def _read_file(path: str, sheet: str | None = None, mapping: dict[str, str] | None = None) -> list[Agency]:
    from console.importer import ListReadError, read_agencies

    try:
        result = read_agencies(path, sheet=sheet, mapping=mapping)
    except ListReadError as exc:
        raise CliError(str(exc)) from exc
    for problem in result.problems:
        _err(f"{result.source}: row {problem.row}: {problem.field}: {problem.message}")
    if not result.agencies:
        raise CliError(f"{result.source}: no agencies could be read (see the messages above)")
    return result.agencies


async def _scan_agencies(
    config: AppConfig, agencies: list[Agency], sim: str | None, on_event: ev.EventSink
) -> ev.ScanFinished:
    from checks.scheduler import Scanner

    if sim:
        from checks.sim.internet import SimInternet

        async with SimInternet(_sim_world(sim)) as internet:
            return await Scanner(internet.engine_config(config.engine)).run(agencies, on_event)
    return await Scanner(config.engine).run(agencies, on_event)


def _refuse_placeholder(config: AppConfig) -> None:
    """A real probe with the shipped identity is refused (naming the keys, the file and why)."""
    from console.doctor import identity_refusal

    refusal = identity_refusal(config)
    if refusal is not None:
        raise CliError(refusal)


def _stopped_by_us(finished: ev.ScanFinished) -> bool:
    """Stopped because of our own side (network, doctor, pilot): exit 3, nobody blamed."""
    return bool(finished.stopped and finished.stopped.startswith(("canary", "doctor:", "pilot:")))


def cmd_check(args: argparse.Namespace, config: AppConfig) -> int:
    if not args.sim:
        _refuse_placeholder(config)
    store = None
    if args.file:
        agencies = _read_file(args.file, args.sheet)
        records = []
    else:
        store = _open_store(args, config)
        records = _select_records(store, args, config)
        agencies = [r.agency for r in records]  # as declared; the runner probes the corrected address
        if not agencies:
            raise CliError("no agencies match (import a list first: saraban import FILE)")
    corrections = {r.agency.id: [c.__dict__ for c in r.corrections] for r in records}
    declared = {a.id: a.declared for a in agencies}
    verdicts: dict[str, Verdict] = {}
    progress = _Progress(not args.json)

    def sink(event: ev.Event) -> None:
        progress(event)
        if isinstance(event, ev.AgencyChecked):
            verdicts[event.agency.id] = event.verdict
        if args.json and isinstance(event, ev.AgencyChecked):
            record = verdict_record(event.agency, event.verdict)
            if store is not None:
                record["declared"] = declared[event.agency.id]
                record["corrections"] = corrections.get(event.agency.id, [])
            print(json_text(record), flush=True)
        if isinstance(event, ev.PreflightWarning):
            _err(event.message)
        if isinstance(event, ev.CanaryFailed):
            _err(
                ("เครือข่ายของเครื่องตรวจเองมีปัญหา หยุดการตรวจ: " if config.language == "th" else "our own network is failing, scan stopped: ")
                + event.reason
            )

    if store is not None:
        _check_writable(store)
        ids = None if args.all_selected else [a.id for a in agencies]
        finished = asyncio.run(_scan_store(config, store, ids, args.sim, sink))
    else:
        finished = asyncio.run(_scan_agencies(config, agencies, args.sim, sink))
    if not args.json:
        _print_summary(config, [v.group if (v := verdicts.get(a.id)) else None for a in agencies], finished)
    elif finished.stopped:
        _err(_reason_text(finished.stopped, config.language))
    return EXIT_CANARY if _stopped_by_us(finished) else EXIT_OK


def _reason_text(reason: str, lang: str) -> str:
    from console.i18n import scan_reason

    return scan_reason(reason, lang)


async def _scan_store(
    config: AppConfig, store: Any, ids: list[str] | None, sim: str | None, sink: ev.EventSink
) -> ev.ScanFinished:
    """A store scan through the runner: the real internet after the doctor's checks, or a simulated one."""
    from console.runner import Runner

    if sim:
        from checks.sim.internet import SimInternet

        async with SimInternet(_sim_world(sim)) as internet:
            sim_config = replace(config, engine=internet.engine_config(config.engine))
            return await Runner(store, sim_config).scan(ids, sink)
    return await Runner(store, config, preflight=deferred_preflight(config)).scan(ids, sink)


def _open_store(args: argparse.Namespace, config: AppConfig) -> Any:
    from console.store import Store, StoreError

    path = Path(args.store).expanduser() if args.store else config.store_path
    try:
        store = Store(path, history_limit=config.history_limit, lock_timeout=config.lock_timeout)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    for notice in store.notices:
        _err(notice)
    return store


def _check_writable(store: Any) -> None:
    """Before a scan: can its verdicts be saved? Otherwise every agency would be probed for nothing."""
    import tempfile

    folders = [store.path.parent]
    verdicts = store.path.with_name(store.path.name + ".verdicts")
    if verdicts.is_dir():
        folders.append(verdicts)
    for folder in folders:
        try:
            with tempfile.TemporaryFile(dir=folder) as probe:
                probe.write(b"\0" * 65536)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as exc:
            raise CliError(
                f"cannot save results in {folder}: {_os_reason(exc)}. Nothing was checked; "
                "fix that (or use --store with a writable place) and run the check again"
            ) from exc


def _say_store_problems(store: Any) -> None:
    """Damaged entries the reads found (file and agency named); the other agencies were used as usual."""
    for problem in store.problems():
        _err(problem)


def _select_records(store: Any, args: argparse.Namespace, config: AppConfig) -> list[Any]:
    from console.rules import Ruleset, select

    scope = scope_from_args(args)
    args.all_selected = not (scope.active or args.agency)
    records = [_find_one(store, args.agency)] if args.agency else store.records(with_history=False)
    _say_store_problems(store)
    return select(records, scope, Ruleset.of(config.engine))


def _add_scope_args(p: argparse.ArgumentParser) -> None:
    """The console's filters as flags: `check`, `export` and `report` select exactly what the console shows."""
    p.add_argument("--group", action="append", help=_h("only these groups (repeat or comma-separate; '-' for not checked)"))
    p.add_argument("--bucket", choices=("A", "BE", "W", "-"), help=_h("only one of OPDC's buckets ('-': not checked)"))
    p.add_argument("--province", help=_h("only this province"))
    p.add_argument("--district", help=_h("only this district"))
    p.add_argument("--kind", help=_h("only this kind of agency (e.g. องค์การบริหารส่วนตำบล)"))
    p.add_argument("--search", help=_h("the console's search: words of the name, area, address or ลำดับที่"))
    p.add_argument("--followup", action="store_true", help=_h("only agencies that need follow-up (B–E, not E)"))
    p.add_argument(
        "--changed-since",
        help=_h("only agencies whose group or address changed since this date (2026-01-31 or 31/01/2569)"),
    )


def scope_from_args(args: argparse.Namespace) -> Scope:
    """The Scope the console would show for these flags (console.rules: one meaning for both)."""
    from console.rules import Scope, parse_since

    groups = frozenset(g.strip().upper() for chunk in args.group or () for g in chunk.split(",") if g.strip())
    try:
        since = parse_since(args.changed_since or "")
    except ValueError as exc:
        raise CliError(f"--changed-since {args.changed_since!r}: write a date as 2026-01-31 or 31/01/2569") from exc
    return Scope(
        search=args.search or "",
        groups=groups,
        bucket=args.bucket,
        province=args.province,
        district=args.district,
        kind=args.kind,
        followup_only=args.followup,
        changed_since=since,
    )


def _find_one(store: Any, key: str) -> Any:
    found = store.find(key)
    if not found:
        raise CliError(f"no agency {key!r}: give its id or its ลำดับที่ (saraban export --format json lists them)")
    if len(found) > 1:
        lines = "\n".join(f"  {r.agency.id}  {r.agency.seq or '-'}  {r.agency.name}  {r.agency.province}" for r in found)
        raise CliError(f"{key!r} matches {len(found)} agencies; give the id:\n{lines}")
    return found[0]


def cmd_import(args: argparse.Namespace, config: AppConfig) -> int:
    from console.i18n import tr
    from console.importer import ListReadError, read_agencies

    mapping = {}
    for item in args.map or []:
        column, sep, fieldname = item.partition("=")
        if not sep:
            raise CliError(f"--map {item!r}: write COLUMN=FIELD")
        mapping[column.strip()] = fieldname.strip()
    try:
        result = read_agencies(args.source, sheet=args.sheet, mapping=mapping or None)
    except ListReadError as exc:
        raise CliError(str(exc)) from exc
    th = config.language == "th"
    _out("คอลัมน์ที่จับคู่:" if th else "Columns mapped:")
    for header, fieldname in result.mapping.items():
        _out(f"  {header} → {fieldname}")
    for problem in result.problems:
        _err(tr("msg.import_row", config.language, row=problem.row, field=problem.field, message=problem.message))
    if not result.agencies:
        raise CliError(f"{result.source}: no agency rows could be read; nothing imported")
    store = _open_store(args, config)
    report = store.merge_import(result.agencies, source=result.source, operator=config.operator)
    counts = {"added": len(report.added), "changed": len(report.changed), "unchanged": len(report.unchanged),
              "missing": len(report.missing), "bad": len(result.problems)}
    _out(tr("cli.imported", config.language, **counts))
    from console.runner import Runner

    settled = Runner(store, config).record_offline()
    if settled:
        print(
            f"รู้กลุ่มได้ทันทีโดยไม่ต้องตรวจผ่านเครือข่าย: {settled} หน่วยงาน (เช่น เลขไทย อีเมลฟรี โดเมนที่ไม่ใช่ของรัฐ)"
            if th
            else f"Groups known without the network: {settled} agencies (Thai digits, free mail, non-government domains…)"
        )
    return EXIT_OK


def cmd_correct(args: argparse.Namespace, config: AppConfig) -> int:
    from checks.address import read_address
    from console.runner import Runner
    _typed_text(args.address, "address")
    operator = _typed_text(args.operator, "--operator") if args.operator is not None else config.operator
    store = _open_store(args, config)
    record = _find_one(store, args.agency)
    reading = read_address(args.address)
    if "crlf" in reading.problems or "control_chars" in reading.problems:
        raise CliError("the new address contains line breaks or control characters; type it again")
    from console.corrections import other_owners, shared_address_warning

    owners = other_owners(store.records(with_history=False, light=True), record.agency.id, args.address)
    if owners:
        _err(shared_address_warning(args.address, owners, config.language))
    if not args.no_recheck:
        _refuse_placeholder(config)
    runner = Runner(store, config)
    correction, verdict = asyncio.run(
        runner.correct(record.agency.id, args.address, args.reason, operator, recheck=not args.no_recheck)
    )
    _out(f"correction {correction.id}: {correction.old_address} → {correction.new_address} ({operator})")
    if verdict is None:
        if not args.no_recheck:
            _err("recheck stopped: our own network is failing (canary)")
            return EXIT_CANARY
        return EXIT_OK
    rule = config.rule(verdict.group)
    label = (rule.label_th if config.language == "th" else rule.label_en) if rule else ""
    _out(f"{verdict.group} {label}")
    from console.findings_text import finding_text
    from console.thai import safe_text

    for finding in verdict.findings:
        sentence = finding_text(finding, config.language, declared=verdict.evidence.declared)
        _out(f"  - {sentence} ({safe_text(finding.code)})")
    line = safe_text(verdict.evidence.one_line())
    if line:
        _out(f"  {line}")
    return EXIT_OK


def cmd_note(args: argparse.Namespace, config: AppConfig) -> int:
    text = _typed_text(args.text, "note")
    store = _open_store(args, config)
    record = _find_one(store, args.agency)
    note = store.add_note(record.agency.id, text, config.operator)
    _out(f"note {note.id} saved for {record.agency.id}")
    return EXIT_OK


def _export_items(store: Any, args: argparse.Namespace, config: AppConfig) -> list[Any]:
    """The records to export. Without --group, --bucket, --followup or --all: the agencies that need
    follow-up (the phone list), said on stderr with what that leaves out."""
    from console.followup_text import count_followup
    from console.i18n import tr
    from console.rules import Ruleset, select

    scope = scope_from_args(args)
    ruleset = Ruleset.of(config.engine)
    records = store.records(with_history=False)
    _say_store_problems(store)
    if not (args.all or scope.groups or scope.bucket or scope.followup_only):
        in_area = select(records, scope, ruleset)
        scope = replace(scope, followup_only=True)
        _err(f"{tr('cli.export_followup_default', config.language)}: {count_followup(in_area, ruleset).sentence(config.language)}")
        return select(in_area, scope, ruleset)
    return select(records, scope, ruleset)


def cmd_export(args: argparse.Namespace, config: AppConfig) -> int:
    from console import export
    from console.rules import group_of, is_stale

    store = _open_store(args, config)
    records = _export_items(store, args, config)
    if args.letter:
        return _export_letter(args, config, store, records)
    fmt = args.format or Path(args.output).suffix.lstrip(".").lower() or "xlsx"
    if fmt not in ("xlsx", "csv", "json"):
        raise CliError(f"--format {fmt!r}: use xlsx, csv or json")
    out = _export_target(args.output, store, args.force)
    if fmt == "json":
        objects = []
        for r in records:
            if r.verdict is not None:
                # declared: the list's address; the verdict says which address it checked, and a verdict
                # about an address the agency no longer uses is history (group null, stale true)
                obj = verdict_record(r.agency, r.verdict)
                obj["checked_address"] = r.verdict.evidence.declared
                obj["stale"] = is_stale(r)
                obj["group"] = group_of(r)
            else:
                obj = {"id": r.agency.id, "seq": r.agency.seq, "name": r.agency.name, "district": r.agency.district,
                       "province": r.agency.province, "declared": r.agency.declared, "normalized": None, "group": None,
                       "flags": [], "findings": [], "suggested_fix": None, "evidence": None, "checked_at": None}
            obj["current_address"] = r.current_address
            obj["corrections"] = [c.__dict__ for c in r.corrections]
            obj["notes"] = [n.__dict__ for n in r.notes]
            obj["possible_duplicate_of"] = [seq or other for other, seq in getattr(r, "duplicate_of", ())]
            objects.append(obj)
        _written(out, export.write_jsonl, out, objects)
    else:
        items = [export.record_item(r) for r in records]
        rows = export.followup_records(items, config.engine.rules, lang=config.language)
        _written(out, export.write_followup, out, rows, lang=config.language, fmt=fmt)
    _out(f"{len(records)} → {out}")
    return EXIT_OK


def _export_letter(args: argparse.Namespace, config: AppConfig, store: Any, records: list[Any]) -> int:
    """`export --letter`: the province's attachment to its districts (console.letter), XLSX only.
    Without --group it lists the agencies that need follow-up."""
    from console.letter import letter_records, write_letter
    from console.rules import Ruleset

    if (args.format or "xlsx") != "xlsx" or Path(args.output).suffix.lower() not in ("", ".xlsx"):
        raise CliError("--letter writes XLSX only: give -o FILE.xlsx")
    records = letter_records(records, Ruleset.of(config.engine), chosen=bool(args.group))
    if not records:
        raise CliError("no checked agency needs follow-up here: nothing to put in the letter (check first: saraban check)")
    out = _export_target(args.output if Path(args.output).suffix else args.output + ".xlsx", store, args.force)
    _written(out, write_letter, out, records, config.engine.rules)
    _out(f"{len(records)} → {out}")
    return EXIT_OK


def _opdc_sentence(c: Any, th: bool) -> str:
    """How many agencies changed since OPDC's own mail round (console.opdc), as said on the phone."""
    from console.thai import be_date

    when = ", ".join(be_date(r) for r in c.rounds)
    if th:
        return (
            f"เทียบกับผลการส่ง mail ของ ก.พ.ร. {when}: สถานะเปลี่ยน {c.changed} หน่วยงาน "
            f"(ส่งได้แล้ว {c.fixed}, กลับส่งไม่ได้ {c.broke}), เหมือนเดิม {c.same}, "
            f"ยังเทียบไม่ได้ {c.unknown} (ยังไม่ตรวจหรือยังตรวจสอบไม่ได้) จาก {c.compared} หน่วยงานที่มีผลรอบนั้น"
        )
    return (
        f"Since OPDC's mail round {when}: {c.changed} agencies changed state "
        f"({c.fixed} now receive mail, {c.broke} no longer do), {c.same} unchanged, "
        f"{c.unknown} not comparable yet (unchecked or not verifiable) of {c.compared} with that round"
    )


def cmd_report(args: argparse.Namespace, config: AppConfig) -> int:
    from console import report
    from console.followup_text import count_followup
    from console.opdc import compare_with_opdc
    from console.rules import Ruleset, group_of, select

    store = _open_store(args, config)
    if args.since is not None:
        return _report_since(args, config, store)
    records = select(store.records(with_history=False), scope_from_args(args), Ruleset.of(config.engine))
    _say_store_problems(store)
    key = (lambda r: r.agency.district or "-") if args.province else (lambda r: r.agency.province or "-")
    groups = [group_of(r) for r in records]  # a verdict about an old address counts as not checked
    national = report.summarize(groups, config.engine.rules)
    areas: dict[str, list[str | None]] = {}
    for r, group in zip(records, groups, strict=True):
        areas.setdefault(key(r), []).append(group)
    per_area = {a: report.summarize(g, config.engine.rules) for a, g in sorted(areas.items())}
    snapshots = store.snapshots()
    previous_counts: dict[str, int] | None = None
    if len(snapshots) >= 2:
        previous_counts = {}
        for prov, counts in snapshots[-2]["counts"].items():  # not `groups`: that one is printed below
            if args.province and prov != args.province:
                continue
            for g, n in counts.items():
                previous_counts[g] = previous_counts.get(g, 0) + n
    since_opdc = compare_with_opdc(zip((r.agency for r in records), groups, strict=True))
    if args.xlsx:
        target = _export_target(args.xlsx, store, args.force)
        _written(
            target, report.write_section22_xlsx, target, national, per_area, previous_counts, config.engine.rules,
            area_title="รายอำเภอ" if args.province else "รายจังหวัด",
        )
        _out(f"→ {args.xlsx}")
    if args.json:
        data = {
            "total": national.total,
            "checked": national.checked,
            "by_group": national.by_group,
            "by_bucket": national.by_bucket,
            "percent_by_bucket": {b: report.percent(n, national.checked) for b, n in national.by_bucket.items()},
            "areas": {a: {"total": s.total, "by_group": s.by_group, "by_bucket": s.by_bucket} for a, s in per_area.items()},
            "change_since_previous": report.diff(national.by_group, previous_counts) if previous_counts is not None else None,
            "since_opdc_round": dataclasses.asdict(since_opdc) | {"changed": since_opdc.changed} if since_opdc.compared else None,
            "needs_followup": count_followup(records, Ruleset.of(config.engine)).count,
        }
        print(json_text(data, indent=1))
        return EXIT_OK
    _print_summary(config, groups, None)
    _out(count_followup(records, Ruleset.of(config.engine)).sentence(config.language))  # the console's number
    if previous_counts is not None:
        change = report.diff(national.by_group, previous_counts)
        _out(("เปลี่ยนแปลงจากการตรวจครั้งก่อน: " if config.language == "th" else "change since previous scan: ")
              + ", ".join(f"{g} {n:+d}" for g, n in change.items() if n))
    if since_opdc.compared:
        _out(_opdc_sentence(since_opdc, config.language == "th"))
    _out()
    for area, s in per_area.items():
        cells = "  ".join(f"{b} {s.by_bucket.get(b, 0)} ({report.percent(s.by_bucket.get(b, 0), s.checked)})" for b in ("A", "BE", "W"))
        _out(f"{area:<24} {s.total:>5}  {cells}")
    return EXIT_OK


def _report_since(args: argparse.Namespace, config: AppConfig, store: Any) -> int:
    from console import trends

    try:
        result = trends.changes_since(store, trends.parse_since(args.since), args.province)
    except trends.TrendError as exc:
        raise CliError(str(exc)) from exc
    if args.format == "xlsx":
        if not args.output:
            raise CliError("--format xlsx needs -o FILE.xlsx (where to write the report)")
        target = _export_target(args.output, store, args.force)
        _written(target, trends.write_since_xlsx, target, result, config.engine.rules, config.language)
        _out(f"{len(result.moves)} → {target}")
        return EXIT_OK
    for line in trends.since_text(result, config.engine.rules, config.language):
        _out(line)
    return EXIT_OK


def cmd_tui(args: argparse.Namespace, config: AppConfig) -> int:
    # Start-up makes most of the objects the console keeps for good (modules, classes, the store's
    # records): the cyclic collector would walk them again and again for nothing (~0.05 s of the
    # first screen). It stays off until the console's first load, which freezes them and turns it on.
    gc.disable()
    try:
        from console.runner import Runner
        from console.tui.factory import make_app

        store = _open_store(args, config)
        runner = Runner(store, config, preflight=deferred_preflight(config))  # a full scan runs the doctor first
        make_app(config, store, runner, read_only=getattr(args, "read_only", False)).run()
    finally:
        gc.enable()
    return EXIT_OK


def deferred_preflight(config: AppConfig) -> Preflight:
    """The doctor's checks before a full scan (every real scan the CLI or the console starts), with
    their DNS and SMTP modules loaded when the scan starts, not before the console's first screen."""

    async def preflight() -> DoctorReport:
        from console.doctor import preflight_for

        return await preflight_for(config)()

    return preflight


def cmd_demo(args: argparse.Namespace, config: AppConfig) -> int:
    """The national sample world on a simulated internet, in the console (or as a CLI scan with --no-tui).

    Without --store the demo works in a fresh /tmp directory (~30 MB for the national world) that is
    removed on exit, also when the demo is killed (SIGTERM) or its SSH connection drops (SIGHUP), unless
    --keep is given: then its path is printed at the start and at the end.
    """
    if args.store:
        return _run_demo(args, config, Path(args.store).expanduser())
    from console.scratch import scratch_dir

    th = config.language == "th"
    with scratch_dir(keep=args.keep) as scratch:
        store_path = scratch.path / "store.json"
        if args.keep:
            print(("ข้อมูลตัวอย่างจะเก็บไว้ที่: " if th else "demo store (kept): ") + shown(store_path), flush=True)
        try:
            return scratch.exit_code(_run_demo(args, config, store_path, scratch.on_signal))
        finally:
            if args.keep:
                print(("ข้อมูลตัวอย่างเก็บไว้ที่: " if th else "demo store kept: ") + shown(store_path), flush=True)


def _run_demo(
    args: argparse.Namespace,
    config: AppConfig,
    store_path: Path,
    on_signal: Callable[[Callable[[], object] | None], None] | None = None,
) -> int:
    from checks.sim.internet import SimInternetThread
    from checks.sim.worlds import national_world
    from console.runner import Runner
    from console.store import Store

    world = national_world(agencies=args.agencies) if args.agencies else national_world()
    with SimInternetThread(world, delay=args.delay_ms / 1000.0) as internet:
        engine = internet.engine_config(config.engine, dns_timeout=2.0, dns_lifetime=4.0)
        demo_config = replace(config, engine=engine, store_path=store_path)
        store = Store(store_path, history_limit=config.history_limit, lock_timeout=config.lock_timeout)
        store.merge_import(world.agencies, source="demo: national sample world", operator=config.operator)
        runner = Runner(store, demo_config)
        runner.record_offline()
        if args.no_tui:
            progress = _Progress(True)
            finished = asyncio.run(runner.scan(None, progress))
            from console.rules import group_of

            _print_summary(demo_config, [group_of(r) for r in store.records()], finished)
            return EXIT_CANARY if _stopped_by_us(finished) else EXIT_OK
        from console.tui.factory import make_app

        app = make_app(demo_config, store, runner, title_suffix=" — demo", autostart_scan=not args.no_scan)
        if on_signal is not None:
            on_signal(app.exit)  # SIGTERM / SIGHUP: quit as on `q` (the terminal restored), then clean up
        try:
            app.run()
        finally:
            if on_signal is not None:
                on_signal(None)
    if args.store:
        _out(f"demo store: {store_path}")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, config: AppConfig) -> int:
    """Is this machine ready to probe the real internet? Exit 0 all pass, 1 warnings only, 3 a failure."""
    from console import doctor

    async def diagnose() -> Any:
        if not args.sim:
            return await doctor.diagnose(config.engine)
        from checks.doctor import run_doctor
        from checks.sim.field import doctor_world
        from checks.sim.internet import SimInternet

        situation = args.sim
        async with SimInternet(doctor_world(situation)) as internet:
            engine = internet.engine_config(config.engine)
            if situation == "placeholder":
                from checks.config import SmtpConfig

                placeholder = SmtpConfig()
                engine = replace(engine, smtp=replace(engine.smtp, helo_name=placeholder.helo_name,
                                                      mail_from=placeholder.mail_from))
            return await run_doctor(engine, ipv6_probe=lambda: None)

    report = asyncio.run(diagnose())
    if args.json:
        print(json_text(doctor.as_json(report, config.language), indent=1))
    else:
        for line in doctor.render(report, config.language):
            _out(line)
    return doctor.EXIT_DOCTOR[report.status]


def cmd_init(args: argparse.Namespace, config: AppConfig) -> int:
    """Create the store (or convert it); with --shared GROUP, one the whole Unix group works on."""
    from console.store import StoreError
    from console.store.shared import init_shared

    path = Path(args.store).expanduser().absolute() if args.store else config.store_path
    if args.shared:
        try:
            init_shared(path, args.shared)
        except StoreError as exc:
            raise CliError(str(exc)) from exc
    store = _open_store(args, config)
    kind = f"shared by the Unix group {args.shared} (directory 2770, files 0660)" if args.shared else "private (0700/0600)"
    _out(f"store {store.path}: {kind}")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, config: AppConfig) -> int:
    """A consistent copy of the store while others keep working; open it with --store DEST."""
    from console.store import StoreError

    store = _open_store(args, config)
    try:
        target = store.backup(Path(args.dest))
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    _out(f"backup → {target}  (saraban --store {target} report)")
    return EXIT_OK


def _confirm_pair(args: argparse.Namespace, config: AppConfig, first: str, second: str, same: bool) -> int:
    """The operator's call on two rows flagged as possible duplicates (one place for both answers)."""
    store = _open_store(args, config)
    a, b = _find_one(store, first), _find_one(store, second)
    confirm = store.confirm_same if same else store.confirm_different
    try:
        confirm(a.agency.id, b.agency.id, config.operator)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if same:
        _out(f"{b.agency.id} merged into {a.agency.id} (corrections, notes and history of both kept)")
    else:
        _out(f"{a.agency.id} and {b.agency.id} are different agencies: no longer flagged as duplicates")
    return EXIT_OK


def cmd_same(args: argparse.Namespace, config: AppConfig) -> int:
    """Two rows flagged as possible duplicates are one agency: merge OTHER into KEEP (both histories kept)."""
    return _confirm_pair(args, config, args.keep, args.other, same=True)


def cmd_different(args: argparse.Namespace, config: AppConfig) -> int:
    """Two rows flagged as possible duplicates are different agencies: the flag goes, also on re-import."""
    return _confirm_pair(args, config, args.first, args.second, same=False)


def cmd_followup(args: argparse.Namespace, config: AppConfig) -> int:
    """Mark many agencies at once (e.g. every one called today): one write."""
    store = _open_store(args, config)
    ids = [_find_one(store, key).agency.id for key in args.agencies]
    state = None if args.state in ("-", "clear") else args.state
    try:
        store.set_followups(ids, state, config.operator)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    _out(f"{len(ids)} agencies marked {state or '(cleared)'}")
    return EXIT_OK


def cmd_watch(args: argparse.Namespace, config: AppConfig) -> int:
    from console.watch import headless

    return headless.run(_open_store(args, config), config, once=args.once)


def cmd_serve(args: argparse.Namespace, config: AppConfig) -> int:
    from console import serve

    store = _open_store(args, config)  # a clear message now rather than in every browser tab
    try:
        settings = serve.settings(
            args.host, args.port, args.token, Path(store.path),
            Path(args.config).expanduser() if args.config else None, config.language, args.public_url,
        )

        def ready(url: str) -> None:
            print(("เปิดในเบราว์เซอร์ (อ่านอย่างเดียว): " if config.language == "th" else "open in a browser (read-only): ")
                  + url, flush=True)

        asyncio.run(serve.serve(settings, ready=ready))
    except serve.ServeError as exc:
        raise CliError(str(exc)) from exc
    return EXIT_OK


def cmd_bench(args: argparse.Namespace, config: AppConfig) -> int:
    from console.bench.suite import run_bench

    return run_bench(args, config)


# ---------------------------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------------------------
# argparse's help in Thai when the operator's language is Thai (--lang th, or the config's language);
# the English text is the key, so a help without a translation stays readable.
_HELP_LANG = ["en"]


def _h(text: str) -> str:
    return _HELP_TH.get(text, text) if _HELP_LANG[0] == "th" else text


def _help_language(argv: Sequence[str] | None) -> str:
    """The language of --help: --lang if given, else the config's (quietly English when it cannot be read)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--lang" in args[:-1]:
        return args[args.index("--lang") + 1]
    config_path = args[args.index("--config") + 1] if "--config" in args[:-1] else None
    try:
        return load_config(config_path).language
    except Exception:  # a broken config is reported when the command runs, not while printing help
        return "en"


def _add_help(parser: argparse.ArgumentParser) -> None:
    """argparse's own -h, with its words in the operator's language too."""
    parser.add_argument("-h", "--help", action="help", help=_h("show this help message and exit"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saraban",
        description=_h("Check the Section 10 email addresses of Thai state agencies and follow up on them."),
        add_help=False,
    )
    _add_help(parser)
    parser.add_argument("--store", help=_h("the JSON store (default: the user data dir)"))
    parser.add_argument("--config", help=_h("config TOML (default: the user config dir, else built-in defaults)"))
    parser.add_argument("--lang", choices=("th", "en"), help=_h("language of operator-facing text"))
    sub = parser.add_subparsers(dest="command")

    def subcommand(name: str, text: str) -> argparse.ArgumentParser:
        """A subcommand whose --help starts with its description, all in the operator's language."""
        p: argparse.ArgumentParser = sub.add_parser(name, help=_h(text), description=_h(text), add_help=False)
        _add_help(p)
        return p

    p = subcommand("check", "check agencies of a CSV/TSV/XLSX file, or of the store")
    p.add_argument("file", nargs="?", help=_h("a list to check without a store"))
    p.add_argument("--sheet", metavar="NAME", help=_h("the XLSX sheet to read, by its name (when the workbook has several)"))
    p.add_argument("--json", action="store_true", help=_h("one JSON object per agency per line"))
    p.add_argument("--all", action="store_true", help=_h("every agency in the store (the default)"))
    _add_scope_args(p)
    p.add_argument("--agency", help=_h("one agency: its id or ลำดับที่"))
    p.add_argument("--sim", choices=("catalogue", "national", "blocked"), help=_h("check against a simulated internet"))
    p.set_defaults(func=cmd_check)

    p = subcommand("import", "import an agency list (CSV, TSV, XLSX or URL) into the store")
    p.add_argument("source", help=_h("the list: a CSV, TSV or XLSX file, or an http(s) URL"))
    p.add_argument("--sheet", metavar="NAME", help=_h("the XLSX sheet to read, by its name (when the workbook has several)"))
    p.add_argument("--map", action="append", metavar="COLUMN=FIELD", help=_h("read this column header as this field when the header is not recognised, e.g. --map \"อีเมลสารบรรณ=declared\" (repeatable)"))
    p.set_defaults(func=cmd_import)

    p = subcommand("correct", "record a corrected address and recheck it at once")
    p.add_argument("agency", help=_h("the agency: its id or ลำดับที่"))
    p.add_argument("address", help=_h("the corrected address"))
    p.add_argument("--reason", default="", help=_h("why (optional, as in the console): e.g. 'the agency called'"))
    p.add_argument("--operator", help=_h("who records it (default: the config's operator)"))
    p.add_argument("--no-recheck", action="store_true", help=_h("record the correction only; recheck later"))
    p.set_defaults(func=cmd_correct)

    p = subcommand("note", "add a note to an agency")
    p.add_argument("agency", help=_h("the agency: its id or ลำดับที่"))
    p.add_argument("text", help=_h("the note's text"))
    p.set_defaults(func=cmd_note)

    p = subcommand("export", "export the follow-up list (or, with --all / --group, other agencies)")
    _add_scope_args(p)
    p.add_argument("--all", action="store_true", help=_h("every agency in the filters, not only those to follow up"))
    p.add_argument("--format", choices=("xlsx", "csv", "json"), help=_h("the file's format (default: from the ending of -o)"))
    p.add_argument("--letter", action="store_true",
                   help=_h("the province's attachment to its districts: one print-ready sheet per district (XLSX)"))
    p.add_argument("-o", "--output", required=True, help=_h("the file to write"))
    p.add_argument("--force", action="store_true", help=_h("replace the output file if it exists"))
    p.set_defaults(func=cmd_export)

    p = subcommand("report", "OPDC-style summary: buckets, groups, per province")
    _add_scope_args(p)
    p.add_argument("--json", action="store_true", help=_h("print JSON instead of text"))
    p.add_argument("--xlsx", help=_h("also write the Section 22 summary as XLSX"))
    p.add_argument("--force", action="store_true", help=_h("replace the --xlsx / -o file if it exists"))
    p.add_argument("--since", metavar="DATE", help=_h("who moved between the scan of DATE (2026-11-01 or BE 01/11/2569) and the latest"))
    p.add_argument("--format", choices=("text", "xlsx"), default="text", help=_h("with --since: print, or write -o FILE"))
    p.add_argument("-o", "--output", help=_h("with --since --format xlsx: the file to write"))
    p.set_defaults(func=cmd_report)

    p = subcommand("tui", "open the console (the default)")
    p.add_argument("--read-only", action="store_true", help=_h("no corrections, notes, scans, imports, exports"))
    p.set_defaults(func=cmd_tui)

    p = subcommand("demo", "the console on the national sample world and a simulated internet")
    p.add_argument("--agencies", type=int, default=0, help=_h("size of the sample world (default 8,286)"))
    p.add_argument("--delay-ms", type=float, default=20.0, help=_h("simulated latency per reply, in milliseconds"))
    p.add_argument("--no-tui", action="store_true", help=_h("scan in the terminal instead of opening the console"))
    p.add_argument("--no-scan", action="store_true", help=_h("open the console without starting a scan"))
    p.add_argument("--keep", action="store_true", help=_h("keep the demo's /tmp directory (removed on exit otherwise)"))
    p.set_defaults(func=cmd_demo)

    from checks.sim.field import SITUATIONS

    p = subcommand("doctor", "is this machine ready to probe the internet? (PTR, port 25, blocklists, SPF…)")
    p.add_argument("--json", action="store_true", help=_h("the result as JSON"))
    p.add_argument("--sim", choices=SITUATIONS, help=_h("play one situation on a simulated internet"))
    p.set_defaults(func=cmd_doctor)

    p = subcommand("init", "create the store; --shared GROUP: one store for a whole Unix group")
    p.add_argument("--shared", metavar="GROUP", help=_h("directory 2770 and files 0660 in GROUP, kept on every write"))
    p.set_defaults(func=cmd_init)

    p = subcommand("backup", "a consistent copy of the store while others work (open it with --store)")
    p.add_argument("dest", help=_h("the new store path of the copy"))
    p.set_defaults(func=cmd_backup)

    p = subcommand("same", "two rows flagged as possible duplicates are one agency: merge them")
    p.add_argument("keep", help=_h("the agency to keep (id or ลำดับที่)"))
    p.add_argument("other", help=_h("the row merged into it"))
    p.set_defaults(func=cmd_same)

    p = subcommand("different", "two rows flagged as possible duplicates are different agencies")
    p.add_argument("first", help=_h("one of the two rows (id or ลำดับที่)"))
    p.add_argument("second", help=_h("the other row"))
    p.set_defaults(func=cmd_different)

    p = subcommand("followup", "set the follow-up mark of several agencies in one write")
    p.add_argument("state", help=_h("e.g. called_waiting; '-' clears it"))
    p.add_argument("agencies", nargs="+", help=_h("ids or ลำดับที่"))
    p.set_defaults(func=cmd_followup)

    p = subcommand("watch", "recheck waiting and E agencies on a schedule (headless, for systemd)")
    p.add_argument("--once", action="store_true", help=_h("one round of whoever is due now, then exit"))
    p.set_defaults(func=cmd_watch)

    p = subcommand("serve", "the console in a browser, read-only, for supervisors")
    p.add_argument("--host", default="127.0.0.1", help=_h("address to listen on (default 127.0.0.1: use an SSH tunnel)"))
    p.add_argument("--port", type=int, default=8000, help=_h("port to listen on (default 8000)"))
    p.add_argument("--token", help=_h("the token the URL must carry (made for you on any non-loopback address)"))
    p.add_argument("--public-url", help=_h("the address browsers use, when it differs from --host:--port"))
    p.set_defaults(func=cmd_serve)

    p = subcommand("bench", "measure speed, politeness and memory on the simulated internet")
    p.add_argument("--agencies", type=int, default=8286, help=_h("size of the simulated world (default 8,286)"))
    p.add_argument("--delay-ms", type=float, default=50.0, help=_h("simulated latency per reply, in milliseconds"))
    p.add_argument("--json", action="store_true", help=_h("the figures as JSON"))
    p.add_argument("--skip", action="append", default=[], help=_h("skip a part: scan, baseline, store, scale, tui, watch"))
    p.add_argument("--baseline-budget", dest="baseline_budget_s", type=float, default=120.0,
                   help=_h("seconds allowed to each slow baseline run before it is extrapolated"))
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if {"-h", "--help"} & set(sys.argv[1:] if argv is None else argv):
        _HELP_LANG[0] = _help_language(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.lang:
            config = replace(config, language=args.lang)
        if args.store:
            config = replace(config, store_path=Path(args.store).expanduser())
        func = getattr(args, "func", cmd_tui)
        return func(args, config)
    except (CliError, ConfigError) as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        message = _expected_failure(exc)
        if message is None:
            if os.environ.get("SARABAN_DEBUG"):
                raise
            _err(
                f"internal error ({type(exc).__name__}: {exc}); nothing more was done. Please report it with "
                "the command you ran (SARABAN_DEBUG=1 shows the details)"
            )
            return 1
        _err(message)
        return EXIT_BAD_INPUT


def _expected_failure(exc: Exception) -> str | None:
    """The one-line message for a failure an operator can meet and act on; None for a bug."""
    from console.export import ExportTargetError
    from console.importer import ListReadError
    from console.store import StoreError

    if isinstance(exc, ExceptionGroup) and exc.exceptions:
        first = exc.exceptions[0]
        return _expected_failure(first) if isinstance(first, Exception) else None
    if isinstance(exc, StoreError | ListReadError | ExportTargetError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{_os_reason(exc)}; nothing more was done"
    if isinstance(exc, MemoryError):
        return "not enough memory for this input; split it into smaller files and try again"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to be a saraban file; check the file"
    if isinstance(exc, ValueError):  # the store's limits on typed text (length, blank)
        return f"{exc}; nothing was changed"
    if isinstance(exc, KeyError):
        return f"no agency {exc.args[0]!r} (was it removed by another operator?); nothing was changed"
    return None


if __name__ == "__main__":
    sys.exit(main())
