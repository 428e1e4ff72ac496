"""Text bound for the operator's terminal, shown safely: the one helper every CLI line goes through.

Config labels, group names, store contents and what an operator typed can hold ESC sequences, C1
controls (U+009B is a one-character CSI) or bidi overrides (U+202E reorders what is read). Written raw
they retitle the terminal, hide text or make an address read backwards. Here they are shown visibly
escaped (`\\x1b`, `\\x9b`, `\\u202e`) instead of removed, so the operator sees that something odd is
there; JSON output carries them as `\\u` escapes, which any JSON reader turns back into the same text.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 except tab and newline, DEL, C1, the bidi marks, embeddings, overrides and isolates, line and
# paragraph separators, and lone surrogates (which cannot even be encoded for the terminal).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
# In JSON text the C0 controls are already escaped by json.dumps; the rest pass through raw.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def shown(text: object) -> str:
    """`text` with every control, escape and bidi character written visibly (`\\x1b`, `\\u202e`);
    tab and newline are kept. Safe to print to a terminal."""
    value = text if isinstance(text, str) else str(text)
    if value.isprintable():
        return value  # fast path: nothing to escape
    return _UNSAFE.sub(_escape, value)


def json_text(data: Any, *, indent: int | None = None) -> str:
    """JSON with Thai readable (not \\u-escaped) but every control and bidi character escaped."""
    return _UNSAFE_IN_JSON.sub(_json_escape, json.dumps(data, ensure_ascii=False, indent=indent, default=str))
