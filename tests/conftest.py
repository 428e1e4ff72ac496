"""Suite-wide pytest options (tests marked `slow` run only with `--slow`, so the default run stays fast)
and the fixtures several test directories share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from checks.sim.internet import SimInternetThread
from checks.sim.worlds import catalogue_world
from tests.simconfig import write_sim_config


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis: no example database (the tree must not grow a .hypothesis directory), a short run by
    default and the full count with --slow, for every @given test without its own max_examples."""
    settings.register_profile("saraban", database=None, deadline=None, max_examples=300)
    settings.register_profile("saraban-slow", database=None, deadline=None, max_examples=2500)
    settings.load_profile("saraban-slow" if config.getoption("--slow") else "saraban")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="module")
def sim_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config file pointing DNS, SMTP and the canary at the catalogue world served by a thread here
    (nothing leaves loopback); one internet per test module."""
    with SimInternetThread(catalogue_world()) as internet:
        cfg = internet.engine_config(timeout=2.0, deadline=10.0, retries=1, retry_delay=0.5)
        yield write_sim_config(tmp_path_factory.mktemp("cfg") / "config.toml", cfg)
