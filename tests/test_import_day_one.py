"""What an officer sees right after importing a province's list, before any check, and the loose ends
around it: the groups that need no network, OPDC's own mail round beside ours, a correction that names
another agency's address, and the demo's scratch directory."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from checks.address import read_address
from checks.classify import build_verdict
from checks.config import DEFAULT_RULES, EngineConfig
from checks.model import (
    DNS_OK,
    HOST_OK,
    PROBE_ACCEPTED,
    Agency,
    DnsResult,
    HostAttempt,
    ProbeResult,
    SmtpReply,
)
from checks.scheduler import offline_verdict
from console.cli import main
from console.importer import round_date
from console.opdc import BROKE, FIXED, SAME, UNKNOWN, change_since_opdc, compare_with_opdc, opdc_line
from console.store import Store

DATA = Path(__file__).parent / "data"
ENGINE = EngineConfig()


def _agency(declared: str, **kw: object) -> Agency:
    return Agency("p-1", "องค์การบริหารส่วนตำบลทดสอบ", declared, "1", "แม่สอด", "ตาก", **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# 7. groups that need no network
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("declared", "extra", "group"),
    [
        ("saraban_๖๖๓๐๑๙@dla.go.th", {}, "B3"),  # Thai digits
        ("Tasailuadmeasod@gmail.com", {}, "B1"),  # free mail
        ("saraban@tambonthungluang.co.th", {}, "B2"),  # not a government domain
        ("saraban at maesot.go.th", {}, "B3"),  # bad syntax
        ("", {}, "C"),  # nothing declared
        ("saraban@maesot.go.th", {"announced": False}, "C"),  # no announcement
        ("saraban@maesot.go.th", {"upgraded": True}, "W"),
    ],
)
def test_groups_known_without_the_network(declared: str, extra: dict[str, object], group: str) -> None:
    verdict = offline_verdict(_agency(declared, **extra), ENGINE)
    assert verdict is not None and verdict.group == group
    assert verdict.evidence.probe is None  # nothing was sent anywhere


def test_groups_the_network_decides_stay_unchecked() -> None:
    assert offline_verdict(_agency("saraban@maesot.go.th"), ENGINE) is None
    assert offline_verdict(_agency("saraban@maesot.go.th", parent_announcement=True), ENGINE) is None


def test_the_configured_ruleset_decides_what_needs_the_network() -> None:
    # An office that puts "mailbox not found" before "personal mailbox": a gmail address now depends on the probe
    rules = tuple(r for r in DEFAULT_RULES if r.group == "D3") + tuple(r for r in DEFAULT_RULES if r.group != "D3")
    assert offline_verdict(_agency("someone@gmail.com"), replace(ENGINE, rules=rules)) is None
    assert offline_verdict(_agency("someone@gmail.com"), ENGINE) is not None


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_shows_the_tak_groups_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--store", str(tmp_path / "store.json"))
    code, out, _ = run(capsys, *base, "import", str(DATA / "tak-2568.tsv"))
    assert code == 0 and "ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘ → previous_result" in out
    assert "รู้กลุ่มได้ทันทีโดยไม่ต้องตรวจผ่านเครือข่าย: 3 หน่วยงาน" in out
    code, out, _ = run(capsys, *base, "report", "--json")
    data = json.loads(out)
    assert data["by_group"]["B2"] == data["by_group"]["B1"] == data["by_group"]["B3"] == 1
    assert data["by_bucket"]["unchecked"] == 0
    # importing the same list again changes nothing and decides nothing twice
    code, out, _ = run(capsys, *base, "import", str(DATA / "tak-2568.tsv"))
    assert "เหมือนเดิม 3 " in out and "รู้กลุ่มได้ทันที" not in out


# ------------------------------------------------------------------------------------------------
# 8. OPDC's own round
# ------------------------------------------------------------------------------------------------
def test_round_dates_from_headers() -> None:
    assert round_date("ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘") == "2025-10-07"
    assert round_date("ผลการส่ง 7/10/68") == "2025-10-07"
    assert round_date("send result 07.10.2025") == "2025-10-07"
    assert round_date("ปัญหาในการส่ง mail") == ""
    assert round_date("ปัญหา 31/02/2568") == ""


def test_change_since_opdc() -> None:
    rejected = _agency("a@b.go.th", previous_result="reject:ไม่พบmail", previous_round="2025-10-07")
    delivered = _agency("a@b.go.th", previous_result="", previous_round="2025-10-07")
    no_round = _agency("a@b.go.th")
    assert change_since_opdc(rejected, "A1") == FIXED
    assert change_since_opdc(rejected, "B3") == SAME  # OPDC's reject and our B3: still broken
    assert change_since_opdc(delivered, "D3") == BROKE
    assert change_since_opdc(rejected, "E") == change_since_opdc(rejected, None) == UNKNOWN
    assert change_since_opdc(no_round, "A1") == UNKNOWN
    assert opdc_line(rejected, "A1", "en") == "OPDC 07/10/2568: reject:ไม่พบmail — now: A1"
    assert opdc_line(rejected, "A1") == "ก.พ.ร. 07/10/2568: reject:ไม่พบmail — ตอนนี้: A1"
    assert opdc_line(no_round, "A1") == ""
    counted = compare_with_opdc([(rejected, "A1"), (rejected, "B3"), (delivered, "D3"), (no_round, "A1")])
    assert (counted.compared, counted.changed, counted.fixed, counted.broke, counted.same) == (3, 2, 1, 1, 1)


def _accepted(agency: Agency) -> object:
    address = agency.declared
    probe = ProbeResult(address, PROBE_ACCEPTED, DnsResult("dla.go.th", DNS_OK), SmtpReply(250, "2.1.5 Ok", "2.1.5"),
                        (HostAttempt("mx.dla.go.th", "192.0.2.1", 25, HOST_OK),))  # fmt: skip
    return build_verdict(agency, read_address(address), [], probe, None, DEFAULT_RULES)


def test_report_and_export_say_what_changed_since_opdc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "store.json"
    base = ("--store", str(path))
    run(capsys, *base, "import", str(DATA / "tak-2568.tsv"))
    store = Store(path)
    fixed = store.find("636")[0]
    # the agency fixed its announcement: the corrected address is checked and works
    store.add_correction(fixed.agency.id, "saraban_663019@dla.go.th", "", "somchai")
    store.save_verdicts([_accepted(replace(fixed.agency, declared="saraban_663019@dla.go.th"))])

    code, out, _ = run(capsys, *base, "report")
    assert "เทียบกับผลการส่ง mail ของ ก.พ.ร. 07/10/2568: สถานะเปลี่ยน 1 หน่วยงาน (ส่งได้แล้ว 1" in out
    code, out, _ = run(capsys, *base, "--lang", "en", "report", "--json")
    since = json.loads(out)["since_opdc_round"]
    assert since["compared"] == 3 and since["changed"] == since["fixed"] == 1 and since["same"] == 2

    xlsx = tmp_path / "followup.xlsx"
    code, out, _ = run(capsys, *base, "export", "--all", "-o", str(xlsx))  # A1 included
    assert code == 0
    ws = openpyxl.load_workbook(xlsx)["ติดตาม"]
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[636]["ผลรอบ ก.พ.ร. เทียบปัจจุบัน"] == "ก.พ.ร. 07/10/2568: reject:ไม่พบmail — ตอนนี้: A1"
    assert rows[47]["ผลรอบ ก.พ.ร. เทียบปัจจุบัน"] == "ก.พ.ร. 07/10/2568: reject:ไม่พบโดเมน — ตอนนี้: B2"


# ------------------------------------------------------------------------------------------------
# 9. corrections
# ------------------------------------------------------------------------------------------------
def test_correction_to_another_agencys_address_warns_and_reason_is_optional(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("--store", str(tmp_path / "store.json"))
    run(capsys, *base, "import", str(DATA / "tak-2568.tsv"))
    # no --reason: optional, as in the console
    code, out, err = run(capsys, *base, "correct", "326", "SARABAN@tambonthungluang.co.th ", "--no-recheck")
    assert code == 0 and "correction c-" in out
    assert "เป็นอีเมลของหน่วยงานอื่นอยู่แล้ว: เทศบาลตำบลทุ่งหลวง (แม่ระมาด, ตาก)" in err
    code, out, err = run(capsys, *base, "correct", "636", "saraban_663019@dla.go.th", "--no-recheck")
    assert code == 0 and err == ""  # nobody else's: no warning
    # the corrected address counts as the agency's own from now on
    code, out, err = run(capsys, *base, "--lang", "en", "correct", "47", "saraban_663019@dla.go.th", "--no-recheck")
    assert "องค์การบริหารส่วนตำบลหนองบัวเหนือ (เมืองตาก, ตาก)" in err and "already another agency's address" in err


# ------------------------------------------------------------------------------------------------
# 10. demo's scratch directory
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [False, True])
def test_demo_cleans_its_tmp_dir_unless_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keep: bool
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    argv = ["demo", "--no-tui", "--agencies", "30", "--delay-ms", "1"] + (["--keep"] if keep else [])
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "A1" in out
    left = list(tmp_path.glob("saraban-demo-*"))
    if keep:
        assert len(left) == 1 and (left[0] / "store.json").exists()
        first_line = out.splitlines()[0]
        assert first_line == f"ข้อมูลตัวอย่างจะเก็บไว้ที่: {left[0] / 'store.json'}"  # named at the start
    else:
        assert left == []



def test_detail_pane_shows_opdcs_round_beside_ours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.rules import Ruleset
    from console.tui.view import detail_text

    path = tmp_path / "store.json"
    run(capsys, "--store", str(path), "import", str(DATA / "tak-2568.tsv"))
    record = Store(path).find("47")[0]
    assert "ก.พ.ร. 07/10/2568: reject:ไม่พบโดเมน — ตอนนี้: B2" in detail_text(record, Ruleset.of(ENGINE), "th").plain
    assert "OPDC 07/10/2568: reject:ไม่พบโดเมน — now: B2" in detail_text(record, Ruleset.of(ENGINE), "en").plain
