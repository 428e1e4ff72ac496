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
from collections.abc import Callable
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
# Problems that describe a repair of the text, not why it is no address at all
_REPAIRS_ONLY = frozenset({THAI_DIGITS, NON_ASCII_DIGITS, ZERO_WIDTH, NBSP, FULLWIDTH_AT, MAILTO, DISPLAY_NAME,
                           MULTIPLE_ADDRESSES, CRLF, CONTROL_CHARS})

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


# What the cleaning does to one character: (the text it becomes, (problem, what to name in the message)).
_Fold = tuple[str, tuple[str, str] | None]


def _fold_ascii(ch: str) -> _Fold:
    if ch in "\r\n":
        return " ", (CRLF, "CR" if ch == "\r" else "LF")
    if ch == "\t":
        return " ", None
    if ord(ch) < 32 or ord(ch) == 127:
        return " ", (CONTROL_CHARS, _u(ch))
    return ch, None


def _fold_other(ch: str) -> _Fold:
    if ch in _LINE_BREAKS:
        return " ", (CRLF, _u(ch))
    if unicodedata.decomposition(ch).startswith(_FOLD_TAGS):
        folded = unicodedata.normalize("NFKC", ch)
        # a folded form can be a space (U+3000) or an ASCII digit; never a control character
        return (" " if folded.isspace() else folded), (FULLWIDTH_AT, ch)
    if ch in _NBSP_CHARS:
        return _NBSP_MARK, (NBSP, _u(ch))
    category = unicodedata.category(ch)
    if category == "Zs":  # other Unicode spaces (en space, thin space, ...)
        return _NBSP_MARK, (NBSP, _u(ch))
    if category == "Cf":  # zero-width, BOM, soft hyphen, bidi marks: invisible → dropped
        return "", (ZERO_WIDTH, _u(ch))
    if category in ("Cc", "Cs"):  # C1 controls (NEL, CSI, ...) and lone surrogates
        return " ", (CONTROL_CHARS, _u(ch))
    value = unicodedata.digit(ch, None) if category == "Nd" else None
    if value is not None:
        return str(value), (THAI_DIGITS if 0x0E50 <= ord(ch) <= 0x0E59 else NON_ASCII_DIGITS, ch)
    return ch, None


def _clean(text: str) -> _Cleaned:
    """One pass over the characters: fold, drop or flag everything that is not plain address text."""
    problems: set[str] = set()
    notes: dict[str, list[str]] = {}
    out: list[str] = []
    for ch in text:
        replacement, problem = _fold_ascii(ch) if ord(ch) < 128 else _fold_other(ch)
        out.append(replacement)
        if problem is not None:
            code, what = problem
            problems.add(code)
            seen = notes.setdefault(code, [])
            if what not in seen and len(seen) < 8:
                seen.append(what)
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


# What each problem says; `seen` names the offending characters or fragments, `why` is the validator's
# (or our) reason. English: the console translates by code (`console.findings_text`).
_MESSAGES: dict[str, Callable[[str, str], str]] = {
    EMPTY: lambda seen, why: "No address is declared.",
    THAI_DIGITS: lambda seen, why: f"The address is written with Thai digits ({seen}); mail servers only know "
    "ASCII digits.",
    NON_ASCII_DIGITS: lambda seen, why: f"The address is written with non-ASCII digits ({seen}).",
    ZERO_WIDTH: lambda seen, why: f"The address contains invisible characters ({seen}).",
    NBSP: lambda seen, why: f"The address contains non-breaking or other Unicode spaces ({seen}).",
    FULLWIDTH_AT: lambda seen, why: f"The address contains full-width characters ({seen}).",
    MAILTO: lambda seen, why: "The address is written as a 'mailto:' link.",
    DISPLAY_NAME: lambda seen, why: f"The field holds a name or other text beside the address ({seen})."
    if seen else "The field holds a name or angle brackets around the address.",
    MULTIPLE_ADDRESSES: lambda seen, why: f"The field holds several addresses ({seen}); declare exactly one.",
    CRLF: lambda seen, why: f"The field contains a line break ({seen}); nothing is derived from it.",
    CONTROL_CHARS: lambda seen, why: f"The field contains control characters ({seen}); nothing is derived from it.",
    MISSING_AT: lambda seen, why: "The address has no @ sign.",
    MISSING_TLD: lambda seen, why: f"The domain has no top-level domain (such as .go.th): {why}".strip(),
    BAD_CHARACTERS: lambda seen, why: f"The address contains characters that are not allowed: {why}".strip(),
    INVALID: lambda seen, why: f"The address is not valid: {why}".strip(),
}


def _message(problems: set[str], notes: dict[str, list[str]], reasons: dict[str, str],
             suggestion: str | None) -> str:
    parts = [
        _MESSAGES[code](", ".join(_safe(s) for s in notes.get(code, [])), reasons.get(code, ""))
        for code in sorted(problems, key=_ORDER.__getitem__)
    ]
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


@dataclass(slots=True)
class _Read:
    """What one reading has found so far; each stage of `read_address` adds to it or gives the answer."""

    declared: str
    problems: set[str]
    notes: dict[str, list[str]]
    mailto: bool = False
    reasons: dict[str, str] = field(default_factory=dict)

    def answer(self, candidates: list[str], address: str | None = None,
               ascii_address: str | None = None) -> AddressReading:
        return _reading(self.declared, address, ascii_address, self.problems, candidates, self.notes, self.reasons)

    def repaired(self, candidate: str, reason: str) -> AddressReading:
        """One address after a repair the operator must confirm (a slip of punctuation or spaces)."""
        self.problems.add(BAD_CHARACTERS)
        self.reasons[BAD_CHARACTERS] = reason
        return self.answer([candidate])

    def failed(self, failures: list[_Tried], *, keep_first: bool) -> None:
        """Name why the unusable candidates failed (`keep_first`: only problems not named yet)."""
        for failure in failures:
            if failure.problem and not (keep_first and failure.problem in self.reasons):
                self.problems.add(failure.problem)
                self.reasons.setdefault(failure.problem, failure.reason)


def _usable(tried: _Tried) -> str | None:
    """The address when it validates and reads back unchanged, else None."""
    return tried.address if tried.address is not None and _is_fixed_point(tried.address) else None


def _whole_text(read: _Read, cleaned: str) -> AddressReading | None:
    """1. The whole text as one address, odd spaces dropped (they never belong inside an address)."""
    whole = cleaned.replace(_NBSP_MARK, "")
    whole = _MAILTO.sub("", whole).strip() if read.mailto else whole.strip()
    if read.mailto and "?" in whole:
        whole = whole.split("?", 1)[0]
    if "<" in whole or read.problems & _NO_SUGGESTION:
        return None
    tried = _validate(whole)
    address = _usable(tried)
    return read.answer([address], address, tried.ascii_address) if address else None


@dataclass(slots=True)
class _Tokens:
    with_at: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    failures: list[_Tried] = field(default_factory=list)


def _tokens(body: str, mailto: bool) -> _Tokens:
    """2. Token by token: display names, several addresses in one field."""
    found = _Tokens()
    for token in (t for t in _SEPARATORS.split(body) if t):
        if "@" not in token:
            found.others.append(token)
            continue
        found.with_at.append(token)
        tried = _validate(_strip_token(token, mailto))
        address = _usable(tried)
        if address is None:
            found.failures.append(tried)
        elif address not in found.candidates:
            found.candidates.append(address)
    return found


def _from_candidates(read: _Read, found: _Tokens) -> AddressReading:
    """Some tokens are addresses: say what is around them; the operator picks one."""
    residue = [t for t in found.others if t.strip(_EDGE_PUNCT)]
    if residue and len(found.with_at) == 1:  # "Name a@b.go.th", "Email: a@b.go.th"
        read.problems.add(DISPLAY_NAME)
        read.notes[DISPLAY_NAME] = [_safe(" ".join(residue), 60)]
    if not read.problems & {DISPLAY_NAME, MULTIPLE_ADDRESSES}:
        # the whole text failed, one token is fine: stray punctuation or separators around it
        read.problems.add(BAD_CHARACTERS)
        read.reasons[BAD_CHARACTERS] = "punctuation or separators around the address"
    read.failed(found.failures, keep_first=True)  # the other, unusable addresses of a multi-address field
    return read.answer(found.candidates)


def _spaced(read: _Read, body: str, found: _Tokens) -> AddressReading | None:
    """3. Nothing valid as tokens: spaces inside one address ("saraban @ dla.go.th")?"""
    if len(found.with_at) > 1 or body.count("@") != 1 or " " not in body:
        return None
    # a space between two labels of the domain stood for a dot ("maeramat go.th"); elsewhere it goes
    joined = _domain_slip(body, read.mailto, comma=False) or _strip_token(body.replace(" ", ""), read.mailto)
    address = _usable(_validate(joined))
    return read.repaired(address, "spaces inside the address") if address else None


def _not_an_address(read: _Read, found: _Tokens) -> AddressReading:
    """4. Not an address: say the most specific thing that is wrong."""
    if not found.with_at:
        read.problems.add(MISSING_AT)
    else:
        read.failed(found.failures, keep_first=False)
    if not (read.problems - _REPAIRS_ONLY):
        # safety net: a field that is not an address always names a reason, never only a repair
        read.problems.add(INVALID)
        read.reasons.setdefault(INVALID, "the text is not one valid address")
    return read.answer([])


def read_address(declared: str) -> AddressReading:
    """Read one declared Section 10 address (a spreadsheet cell, exactly as written)."""
    if not isinstance(declared, str):
        declared = "" if declared is None else str(declared)
    cleaned = _clean(declared.strip(" \t"))
    read = _Read(declared, set(cleaned.problems), cleaned.notes)
    body = cleaned.text.replace(_NBSP_MARK, " ").strip()
    if not body or body.casefold() in NO_ADDRESS_MARKS:
        read.problems.add(EMPTY)
        return read.answer([])
    if _MAILTO.search(body):
        read.problems.add(MAILTO)
        body = _MAILTO.sub(" ", body).strip()
    read.mailto = MAILTO in read.problems
    whole = _whole_text(read, cleaned.text)
    if whole is not None:
        return whole
    # 1b. One address whose domain has a comma for a dot ("saraban@maeramat,go.th"): a slip, not a list.
    slipped = _domain_slip(body, read.mailto, comma=True)
    if slipped is not None and not (read.problems & _NO_SUGGESTION):
        return read.repaired(slipped, "a comma where a dot belongs in the domain")
    if _ANGLE.search(body):
        read.problems.add(DISPLAY_NAME)
        body = _ANGLE.sub(lambda m: f" {m.group(1)} ", body)
    found = _tokens(body, read.mailto)
    if len(found.with_at) >= 2:
        read.problems.add(MULTIPLE_ADDRESSES)
        read.notes[MULTIPLE_ADDRESSES] = [_safe(t, 60) for t in found.with_at[:4]]
    if read.problems & _NO_SUGGESTION:
        # A line break or control character: possibly an injection ("x@y\r\nRCPT TO:<z@w>").
        # Report it and the addresses seen, derive nothing else from the text.
        return read.answer(found.candidates)
    if found.candidates:
        return _from_candidates(read, found)
    return _spaced(read, body, found) or _not_an_address(read, found)
