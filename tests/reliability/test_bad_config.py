"""A bad configuration is refused at start with the line and the reason, never silently defaulted."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from console.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_and_equals_the_builtin_defaults() -> None:
    from checks.config import DEFAULT_RULES, EngineConfig

    config = load_config(EXAMPLE)
    assert config.engine.rules == DEFAULT_RULES
    assert config.engine.smtp == EngineConfig().smtp
    assert config.engine.policy.kind_allowances["มหาวิทยาลัยของรัฐ"] == ("ac.th",)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[smtp]\nport = 25\ntimeuot = 3\n", 3, "unknown key"),
        ("[smtp]\n\nretries = \"two\"\n", 3, "whole number"),
        ("[dns]\ntimeout = true\n", 2, "number"),
        ("[limits]\nrcpt_per_session = 0\n", 2, "at least 1"),
        ("[general]\nlanguage = \"fr\"\n", 2, "th"),
        ("[general]\nlock_timeout = 0\n", 2, "at least 0.1"),
        ("[general]\nlock_timeout = nan\n", 2, "finite"),
        ("[general]\nlock_timeout = \"30 s\"\n", 2, "must be a number"),
        ("[smpt]\nport = 25\n", 1, "unknown section"),
        ("[canary]\nconnect = \"mx.example.go.th\"\n", 2, "host:port"),
        ("[policy]\nfree_mail = [\"gmail.com\"]\n", 2, "unknown key"),
    ],
)
def test_bad_values_name_the_line_and_reason(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert f"{path}:{line}:" in message
    assert words in message


def test_impossible_rule_order_is_refused(tmp_path: Path) -> None:
    text = (
        '[[rules]]\ngroup = "A1"\nall_of = ["mail_accepted"]\n\n'
        '[[rules]]\ngroup = "A2"\nall_of = ["mail_accepted", "parent_announcement"]\n'
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "impossible rule order" in str(info.value)
    assert f"{path}:5:" in str(info.value)  # the [[rules]] of the rule that can never apply


def test_unknown_finding_code_in_rule_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rules]]\ngroup = "X"\nany_of = ["mailbox_missing"]\n')
    with pytest.raises(ConfigError, match="unknown finding code 'mailbox_missing'"):
        load_config(path)


def test_broken_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[smtp\nport = 25\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_cli_exits_2_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[smtp]\nport = \"twenty-five\"\n")
    code = main(["--config", str(path), "report"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{path}:2" in err and "smtp.port" in err
