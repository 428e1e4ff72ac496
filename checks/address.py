"""Read the address an agency declared: one valid address, or precise problems and a safe fix.

Syntax is judged by email-validator (no home-made syntax regex). What email-validator accepts but we
cannot use is ours to catch: Thai and other non-ASCII digits (it treats them as letters, so
`saraban_๖๖๓๐๑๙@dla.go.th` passes there but is not the mailbox that exists) and non-ASCII local
parts (valid, but not probeable without SMTPUTF8). What it refuses and we can repair (full-width
forms, invisible characters, `mailto:`, display names, several addresses in one field) gets a
suggested fix, which itself always reads back as ok.

Pure and cheap: it runs once per agency per scan; nothing is cached.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Problem codes
EMPTY = "empty"
THAI_DIGITS = "thai_digits"
NON_ASCII_DIGITS = "non_ascii_digits"
ZERO_WIDTH = "zero_width"
NBSP = "nbsp"
FULLWIDTH_AT = "fullwidth_at"
MAILTO = "mailto"
DISPLAY_NAME = "display_name"
MULTIPLE_ADDRESSES = "multiple_addresses"
CRLF = "crlf"
CONTROL_CHARS = "control_chars"
MISSING_AT = "missing_at"
MISSING_TLD = "missing_tld"
BAD_CHARACTERS = "bad_characters"
INVALID = "invalid"

# What a spreadsheet cell holds when there is no address: it means "none declared" (group C), not a
# badly written address (B3).
NO_ADDRESS_MARKS: frozenset[str] = frozenset({"-", "--", "–", "—", ".", "ไม่มี", "n/a", "na", "none", "nil"})

# Canonical order: problems are always reported in this order.
PROBLEM_CODES: tuple[str, ...] = (
    EMPTY,
    THAI_DIGITS,
    NON_ASCII_DIGITS,
    ZERO_WIDTH,
    NBSP,
    FULLWIDTH_AT,
    MAILTO,
    DISPLAY_NAME,
    MULTIPLE_ADDRESSES,
    CRLF,
    CONTROL_CHARS,
    MISSING_AT,
    MISSING_TLD,
    BAD_CHARACTERS,
    INVALID,
)
_ORDER = {code: i for i, code in enumerate(PROBLEM_CODES)}

# Problems after which no fix is proposed: the text may be an injection attempt (an SMTP command
# after a line break) and a "fix" derived from it must not be probed automatically.
_NO_SUGGESTION = frozenset({CRLF, CONTROL_CHARS})

_NBSP_CHARS = frozenset("\u00a0\u202f\u2007")  # no-break, narrow no-break, figure space
_LINE_BREAKS = frozenset("\r\n\u2028\u2029")
_FOLD_TAGS = ("<wide>", "<narrow>", "<small>")  # full-width / half-width / small forms → NFKC
_NBSP_MARK = "\u00a0"  # every kind of odd space is kept as this mark until tokenising
_SEPARATORS = re.compile(r"[\s,;/]+")
_MAILTO = re.compile(r"mailto:", re.IGNORECASE)
_ANGLE = re.compile(r"<([^<>]*)>")
_EDGE_PUNCT = "\"'()[]{}<>:`"


@dataclass(frozen=True, slots=True)
class AddressReading:
    """What the declared text is: one usable address, or what is wrong with it and how to fix it."""

    declared: str  # exactly as given
    address: str | None  # the one valid address, normalised; None unless ok
    problems: tuple[str, ...]  # problem codes (PROBLEM_CODES order); empty when ok
    suggestion: str | None  # a proposed fix that itself reads back ok, else None
    candidates: tuple[str, ...]  # every valid address found (after repairs), first = suggestion
    message: str  # English, names what is wrong; empty when ok; never holds control characters
    ascii_address: str | None = None  # `address` with the domain in IDNA (punycode) form, for the wire
    # problem code → the offending characters or fragments behind it, language-free (a Thai digit as
    # written, "U+200B" for an invisible one, "CR"/"LF", the extra addresses of a multi-address field),
    # so a console can name them in its own language; only for codes in `problems`
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    @property
    def ok(self) -> bool:
        return self.address is not None and not self.problems


@dataclass(slots=True)
class _Cleaned:
    text: str
    problems: set[str]
    notes: dict[str, list[str]]  # problem → offending characters / fragments for the message


def _u(ch: str) -> str:
    """Name an invisible or unsafe character without putting it in the message."""
    return f"U+{ord(ch):04X}"


def _clean(text: str) -> _Cleaned:
    """One pass over the characters: fold, drop or flag everything that is not plain address text."""
    problems: set[str] = set()
    notes: dict[str, list[str]] = {}
    out: list[str] = []

    def note(code: str, what: str) -> None:
        problems.add(code)
        seen = notes.setdefault(code, [])
        if what not in seen and len(seen) < 8:
            seen.append(what)

    for ch in text:
        o = ord(ch)
        if o < 128:
            if ch in "\r\n":
                note(CRLF, "CR" if ch == "\r" else "LF")
                out.append(" ")
            elif ch == "\t":
                out.append(" ")
            elif o < 32 or o == 127:
                note(CONTROL_CHARS, _u(ch))
                out.append(" ")
            else:
                out.append(ch)
            continue
        if ch in _LINE_BREAKS:
            note(CRLF, _u(ch))
            out.append(" ")
            continue
        decomposition = unicodedata.decomposition(ch)
        if decomposition.startswith(_FOLD_TAGS):
            folded = unicodedata.normalize("NFKC", ch)
            note(FULLWIDTH_AT, ch)
            # a folded form can be a space (U+3000) or an ASCII digit; never a control character
            out.append(" " if folded.isspace() else folded)
            continue
        if ch in _NBSP_CHARS:
            note(NBSP, _u(ch))
            out.append(_NBSP_MARK)
            continue
        category = unicodedata.category(ch)
        if category == "Zs":  # other Unicode spaces (en space, thin space, ...)
            note(NBSP, _u(ch))
            out.append(_NBSP_MARK)
        elif category == "Cf":  # zero-width, BOM, soft hyphen, bidi marks: invisible → dropped
            note(ZERO_WIDTH, _u(ch))
        elif category in ("Cc", "Cs"):  # C1 controls (NEL, CSI, ...) and lone surrogates
            note(CONTROL_CHARS, _u(ch))
            out.append(" ")
        elif category == "Nd":
            value = unicodedata.digit(ch, None)
            if value is None:  # pragma: no cover - every Nd character has a digit value
                out.append(ch)
                continue
            note(THAI_DIGITS if 0x0E50 <= o <= 0x0E59 else NON_ASCII_DIGITS, ch)
            out.append(str(value))
        else:
            out.append(ch)
    return _Cleaned("".join(out), problems, notes)


@dataclass(slots=True)
class _Tried:
    address: str | None  # normalised address (Unicode domain as written form allows)
    ascii_address: str | None
    problem: str | None  # why it is not usable
    reason: str  # email-validator's (or our) reason


def _validate(text: str) -> _Tried:
    """Validate one address candidate with email-validator, then apply our own rules."""
    # Imported here: compiling its patterns costs ~0.1 s, paid by the first address read, not by
    # every program that imports this module (the console's first screen reads no address).
    from email_validator import EmailNotValidError, validate_email

    if "@" not in text:
        return _Tried(None, None, MISSING_AT, "there is no @ sign")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc)
        domain = text.rsplit("@", 1)[1].strip().rstrip(".")
        if domain and "." not in domain and "invalid character" not in reason:
            return _Tried(None, None, MISSING_TLD, reason)
        if "invalid character" in reason or "unsafe character" in reason:
            return _Tried(None, None, BAD_CHARACTERS, reason)
        return _Tried(None, None, INVALID, reason)
    except Exception as exc:  # a validator bug must not stop a scan of 8,000 agencies
        return _Tried(None, None, INVALID, f"the address could not be read ({type(exc).__name__})")
    local = result.local_part
    if not local.isascii():
        return _Tried(None, None, BAD_CHARACTERS,
                      "the part before the @ sign has non-ASCII letters, which cannot be checked "
                      "without SMTPUTF8")
    ascii_domain = result.ascii_domain
    written_domain = text.rsplit("@", 1)[1]
    # Keep the domain in the form it was written: punycode stays punycode (so that what is stored
    # is what goes on the wire), a Thai IDN stays readable.
    domain = ascii_domain if written_domain.isascii() else result.domain
    if any(unicodedata.category(c) == "Nd" and not c.isascii() for c in result.domain):
        # punycode of a name with Thai digits (xn--dopa-opo.go.th = dopa๑.go.th): the same mistake
        return _Tried(None, None, BAD_CHARACTERS, "the domain decodes to a name with non-ASCII digits")
    return _Tried(f"{local}@{domain}", f"{local}@{ascii_domain}", None, "")


def _is_fixed_point(address: str) -> bool:
    """A suggestion must read back unchanged: no character our cleaning would alter."""
    cleaned = _clean(address)
    return not cleaned.problems and cleaned.text == address


def _strip_token(token: str, mailto: bool) -> str:
    """Trim punctuation around one token (quotes, brackets, a sentence's final period)."""
    if mailto and "?" in token:  # mailto:a@b?subject=... (already reported as "mailto")
        token = token.split("?", 1)[0]
    return token.strip(_EDGE_PUNCT).rstrip(".").strip(_EDGE_PUNCT)


def _safe(text: str, limit: int = 80) -> str:
    """Untrusted text for a message: no control or invisible characters, bounded length."""
    result = "".join(ch if ch.isprintable() and ch != _NBSP_MARK else _u(ch) for ch in text)
    return result if len(result) <= limit else result[: limit - 1] + "…"


def _message(problems: set[str], notes: dict[str, list[str]], reasons: dict[str, str],
             suggestion: str | None) -> str:
    parts: list[str] = []
    for code in sorted(problems, key=_ORDER.__getitem__):
        seen = ", ".join(_safe(s) for s in notes.get(code, []))
        if code == EMPTY:
            parts.append("No address is declared.")
        elif code == THAI_DIGITS:
            parts.append(f"The address is written with Thai digits ({seen}); mail servers only know ASCII digits.")
        elif code == NON_ASCII_DIGITS:
            parts.append(f"The address is written with non-ASCII digits ({seen}).")
        elif code == ZERO_WIDTH:
            parts.append(f"The address contains invisible characters ({seen}).")
        elif code == NBSP:
            parts.append(f"The address contains non-breaking or other Unicode spaces ({seen}).")
        elif code == FULLWIDTH_AT:
            parts.append(f"The address contains full-width characters ({seen}).")
        elif code == MAILTO:
            parts.append("The address is written as a 'mailto:' link.")
        elif code == DISPLAY_NAME:
            parts.append(f"The field holds a name or other text beside the address ({seen})."
                         if seen else "The field holds a name or angle brackets around the address.")
        elif code == MULTIPLE_ADDRESSES:
            parts.append(f"The field holds several addresses ({seen}); declare exactly one.")
        elif code == CRLF:
            parts.append(f"The field contains a line break ({seen}); nothing is derived from it.")
        elif code == CONTROL_CHARS:
            parts.append(f"The field contains control characters ({seen}); nothing is derived from it.")
        elif code == MISSING_AT:
            parts.append("The address has no @ sign.")
        elif code == MISSING_TLD:
            parts.append(f"The domain has no top-level domain (such as .go.th): {reasons.get(code, '')}".strip())
        elif code == BAD_CHARACTERS:
            parts.append(f"The address contains characters that are not allowed: {reasons.get(code, '')}".strip())
        elif code == INVALID:
            parts.append(f"The address is not valid: {reasons.get(code, '')}".strip())
    parts = [p if p.endswith((".", ")")) else p + "." for p in parts]
    if suggestion:
        parts.append(f"Suggested fix: {suggestion}")
    return _safe(" ".join(parts), limit=1000)


def _reading(declared: str, address: str | None, ascii_address: str | None, problems: set[str],
             candidates: list[str], notes: dict[str, list[str]], reasons: dict[str, str]) -> AddressReading:
    ordered = tuple(sorted(problems, key=_ORDER.__getitem__))
    if not ordered:
        return AddressReading(declared, address, (), None, (address,) if address else (), "", ascii_address)
    suggestion = candidates[0] if candidates and not (problems & _NO_SUGGESTION) else None
    seen = {code: tuple(_safe(s) for s in notes[code]) for code in ordered if notes.get(code)}
    return AddressReading(declared, None, ordered, suggestion, tuple(candidates),
                          _message(problems, notes, reasons, suggestion), None, seen)


_LABEL_GAP_COMMA = re.compile(r"(?<=[A-Za-z0-9])\s*,\s*(?=[A-Za-z0-9])", re.ASCII)
_LABEL_GAP_SPACE = re.compile(r"(?<=[A-Za-z0-9])\s+(?=[A-Za-z0-9])", re.ASCII)


def _domain_slip(body: str, mailto: bool, *, comma: bool) -> str | None:
    """The address with a comma (or a space) between two domain labels read as the dot it stood for,
    when that gives a valid address; None otherwise."""
    if body.count("@") != 1:
        return None
    local, _, domain = body.partition("@")
    gap = _LABEL_GAP_COMMA if comma else _LABEL_GAP_SPACE
    if not gap.search(domain):
        return None
    repaired = _strip_token((local + "@" + gap.sub(".", domain)).replace(" ", ""), mailto)
    tried = _validate(repaired)
    if tried.address is None or not _is_fixed_point(tried.address):
        return None
    return tried.address


def read_address(declared: str) -> AddressReading:
    """Read one declared Section 10 address (a spreadsheet cell, exactly as written)."""
    if not isinstance(declared, str):
        declared = "" if declared is None else str(declared)
    text = declared.strip(" \t")
    cleaned = _clean(text)
    problems = set(cleaned.problems)
    notes = cleaned.notes
    reasons: dict[str, str] = {}
    body = cleaned.text.replace(_NBSP_MARK, " ").strip()
    if not body or body.casefold() in NO_ADDRESS_MARKS:
        problems.add(EMPTY)
        return _reading(declared, None, None, problems, [], notes, reasons)

    if _MAILTO.search(body):
        problems.add(MAILTO)
        body = _MAILTO.sub(" ", body).strip()
    mailto = MAILTO in problems

    # 1. The whole text as one address, odd spaces dropped (they never belong inside an address).
    whole = cleaned.text.replace(_NBSP_MARK, "")
    whole = _MAILTO.sub("", whole).strip() if mailto else whole.strip()
    if mailto and "?" in whole:
        whole = whole.split("?", 1)[0]
    if "<" not in whole and not (problems & _NO_SUGGESTION):
        tried = _validate(whole)
        if tried.address is not None and _is_fixed_point(tried.address):
            return _reading(declared, tried.address, tried.ascii_address, problems, [tried.address], notes,
                            reasons)

    # 1b. One address whose domain has a comma for a dot ("saraban@maeramat,go.th"): a slip, not a list.
    slipped = _domain_slip(body, mailto, comma=True)
    if slipped is not None and not (problems & _NO_SUGGESTION):
        problems.add(BAD_CHARACTERS)
        reasons[BAD_CHARACTERS] = "a comma where a dot belongs in the domain"
        return _reading(declared, None, None, problems, [slipped], notes, reasons)

    # 2. Token by token: angle brackets, display names, several addresses in one field.
    if _ANGLE.search(body):
        problems.add(DISPLAY_NAME)
        body = _ANGLE.sub(lambda m: f" {m.group(1)} ", body)
    tokens = [t for t in _SEPARATORS.split(body) if t]
    at_tokens: list[str] = []
    others: list[str] = []
    candidates: list[str] = []
    failures: list[_Tried] = []
    for token in tokens:
        if "@" not in token:
            others.append(token)
            continue
        at_tokens.append(token)
        stripped = _strip_token(token, mailto)
        tried = _validate(stripped)
        if tried.address is not None and _is_fixed_point(tried.address):
            if tried.address not in candidates:
                candidates.append(tried.address)
        else:
            failures.append(tried)

    if len(at_tokens) >= 2:
        problems.add(MULTIPLE_ADDRESSES)
        notes[MULTIPLE_ADDRESSES] = [_safe(t, 60) for t in at_tokens[:4]]
    if problems & _NO_SUGGESTION:
        # A line break or control character: possibly an injection ("x@y\r\nRCPT TO:<z@w>").
        # Report it and the addresses seen, derive nothing else from the text.
        return _reading(declared, None, None, problems, candidates, notes, reasons)
    if candidates:
        residue = [t for t in others if t.strip(_EDGE_PUNCT)]
        if residue and len(at_tokens) == 1:  # "Name a@b.go.th", "Email: a@b.go.th"
            problems.add(DISPLAY_NAME)
            notes[DISPLAY_NAME] = [_safe(" ".join(residue), 60)]
        if not problems & {DISPLAY_NAME, MULTIPLE_ADDRESSES}:
            # the whole text failed, one token is fine: stray punctuation or separators around it
            problems.add(BAD_CHARACTERS)
            reasons[BAD_CHARACTERS] = "punctuation or separators around the address"
        for failure in failures:  # the other, unusable addresses of a multi-address field
            if failure.problem and failure.problem not in reasons:
                problems.add(failure.problem)
                reasons[failure.problem] = failure.reason
        return _reading(declared, None, None, problems, candidates, notes, reasons)

    # 3. Nothing valid as tokens: spaces inside one address ("saraban @ dla.go.th")?
    if len(at_tokens) <= 1 and body.count("@") == 1 and " " in body:
        # a space between two labels of the domain stood for a dot ("maeramat go.th"); elsewhere it goes
        joined = _domain_slip(body, mailto, comma=False) or _strip_token(body.replace(" ", ""), mailto)
        tried = _validate(joined)
        if tried.address is not None and _is_fixed_point(tried.address):
            problems.add(BAD_CHARACTERS)
            reasons[BAD_CHARACTERS] = "spaces inside the address"
            return _reading(declared, None, None, problems, [tried.address], notes, reasons)

    # 4. Not an address: say the most specific thing that is wrong.
    if not at_tokens:
        problems.add(MISSING_AT)
    else:
        for failure in failures:
            if failure.problem:
                problems.add(failure.problem)
                reasons.setdefault(failure.problem, failure.reason)
    if not (problems - {THAI_DIGITS, NON_ASCII_DIGITS, ZERO_WIDTH, NBSP, FULLWIDTH_AT, MAILTO, DISPLAY_NAME,
                        MULTIPLE_ADDRESSES, CRLF, CONTROL_CHARS}):
        # safety net: a field that is not an address always names a reason, never only a repair
        problems.add(INVALID)
        reasons.setdefault(INVALID, "the text is not one valid address")
    return _reading(declared, None, None, problems, [], notes, reasons)
