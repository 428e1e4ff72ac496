"""Where a typed export path goes, and whether the console must ask before replacing a file."""

from __future__ import annotations

from pathlib import Path

from console.export import export_target


def test_a_folder_gets_the_default_name_and_a_bare_name_gets_xlsx(tmp_path: Path) -> None:
    assert export_target(str(tmp_path), "followup.xlsx") == (tmp_path / "followup.xlsx", False)
    assert export_target(str(tmp_path / "list"), "x.xlsx") == (tmp_path / "list.xlsx", False)
    assert export_target(str(tmp_path / "list.csv"), "x.xlsx") == (tmp_path / "list.csv", False)


def test_an_xlsx_only_export_asks_about_the_file_it_will_write(tmp_path: Path) -> None:
    """The letter has no CSV form: typed `letter.csv` it writes `letter.xlsx`, so that is the file
    whose existence decides the "replace?" question (before, `letter.csv` was asked about and an
    existing `letter.xlsx` was replaced without a word)."""
    (tmp_path / "letter.xlsx").write_bytes(b"the operator's earlier letter")
    assert export_target(str(tmp_path / "letter.csv"), "x.xlsx", xlsx_only=True) == (tmp_path / "letter.xlsx", True)
    assert export_target(str(tmp_path / "letter.csv"), "x.xlsx") == (tmp_path / "letter.csv", False)
