"""Issue 16, item 1: an export writes only a regular file it may write, never a store file, a device,
a FIFO, a socket or a folder; an existing file is replaced only with --force; a missing, read-only or
full place is one line of message. Each refused target is left exactly as it was."""

from __future__ import annotations

import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

from console.cli import main
from tests.reliability.hostile_kit import NOTE, fill, make_store, mknod_null, snapshot, store_files, tmpfs


def export(capsys: pytest.CaptureFixture[str], store: Path, target: Path | str, *extra: str) -> tuple[int, str]:
    code = main(["--store", str(store), "export", "--all", "--format", "csv", "-o", str(target), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.json"
    make_store(path)
    return path


def test_export_onto_every_store_file_is_refused_and_the_store_is_untouched(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = store_files(store)
    names = {p.name for p in files}
    assert {"store.json", "store.json.operator.json"} <= names and any(p.parent.name.endswith(".verdicts") for p in files)
    before = snapshot(files)
    for target in files:
        for extra in ((), ("--force",)):
            code, text = export(capsys, store, target, *extra)
            assert code == 2, (target, text)
            assert "store" in text and "Traceback" not in text
    assert snapshot(files) == before
    code, text = export(capsys, store, store.with_name("store.json.operator.json"), "--format", "json")
    assert code == 2
    main(["--store", str(store), "export", "--all", "--format", "json", "-o", str(store.parent / "all.jsonl")])
    assert NOTE in (store.parent / "all.jsonl").read_text(encoding="utf-8")


def test_a_store_file_reached_by_another_name_or_copied_elsewhere_is_refused(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = elsewhere / "link.csv"
    link.symlink_to(store.with_name("store.json.operator.json"))
    hard = elsewhere / "hard.csv"
    os.link(store, hard)
    copy = elsewhere / "backup-of-store.json"
    shutil.copyfile(store.with_name("store.json.operator.json"), copy)
    before = snapshot([*store_files(store), copy])
    for target in (link, hard, copy):
        code, text = export(capsys, store, target, "--force")
        assert code == 2, (target, text)
        assert "store" in text
    assert snapshot([*store_files(store), copy]) == before
    assert link.is_symlink()


def test_a_fifo_is_refused_and_stays_a_fifo(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code, text = export(capsys, store, fifo, "--force")
    assert code == 2 and "not a regular file" in text
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_node_is_refused_and_stays_a_device(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = tmp_path / "null"  # made by the test in its own temp dir, never a real /dev path
    mknod_null(node)
    code, text = export(capsys, store, node, "--force")
    assert code == 2 and "not a regular file" in text
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_a_socket_and_a_folder_are_refused(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sock_path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        code, text = export(capsys, store, sock_path, "--force")
        assert code == 2 and "not a regular file" in text
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    folder = tmp_path / "folder"
    folder.mkdir()
    code, text = export(capsys, store, folder, "--force")
    assert code == 2 and "folder" in text
    assert folder.is_dir() and not any(folder.iterdir())


def test_an_existing_file_is_replaced_only_with_force(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "list.csv"
    target.write_text("someone's own list\n", encoding="utf-8")
    code, text = export(capsys, store, target)
    assert code == 2 and "--force" in text
    assert target.read_text(encoding="utf-8") == "someone's own list\n"
    code, _ = export(capsys, store, target, "--force")
    assert code == 0
    assert "เทศบาลตำบลทดสอบ1" in target.read_text(encoding="utf-8-sig")


def test_a_missing_folder_is_one_line_of_message(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = export(capsys, store, tmp_path / "no" / "such" / "dir" / "x.xlsx")
    assert code == 2
    assert "does not exist" in text and len(text.strip().splitlines()) == 1


def test_report_xlsx_onto_the_store_is_refused(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(store_files(store))
    code = main(["--store", str(store), "report", "--xlsx", str(store), "--force"])
    assert code == 2
    assert "store" in capsys.readouterr().err
    assert snapshot(store_files(store)) == before


def test_a_full_disk_is_a_message_and_leaves_nothing_half_written(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tmpfs(tmp_path / "small", "256k") as place:
        fill(place)
        for fmt in ("xlsx", "csv", "json"):
            code = main(["--store", str(store), "export", "--all", "--format", fmt, "-o", str(place / f"list.{fmt}")])
            err = capsys.readouterr().err
            assert code == 2, err
            assert "disk is full" in err and "Traceback" not in err
        assert not [p for p in place.iterdir() if p.name.startswith(".list")]  # no temp file left


def test_a_read_only_place_is_a_message(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "ro") as place:
        from tests.reliability.hostile_kit import remount_read_only

        remount_read_only(place)
        code = main(["--store", str(store), "export", "-o", str(place / "list.xlsx")])
        err = capsys.readouterr().err
        assert code == 2 and "not writable" in err
