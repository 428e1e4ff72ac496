"""The fuzz tests' shared harness: a budget of examples that `--slow` raises, and hypothesis run inside a test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@dataclass(frozen=True)
class Budget:
    """Examples per test: `default` for every run, `slow` (the full count) with --slow."""

    default: int
    slow: int

    def examples(self, config: pytest.Config) -> int:
        return self.slow if config.getoption("--slow") else self.default


def run_cases(name: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None], examples: int) -> int:
    """Run `check` on `examples` generated values and return how many ran.

    Hypothesis is applied to an inner function so the budget can depend on --slow. No example
    database: the tree under test must not grow a .hypothesis directory; failures print the seed.
    """
    count = 0

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def inner(value: Any) -> None:
        nonlocal count
        count += 1
        check(value)

    inner()
    print(f"{name}: {count} cases")
    return count
