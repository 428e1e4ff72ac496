"""Findings and address problems in the operator's language, from their codes and detail.

The engine (checks/) stays English and language-free: a `Finding` carries a code, an English technical
message and a `detail` dict of evidence (domain, provider, near, reply, host, dns, problems, suggestion,
candidates); `checks.address.read_address` gives problem codes and the offending characters (`notes`).
Here those become plain sentences from the strings in `console.i18n`, with the technical evidence (SMTP
replies, DNS status, host names, domains) kept literal inside them, e.g.

    ไม่พบกล่องจดหมาย: เซิร์ฟเวอร์ mx.dla.go.th ตอบ 550 5.1.1 User unknown

Every untrusted value goes through `console.thai.safe_text` and is collapsed to one line; the result is
plain text (callers append it to a `rich.text.Text`, never parse it as markup). A code this version does
not know (a newer engine, a stored verdict) falls back to the stored English message: never a crash.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from checks.address import PROBLEM_CODES, read_address
from console.i18n import tr
from console.thai import safe_text

# Finding codes (checks.model) this module has sentences for, by the kind of detail they carry.
_PROBE_CODES = frozenset(
    {
        "mail_accepted",
        "mailbox_not_found",
        "prober_blocked",
        "temporary_failure",
        "domain_not_found",
        "no_mail_server",
    }
)
_FIXED_CODES = frozenset({"upgraded", "no_announcement", "no_address", "parent_announcement"})
# Problem codes (checks.address.PROBLEM_CODES) with a sentence.
_PROBLEM_CODES = frozenset(PROBLEM_CODES)
_DIGIT_PROBLEMS = frozenset({"thai_digits", "non_ascii_digits"})
_FIX_REASONS = frozenset(
    {
        "thai_digits",
        "non_ascii_digits",
        "zero_width",
        "nbsp",
        "fullwidth_at",
        "mailto",
        "display_name",
        "multiple_addresses",
        "bad_characters",
    }
)
_DNS_STATUSES = frozenset({"nxdomain", "null_mx", "no_records", "servfail", "timeout"})

# The detail keys each kind of finding says in its sentence; any other key is shown beside it.
_SAID: dict[str, frozenset[str]] = {
    **{code: frozenset({"address", "host", "reply", "dns"}) for code in _PROBE_CODES},
    "free_mail": frozenset({"domain", "provider"}),
    "non_government_domain": frozenset({"domain", "kind", "allowed"}),
    "typo_suspect": frozenset({"domain", "near"}),
    "bad_syntax": frozenset({"problems", "suggestion", "candidates", "notes"}),
}

_LIMIT = 200  # one untrusted value in a sentence (an SMTP reply can be long)
_SEP = "; "


def _one(value: object, limit: int = _LIMIT) -> str:
    """An untrusted value as one safe line (no escapes, controls or bidi overrides), bounded."""
    text = " ".join(safe_text(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strings(value: object) -> list[str]:
    """A detail value that should be a list of strings, whatever a stored verdict holds."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_one(v) for v in value if v is not None and _one(v)]
    return [_one(value)]


def _listed(values: Iterable[object]) -> str:
    return ", ".join(_one(v, 80) for v in values if _one(v, 80))


def _detail(finding: Any) -> Mapping[str, Any]:
    detail = getattr(finding, "detail", None)
    return detail if isinstance(detail, Mapping) else {}


# ---------------------------------------------------------------------------------------------
# Address problems
# ---------------------------------------------------------------------------------------------


def _arabic(seen: Sequence[str]) -> str:
    """The Arabic digits the seen digits stand for ("๖" → "6"), to read out on the phone."""
    values = []
    for s in seen:
        if len(s) == 1 and unicodedata.category(s) == "Nd":
            values.append(str(unicodedata.digit(s)))
    return ", ".join(values)


def problem_text(code: str, seen: Sequence[str], lang: str) -> str | None:
    """One problem of a declared address as a sentence; None when the code is unknown."""
    if code not in _PROBLEM_CODES:
        return None
    chars = _listed(seen)
    shown = f" ({chars})" if chars else ""
    if code in _DIGIT_PROBLEMS:
        arabic = _arabic(seen)
        return tr(
            f"problem.{code}",
            lang,
            seen=shown,
            arabic=f" ({arabic})" if arabic else " " + tr("problem.arabic_digits", lang),
        )
    if code == "display_name" and not chars:
        return tr("problem.display_name.bare", lang)
    return tr(f"problem.{code}", lang, seen=shown)


def problems_text(
    problems: Iterable[str],
    notes: Mapping[str, Sequence[str]] | None,
    suggestion: str | None,
    lang: str,
    *,
    candidates: Sequence[str] = (),
    fallback: str = "",
) -> str:
    """What is wrong with a declared address, in `lang`, naming the offending characters.

    `notes` maps a problem code to its offending characters (AddressReading.notes); `suggestion`, when
    given, is appended (leave it out where the screen shows it on its own line); `candidates` are the
    valid addresses of a multi-address field. An unknown problem code makes the whole text the stored
    `fallback` message (the engine's English), so nothing a newer engine found is hidden.
    """
    codes = [_one(p) for p in problems if p]
    notes = notes if isinstance(notes, Mapping) else {}
    parts: list[str] = []
    for code in codes:
        sentence = problem_text(code, _strings(notes.get(code)), lang)
        if sentence is None:
            if fallback.strip():
                return _one(fallback, 1000)
            sentence = code
        parts.append(sentence)
    if not parts:
        return _one(fallback, 1000)
    valid = _strings(list(candidates))
    if len(valid) > 1 and not _strings(notes.get("multiple_addresses")):
        parts.append(tr("problem.candidates", lang, candidates=_listed(valid)))
    if suggestion:
        parts.append(tr("problem.suggestion", lang, suggestion=_one(suggestion)))
    return _SEP.join(parts)


def fix_reason_text(reason: str, lang: str) -> str:
    """What a suggested fix changed (SuggestedFix.reason) in words; an unknown reason as its code."""
    code = _one(reason)
    return tr(f"fix.{code}", lang) if code in _FIX_REASONS else code


def dns_text(status: object, lang: str) -> str:
    """A DNS status with its meaning beside the technical name; unknown statuses literally."""
    code = _one(status)
    return tr(f"dns.{code}", lang) if code in _DNS_STATUSES else code


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


def _probe_sentence(code: str, detail: Mapping[str, Any], lang: str, declared: str | None = None) -> str:
    # A compact (history) finding has no detail: the domain then comes from the address checked.
    address = _one(detail.get("address") or declared or "")
    domain = _one(detail.get("domain") or address.rpartition("@")[2]) or tr("finding.this_domain", lang)
    headline = tr(f"finding.{code}", lang, domain=domain)
    reply = _one(detail.get("reply") or "")
    host = _one(detail.get("host") or "")
    dns = _one(detail.get("dns") or "")
    if reply:
        evidence = (
            tr("finding.server_replied", lang, host=host, reply=reply)
            if host
            else tr("finding.reply", lang, reply=reply)
        )
    elif dns:
        evidence = tr("finding.dns", lang, dns=dns_text(dns, lang))
    else:
        evidence = tr(f"finding.{code}.why", lang)
    return f"{headline}: {evidence}"


@lru_cache(maxsize=4096)
def _reread(declared: str) -> Any | None:
    """The declared text read again (pure and cheap; a compact verdict keeps neither problems nor
    offending characters), once per text however many findings and panes ask."""
    try:
        return read_address(declared)
    except Exception:  # the detail pane must show something whatever the reader does
        return None


def _address_notes(declared: str | None, problems: Sequence[str]) -> Mapping[str, Sequence[str]]:
    """The offending characters behind `problems`, from the declared text."""
    reading = _reread(declared) if declared else None
    notes = getattr(reading, "notes", None)
    if not isinstance(notes, Mapping) or not set(problems) & set(getattr(reading, "problems", ())):
        return {}
    return notes


def _address_problems(declared: str | None) -> list[str]:
    """The problem codes of a declared text."""
    reading = _reread(declared) if declared else None
    return list(getattr(reading, "problems", ()) or ())


def finding_text(finding: Any, lang: str, *, declared: str | None = None) -> str:
    """One finding as a plain sentence in `lang`, with its evidence literal.

    `declared` is the address text the verdict was made from (Evidence.declared): a bad-syntax finding
    names the offending characters from it when its detail does not hold them. Unknown codes give the
    stored message (or the code when there is none).
    """
    code = _one(getattr(finding, "code", "") or "")
    message = _one(getattr(finding, "message", "") or "", 1000)
    detail = _detail(finding)
    if code in _PROBE_CODES:
        return _probe_sentence(code, detail, lang, declared)
    if code in _FIXED_CODES:
        return tr(f"finding.{code}", lang)
    # A compact (history / list) verdict keeps no detail: the domain comes from the declared text.
    fallback_domain = _one((declared or "").rpartition("@")[2]) if declared and "@" in declared else ""
    if code == "free_mail":
        domain = _one(detail.get("domain") or "") or fallback_domain or tr("finding.this_domain", lang)
        provider = _one(detail.get("provider") or "")
        return tr(
            "finding.free_mail",
            lang,
            domain=domain,
            provider=f" ({provider})" if provider and provider != domain else "",
        )
    if code == "non_government_domain":
        domain = _one(detail.get("domain") or "") or fallback_domain or tr("finding.this_domain", lang)
        allowed = _listed(_strings(detail.get("allowed")))
        return tr(
            "finding.non_government_domain",
            lang,
            domain=domain,
            allowed=tr("finding.allowed", lang, allowed=allowed) if allowed else "",
        )
    if code == "typo_suspect":
        domain = _one(detail.get("domain") or "") or tr("finding.this_domain", lang)
        near = _one(detail.get("near") or "")
        if not near:
            return message or code
        return tr("finding.typo_suspect", lang, domain=domain, near=near)
    if code == "bad_syntax":
        problems = _strings(detail.get("problems")) or _address_problems(declared)
        if not problems:
            return tr("finding.bad_syntax", lang)
        notes = detail.get("notes")
        if not isinstance(notes, Mapping):
            notes = _address_notes(declared, problems)
        return problems_text(
            problems,
            notes,
            None,
            lang,
            candidates=_strings(detail.get("candidates")),
            fallback=message,
        )
    return message or code


def finding_extras(finding: Any) -> list[tuple[str, str]]:
    """The detail entries the sentence does not already say (all of them for an unknown code)."""
    code = getattr(finding, "code", "")
    said = _SAID.get(code, frozenset())
    out: list[tuple[str, str]] = []
    for key, value in sorted(_detail(finding).items(), key=lambda kv: str(kv[0])):
        if key in said:
            continue
        shown = _listed(value) if isinstance(value, (list, tuple)) else _one(value)
        out.append((_one(key, 40), shown))
    return out


def rule_advice(rule: Any, lang: str, codes: Iterable[str] = ()) -> tuple[str, str]:
    """The problem and what to do for a verdict, from its rule; one place for every surface.

    A verdict where a mail host refused *our prober* is about our own address, not the agency: its
    advice says so and what to do (saraban doctor, our administrator), never "call the agency" and
    never "nothing to do".
    """
    if rule is None:
        return "", ""
    if "prober_blocked" in set(codes):
        return tr("advice.prober_blocked.problem", lang), tr("advice.prober_blocked.fix", lang)
    if lang == "en" and (rule.problem_en or rule.fix_en):
        return rule.problem_en, rule.fix_en
    return rule.problem_th, rule.fix_th

