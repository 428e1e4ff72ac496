"""OPDC's own mail round, as the province lists carry it, beside ours: the sentence said on the phone.

The Tak list's "ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘" column is OPDC's result of sending mail to every address
(blank: delivered; "reject:ไม่พบโดเมน", "reject:ไม่พบmail", ...: not delivered). The importer keeps it on
the agency (`Agency.previous_result`, `previous_round`); this module is the one place that reads it:
what it said, whether the agency's state changed since, and the line the detail pane and exports show.

"Changed since OPDC's round" compares what OPDC could measure, delivery: OPDC's "delivered" against our
A bucket, OPDC's "not delivered" against every other settled group. A Thai-digit address OPDC saw as
"reject:ไม่พบmail" and we call B3 is the same state (still broken), not a change; E (not verifiable yet)
and unchecked agencies are not compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from checks.model import Agency
from console.thai import be_date, safe_text

DELIVERED = "delivered"
NOT_DELIVERED = "not_delivered"

# How each comparison ends; the report counts them.
FIXED = "fixed"  # OPDC could not deliver, we now can (A)
BROKE = "broke"  # OPDC delivered, we now cannot
SAME = "same"
UNKNOWN = "unknown"  # no OPDC round on the list, or our state is not settled (E, unchecked)

_WAITING = frozenset({"E"})  # only temporary answers: nothing to compare yet
_READY = frozenset({"A1", "A2"})
_DELIVERED_WORDS = ("ส่งได้", "ส่งสำเร็จ", "ปกติ", "ok", "delivered", "sent", "ผ่าน", "ไม่มีปัญหา")


def opdc_state(agency: Agency) -> str | None:
    """DELIVERED / NOT_DELIVERED as OPDC's round found it; None when the list carried no round."""
    if not agency.previous_round and not agency.previous_result:
        return None
    text = safe_text(agency.previous_result).strip().casefold()
    if not text or text in ("-", "–") or any(text.startswith(w) for w in _DELIVERED_WORDS):
        return DELIVERED
    return NOT_DELIVERED


def our_state(group: str | None) -> str | None:
    """Our state in OPDC's terms: None when unchecked or not settled (E)."""
    if group is None or group in _WAITING:
        return None
    return DELIVERED if group in _READY else NOT_DELIVERED


def change_since_opdc(agency: Agency, group: str | None) -> str:
    """FIXED / BROKE / SAME / UNKNOWN for an agency whose current group is `group` (None: unchecked)."""
    before, now = opdc_state(agency), our_state(group)
    if before is None or now is None:
        return UNKNOWN
    if before == now:
        return SAME
    return FIXED if now == DELIVERED else BROKE


def round_label(agency: Agency, lang: str = "th") -> str:
    """ "ก.พ.ร. 07/10/2568" / "OPDC 07/10/2568" ("" when the list carried no round)."""
    if opdc_state(agency) is None:
        return ""
    who = "OPDC" if lang == "en" else "ก.พ.ร."
    when = ""
    if agency.previous_round:
        try:
            when = be_date(agency.previous_round)
        except ValueError:
            when = safe_text(agency.previous_round)
    return f"{who} {when}".strip()


def opdc_line(agency: Agency, group: str | None, lang: str = "th") -> str:
    """ "OPDC 07/10/2568: reject:ไม่พบmail — now: A1": OPDC's result beside ours ("" without a round)."""
    label = round_label(agency, lang)
    if not label:
        return ""
    said = safe_text(agency.previous_result).strip() or ("delivered" if lang == "en" else "ส่งได้")
    now_word = "now" if lang == "en" else "ตอนนี้"
    ours = group or ("not checked" if lang == "en" else "ยังไม่ตรวจ")
    return f"{label}: {said} — {now_word}: {ours}"


@dataclass(frozen=True)
class OpdcComparison:
    """How many agencies changed since OPDC's round (only agencies whose list carried it)."""

    rounds: tuple[str, ...]  # the round dates seen (ISO), oldest first
    compared: int
    fixed: int
    broke: int
    same: int
    unknown: int

    @property
    def changed(self) -> int:
        return self.fixed + self.broke


def compare_with_opdc(agencies: Iterable[tuple[Agency, str | None]]) -> OpdcComparison:
    """Count, over (agency, its current group or None), those whose state changed since OPDC's round."""
    rounds: set[str] = set()
    counts = {FIXED: 0, BROKE: 0, SAME: 0, UNKNOWN: 0}
    compared = 0
    for agency, group in agencies:
        if opdc_state(agency) is None:
            continue
        compared += 1
        if agency.previous_round:
            rounds.add(agency.previous_round)
        counts[change_since_opdc(agency, group)] += 1
    return OpdcComparison(
        tuple(sorted(rounds)), compared, counts[FIXED], counts[BROKE], counts[SAME], counts[UNKNOWN]
    )
