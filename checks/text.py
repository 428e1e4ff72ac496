"""Untrusted text made harmless, in one place for the engine and the console.

SMTP banners, DNS data, agency names, addresses and notes come from outside. Before they are stored or
shown they lose terminal escape sequences, C0/C1 controls, bidi overrides and lone surrogates, so they
can never retitle a terminal, reorder what an operator reads, or break a UTF-8 JSON store.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

# 7-bit escape sequences are removed whole so their parameters do not leak ("ESC]0;title BEL" must not
# leave "]0;title"). 8-bit C1 introducers are removed one by one by _CONTROLS.
_ESCAPES = re.compile(
    r"""
      \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?      # OSC ... BEL | ST
    | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?           # DCS / SOS / PM / APC ... ST
    | \x1b\[[0-?]*[ -/]*[@-~]?                         # CSI
    | \x1b[ -/]*[0-~]?                                 # other ESC sequences (nF / Fp / Fe / Fs)
    """,
    re.VERBOSE,
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# C0 except tab and newline, DEL, C1, line/paragraph separators, bidi marks, embeddings, overrides
# and isolates, and the XML non-characters U+FFFE/U+FFFF.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
_SURROGATES = re.compile("[\ud800-\udfff]")

Newlines = Literal["keep", "space", "drop"]


def strip_unsafe(text: str, *, newlines: Newlines = "space") -> str:
    """NFC text without escapes, controls, bidi overrides or lone surrogates (→ U+FFFD); tab is kept.

    `newlines`: "keep" (multi-line text such as SMTP replies and notes; CRLF becomes LF), "space"
    (one line for a table cell or a spreadsheet), "drop".
    """
    if text.isprintable():
        # Fast path: no control, format, separator or surrogate character, so nothing to remove
        # (a console redraws thousands of cells at a time).
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    text = _SURROGATES.sub("\ufffd", text)
    text = _ESCAPES.sub("", text)
    if newlines == "keep":
        text = text.replace("\r\n", "\n")
    else:
        text = _LINE_BREAKS.sub(" " if newlines == "space" else "", text)
    return unicodedata.normalize("NFC", _CONTROLS.sub("", text))
