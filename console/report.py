"""The OPDC-style summary (Section 22 follow-up): counts per group and per bucket, per area, and change.

OPDC reports three buckets (A: correct format and mail works; BE: no announcement, wrong format or
undeliverable; W: upgraded units) as shares of the agencies checked, to one decimal ("78.9%").
Unchecked agencies are counted apart and never dilute the percentages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from checks.config import Rule
from console.rules import Ruleset

BUCKETS: tuple[str, ...] = ("A", "BE", "W", "unchecked")
BUCKET_LABELS_TH: dict[str, str] = {
    "A": "รูปแบบถูกต้องและส่งอีเมลได้",
    "BE": "ไม่มีประกาศ รูปแบบไม่ถูกต้อง หรือส่งอีเมลไม่ได้",
    "W": "หน่วยงานที่ได้รับการยกฐานะ",
    "unchecked": "ยังไม่ได้ตรวจ",
}
BUCKET_LABELS_EN: dict[str, str] = {
    "A": "Correct format and mail works",
    "BE": "No announcement, wrong format, or mail cannot be delivered",
    "W": "Upgraded units",
    "unchecked": "Not checked yet",
}


@dataclass
class Summary:
    """Counts for one area (or the nation). `total` includes unchecked agencies."""

    total: int = 0
    by_group: dict[str, int] = field(default_factory=dict)
    by_bucket: dict[str, int] = field(default_factory=dict)  # "A", "BE", "W", "unchecked"

    @property
    def unchecked(self) -> int:
        return self.by_bucket.get("unchecked", 0)

    @property
    def checked(self) -> int:
        """The denominator of every percentage."""
        return self.total - self.unchecked

    def counts(self) -> dict[str, int]:
        """Group and bucket counts in one flat dict (what a snapshot stores for the next diff)."""
        return {**self.by_group, **self.by_bucket}

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "by_group": dict(self.by_group), "by_bucket": dict(self.by_bucket)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        return cls(
            int(data.get("total", 0)), dict(data.get("by_group") or {}), dict(data.get("by_bucket") or {})
        )


def bucket_of(group: str | None, rules: Sequence[Rule]) -> str:
    """The OPDC bucket of a group as every surface reads it (console.rules.Ruleset); "unchecked" for None."""
    return "unchecked" if group is None else Ruleset(tuple(rules)).bucket(group)


def summarize(groups: Iterable[str | None], rules: Sequence[Rule]) -> Summary:
    """Count effective groups (None = not checked yet, or a verdict about an old address: console.rules.group_of);
    every rule's group and every bucket is present, even at 0."""
    ruleset = Ruleset(tuple(rules))
    by_group: dict[str, int] = {r.group: 0 for r in rules}
    by_bucket: dict[str, int] = dict.fromkeys(BUCKETS, 0)
    total = 0
    for group in groups:
        total += 1
        if group is None:
            by_bucket["unchecked"] += 1
            continue
        by_bucket[ruleset.bucket(group)] += 1
        by_group[group] = by_group.get(group, 0) + 1
    return Summary(total, by_group, by_bucket)


def percent(n: int, total: int) -> str:
    """n of total as "78.9%" (half up, one decimal, like OPDC's table); "-" when total is 0."""
    if total <= 0:
        return "-"
    value = (Decimal(n) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def merge(summaries: Iterable[Summary]) -> Summary:
    """The sum of several summaries (a province from its districts, the nation from provinces)."""
    out = Summary()
    for s in summaries:
        out.total += s.total
        for k, n in s.by_group.items():
            out.by_group[k] = out.by_group.get(k, 0) + n
        for k, n in s.by_bucket.items():
            out.by_bucket[k] = out.by_bucket.get(k, 0) + n
    return out


def summary_header(groups: Sequence[str] = (), *, lang: str = "th") -> list[str]:
    """Header matching `summary_table` rows."""
    if lang == "en":
        head = ["Area", "Agencies", "Checked", "A", "A %", "BE", "BE %", "W", "W %", "Not checked"]
    else:
        head = ["พื้นที่", "หน่วยงาน", "ตรวจแล้ว", "A", "A %", "BE", "BE %", "W", "W %", "ยังไม่ได้ตรวจ"]
    return head + list(groups)


def summary_table(
    by_area: Mapping[str, Summary], groups: Sequence[str] = (), *, total_label: str | None = "รวม"
) -> list[list[Any]]:
    """One row per area (in the mapping's order) plus a total row: counts and bucket percentages.

    Row: area, total, checked, A, A%, BE, BE%, W, W%, unchecked, then the count of each of `groups`.
    """

    def row(area: str, s: Summary) -> list[Any]:
        cells: list[Any] = [area, s.total, s.checked]
        for b in ("A", "BE", "W"):
            n = s.by_bucket.get(b, 0)
            cells += [n, percent(n, s.checked)]
        cells.append(s.unchecked)
        cells += [s.by_group.get(g, 0) for g in groups]
        return cells

    rows = [row(area, s) for area, s in by_area.items()]
    if total_label is not None and by_area:
        rows.append(row(total_label, merge(by_area.values())))
    return rows


def diff(current: Mapping[str, int], previous: Mapping[str, int]) -> dict[str, int]:
    """current − previous for every key in either (a key missing on one side counts as 0)."""
    keys = list(dict.fromkeys([*current, *previous]))
    return {k: int(current.get(k, 0)) - int(previous.get(k, 0)) for k in keys}


def _previous_counts(
    previous: Mapping[str, Any] | Summary | None, rules: Sequence[Rule]
) -> dict[str, int] | None:
    """Flat group + bucket counts from a previous report (a Summary, its JSON, or flat group counts)."""
    if previous is None:
        return None
    if isinstance(previous, Summary):
        return previous.counts()
    if "by_group" in previous or "by_bucket" in previous:
        return Summary.from_json(previous).counts()
    counts = {str(k): int(v) for k, v in previous.items() if isinstance(v, int)}
    if "A" not in counts and "BE" not in counts:  # only group counts given (W is both): derive the buckets
        buckets = dict.fromkeys(("A", "BE", "W"), 0)
        for group, n in counts.items():
            if group != "unchecked":
                buckets[bucket_of(group, rules)] += n
        counts.update(buckets)
    return counts


def write_section22_xlsx(
    path: str | Path,
    national: Summary,
    per_province: Mapping[str, Summary],
    previous: Mapping[str, Any] | Summary | None,
    rules: Sequence[Rule],
    *,
    area_title: str = "รายจังหวัด",
) -> None:
    """The Section 22 summary workbook: buckets, groups, and one row per province (0600, no formulas).

    `previous` (the last report's counts: a Summary, its JSON, or flat group counts) fills the change
    column (a signed number; empty without a previous report);
    `area_title` names the per-area sheet (e.g. "รายอำเภอ" when the areas are districts).
    """
    from console.export import write_xlsx_sheets

    prev = _previous_counts(previous, rules)
    change = diff(national.counts(), prev) if prev is not None else {}
    checked = national.checked

    buckets_rows: list[list[Any]] = []
    for b in ("A", "BE", "W"):
        groups = ", ".join(r.group for r in rules if bucket_of(r.group, rules) == b)
        n = national.by_bucket.get(b, 0)
        buckets_rows.append([b, BUCKET_LABELS_TH[b], groups, n, percent(n, checked), change.get(b)])
    buckets_rows.append(["", "รวมที่ตรวจแล้ว", "", checked, percent(checked, checked), ""])
    buckets_rows.append(
        ["", BUCKET_LABELS_TH["unchecked"], "", national.unchecked, "", change.get("unchecked")]
    )
    buckets_rows.append(["", "รวมทั้งหมด", "", national.total, "", ""])

    group_rows: list[list[Any]] = []
    for rule in rules:
        n = national.by_group.get(rule.group, 0)
        group_rows.append(
            [
                rule.group,
                rule.label_th,
                bucket_of(rule.group, rules),
                n,
                percent(n, checked),
                change.get(rule.group),
            ]
        )
    known = {r.group for r in rules}
    for g, n in national.by_group.items():
        if g not in known:
            group_rows.append([g, "", bucket_of(g, rules), n, percent(n, checked), change.get(g)])

    group_names = [r.group for r in rules]
    write_xlsx_sheets(
        path,
        [
            ("สรุป", ["กลุ่มใหญ่", "ความหมาย", "กลุ่มย่อย", "จำนวน", "ร้อยละ", "เปลี่ยนแปลง"], buckets_rows),
            ("รายกลุ่ม", ["กลุ่ม", "ความหมาย", "กลุ่มใหญ่", "จำนวน", "ร้อยละ", "เปลี่ยนแปลง"], group_rows),
            (area_title, summary_header(group_names), summary_table(per_province, group_names)),
        ],
    )
