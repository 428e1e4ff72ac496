"""Session fixtures: one private unbound and one private Postfix for the whole integration run.

Without the binaries (or without root, which Postfix needs) the tests are skipped, unless
SARABAN_REQUIRE_INTEGRATION=1 (set by .ci/run) turns that into a failure so CI cannot go green by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from .mailstack import POSTFIX, UNBOUND, Postfix, Unbound, start_postfix, start_unbound


def require_integration() -> bool:
    return os.environ.get("SARABAN_REQUIRE_INTEGRATION", "") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip (developer machine without the packages) or fail (CI, where they must be there)."""
    if require_integration():
        pytest.fail(f"integration servers required but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def itest_base() -> Iterator[Path]:
    """A world-traversable temp dir: Postfix daemons run as user postfix and must reach their queue.

    (pytest's own tmp_path lives under a 0700 directory, which the postfix user cannot enter.)
    """
    base = Path(tempfile.mkdtemp(prefix="saraban-itest-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def unbound(itest_base: Path) -> Iterator[Unbound]:
    if not UNBOUND.exists():
        unavailable(f"{UNBOUND} not installed (apt-get install unbound)")
    try:
        server = start_unbound(itest_base / "unbound")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        unavailable(f"could not start unbound: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postfix(itest_base: Path) -> Iterator[Postfix]:
    if not POSTFIX.exists():
        unavailable(f"{POSTFIX} not installed (apt-get install postfix)")
    if os.geteuid() != 0:
        unavailable("a private Postfix instance must be started as root")
    try:
        server = start_postfix(itest_base / "postfix")
    except (RuntimeError, OSError, subprocess.SubprocessError, LookupError) as exc:
        unavailable(f"could not start postfix: {exc}")
    yield server
    server.stop()
