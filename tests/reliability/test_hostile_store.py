"""Issue 16, items 2 and 5 (store side): damage is told from a new store, store files must be regular
files, and wrong-shaped content is "damaged" with the file (and agency) named, never a traceback.

The store internals are i13-store's (console/store): these tests hold the behaviour an operator sees
through the CLI.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.reliability.hostile_kit import NOTE, make_store, mknod_null, run_cli, snapshot, store_files


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.json"
    make_store(path)
    return path


def refused(result: object, name: str) -> None:
    text = result.out + result.err  # type: ignore[attr-defined]
    assert "Traceback" not in text, text[-2000:]
    assert result.code == 2, text[-2000:]  # type: ignore[attr-defined]
    assert name in result.err, result.err  # type: ignore[attr-defined]


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
@pytest.mark.parametrize("which", ["store.json", "store.json.operator.json"])
def test_an_empty_store_file_is_damage_not_a_new_store(store: Path, which: str, content: bytes) -> None:
    target = store.with_name(which)
    target.write_bytes(content)
    others = {p: b for p, b in snapshot(store_files(store)).items() if p != target and "lock" not in p.name}
    for argv in (["note", "2", "อีกครั้ง"], ["report"]):
        refused(run_cli("--store", str(store), *argv), which)
    assert target.read_bytes() == content  # left as found, for whoever repairs it
    assert {p: b for p, b in snapshot(store_files(store)).items() if p in others} == others
    if which != "store.json.operator.json":
        assert NOTE in store.with_name("store.json.operator.json").read_text(encoding="utf-8")


def test_a_symlinked_verdicts_folder_is_refused(store: Path, tmp_path: Path) -> None:
    shards = store.with_name("store.json.verdicts")
    elsewhere = tmp_path / "elsewhere"
    shards.rename(elsewhere)
    shards.symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(sorted(elsewhere.iterdir()))
    refused(run_cli("--store", str(store), "report"), "verdicts")
    assert snapshot(sorted(elsewhere.iterdir())) == before


def test_a_store_path_that_is_a_device_node_is_refused(tmp_path: Path) -> None:
    node = tmp_path / "null"
    mknod_null(node)
    listing = tmp_path / "list.csv"
    listing.write_text("หน่วยงาน,email ที่ระบุใน ม.๑๐\nเทศบาลตำบลทดสอบ,a@dla.go.th\n", encoding="utf-8")
    refused(run_cli("--store", str(node), "import", str(listing)), "null")
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def _edit(path: Path, change: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_string_where_an_agency_belongs_is_damage_naming_file_and_agency(store: Path) -> None:
    first = json.loads(store.read_text(encoding="utf-8"))["agencies"]
    _edit(store, lambda d: d["agencies"].__setitem__(next(iter(d["agencies"])), "not a document"))
    result = run_cli("--store", str(store), "report")
    assert "Traceback" not in result.out + result.err
    assert result.code in (0, 2) and "store.json" in result.err, result.err
    if result.code == 0:  # the other agencies stay readable
        assert f"{len(first) - 1}" in result.out


def test_a_correction_without_agency_id_is_never_a_traceback_and_other_agencies_stay_writable(store: Path) -> None:
    operator = store.with_name("store.json.operator.json")
    _edit(operator, lambda d: [doc.pop("agency_id", None) for doc in d["corrections"].values()])
    result = run_cli("--store", str(store), "note", "3", "อีกครั้ง")
    assert "Traceback" not in result.err and result.code == 0, result.err
    result = run_cli("--store", str(store), "correct", "1", "b@tak.go.th", "--reason", "r", "--no-recheck")
    assert "Traceback" not in result.out + result.err and result.code in (0, 2), result.err


@pytest.mark.parametrize(
    "text",
    ['{"meta": {"1": {"schema": 1' + "0" * 5000 + ', "app": "saraban", "kind": "main"}}}', "[" * 100_000 + "]" * 100_000],
    ids=["5000-digit integer", "100k-deep nesting"],
)
def test_wrong_shaped_json_is_damage(store: Path, text: str) -> None:
    store.write_text(text, encoding="utf-8")
    refused(run_cli("--store", str(store), "report"), "store.json")


def test_a_bad_history_entry_is_never_a_traceback(store: Path) -> None:
    shard = next(p for p in store_files(store) if p.parent.name.endswith(".verdicts"))

    def spoil(data: dict[str, dict[str, dict[str, object]]]) -> None:
        for table in data.values():
            for doc in table.values():
                if isinstance(doc, dict) and "history" in doc:
                    doc["history"] = [{"no": "verdict"}, 5]

    _edit(shard, spoil)
    result = run_cli("--store", str(store), "report")
    assert "Traceback" not in result.out + result.err and result.code in (0, 2), result.err
    assert "Traceback" not in run_cli("--store", str(store), "note", "1", "x").err
