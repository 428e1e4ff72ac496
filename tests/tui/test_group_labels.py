"""Long group labels fit the groups pane (closing note of issue 15: "ไม่ใช่โดเมนของหน่วยง…" was cut at
120 columns): the count and change columns take only the cells their values need, and a label still
too long goes on under itself, broken between words, never mid-word and never cut."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from rich.cells import cell_len
from tui_helpers import screen_text, settle

import console.thai_wrap as thai_wrap
from console.config import AppConfig
from console.tui.app import SarabanApp
from console.tui.text import wrap_label
from console.tui.view import GroupLine, group_columns, group_line_text

LONG_TH = ["ไม่ใช่โดเมนของหน่วยงานรัฐ", "พร้อมใช้งาน (ประกาศจากต้นสังกัด)", "รูปแบบอีเมลไม่ถูกต้อง", "ยังไม่มีประกาศ ม.๑๐"]
LONG_EN = ["Not a government domain", "Ready (parent's announcement)", "Invalid address format", "No Section 10 announcement"]


def groups_pane_lines(app: SarabanApp, narrow: bool) -> list[str]:
    """The groups pane's rows as drawn (beside the table at 120 columns, alone at 80)."""
    rows = [line for line in screen_text(app).splitlines() if line.count("│") >= 2]
    if narrow:
        return [row.strip("│ ") for row in rows]
    return [row.split("││", 1)[1].rstrip("│ ") for row in rows if "││" in row]


@pytest.mark.parametrize(("size", "lang"), [((120, 40), "th"), ((120, 40), "en"), ((80, 24), "th")])
async def test_every_group_label_is_shown_whole(
    make_app: Callable[..., SarabanApp], config: AppConfig, size: tuple[int, int], lang: str
) -> None:
    app = make_app(config=replace(config, language=lang))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        narrow = size[0] < 120
        await pilot.press("2")  # the groups pane (alone at 80 columns, focused beside the table at 120)
        await settle(pilot, app)
        pane = groups_pane_lines(app, narrow)
        await pilot.press("end")  # wrapped lines may take the last groups below the pane's height
        await settle(pilot, app)
        pane += groups_pane_lines(app, narrow)
        text = "\n".join(pane)
        assert "…" not in text, text
        words = " ".join(part for line in pane for part in line.split())
        for label in LONG_TH if lang == "th" else LONG_EN:
            assert "".join(label.split()) in "".join(words.split()), (label, text)
        if lang == "en":  # the count lines, the phone list's too ("Tel", once labelled in Thai)
            counted = [line for line in pane if "%" in line]
            assert any(line.split()[0] == "Tel" for line in counted), text
            assert not any("\u0e00" <= ch <= "\u0e7f" for line in counted for ch in line), text


def test_a_label_wraps_between_words_under_itself() -> None:
    """In 30 cells the B2 label needs two lines: the second starts under the first's label, the
    break falls between two words (libthai), and no line is wider than the pane."""
    line = GroupLine("group:B2", "B2", "ไม่ใช่โดเมนของหน่วยงานรัฐ", 90, 1.1, 12, "BE")
    text = group_line_text(line, 0, 30, group_columns([line]))
    first, *rest = text.plain.split("\n")
    assert first.startswith("B2  90   1.1% +12 ")
    indent = first.index("ไ")
    assert len(rest) == 1 and rest[0][:indent].isspace() and not rest[0][indent].isspace()
    assert first[indent:] + rest[0][indent:] == "ไม่ใช่โดเมนของหน่วยงานรัฐ"
    assert rest[0][indent:] in ("หน่วยงานรัฐ", "งานรัฐ", "รัฐ", "ของหน่วยงานรัฐ")  # a word starts the line
    assert max(cell_len(part) for part in (first, *rest)) <= 30


def test_wrapping_never_splits_a_thai_cluster_without_libthai(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libthai the label breaks only after a space, before "(" or before a leading vowel."""
    monkeypatch.setattr(thai_wrap, "_libthai", lambda: None)
    thai_wrap.wrap.cache_clear()
    try:
        assert wrap_label("พร้อมใช้งาน (ประกาศจากต้นสังกัด)", 20) == ("พร้อมใช้งาน", "(ประกาศจากต้นสังกัด)")
        for part in wrap_label("ไม่ใช่โดเมนของหน่วยงานรัฐ", 12)[1:]:
            assert part[0] in "เแโใไ(", part
    finally:
        thai_wrap.wrap.cache_clear()
