"""The verdict codec: verdicts as clean JSON text, their compact history form, and cheap reads of both.

A verdict is kept as its JSON *text*: a national store holds ~100,000 of them and parsing/encoding them
as nested objects on every batch costs seconds; as text a batch only moves strings, and a reader parses
a verdict only when asked. The compact form (no SMTP transcript, no DNS host list, only the deciding
mail host) is computed once, when the verdict is saved.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections.abc import Iterator
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # optional: the standard library parses the same files, slower
    _orjson = None

from checks.model import ProbeResult, Verdict
from console.store.text import all_clean_json_bytes, clean_json, is_clean_json, is_clean_json_bytes

GROUP_CHANGE_UNKNOWN = ""  # the group has not changed within the kept history, which is truncated

# Verdict JSON as this store writes it (compact separators, to_json key order): the group comes
# right after the agency id and the verdict's own checked_at closes the object. Read by pattern so
# that an old shard's history can be walked without parsing ~80,000 texts; JSON is the fallback.
_TEXT_GROUP = re.compile(r'\{"agency_id":"(?:[^"\\]|\\.)*","group":"([^"\\]*)"')
_TEXT_CHECKED_AT = re.compile(r'"checked_at":"([^"\\]*)"\}\s*$')
_MAX_INT_DIGITS = 64  # no number a store writes is longer; a longer one is damage, not data


class HugeNumber(str):
    """A number too long to be anything this store wrote (e.g. 5,000 digits): kept as its text so the
    file still parses, and the shape checks (`console.store.shapes`) name the document as damaged."""


def _parse_int(text: str) -> int | str:
    # int() of a 5,000-digit text raises ValueError deep inside json (and costs quadratic time)
    return int(text) if len(text) <= _MAX_INT_DIGITS else HugeNumber(text)


def parse_json(raw: bytes | str, *, fast: bool = True) -> Any:
    """orjson for verdict data when installed (a national store's shards parse ~5x faster: the
    console's first screen waits for them); the standard library decides whatever orjson refuses
    (NaN, a lone surrogate), so what is accepted and the errors for damaged files are the same.

    Only for what this store wrote from verdicts (`fast`): orjson reads an integer beyond 64 bits as
    a float, and a verdict has none; files with operator or imported data are read exactly.
    Raises ValueError (JSON syntax, not UTF-8) or RecursionError (absurd nesting).
    """
    if fast and _orjson is not None:
        try:
            return _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw, parse_int=_parse_int)


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """For building many small objects at once (a national list view or scan makes about a million):
    the cyclic garbage collector would otherwise run hundreds of times over them for nothing, since
    nothing built here makes a cycle (measured: 3-5x the whole parse on a 2-core machine). It runs
    again afterwards; only the outermost use turns it back on, so nested and concurrent uses are safe."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def dumps(data: Any) -> str:
    """Compact JSON text, Thai readable. orjson when it can (a national scan encodes ~40,000 verdict
    texts: ~5x faster); the standard library for what orjson refuses (a lone surrogate, an integer
    beyond 64 bits), with the same separators, so the text is the same either way."""
    if _orjson is not None:
        try:
            return _orjson.dumps(data).decode("utf-8")
        except TypeError:
            pass
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dump_bytes(data: Any) -> bytes:
    if _orjson is not None:
        try:
            return _orjson.dumps(data)
        except TypeError:
            pass
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def verdict_texts(verdict: Verdict) -> tuple[str, str]:
    """The verdict as clean JSON text, and its compact history form (computed once, stored beside it)."""
    text, short, _ = verdict_parts(verdict)
    return text, short


def verdict_parts(verdict: Verdict) -> tuple[str, str, dict[str, Any]]:
    """`verdict_texts` and the compact form as data, cheaply: the cleanliness check runs on orjson's
    bytes and the compact form is read from the objects (a national scan saves 20,000 verdicts)."""
    data = verdict.to_json()
    if _orjson is not None:
        try:
            raw = _orjson.dumps(data)
        except TypeError:  # a lone surrogate, an integer beyond 64 bits: the exact, slower path
            raw = b""
        clean, text = is_clean_json_bytes(raw) if raw else (False, "")
        if clean:
            short = compact_of(verdict)
            return text, dumps(short), short
    text = dumps(data)
    if not is_clean_json(text):
        data = clean_json(data)
        text = dumps(data)
    short = compact(data)
    return text, dumps(short), short


def encode_verdicts(verdicts: list[Verdict]) -> list[tuple[bytes, str, dict[str, Any]]]:
    """(full JSON as UTF-8 bytes, compact text, compact data) of each verdict, as `verdict_parts` gives
    them, with one cleanliness check for the whole batch: a national scan saves 20,000 verdicts and
    checking each text alone cost a quarter of a second. Any doubt: each verdict on its own, exactly."""
    if _orjson is not None and verdicts:
        try:
            raws = [_orjson.dumps(v.to_json()) for v in verdicts]
        except TypeError:  # a lone surrogate, an integer beyond 64 bits
            raws = []
        if raws and all_clean_json_bytes(raws):
            out = []
            for raw, verdict in zip(raws, verdicts, strict=True):
                short = compact_of(verdict)
                out.append((raw, dumps(short), short))
            return out
    parts = [verdict_parts(v) for v in verdicts]
    return [(text.encode("utf-8"), short, data) for text, short, data in parts]


def group_and_time(text: str | None) -> tuple[str | None, str | None]:
    """Group and checked_at of a stored verdict text (compact or full); (None, None) if unreadable."""
    if not text:
        return None, None
    group = _TEXT_GROUP.match(text)
    at = _TEXT_CHECKED_AT.search(text)
    if group and at:
        return group.group(1), at.group(1)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    group, at = data.get("group"), data.get("checked_at")
    return (group if isinstance(group, str) else None), (at if isinstance(at, str) else None)


def derived_group_change(doc: dict[str, Any], history_limit: int) -> str | None:
    """For verdicts saved before `group_changed_at` was kept: walk the history, oldest first.

    The oldest kept entry counts as a change only when the history is complete (shorter than the
    limit): otherwise the group may have been the same for longer than the store remembers, and
    the answer is GROUP_CHANGE_UNKNOWN ("no change that we know of"), never a made-up date.
    """
    kept = [t for t in doc.get("history") or () if isinstance(t, str)]
    texts = [*reversed(kept), doc.get("compact") or doc.get("current")]
    truncated = history_limit > 0 and len(kept) >= history_limit
    previous: str | None = None
    changed: str | None = None
    for position, text in enumerate(texts):
        group, at = group_and_time(text)
        if group is None:
            continue
        if group != previous and not (position == 0 and truncated):
            changed = at or changed
        previous = group
    if changed is None and truncated and previous is not None:
        return GROUP_CHANGE_UNKNOWN
    return changed


def _compact_probe(probe: dict[str, Any] | None) -> dict[str, Any] | None:
    if not probe:
        return None
    attempts = [a for a in probe.get("attempts") or () if isinstance(a, dict)]
    deciding = next(
        (a for a in reversed(attempts) if a.get("outcome") == "ok"), attempts[-1] if attempts else None
    )
    dns = probe.get("dns")
    return {
        "address": probe.get("address", ""),
        "outcome": probe.get("outcome", ""),
        "dns": {k: dns.get(k) for k in ("domain", "status", "implicit_mx", "error")} if dns else None,
        "rcpt": probe.get("rcpt"),
        "attempts": [{k: deciding.get(k) for k in ("host", "ip", "port", "outcome")}] if deciding else [],
        "catch_all": probe.get("catch_all"),
        "tries": probe.get("tries", 1),
    }


def _probe_of(probe: ProbeResult | None) -> dict[str, Any] | None:
    """`_compact_probe` of a probe's `to_json()`, read from the object (no JSON in between)."""
    if probe is None:
        return None
    attempts = probe.attempts
    deciding = next((a for a in reversed(attempts) if a.outcome == "ok"), attempts[-1] if attempts else None)
    dns = probe.dns
    return {
        "address": probe.address,
        "outcome": probe.outcome,
        "dns": {"domain": dns.domain, "status": dns.status, "implicit_mx": dns.implicit_mx, "error": dns.error}
        if dns
        else None,
        "rcpt": probe.rcpt.to_json() if probe.rcpt else None,
        "attempts": [{"host": deciding.host, "ip": deciding.ip, "port": deciding.port, "outcome": deciding.outcome}]
        if deciding
        else [],
        "catch_all": probe.catch_all,
        "tries": probe.tries,
    }


def compact_of(verdict: Verdict) -> dict[str, Any]:
    """`compact(verdict.to_json())`, read from the objects: a national scan saves 20,000 verdicts."""
    evidence = verdict.evidence
    fix = verdict.suggested_fix
    return {
        "agency_id": verdict.agency_id,
        "group": verdict.group,
        "findings": [{"code": f.code, "message": f.message} for f in verdict.findings],
        "flags": list(verdict.flags),
        "evidence": {
            "declared": evidence.declared,
            "normalized": evidence.normalized,
            "probe": _probe_of(evidence.probe),
            "fix_probe": _probe_of(evidence.fix_probe),
            "rule": evidence.rule,
            "rule_index": evidence.rule_index,
            "checked_at": evidence.checked_at,
        },
        "suggested_fix": fix.to_json() if fix else None,
        "checked_at": verdict.checked_at,
    }


def compact(verdict: dict[str, Any]) -> dict[str, Any]:
    """A history entry: group, findings, flags, fix and a one-line-sized evidence.

    Dropped: SMTP transcripts, DNS host lists, all but the deciding mail host, finding details and
    timings. `Evidence.one_line()` gives the same text as for the full verdict.
    """
    evidence = verdict.get("evidence") or {}
    return {
        "agency_id": verdict.get("agency_id", ""),
        "group": verdict.get("group", ""),
        "findings": [
            {"code": f.get("code", ""), "message": f.get("message", "")}
            for f in verdict.get("findings") or ()
        ],
        "flags": verdict.get("flags") or [],
        "evidence": {
            "declared": evidence.get("declared", ""),
            "normalized": evidence.get("normalized"),
            "probe": _compact_probe(evidence.get("probe")),
            "fix_probe": _compact_probe(evidence.get("fix_probe")),
            "rule": evidence.get("rule", ""),
            "rule_index": evidence.get("rule_index", -1),
            "checked_at": evidence.get("checked_at", ""),
        },
        "suggested_fix": verdict.get("suggested_fix"),
        "checked_at": verdict.get("checked_at", ""),
    }
