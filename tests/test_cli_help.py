"""`--help` in the operator's language: every option and argument of every subcommand is described in
Thai with `--lang th` (or the config's language) and in English with `--lang en`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.cli import main

THAI = re.compile(r"[\u0e00-\u0e7f]")
ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as ended:
        main([*argv, "--help"])
    assert ended.value.code == 0
    return capsys.readouterr().out


def _entries(text: str) -> dict[str, str]:
    """argparse's option and argument lines: invocation → its help (continuation lines joined)."""
    entries: dict[str, str] = {}
    current: str | None = None
    in_section = False
    for line in text.splitlines():
        if line and not line.startswith(" "):  # a section heading ("options:", "positional arguments:")
            in_section = line.endswith(":") and not line.startswith("usage")
            current = None
            continue
        if not in_section or not line.strip():
            continue
        if re.match(r"^  \S", line):
            invocation, _, help_text = line.strip().partition("  ")
            if invocation.startswith("{"):  # the list of subcommands, each described below it
                current = None
                continue
            current = invocation
            entries[current] = help_text.strip()
        elif current is not None:
            entries[current] = f"{entries[current]} {line.strip()}".strip()
    return entries


def _subcommands(capsys: pytest.CaptureFixture[str]) -> list[str]:
    usage = _help(capsys, "--lang", "en")
    found = re.search(r"\{(check,[a-z,]+)\}", usage)
    assert found is not None
    return found.group(1).split(",")


def test_every_option_of_every_subcommand_is_described_in_thai(capsys: pytest.CaptureFixture[str]) -> None:
    names = _subcommands(capsys)
    assert {"check", "import", "export", "demo", "same", "different"} <= set(names)
    untranslated: list[str] = []
    for name in ["", *names]:
        argv = ["--lang", "th", *([name] if name else [])]
        entries = _entries(_help(capsys, *argv))
        assert entries, name
        untranslated += [f"{name or 'saraban'} {opt}: {text!r}" for opt, text in entries.items() if not THAI.search(text)]
    assert untranslated == []


def test_check_help_in_thai_and_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    thai = _entries(_help(capsys, "--lang", "th", "check"))
    english = _entries(_help(capsys, "--lang", "en", "check"))
    assert set(thai) == set(english)
    assert {"-h, --help", "--sheet NAME", "--json", "--province PROVINCE", "file"} <= set(thai)
    for option, text in thai.items():
        assert THAI.search(text), option
    for option, text in english.items():
        assert ENGLISH_WORD.search(THAI.sub("", text)), option  # English words ("ลำดับที่" may stand in it)
    assert thai["--json"] == "พิมพ์ JSON หนึ่งบรรทัดต่อหนึ่งหน่วยงาน"
    assert english["--json"] == "one JSON object per agency per line"


def test_help_follows_the_config_language(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "saraban.toml"
    config.write_text('[general]\nlanguage = "th"\n', encoding="utf-8")
    entries = _entries(_help(capsys, "--config", str(config), "import"))
    assert entries["--map COLUMN=FIELD"].startswith("อ่านหัวคอลัมน์นี้เป็นช่องข้อมูลนี้")
    assert THAI.search(entries["source"])
