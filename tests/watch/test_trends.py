"""Trends: bucket shares per scan, and `saraban report --since` naming the agencies that moved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from checks.config import DEFAULT_RULES
from checks.sim.internet import SimInternetThread
from console.cli import main
from console.trends import TrendError, parse_since, trend_points
from tests.watch.simworld import create_mailbox, watch_world


def test_points_give_shares_of_the_checked_per_scan_and_per_province() -> None:
    snaps = [
        {"at": "2026-11-01T09:00:00+07:00", "counts": {"ตาก": {"A1": 6, "D3": 3, "W": 1}, "น่าน": {"D1": 10}}},
        {"at": "2026-11-02T09:00:00+07:00", "counts": {}},  # a scan with nothing checked is left out
        {"at": "2026-12-01T09:00:00+07:00", "counts": {"ตาก": {"A1": 8, "A2": 1, "E": 1}, "น่าน": {"A1": 10}}},
    ]
    whole = trend_points(snaps, DEFAULT_RULES)
    assert [(p.a, p.be, p.w) for p in whole] == [(6, 13, 1), (19, 1, 0)]
    tak = trend_points(snaps, DEFAULT_RULES, "ตาก")
    assert [round(p.share("A"), 1) for p in tak] == [60.0, 90.0]
    assert [round(p.share("W"), 1) for p in tak] == [10.0, 0.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-01", "2026-11-01"), ("01/11/2569", "2026-11-01"), ("๑/๑๑/๒๕๖๙", "2026-11-01"), ("2569-11-01", "2026-11-01")],
)
def test_since_accepts_ce_iso_and_be_dates(text: str, expected: str) -> None:
    assert parse_since(text).isoformat() == expected


@pytest.mark.parametrize("text", ["yesterday", "31/02/2569", "2026-13-01", ""])
def test_a_bad_since_date_says_how_to_write_it(text: str) -> None:
    with pytest.raises(TrendError, match="01/11/2569"):
        parse_since(text)


@pytest.fixture
def two_scans(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """A store scanned twice; between the scans wait-1's mailbox was created (D3 → A1)."""
    world = watch_world(greylist_seconds=3600)
    with SimInternetThread(world) as sim:
        cfg = sim.engine_config(retries=0)
        config = tmp_path / "config.toml"
        config.write_text(
            f"[dns]\nnameservers = [\"127.0.0.1\"]\nport = {cfg.dns.port}\ntimeout = 1.0\nlifetime = 2.0\n"
            f"[smtp]\nport = {cfg.smtp.port}\nhelo_name = \"{cfg.smtp.helo_name}\"\n"
            f"mail_from = \"{cfg.smtp.mail_from}\"\ntimeout = 2.0\ndeadline = 10.0\nretries = 0\n"
            f"[canary]\nresolve = \"{cfg.canary.resolve}\"\nconnect = \"{cfg.canary.connect}\"\n",
            encoding="utf-8",
        )
        data = tmp_path / "list.tsv"
        data.write_text(
            "ลำดับที่\tหน่วยงาน\tอำเภอ\tจังหวัด\temail\n"
            + "".join(f"{a.seq}\t{a.name}\t{a.district}\t{a.province}\t{a.declared}\n" for a in world.agencies),
            encoding="utf-8",
        )
        base = ["--store", str(tmp_path / "store.json"), "--config", str(config)]
        assert main([*base, "import", str(data)]) == 0
        assert main([*base, "check", "--all"]) == 0
        create_mailbox(world, "saraban@tambonfixme.go.th")
        assert main([*base, "check", "--all"]) == 0
        yield base, tmp_path


def test_report_since_lists_who_moved_from_where_to_where(two_scans, capsys: pytest.CaptureFixture[str]) -> None:
    base, tmp_path = two_scans
    capsys.readouterr()
    assert main([*base, "--lang", "en", "report", "--since", "2020-01-01"]) == 0
    out = capsys.readouterr().out
    assert "Province ตาก" in out
    assert "D3       2 →      1  (-1)" in out and "A1       1 →      2  (+1)" in out
    assert "Agencies that moved: 1" in out and "เทศบาลตำบลรอแก้: D3 → A1" in out

    target = tmp_path / "since.xlsx"
    assert main([*base, "report", "--since", "01/01/2563", "--format", "xlsx", "-o", str(target)]) == 0
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["สรุปรายจังหวัด", "หน่วยงานที่ย้ายกลุ่ม"]
    moved = [[c.value for c in row] for row in book["หน่วยงานที่ย้ายกลุ่ม"].iter_rows()]
    assert moved[1] == ["ตาก", "แม่สอด", "เทศบาลตำบลรอแก้", moved[1][3], "D3", "A1"]
    assert target.stat().st_mode & 0o777 == 0o600


def test_report_since_with_bad_date_or_nothing_to_compare_is_a_clear_message(
    two_scans, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = two_scans
    capsys.readouterr()
    assert main([*base, "report", "--since", "last week"]) == 2
    assert "is not a date" in capsys.readouterr().err
    assert main([*base, "report", "--since", "2099-01-01"]) == 2
    assert "only one scan to compare" in capsys.readouterr().err
    empty = ["--store", str(tmp_path / "empty.json")]
    assert main([*empty, "report", "--since", "2026-01-01"]) == 2
    err = capsys.readouterr().err
    assert "no agencies yet" in err and "Traceback" not in err
