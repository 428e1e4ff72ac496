"""Domain policy: is a (valid) address on a domain a state agency may use for Section 10?

Findings, not groups: the ruleset decides. A free-mail domain gets `free_mail` (B1) only; any
other domain outside the government suffixes, the agency kind's allowances and the registered
domains gets `non_government_domain` (B2); a domain one edit away from a well-known one also gets
`typo_suspect` (a flag), whatever else applies.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable

import idna

from checks.config import PolicyConfig
from checks.model import FREE_MAIL, NON_GOVERNMENT_DOMAIN, TYPO_SUSPECT, Finding


def edit_distance_one(a: str, b: str) -> bool:
    """True when exactly one insert, delete, substitution or adjacent transposition turns a into b."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    # common prefix and suffix; what remains must be one edit
    i = 0
    while i < la and i < lb and a[i] == b[i]:
        i += 1
    j = 0
    while j < la - i and j < lb - i and a[la - 1 - j] == b[lb - 1 - j]:
        j += 1
    ra, rb = a[i : la - j], b[i : lb - j]
    if len(ra) <= 1 and len(rb) <= 1:
        return True  # one substitution, insertion or deletion
    return len(ra) == 2 and len(rb) == 2 and ra[0] == rb[1] and ra[1] == rb[0]


def _norm_domain(domain: str) -> str:
    """Compare domains in one form: lowercase ASCII (IDNs as punycode), no trailing dot, no '*.'."""
    d = unicodedata.normalize("NFC", domain.strip()).lower().rstrip(".")
    if d.startswith("*."):
        d = d[2:]
    d = d.lstrip(".")
    if not d.isascii():
        with contextlib.suppress(idna.IDNAError, UnicodeError, ValueError):  # else: compare as written
            d = idna.encode(d, uts46=True).decode("ascii")
    return d


def _match(domain: str, entries: Iterable[str]) -> str | None:
    """The first entry the domain equals or is a subdomain of (label boundary: x.go.th, not xgo.th)."""
    for entry in entries:
        e = _norm_domain(entry)
        if e and (domain == e or domain.endswith("." + e)):
            return e
    return None


def _norm_kind(kind: str) -> str:
    """Kind names as typed in spreadsheets: NFC, trimmed, single spaces, SARA AM written as ํ + า unified."""
    k = unicodedata.normalize("NFC", kind or "").replace("\u0e4d\u0e32", "\u0e33")
    return " ".join(k.split()).casefold()


def _kind_allowances(kind: str, policy: PolicyConfig) -> tuple[str, ...]:
    wanted = _norm_kind(kind)
    if not wanted:
        return ()
    allowed: list[str] = []
    for name, entries in policy.kind_allowances.items():
        if _norm_kind(name) == wanted:
            allowed.extend(entries)
    return tuple(allowed)


def _typo_near(domain: str, known: Iterable[str]) -> str | None:
    """The well-known domain this one is one edit away from (compared on as many labels as it has)."""
    labels = domain.split(".")
    for k in known:
        width = k.count(".") + 1
        tail = domain if len(labels) < width else ".".join(labels[-width:])
        if edit_distance_one(tail, k) or (tail != domain and edit_distance_one(domain, k)):
            return k
    return None


def policy_findings(address: str, kind: str, policy: PolicyConfig) -> list[Finding]:
    """Policy findings for one valid, normalised address of an agency of the given kind."""
    written = address.rsplit("@", 1)[-1]
    domain = _norm_domain(written)  # for matching
    shown = unicodedata.normalize("NFC", written.strip()).lower().rstrip(".")  # for messages
    findings: list[Finding] = []
    if not domain:
        return findings

    free = _match(domain, policy.free_mail_domains)
    if free is not None:
        findings.append(Finding(
            FREE_MAIL,
            f"{shown} is a free-mail provider ({free}): personal mailboxes may not be the Section 10 address",
            {"domain": shown, "provider": free},
        ))
    else:
        government = _match(domain, policy.government_suffixes)
        allowances = _kind_allowances(kind, policy)
        allowed = _match(domain, allowances)
        registered = _match(domain, policy.registered_domains)
        if government is None and allowed is None and registered is None:
            suffixes = ", ".join(policy.government_suffixes)
            extra = f" nor allowed for kind '{kind.strip()}' ({', '.join(allowances)})" if allowances else ""
            findings.append(Finding(
                NON_GOVERNMENT_DOMAIN,
                f"{shown} is not a government domain ({suffixes}){extra} and is not a registered domain",
                {"domain": shown, "kind": kind.strip(),
                 "allowed": list(policy.government_suffixes) + list(allowances)},
            ))

    if _match(domain, policy.registered_domains) is not None:
        return findings  # declared legitimate in the configuration: not a typo of anything
    known: list[str] = []
    for entry in (*policy.well_known_domains, *policy.free_mail_domains):
        e = _norm_domain(entry)
        if e and e not in known:
            known.append(e)
    if _match(domain, known) is not None:
        return findings
    gov = _match(domain, policy.government_suffixes)
    if gov is not None:
        # Names under a government suffix are registered for agencies only, and the acronyms are
        # dense (moi/mof/moe, dla/dld/dlt): one edit away is usually another real agency, and a
        # real typo there ends in NXDOMAIN anyway. Compare only with well-known names elsewhere.
        known = [k for k in known if _match(k, (gov,)) is None]
    near = _typo_near(domain, known)
    if near is not None:
        findings.append(Finding(
            TYPO_SUSPECT,
            f"{shown} is one edit away from {near}: probably a typing mistake",
            {"domain": shown, "near": near},
        ))
    return findings
