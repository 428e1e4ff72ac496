"""Progress over time: the buckets' shares per scan (the chart) and who moved between two scans (the report).

Every full scan already leaves its counts per province and group in the store (`Store.snapshots`);
the chart reads those. Which agency moved from where to where needs each agency's group per scan:
that is kept beside the store, one small file per finished full scan (`<store>.scans/`, written
whole and atomically, 0600), so the store's main file does not grow with every scan.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from checks.config import Rule
from console.report import bucket_of
from console.store import AgencyRecord, Store
from console.store.atomic import atomic_write
from console.thai import be_date, safe_text, to_ascii_digits

SCAN_SCHEMA = 1


class TrendError(Exception):
    """The question cannot be answered from this store (no scans, a bad date...); the message says why."""


# ---------------------------------------------------------------------------------------------
# The chart: bucket shares per scan
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: str  # ISO time of the scan
    a: int
    be: int
    w: int

    @property
    def checked(self) -> int:
        return self.a + self.be + self.w

    def share(self, bucket: str) -> float:
        """Percent of the checked agencies in "A", "BE" or "W"."""
        n = {"A": self.a, "BE": self.be, "W": self.w}[bucket]
        return 100.0 * n / self.checked if self.checked else 0.0


def trend_points(
    snapshots: Sequence[Mapping[str, Any]], rules: Sequence[Rule], province: str | None = None
) -> list[TrendPoint]:
    """One point per saved scan (oldest first), for the whole store or one province; empty scans left out."""
    points = []
    for snap in snapshots:
        buckets = {"A": 0, "BE": 0, "W": 0}
        counts = snap.get("counts") or {}
        for prov, groups in counts.items():
            if province is not None and prov != province:
                continue
            for group, n in (groups or {}).items():
                bucket = bucket_of(group, rules)
                if bucket in buckets and isinstance(n, int):
                    buckets[bucket] += n
        point = TrendPoint(str(snap.get("at", "")), buckets["A"], buckets["BE"], buckets["W"])
        if point.checked:
            points.append(point)
    return points


# ---------------------------------------------------------------------------------------------
# Each scan's groups per agency, beside the store
# ---------------------------------------------------------------------------------------------
def scans_dir(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".scans")


def save_scan_groups(store: Store, *, at: str | None = None) -> Path:
    """Keep every checked agency's group as of now (called when a full scan finished)."""
    at = at or datetime.now().astimezone().isoformat()  # microseconds: two scans in one second stay ordered
    groups: dict[str, list[str]] = {}
    for rec in store.records(with_history=False, light=True):
        if rec.verdict is not None:
            groups.setdefault(rec.verdict.group, []).append(rec.agency.id)
    stamp = re.sub(r"[^0-9]", "", at)[:20]
    # beside the store, with the store's own modes (a shared store's group can read it) and its one writer
    path = store.side_dir(".scans") / f"{stamp}-{secrets.token_hex(4)}.json"
    text = json.dumps({"schema": SCAN_SCHEMA, "at": at, "groups": groups}, ensure_ascii=False)
    atomic_write(path, text.encode("utf-8"), modes=store.modes)
    return path


@dataclass(frozen=True, slots=True)
class ScanGroups:
    at: datetime
    groups: dict[str, str]  # agency id → group


def _aware(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.astimezone()


def load_scans(store_path: Path) -> list[ScanGroups]:
    """Every kept scan, oldest first; unreadable files are skipped (a report must not fail on one)."""
    scans = []
    directory = scans_dir(store_path)
    if not directory.is_dir():
        return []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            at = _aware(str(data["at"]))
            groups = {str(aid): str(g) for g, ids in data["groups"].items() for aid in ids}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if at is not None:
            scans.append(ScanGroups(at, groups))
    scans.sort(key=lambda s: s.at)
    return scans


# ---------------------------------------------------------------------------------------------
# report --since
# ---------------------------------------------------------------------------------------------
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)


def parse_since(text: str) -> date:
    """YYYY-MM-DD (CE), or DD/MM/YYYY in BE as Thai offices write it (Thai digits too)."""
    value = to_ascii_digits(text.strip())
    match = _DATE.fullmatch(value)
    try:
        if match:
            day, month, year = (int(x) for x in match.groups())
            return date(year - 543 if year > 2400 else year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
            parsed = date.fromisoformat(value)
            return date(parsed.year - 543, parsed.month, parsed.day) if parsed.year > 2400 else parsed
    except ValueError:
        pass
    raise TrendError(
        f"--since {safe_text(text)!r} is not a date: write 2026-11-01 (CE) or 01/11/2569 (BE, day/month/year)"
    )


@dataclass(frozen=True, slots=True)
class Move:
    agency_id: str
    name: str
    province: str
    district: str
    before: str  # group, or "-" when not in the earlier scan
    after: str


@dataclass
class Since:
    baseline: datetime
    latest: datetime
    before: dict[str, dict[str, int]] = field(default_factory=dict)  # province → group → count
    after: dict[str, dict[str, int]] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)


def changes_since(store: Store, since: date, province: str | None = None) -> Since:
    """The state as `since` began (the last scan before it, else the first scan from it) against the latest scan."""
    records = store.records(with_history=False, light=True)
    if not records:
        raise TrendError("the store has no agencies yet: import a list first (saraban import FILE)")
    scans = load_scans(Path(store.path))
    if not scans:
        raise TrendError("no finished full scan is recorded in this store yet: run saraban check --all")
    start = datetime.combine(since, time.min).astimezone()
    earlier = [s for s in scans if s.at < start]
    baseline = earlier[-1] if earlier else scans[0]
    latest = scans[-1]
    if latest is baseline:
        raise TrendError(
            f"only one scan to compare since {be_date(since)} (BE): the latest scan is the one of "
            f"{be_date(latest.at, with_time=True)}; run another full scan (saraban check --all) first"
        )
    by_id: dict[str, AgencyRecord] = {r.agency.id: r for r in records}
    result = Since(baseline.at, latest.at)
    ids = list(dict.fromkeys([*baseline.groups, *latest.groups]))
    for aid in ids:
        rec = by_id.get(aid)
        prov = rec.agency.province if rec is not None else "-"
        if province is not None and prov != province:
            continue
        before, after = baseline.groups.get(aid, "-"), latest.groups.get(aid, "-")
        if before != "-":
            counts = result.before.setdefault(prov or "-", {})
            counts[before] = counts.get(before, 0) + 1
        if after != "-":
            counts = result.after.setdefault(prov or "-", {})
            counts[after] = counts.get(after, 0) + 1
        if before != after:
            name = rec.agency.name if rec is not None else aid
            district = rec.agency.district if rec is not None else ""
            result.moves.append(Move(aid, name, prov or "-", district, before, after))
    result.moves.sort(key=lambda m: (m.province, m.before, m.after, m.district, m.name))
    return result


_WORDS = {
    "th": {
        "title": "การเปลี่ยนแปลงระหว่างการตรวจ {a} และ {b} (พ.ศ.)",
        "province": "จังหวัด",
        "group": "กลุ่ม",
        "before": "ก่อน",
        "after": "หลัง",
        "change": "เปลี่ยน",
        "moves": "หน่วยงานที่ย้ายกลุ่ม: {n}",
        "none": "ไม่มีหน่วยงานใดย้ายกลุ่ม",
        "agency": "หน่วยงาน",
        "district": "อำเภอ",
        "from": "จากกลุ่ม",
        "to": "เป็นกลุ่ม",
        "summary_sheet": "สรุปรายจังหวัด",
        "moves_sheet": "หน่วยงานที่ย้ายกลุ่ม",
    },
    "en": {
        "title": "Change between the scans of {a} and {b} (BE dates)",
        "province": "Province",
        "group": "Group",
        "before": "Before",
        "after": "After",
        "change": "Change",
        "moves": "Agencies that moved: {n}",
        "none": "No agency changed group",
        "agency": "Agency",
        "district": "District",
        "from": "From",
        "to": "To",
        "summary_sheet": "Per province",
        "moves_sheet": "Moved agencies",
    },
}


def _w(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["th"])


def _group_order(result: Since, rules: Sequence[Rule]) -> list[str]:
    seen = {g for counts in (*result.before.values(), *result.after.values()) for g in counts}
    ordered = [r.group for r in rules if r.group in seen]
    return ordered + sorted(seen - set(ordered))


def summary_rows(result: Since, rules: Sequence[Rule]) -> list[list[Any]]:
    """province, group, before, after, change — only groups present in either scan."""
    rows: list[list[Any]] = []
    groups = _group_order(result, rules)
    for prov in sorted(set(result.before) | set(result.after)):
        before, after = result.before.get(prov, {}), result.after.get(prov, {})
        for group in groups:
            b, a = before.get(group, 0), after.get(group, 0)
            if b or a:
                rows.append([prov, group, b, a, a - b])
    return rows


def move_rows(result: Since) -> list[list[Any]]:
    return [[m.province, m.district, m.name, m.agency_id, m.before, m.after] for m in result.moves]


def since_text(result: Since, rules: Sequence[Rule], lang: str) -> list[str]:
    """The report as lines of plain text (untrusted names made safe)."""
    w = _w(lang)
    lines = [w["title"].format(a=be_date(result.baseline, with_time=True), b=be_date(result.latest, with_time=True))]
    current = None
    for prov, group, before, after, change in summary_rows(result, rules):
        if prov != current:
            lines.append("")
            lines.append(f"{w['province']} {safe_text(prov)}")
            current = prov
        lines.append(f"  {group:<3} {before:>6} → {after:>6}  ({change:+d})")
    lines.append("")
    lines.append(w["moves"].format(n=len(result.moves)) if result.moves else w["none"])
    for m in result.moves:
        lines.append(f"  {safe_text(m.province)} · {safe_text(m.district)} · {safe_text(m.name)}: {m.before} → {m.after}")
    return lines


def write_since_xlsx(path: Path, result: Since, rules: Sequence[Rule], lang: str) -> None:
    from console.export import write_xlsx_sheets

    w = _w(lang)
    write_xlsx_sheets(
        path,
        [
            (w["summary_sheet"], [w["province"], w["group"], w["before"], w["after"], w["change"]],
             summary_rows(result, rules)),
            (w["moves_sheet"], [w["province"], w["district"], w["agency"], "id", w["from"], w["to"]],
             move_rows(result)),
        ],
    )
