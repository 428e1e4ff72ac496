"""One store for a whole helpdesk, with REAL Unix accounts: two operators in the group and one outsider.

Run as root (CI is), the test creates a group and three users, runs saraban as each of them with
`runuser`, and removes them again. Otherwise it is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import secrets
import shutil
import site
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTES_EACH = 6
CORRECTIONS_EACH = 3


@dataclass
class Accounts:
    group: str
    alice: str
    bob: str
    outsider: str
    python: list[str]  # how these accounts run saraban's python
    env: dict[str, str]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def _python_for(user: str) -> tuple[list[str], dict[str, str]] | None:
    """This interpreter if the account can run it, else the system python of the same version with our
    packages on PYTHONPATH (a venv under /root is not readable by other accounts)."""
    paths = [str(ROOT), *site.getsitepackages()]
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "PYTHONPATH": os.pathsep.join(paths), "LANG": "C.UTF-8"}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, shutil.which(version, path="/usr/local/bin:/usr/bin:/bin") or ""]
    for python in filter(None, candidates):
        probe = subprocess.run(
            ["runuser", "-u", user, "--", python, "-c", "import console.store, orjson, tinydb"],
            capture_output=True, text=True, env=env, timeout=60,
        )
        if probe.returncode == 0:
            return [python], env
    return None


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create Unix users and a group (CI runs as root)")
    if not all(shutil.which(tool) for tool in ("useradd", "groupadd", "userdel", "groupdel", "runuser")):
        pytest.skip("needs useradd, groupadd, userdel, groupdel and runuser")
    tag = secrets.token_hex(3)
    group, alice, bob, outsider = f"sbg{tag}", f"sba{tag}", f"sbb{tag}", f"sbo{tag}"
    made: list[tuple[str, str]] = []
    try:
        assert _run("groupadd", group).returncode == 0
        made.append(("groupdel", group))
        for user, groups in ((alice, group), (bob, group), (outsider, "")):
            extra = ["-G", groups] if groups else []
            result = _run("useradd", "-M", "-N", "-s", "/bin/sh", *extra, user)
            assert result.returncode == 0, result.stderr
            made.insert(0, ("userdel", user))
        found = _python_for(alice)
        if found is None:
            pytest.skip("the test accounts cannot run this python or a system python of the same version")
        yield Accounts(group, alice, bob, outsider, found[0], found[1])
    finally:
        for command, name in made:
            _run(command, name)


@pytest.fixture
def shared_dir(accounts: Accounts) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="saraban-shared-", dir="/tmp"))
    base.chmod(0o755)  # the accounts may enter; the store directory inside is the group's
    try:
        yield base / "helpdesk"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def saraban_as(accounts: Accounts, user: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(accounts.env)
    return subprocess.run(
        ["runuser", "-u", user, "--", *accounts.python, "-m", "console.cli", "--lang", "en", *args],
        capture_output=True, text=True, env=env, timeout=timeout, cwd="/tmp",
    )


def _modes(directory: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in [directory, *directory.rglob("*")]:
        st = os.lstat(path)
        found[str(path.relative_to(directory.parent))] = (stat.S_IMODE(st.st_mode), st.st_gid)
    return found


def test_two_operators_and_a_scan_on_one_shared_store_lose_nothing(accounts: Accounts, shared_dir: Path) -> None:
    store = shared_dir / "store.json"
    init = subprocess.run(
        [*accounts.python, "-m", "console.cli", "--store", str(store), "init", "--shared", accounts.group],
        capture_output=True, text=True, env=accounts.env, timeout=120,
    )
    assert init.returncode == 0, init.stderr
    seeded = saraban_as(accounts, accounts.alice, "--store", str(store), "demo", "--no-tui", "--agencies", "60",
                        "--delay-ms", "1")
    assert seeded.returncode == 0, seeded.stderr
    ids = [f"nat-{i:05d}" for i in range(1, 61)]

    def operator(user: str) -> list[subprocess.CompletedProcess[str]]:
        runs = []
        for n in range(NOTES_EACH):
            runs.append(saraban_as(accounts, user, "--store", str(store), "note", ids[n], f"{user} note {n}"))
        for n in range(CORRECTIONS_EACH):
            runs.append(saraban_as(accounts, user, "--store", str(store), "correct", ids[30 + n],
                                   f"saraban{n}@{user}.go.th", "--reason", f"{user} was told", "--no-recheck"))
        runs.append(saraban_as(accounts, user, "--store", str(store), "followup", "called_waiting", *ids[40:45]))
        return runs

    with ThreadPoolExecutor(3) as pool:
        scan = pool.submit(saraban_as, accounts, accounts.bob, "--store", str(store), "demo", "--no-tui",
                           "--agencies", "60", "--delay-ms", "1")
        alice_runs = pool.submit(operator, accounts.alice)
        bob_runs = pool.submit(operator, accounts.bob)
        for run in [*alice_runs.result(), *bob_runs.result(), scan.result()]:
            assert run.returncode == 0, run.stderr
            assert "Traceback" not in run.stderr

    exported = saraban_as(accounts, accounts.bob, "--store", str(store), "export", "--all", "--format", "json",
                          "-o", str(shared_dir / "all.json"))
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in (shared_dir / "all.json").read_text(encoding="utf-8").splitlines()]
    notes = [(n["operator"], n["login"], n["text"]) for r in records for n in r["notes"]]
    for user in (accounts.alice, accounts.bob):
        assert sorted(t for _, login, t in notes if login == user) == sorted(
            f"{user} note {n}" for n in range(NOTES_EACH)
        ), "every note kept, with the login of whoever wrote it"
    corrections = [(c["login"], c["new_address"]) for r in records for c in r["corrections"]]
    assert len(corrections) == 2 * CORRECTIONS_EACH and {login for login, _ in corrections} == {
        accounts.alice, accounts.bob
    }
    assert all(r["checked_at"] for r in records), "the scan saved a verdict for every agency"

    gid = grp.getgrnam(accounts.group).gr_gid
    for name, (mode, group) in _modes(shared_dir).items():
        assert group == gid, f"{name} is not in {accounts.group}"
        path = shared_dir.parent / name
        if path.is_dir():
            assert mode == 0o2770, f"{name}: {mode:o}"
        elif name.endswith("all.json"):
            continue  # an export is the operator's own file
        else:
            assert mode == 0o660, f"{name}: {mode:o}"


def test_someone_outside_the_group_reads_nothing(accounts: Accounts, shared_dir: Path) -> None:
    store = shared_dir / "store.json"
    init = subprocess.run(
        [*accounts.python, "-m", "console.cli", "--store", str(store), "init", "--shared", accounts.group],
        capture_output=True, text=True, env=accounts.env, timeout=120,
    )
    assert init.returncode == 0, init.stderr
    assert saraban_as(accounts, accounts.alice, "--store", str(store), "demo", "--no-tui", "--agencies", "5",
                      "--delay-ms", "1").returncode == 0
    for command in (["report"], ["note", "nat-00001", "hello"], ["export", "-o", "/tmp/x.csv"]):
        result = saraban_as(accounts, accounts.outsider, "--store", str(store), *command)
        assert result.returncode == 2, (command, result.stderr)
        assert f"no permission: ask an administrator to add you to {accounts.group}" in result.stderr
        assert "Traceback" not in result.stderr
    peek = subprocess.run(["runuser", "-u", accounts.outsider, "--", "cat", str(store)], capture_output=True,
                          timeout=30)
    assert peek.returncode != 0 and peek.stdout == b""
    with contextlib.suppress(FileNotFoundError):
        Path("/tmp/x.csv").unlink()
