"""The address reader exposes the offending characters as language-free data, for the console's own words."""

from __future__ import annotations

from checks.address import read_address
from console.findings_text import problems_text


def test_reading_notes_name_the_offending_characters() -> None:
    reading = read_address("saraban_๖๖๓๐๑๙@dla.go.th")
    assert reading.notes == {"thai_digits": ("๖", "๓", "๐", "๑", "๙")}
    assert read_address("x\u200b@dla.go.th").notes == {"zero_width": ("U+200B",)}
    assert read_address("a@dla.go.th\r\nRCPT TO:<b@c.go.th>").notes["crlf"] == ("CR", "LF")
    assert read_address("saraban@dla.go.th").notes == {}
    assert set(read_address("Name <a@b.go.th>, c@d.go.th").notes) <= set(
        read_address("Name <a@b.go.th>, c@d.go.th").problems
    )
    hash(reading)  # still usable as a dict key / in a set


def test_notes_never_carry_control_characters() -> None:
    reading = read_address("saraban\x1b]2;pwned\x07@dla.go.th")
    for seen in reading.notes.values():
        assert all(s.isprintable() for s in seen)
    text = problems_text(reading.problems, reading.notes, None, "th", fallback=reading.message)
    assert "\x1b" not in text and "\x07" not in text and "U+001B" in text
