"""The operator's day through the command line, on a store, against the simulated internet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest

from console.cli import main

DATA = Path(__file__).parent / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_operator_day(tmp_path: Path, sim_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store.json")
    base = ("--store", store, "--config", str(sim_config))

    code, out, _ = run(capsys, *base, "import", str(DATA / "tak-2568.tsv"))
    assert code == 0
    assert "นำเข้าแล้ว: เพิ่ม 3 " in out and "email ที่ระบุใน ม.๑๐ → declared" in out  # the summary all in Thai

    code, out, _ = run(capsys, *base, "check", "--all", "--json")
    assert code == 0
    rows = {r["seq"]: r for r in map(json.loads, out.splitlines())}
    assert {s: r["group"] for s, r in rows.items()} == {"47": "B2", "326": "B1", "636": "B3"}
    assert all("corrections" in r for r in rows.values())

    # The agency calls back: "we fixed it" — the operator types the address and it is rechecked at once.
    code, out, _ = run(capsys, *base, "correct", "636", "saraban_663019@dla.go.th", "--reason", "โทรแจ้งแก้ไขแล้ว")
    assert code == 0, out
    assert "A1" in out and "saraban_๖๖๓๐๑๙@dla.go.th → saraban_663019@dla.go.th" in out
    # the findings in the operator's language (config.language, Thai by default), codes beside them
    assert "  - กล่องจดหมายใช้งานได้: เซิร์ฟเวอร์ " in out and "(mail_accepted)" in out
    assert "the mail server accepts the mailbox" not in out

    code, out, _ = run(capsys, *base, "note", "๓๒๖", "โทรแล้ว รอแก้ไข")
    assert code == 0

    # Ambiguous or unknown agency: refused with a clear message.
    code, _, err = run(capsys, *base, "note", "999", "x")
    assert code == 2 and "999" in err

    out_xlsx = tmp_path / "followup.xlsx"
    code, out, _ = run(capsys, *base, "export", "--group", "B1,B2", "-o", str(out_xlsx))
    assert code == 0 and "2 →" in out
    assert (os.stat(out_xlsx).st_mode & 0o777) == 0o600
    sheet = openpyxl.load_workbook(out_xlsx).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "ลำดับที่"
    names = {row[1] for row in values[1:]}
    assert names == {"เทศบาลตำบลทุ่งหลวง", "องค์การบริหารส่วนตำบลท่าสายลวด"}
    assert any("โทรแล้ว รอแก้ไข" in str(cell) for row in values for cell in row)

    # No filter: the phone list (B–E but E), and it says so; --all exports every agency.
    out_default = tmp_path / "default.jsonl"
    code, out, err = run(capsys, *base, "export", "--format", "json", "-o", str(out_default))
    assert code == 0 and out.startswith("2 →")
    assert "ต้องติดตาม" in err and "--all" in err
    shown = {json.loads(line)["seq"] for line in out_default.read_text(encoding="utf-8").splitlines()}
    assert shown == {"47", "326"}  # 636 is A1 after its correction

    out_json = tmp_path / "all.jsonl"
    code, _, _ = run(capsys, *base, "export", "--all", "--format", "json", "-o", str(out_json))
    objects = {o["seq"]: o for o in map(json.loads, out_json.read_text(encoding="utf-8").splitlines())}
    fixed = objects["636"]
    assert fixed["group"] == "A1"
    assert fixed["declared"] == "saraban_๖๖๓๐๑๙@dla.go.th"  # the original is never overwritten
    assert fixed["corrections"][0]["new_address"] == "saraban_663019@dla.go.th"
    assert fixed["corrections"][0]["operator"] == "somchai"
    assert objects["326"]["notes"][0]["text"] == "โทรแล้ว รอแก้ไข"
    assert fixed["checked_address"] == "saraban_663019@dla.go.th" and fixed["stale"] is False


    code, out, _ = run(capsys, *base, "report", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["by_group"]["A1"] == 1 and summary["by_bucket"]["BE"] == 2
    assert summary["areas"]["ตาก"]["total"] == 3


def test_reimport_keeps_corrections_and_records_source_change(
    tmp_path: Path, sim_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store.json")
    base = ("--store", store, "--config", str(sim_config))
    assert run(capsys, *base, "import", str(DATA / "tak-2568.tsv"))[0] == 0
    assert run(capsys, *base, "correct", "326", "saraban@tasailuad.go.th", "--reason", "x", "--no-recheck")[0] == 0
    assert run(capsys, *base, "note", "47", "โทรแล้ว")[0] == 0
    newer = tmp_path / "tak-newer.tsv"
    text = (DATA / "tak-2568.tsv").read_text(encoding="utf-8")
    newer.write_text(text.replace("saraban@tambonthungluang.co.th", "saraban@tambonthungluang.go.th"), encoding="utf-8")
    code, out, _ = run(capsys, *base, "import", str(newer))
    assert code == 0 and "เปลี่ยน 1 " in out and "เหมือนเดิม 2 " in out
    code, _, _ = run(capsys, *base, "export", "--all", "--format", "json", "-o", str(tmp_path / "x.jsonl"))
    objects = {o["seq"]: o for o in map(json.loads, (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines())}
    assert objects["47"]["declared"] == "saraban@tambonthungluang.go.th"
    assert objects["47"]["notes"][0]["text"] == "โทรแล้ว"
    assert objects["326"]["corrections"][0]["new_address"] == "saraban@tasailuad.go.th"
    from console.store import Store

    record = Store(store).find("47")[0]
    assert record.source_changes and record.source_changes[0]["old"] == "saraban@tambonthungluang.co.th"


def test_canary_failure_exits_3_and_blames_nobody(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Our own DNS is down (nothing listens): the check stops with exit 3 and no agency gets a verdict."""
    config = tmp_path / "down.toml"
    config.write_text(
        "[dns]\nnameservers = [\"127.0.0.1\"]\nport = 9\ntimeout = 0.3\nlifetime = 0.6\n"
        "[smtp]\nhelo_name = \"probe.saraban.go.th\"\nmail_from = \"saraban-probe@opdc.go.th\"\n"
        "[canary]\nresolve = \"canary.opdc.go.th\"\ntimeout = 1.0\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "--config", str(config), "check", str(DATA / "tak-2568.tsv"), "--json")
    assert code == 3
    assert out.strip() == ""  # no agency line at all, so certainly none is D
    assert "canary.opdc.go.th" in err
