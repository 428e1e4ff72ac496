"""The doctor for people: words for the engine's findings, the preflight before a scan, identity refusal.

`checks.doctor` finds; this module says it in the operator's language, decides which connector the
port-25 check uses (the SOCKS5 relay when one is configured), and runs the checks quietly before a
full scan (`preflight`), which the runner calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from checks.config import PLACEHOLDER_HELO, PLACEHOLDER_MAIL_FROM, EngineConfig
from checks.connect import connector_for
from checks.doctor import FAIL, PASS, CheckResult, DoctorReport, run_doctor
from console.config import AppConfig, default_config_path
from console.i18n import STRINGS, TH, tr
from console.thai import safe_text

EXIT_DOCTOR = {PASS: 0, "warn": 1, FAIL: 3}

Preflight = Callable[[], Awaitable[DoctorReport]]


def _text(key: str, lang: str, values: dict[str, str]) -> str:
    """The string for `key`, or "" when there is none (a passing check has nothing to do)."""
    table = STRINGS.get(lang, TH)
    template = table.get(key, TH.get(key, ""))
    if not template:
        return ""
    try:
        return template.format(**{k: safe_text(v) for k, v in values.items()})
    except (KeyError, IndexError, ValueError):
        return template


def problem(result: CheckResult, lang: str) -> str:
    return _text(f"doctor.{result.code}", lang, result.detail) or result.code


def todo(result: CheckResult, lang: str) -> str:
    return "" if result.status == PASS else _text(f"doctor.{result.code}.do", lang, result.detail)


def status_word(status: str, lang: str) -> str:
    return tr(f"doctor.status.{status}", lang)


_OUTCOME_WORDS = ("greeting", "silent", "refused", "rejected", "no address", "closed", "not listed", "listed",
                  "could not ask", "none")


def answer_text(answer: str, lang: str) -> str:
    """What came back, with the engine's leading outcome word in the operator's language (the data stays)."""
    for word in _OUTCOME_WORDS:
        if answer == word or answer.startswith(word + ":"):
            said = STRINGS.get(lang, TH).get(f"doctor.word.{word}", word)  # English keeps the engine's word
            return said + answer[len(word):]
    return answer


def render(report: DoctorReport, lang: str) -> list[str]:
    """The doctor's report as terminal lines (untrusted DNS data and banners made safe)."""
    lines = [tr("doctor.title", lang), ""]
    for result in report.results:
        lines.append(f"[{status_word(result.status, lang)}] {tr('check.' + result.check, lang)}: {problem(result, lang)}")
        for item in result.evidence:
            lines.append(f"    {tr('doctor.asked', lang)}: {safe_text(item.asked)}  →  "
                         f"{tr('doctor.answer', lang)}: {safe_text(answer_text(item.answer, lang))}")
        advice = todo(result, lang)
        if advice:
            lines.append(f"    {tr('doctor.todo', lang)}: {advice}")
    lines.append("")
    lines.append(tr(f"doctor.summary.{report.status}", lang))
    return lines


def as_json(report: DoctorReport, lang: str) -> dict[str, Any]:
    return {
        "status": report.status,
        "public_ip": report.public_ip,
        "checks": [
            {
                "check": r.check,
                "status": r.status,
                "code": r.code,
                "problem": problem(r, lang),
                "todo": todo(r, lang),
                "evidence": [{"asked": safe_text(e.asked), "answer": safe_text(e.answer)} for e in r.evidence],
                "detail": {k: safe_text(v) for k, v in r.detail.items()},
            }
            for r in report.results
        ],
    }


async def diagnose(config: EngineConfig) -> DoctorReport:
    """Every check; port 25 through `[smtp] proxy` when one is set, so the relay's side is what is judged."""
    return await run_doctor(config, connector=connector_for(config.smtp.proxy))


def preflight_for(config: AppConfig) -> Preflight:
    """The checks a full real scan runs first (the runner calls it; `--sim` and the demo pass none)."""

    async def preflight() -> DoctorReport:
        return await diagnose(config.engine)

    return preflight


def preflight_stop(report: DoctorReport, lang: str) -> str | None:
    """The stop reason when a check fails: the first failure's problem and what to do."""
    failures = report.failures()
    if not failures:
        return None
    first = failures[0]
    return tr("doctor.preflight_fail", lang, problem=problem(first, lang), todo=todo(first, lang))


def preflight_warnings(report: DoctorReport, lang: str) -> list[str]:
    return [tr("doctor.preflight_warn", lang, check=tr("check." + r.check, lang), problem=problem(r, lang))
            for r in report.warnings()]


def identity_refusal(config: AppConfig) -> str | None:
    """Why a real scan must not start with the shipped identity (keys, file, why), or None."""
    smtp = config.engine.smtp
    keys = [k for k, v, p in (("helo_name", smtp.helo_name, PLACEHOLDER_HELO),
                              ("mail_from", smtp.mail_from, PLACEHOLDER_MAIL_FROM)) if v == p]
    if not keys:
        return None
    lang = config.language
    where = str(config.source) if config.source else tr("identity.no_file", lang, path=str(default_config_path()))
    values = ", ".join(getattr(smtp, k) for k in keys)
    return tr("identity.refused", lang, keys=" / ".join(f"[smtp] {k}" for k in keys), file=where, values=values)
