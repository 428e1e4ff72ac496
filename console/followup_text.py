""""Needs follow-up" in words, the same on every surface: the count and what it leaves out.

The groups pane, the console's export dialog, `saraban export` and `saraban report` all print this
sentence (numbers from console.rules), so the officer reads one number everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.i18n import tr
from console.rules import (
    Exclusion,
    GroupOf,
    Record,
    Ruleset,
    count_groups,
    exclusions_in_counts,
    followup_in_counts,
    group_of,
)


@dataclass(frozen=True, slots=True)
class FollowupCount:
    count: int
    excluded: tuple[Exclusion, ...]

    def excludes(self, lang: str, reasons: tuple[str, ...] = ("waiting", "upgraded", "unchecked")) -> str:
        """"ไม่รวม E 1 รายการ (ยังตรวจสอบไม่ได้ …)", or "" when nothing near the list is left out."""
        parts = [tr(f"followup.excluded.{e.reason}", lang, n=e.count) for e in self.excluded if e.reason in reasons]
        return tr("followup.excludes", lang, what=", ".join(parts)) if parts else ""

    def sentence(self, lang: str) -> str:
        """"ต้องติดตาม 17 รายการ (ไม่รวม E 1 รายการ …)"."""
        head = tr("followup.count", lang, n=self.count)
        left_out = self.excludes(lang)
        return f"{head} ({left_out})" if left_out else head


def count_followup(records: Iterable[Record], ruleset: Ruleset, group: GroupOf = group_of) -> FollowupCount:
    """`group`: console.rules.group_of, or a cache of its answers."""
    return followup_of_counts(count_groups(records, group), ruleset)


def followup_of_counts(counts: Mapping[str, int], ruleset: Ruleset) -> FollowupCount:
    """The same from records already counted per effective group (console.rules.count_groups)."""
    return FollowupCount(followup_in_counts(counts, ruleset), tuple(exclusions_in_counts(counts, ruleset)))
