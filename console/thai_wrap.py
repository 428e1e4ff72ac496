"""Wrapping a short label (a group's name) to a width: Thai is written without spaces between words,
so the line breaks come from libthai's dictionary (`th_brk_find_breaks`, the word breaker Pango and
LibreOffice use; Debian's libthai0, called through ctypes) and, where libthai is missing, from the
few places a Thai syllable surely starts (a leading vowel เ แ โ ใ ไ) and from spaces and "(".
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache, lru_cache

from rich.cells import cell_len

from console.thai import LEADING_VOWELS

MAX_BREAKS = 256


class _LibThai:
    """libthai's word breaker: the positions (in characters) where a Thai word ends."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        lib.th_brk_new.restype = ctypes.c_void_p
        lib.th_brk_new.argtypes = [ctypes.c_char_p]
        lib.th_brk_find_breaks.restype = ctypes.c_int
        lib.th_brk_find_breaks.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_size_t]
        self._lib = lib
        self._brk = lib.th_brk_new(None)
        if not self._brk:
            raise OSError("libthai has no dictionary")

    def breaks(self, value: str) -> list[int]:
        try:
            encoded = value.encode("tis-620")  # one byte per character: positions are character indexes
        except UnicodeEncodeError:
            return []
        positions = (ctypes.c_int * MAX_BREAKS)()
        found = self._lib.th_brk_find_breaks(self._brk, encoded, positions, MAX_BREAKS)
        return [positions[i] for i in range(max(0, found)) if 0 < positions[i] < len(value)]


SONAME = "libthai.so.0"  # Debian's libthai0: loaded by name, without find_library's `ldconfig -p` (a process)


@cache
def _libthai() -> _LibThai | None:
    try:
        lib = ctypes.CDLL(SONAME)
    except OSError:
        name = ctypes.util.find_library("thai")
        if not name:
            return None
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            return None
    try:
        return _LibThai(lib)
    except (OSError, AttributeError):
        return None


def break_points(value: str) -> list[list[int]]:
    """Where a line may break, best kind first: after a space or before "("; between Thai words
    (libthai); before a Thai leading vowel (a syllable start, when libthai is missing)."""
    plain = [i for i in range(1, len(value)) if value[i - 1] == " " or value[i] == "("]
    breaker = _libthai()
    if breaker is not None:
        return [plain, breaker.breaks(value)]
    return [plain, [i for i in range(1, len(value)) if value[i] in LEADING_VOWELS]]


def _best_break(value: str, width: int) -> int:
    """The break of the best kind that fits `width` without leaving a stub (a first line of a third
    of the width or more, unless the rest then fits on one line); else the longest first line."""
    longest = 0
    for points in break_points(value):
        fitting = [i for i in points if cell_len(value[:i].rstrip()) <= width]
        if not fitting:
            continue
        cut = fitting[-1]
        longest = max(longest, cut)
        if cell_len(value[:cut]) * 3 >= width or cell_len(value[cut:].lstrip()) <= width:
            return cut
    return longest


@lru_cache(maxsize=512)
def wrap(value: str, width: int, max_lines: int = 3) -> tuple[str, ...]:
    """`value` in lines of at most `width` cells where it can be broken; the last line may still be
    longer (the widget cuts it with an ellipsis). A width of 0 means one line."""
    lines: list[str] = []
    while cell_len(value) > width > 0 and len(lines) < max_lines - 1:
        cut = _best_break(value, width)
        if not cut:
            break
        lines.append(value[:cut].rstrip())
        value = value[cut:].lstrip()
    lines.append(value)
    return tuple(lines)
