"""Turn what the engine saw into findings, flags and a group, by the ordered ruleset from config.

Every finding is kept; the first rule that holds decides the group, so a gmail address whose mailbox
does not exist is B1 with the D3 finding beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from checks import model as m
from checks.address import AddressReading
from checks.config import Rule

_PROBE_FINDINGS: dict[str, str] = {
    m.PROBE_ACCEPTED: m.MAIL_ACCEPTED,
    m.PROBE_MAILBOX_REJECTED: m.MAILBOX_NOT_FOUND,
    m.PROBE_PROBER_REJECTED: m.PROBER_BLOCKED,
    m.PROBE_TEMPORARY: m.TEMPORARY_FAILURE,
    m.PROBE_DOMAIN_NOT_FOUND: m.DOMAIN_NOT_FOUND,
    m.PROBE_NO_MAIL_SERVER: m.NO_MAIL_SERVER,
    m.PROBE_DNS_TEMPORARY: m.TEMPORARY_FAILURE,
}


def rule_holds(rule: Rule, codes: set[str]) -> bool:
    """True when all of `all_of`, one of `any_of` (if any) and none of `none_of` are present."""
    if any(c not in codes for c in rule.all_of):
        return False
    if rule.any_of and not any(c in codes for c in rule.any_of):
        return False
    return not any(c in codes for c in rule.none_of)


def first_rule(rules: Sequence[Rule], codes: Iterable[str]) -> tuple[int, Rule] | None:
    present = set(codes)
    for index, rule in enumerate(rules):
        if rule_holds(rule, present):
            return index, rule
    return None


def shadowed_rules(rules: Sequence[Rule]) -> list[tuple[int, int]]:
    """Pairs (later, earlier) where the later rule can never hold because the earlier one always holds first.

    Rule i shadows rule j (i < j) when every finding set satisfying j also satisfies i: i's `all_of` is a
    subset of j's, i's `any_of` is empty or meets j's requirements, and i has no `none_of` that j could avoid.
    """
    pairs: list[tuple[int, int]] = []
    for j, later in enumerate(rules):
        for i in range(j):
            earlier = rules[i]
            if earlier.none_of:
                continue
            if not set(earlier.all_of) <= set(later.all_of):
                continue
            if earlier.any_of:
                covered = set(earlier.any_of) & set(later.all_of) or (
                    later.any_of and set(later.any_of) <= set(earlier.any_of)
                )
                if not covered:
                    continue
            pairs.append((j, i))
            break
    return pairs


# Every finding a probe can give, with its plain words (checks.scheduler.offline_verdict reads the keys:
# a group no probe answer can change is decided without the network).
PROBE_MESSAGES: dict[str, str] = {
    m.MAIL_ACCEPTED: "the mail server accepts the mailbox",
    m.MAILBOX_NOT_FOUND: "the mail server rejects the mailbox permanently",
    m.PROBER_BLOCKED: "a mail server rejected the prober itself (policy / blocklist), not the mailbox",
    m.TEMPORARY_FAILURE: "only temporary or inconclusive answers so far",
    m.DOMAIN_NOT_FOUND: "the domain does not exist (NXDOMAIN)",
    m.NO_MAIL_SERVER: "the domain cannot receive mail",
}


def probe_finding(probe: m.ProbeResult) -> m.Finding | None:
    """The finding one probe establishes, with the reply or DNS detail that proves it."""
    code = _PROBE_FINDINGS.get(probe.outcome)
    if code is None:
        return None
    detail: dict[str, object] = {"address": probe.address}
    host = next((a.host for a in reversed(probe.attempts) if a.outcome == m.HOST_OK), None)
    if host:
        detail["host"] = host
    if probe.rcpt is not None:
        detail["reply"] = probe.rcpt.one_line()
    if probe.dns is not None and probe.dns.status != m.DNS_OK:
        detail["dns"] = probe.dns.status
    message = PROBE_MESSAGES[code]
    if probe.rcpt is not None:
        message = f"{message}: {probe.rcpt.one_line()}"
    elif probe.dns is not None and probe.dns.status not in (m.DNS_OK, m.DNS_NXDOMAIN):
        message = f"{message}: DNS {probe.dns.status}"
    elif code in (m.NO_MAIL_SERVER, m.TEMPORARY_FAILURE) and probe.attempts:
        outcomes = ", ".join(f"{a.host} {a.outcome}" for a in probe.attempts[-3:])
        message = f"{message}: {outcomes}"
    return m.Finding(code, message, detail)


def _flags(
    reading: AddressReading,
    policy: Sequence[m.Finding],
    probe: m.ProbeResult | None,
    fix_probe: m.ProbeResult | None,
) -> tuple[str, ...]:
    flags: list[str] = []
    decisive = probe or fix_probe
    if decisive is not None:
        if decisive.catch_all:
            flags.append(m.FLAG_CATCH_ALL)
        if decisive.dns is not None and decisive.dns.implicit_mx:
            flags.append(m.FLAG_IMPLICIT_MX)
        reached = [a for a in decisive.attempts if a.outcome == m.HOST_OK]
        if reached and reached[-1].starttls is False:
            flags.append(m.FLAG_NO_STARTTLS)
    if reading.suggestion:
        flags.append(m.FLAG_SUGGESTED_FIX)
    if any(f.code == m.TYPO_SUSPECT for f in policy):
        flags.append(m.FLAG_TYPO_SUSPECT)
    if any(p is not None and p.outcome == m.PROBE_PROBER_REJECTED for p in (probe, fix_probe)):
        flags.append(m.FLAG_PROBER_BLOCKED)
    return tuple(flags)


def build_verdict(
    agency: m.Agency,
    reading: AddressReading,
    policy: Sequence[m.Finding],
    probe: m.ProbeResult | None,
    fix_probe: m.ProbeResult | None,
    rules: Sequence[Rule],
    *,
    fallback_group: str = "E",
    checked_at: str | None = None,
    elapsed_ms: float = 0.0,
) -> m.Verdict:
    """Gather every finding about one agency and let the ruleset pick its group."""
    findings: list[m.Finding] = []
    if agency.upgraded:
        findings.append(m.Finding(m.UPGRADED, "the unit was upgraded or merged; its record is superseded"))
    if not agency.announced:
        findings.append(m.Finding(m.NO_ANNOUNCEMENT, "no Section 10 announcement in info.go.th"))
    if "empty" in reading.problems:
        findings.append(m.Finding(m.NO_ADDRESS, "no address is declared"))
    elif reading.problems:
        detail: dict[str, object] = {"problems": list(reading.problems)}
        if reading.suggestion:
            detail["suggestion"] = reading.suggestion
        if len(reading.candidates) > 1:
            detail["candidates"] = list(reading.candidates)
        findings.append(m.Finding(m.BAD_SYNTAX, reading.message or "not a valid address", detail))
    findings.extend(policy)
    if probe is not None:
        found = probe_finding(probe)
        if found is not None:
            findings.append(found)
    if agency.parent_announcement:
        findings.append(m.Finding(m.PARENT_ANNOUNCEMENT, "covered by the parent agency's announcement"))

    codes = {f.code for f in findings}
    chosen = first_rule(rules, codes)
    if chosen is None:
        index, group = -1, fallback_group
    else:
        index, group = chosen[0], chosen[1].group

    suggested = None
    if reading.suggestion:
        works = None if fix_probe is None else fix_probe.works
        reason = next((p for p in reading.problems if p not in ("multiple_addresses",)), "")
        suggested = m.SuggestedFix(reading.suggestion, works, reason or "multiple_addresses")
    stamp = checked_at or m.now_iso()
    evidence = m.Evidence(
        declared=agency.declared,
        normalized=reading.address,
        probe=probe,
        fix_probe=fix_probe,
        rule=group if chosen else f"fallback:{fallback_group}",
        rule_index=index,
        checked_at=stamp,
        elapsed_ms=elapsed_ms,
    )
    return m.Verdict(
        agency_id=agency.id,
        group=group,
        findings=tuple(findings),
        flags=_flags(reading, policy, probe, fix_probe),
        evidence=evidence,
        suggested_fix=suggested,
        checked_at=stamp,
    )
