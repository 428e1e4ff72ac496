"""Shared by the reliability tests: engine settings pointed at a simulated internet, with small timeouts."""

from __future__ import annotations

from dataclasses import replace

from checks.config import EngineConfig
from checks.sim.internet import SimInternet


def fast_config(sim: SimInternet, *, deadline: float = 3.0, **overrides: object) -> EngineConfig:
    """Timeouts small enough for a test; `overrides` replace SMTP fields, or `politeness=` the limits."""
    politeness = overrides.pop("politeness", None)
    fields: dict[str, object] = {"timeout": 0.5, "deadline": deadline, "retries": 1, "retry_delay": 0.2}
    fields.update(overrides)
    cfg = sim.engine_config(**fields)
    cfg = replace(
        cfg,
        dns=replace(cfg.dns, timeout=0.3, lifetime=1.0),
        # 1.5 s: a loaded machine (CI's two cores, two test workers) can stall a 0.5 s connect on loopback,
        # which stops the scan as if our network were down.
        canary=replace(cfg.canary, interval=0.2, timeout=1.5),
    )
    return replace(cfg, politeness=politeness) if politeness is not None else cfg
