"""The OPDC summary: bucket math and percentages as in OPDC's letter, per-area tables, change, the workbook."""

from __future__ import annotations

import stat
from pathlib import Path

import openpyxl

from checks.config import DEFAULT_RULES, Rule
from console.report import (
    Summary,
    bucket_of,
    diff,
    merge,
    percent,
    summarize,
    summary_header,
    summary_table,
    write_section22_xlsx,
)


def _opdc_groups() -> list[str | None]:
    """8,286 agencies split as OPDC's letter: 6,536 ready, 1,454 to fix, 296 upgraded."""
    return ["A1"] * 6_000 + ["A2"] * 536 + ["D3"] * 741 + ["B1"] * 400 + ["C"] * 313 + ["W"] * 296


def test_national_figures_reproduce_opdc_letter() -> None:
    s = summarize(_opdc_groups(), DEFAULT_RULES)
    assert s.total == s.checked == 8_286
    assert s.by_bucket == {"A": 6_536, "BE": 1_454, "W": 296, "unchecked": 0}
    assert [percent(s.by_bucket[b], s.checked) for b in ("A", "BE", "W")] == ["78.9%", "17.5%", "3.6%"]
    assert s.by_group["A1"] == 6_000 and s.by_group["D3"] == 741
    assert s.by_group["E"] == 0  # every group of the ruleset is present, even at zero
    assert list(s.by_group)[:3] == ["W", "C", "B3"]  # in rule order


def test_unchecked_agencies_do_not_dilute_percentages() -> None:
    s = summarize(["A1", "A1", "A1", "D1", None, None, None, None], DEFAULT_RULES)
    assert s.total == 8 and s.checked == 4 and s.unchecked == 4
    assert percent(s.by_bucket["A"], s.checked) == "75.0%"
    assert percent(s.by_bucket["BE"], s.checked) == "25.0%"


def test_percent_rounding_and_zero() -> None:
    assert percent(1, 8) == "12.5%"
    assert percent(1, 16) == "6.3%"  # 6.25 rounds half up, not to even
    assert percent(2, 3) == "66.7%"
    assert percent(0, 5) == "0.0%"
    assert percent(5, 5) == "100.0%"
    assert percent(0, 0) == "-"


def test_buckets_come_from_the_rules() -> None:
    assert [bucket_of(g, DEFAULT_RULES) for g in ("A1", "A2", "W", "C", "E", None)] == [
        "A", "A", "W", "BE", "BE", "unchecked",
    ]  # fmt: skip
    custom = (Rule("Z", "กลุ่มพิเศษ", any_of=("x",), bucket="A"), Rule("Q", "ไม่มีถัง", any_of=("y",)))
    assert bucket_of("Z", custom) == "A"
    assert bucket_of("Q", custom) == "BE"  # no bucket in the rule: not A/W → BE
    s = summarize(["Z", "Q", "unknown"], custom)
    assert s.by_bucket == {"A": 1, "BE": 2, "W": 0, "unchecked": 0}
    assert s.by_group == {"Z": 1, "Q": 1, "unknown": 1}


def test_summary_table_rows_and_total() -> None:
    per = {
        "ตาก": summarize(["A1", "D1", "B1", None], DEFAULT_RULES),
        "เชียงใหม่": summarize(["A1", "A2", "W"], DEFAULT_RULES),
    }
    rows = summary_table(per, ["A1", "D1"])
    assert len(summary_header(["A1", "D1"])) == len(rows[0])
    assert rows[0] == ["ตาก", 4, 3, 1, "33.3%", 2, "66.7%", 0, "0.0%", 1, 1, 1]
    assert rows[1] == ["เชียงใหม่", 3, 3, 2, "66.7%", 0, "0.0%", 1, "33.3%", 0, 1, 0]
    assert rows[2] == ["รวม", 7, 6, 3, "50.0%", 2, "33.3%", 1, "16.7%", 1, 2, 1]
    assert summary_table({}, ["A1"]) == []


def test_diff_and_merge() -> None:
    assert diff({"A1": 10, "D3": 2}, {"A1": 7, "D3": 5, "C": 1}) == {"A1": 3, "D3": -3, "C": -1}
    a = summarize(["A1", None], DEFAULT_RULES)
    b = summarize(["D1"], DEFAULT_RULES)
    m = merge([a, b])
    assert m.total == 3 and m.checked == 2 and m.by_group["A1"] == 1 and m.by_group["D1"] == 1
    assert Summary.from_json(m.to_json()) == m


def test_section22_workbook(tmp_path: Path) -> None:
    national = summarize(_opdc_groups(), DEFAULT_RULES)
    per_province = {
        "ตาก": summarize(["A1"] * 3 + ["D1", "B1", "=evil"], DEFAULT_RULES),
        '=HYPERLINK("x")': summarize(["A1"], DEFAULT_RULES),
    }
    previous = {"A1": 5_900, "A2": 536, "D3": 841, "B1": 400, "C": 313, "W": 296}  # flat group counts
    path = tmp_path / "section22.xlsx"
    write_section22_xlsx(path, national, per_province, previous, DEFAULT_RULES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["สรุป", "รายกลุ่ม", "รายจังหวัด"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if str(cell.value or "").startswith("="):  # a province named like a formula: inert text
                    assert cell.data_type == "s" and cell.quotePrefix
    summary = {r[0]: r for r in wb["สรุป"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["A"][3:6] == (6_536, "78.9%", 100)
    assert summary["BE"][3:6] == (1_454, "17.5%", -100)
    assert summary["W"][3:6] == (296, "3.6%", 0)
    groups = {r[0]: r for r in wb["รายกลุ่ม"].iter_rows(min_row=2, values_only=True)}
    assert groups["D3"][1] == "ไม่พบกล่องจดหมาย" and groups["D3"][3:6] == (741, "8.9%", -100)
    areas = [r for r in wb["รายจังหวัด"].iter_rows(min_row=2, values_only=True)]
    assert areas[0][:5] == ("ตาก", 6, 6, 3, "50.0%")
    assert areas[1][0] == '=HYPERLINK("x")'  # kept as typed, in a string cell
    assert areas[-1][:3] == ("รวม", 7, 7)


def test_section22_without_previous(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    national = summarize(["A1", None], DEFAULT_RULES)
    write_section22_xlsx(path, national, {"ตาก": national}, None, DEFAULT_RULES, area_title="รายอำเภอ")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-1] == "รายอำเภอ"
    summary = {r[0]: r for r in wb["สรุป"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["A"][3:6] == (1, "100.0%", None)
