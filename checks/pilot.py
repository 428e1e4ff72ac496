"""The pilot of a national scan: a small sample over many distinct mail hosts first.

If too many distinct hosts answer in a way that points at *us* (a policy or blocklist refusal, our
sender refused at MAIL FROM, a 554 greeting naming our address) or every host stays silent, the rest
of the scan would only measure our own problem: the scan stops there and nothing of the pilot is
recorded, so no agency is blamed for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from checks import model as m
from checks.config import PilotConfig

BLAME_SENDER = "sender"  # our MAIL FROM refused (4.1.8, 5.1.8, 5.7.1, SPF…)
BLAME_POLICY = "policy"  # 5.7.x / blocklist / reputation, at the greeting or RCPT
BLAME_SILENT = "silent"  # no host said anything at all

_ABOUT_US = re.compile(r"block|listed|blacklist|spam|reputation|policy|client host|your ip|rbl|denied", re.I)


def choose_pilot(agencies: Sequence[m.Agency], size: int) -> list[m.Agency]:
    """Up to `size` agencies, one per mail domain first (round robin), so the sample meets many hosts."""
    by_domain: dict[str, list[m.Agency]] = {}
    for agency in agencies:
        domain = agency.declared.rpartition("@")[2].strip().lower()
        if domain:
            by_domain.setdefault(domain, []).append(agency)
    chosen: list[m.Agency] = []
    queues = list(by_domain.values())
    depth = 0
    while len(chosen) < size and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(chosen) < size:
                chosen.append(queue[depth])
        depth += 1
    return chosen


@dataclass(frozen=True, slots=True)
class PilotJudgement:
    stop: bool
    kind: str  # BLAME_* of the most common refusal, "" when the pilot passed
    blamed: tuple[str, ...]  # hosts that pointed at us
    answered: tuple[str, ...]  # hosts that said anything
    silent: tuple[str, ...]  # hosts tried that never greeted
    examples: tuple[str, ...]  # "host: reply" for the message

    @property
    def reason(self) -> str:
        """The scan's stop reason: "pilot: KIND: BLAMED/ANSWERED: examples" (worded by the console)."""
        total = len(self.answered) if self.kind != BLAME_SILENT else len(self.silent)
        return f"pilot: {self.kind}: {len(self.blamed)}/{total}: " + "; ".join(self.examples[:3])


def _host_blame(attempt: m.HostAttempt, our_ip: str | None) -> str | None:
    """What one host's session says about us, or None when it says nothing about us."""
    replies = [e for e in attempt.transcript if e.reply is not None]
    if attempt.outcome == m.HOST_SENDER_REJECTED:
        return BLAME_SENDER
    if attempt.outcome == m.HOST_GREETING_REJECTED and replies:
        greeting = replies[0].reply
        assert greeting is not None
        if greeting.code >= 500 and ((our_ip and our_ip in greeting.text) or _ABOUT_US.search(greeting.text)):
            return BLAME_POLICY
    for exchange in replies:
        reply = exchange.reply
        assert reply is not None
        if exchange.command.upper().startswith("RCPT") and reply.code >= 500 and (
            (reply.enhanced or "").startswith("5.7.") or _ABOUT_US.search(reply.text)
        ):
            return BLAME_POLICY
    return None


def judge_pilot(verdicts: Sequence[m.Verdict], config: PilotConfig, our_ip: str | None = None) -> PilotJudgement:
    """Does the pilot say "it is us"? Counted per distinct mail host, never per agency."""
    blamed: dict[str, str] = {}
    examples: dict[str, str] = {}
    answered: set[str] = set()
    silent: set[str] = set()
    for verdict in verdicts:
        for probe in (verdict.evidence.probe, verdict.evidence.fix_probe):
            if probe is None:
                continue
            for attempt in probe.attempts:
                host = attempt.host
                if any(e.reply is not None for e in attempt.transcript):
                    answered.add(host)
                elif attempt.outcome in (m.HOST_TIMEOUT, m.HOST_DROPPED):
                    silent.add(host)
                kind = _host_blame(attempt, our_ip)
                if kind is not None and host not in blamed:
                    blamed[host] = kind
                    last = next((e.reply for e in reversed(attempt.transcript) if e.reply is not None), None)
                    examples[host] = f"{host} {last.one_line()}" if last is not None else host
    silent -= answered
    if not answered and len(silent) >= config.min_hosts:
        return PilotJudgement(True, BLAME_SILENT, tuple(sorted(silent)), (), tuple(sorted(silent)),
                              tuple(sorted(silent))[:3])
    share = len(blamed) / len(answered) if answered else 0.0
    stop = len(blamed) >= config.min_hosts and share >= config.blame_share
    kinds = list(blamed.values())
    kind = max(set(kinds), key=kinds.count) if stop else ""
    return PilotJudgement(stop, kind, tuple(sorted(blamed)), tuple(sorted(answered)), tuple(sorted(silent)),
                          tuple(examples[h] for h in sorted(blamed)))


__all__ = ["PilotJudgement", "choose_pilot", "judge_pilot"]
