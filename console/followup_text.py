""""Needs follow-up" in words, the same on every surface: the count and what it leaves out.

The groups pane, the console's export dialog, `saraban export` and `saraban report` all print this
sentence (numbers from console.rules), so the officer reads one number everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.i18n import tr
from console.rules import Exclusion, Record, Ruleset, followup_exclusions, needs_followup


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


def count_followup(records: Iterable[Record], ruleset: Ruleset) -> FollowupCount:
    recs = list(records)
    return FollowupCount(sum(1 for r in recs if needs_followup(r, ruleset)), tuple(followup_exclusions(recs, ruleset)))
