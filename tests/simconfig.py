"""A config file pointing saraban at a simulated internet: what CLI and subprocess tests pass as --config."""

from __future__ import annotations

from pathlib import Path

from checks.config import EngineConfig

# The suite's store wait: the held-lock cases stop after this instead of the default 30 s ([general] lock_timeout).
LOCK_TIMEOUT = 1.0


def write_sim_config(path: Path, cfg: EngineConfig, *, operator: str = "somchai", extra: str = "") -> Path:
    """Write `cfg` (from `SimInternet.engine_config`) as TOML at `path`; `extra` is appended as it is."""
    dns, smtp, canary = cfg.dns, cfg.smtp, cfg.canary
    path.write_text(
        f'[general]\noperator = "{operator}"\nlock_timeout = {LOCK_TIMEOUT}\n'
        f'[dns]\nnameservers = ["127.0.0.1"]\nport = {dns.port}\ntimeout = {dns.timeout}\nlifetime = {dns.lifetime}\n'
        f'[smtp]\nport = {smtp.port}\nhelo_name = "{smtp.helo_name}"\nmail_from = "{smtp.mail_from}"\n'
        f"timeout = {smtp.timeout}\ndeadline = {smtp.deadline}\nretries = {smtp.retries}\n"
        f"retry_delay = {smtp.retry_delay}\n"
        f'[canary]\nresolve = "{canary.resolve}"\nconnect = "{canary.connect}"\n'
        f"timeout = {canary.timeout}\ninterval = {canary.interval}\n{extra}",
        encoding="utf-8",
    )
    return path
