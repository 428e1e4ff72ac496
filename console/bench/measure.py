"""Small measuring helpers shared by the bench and its console probe."""

from __future__ import annotations

import resource
import sys

TUI_TIMEOUT_S = 180.0
LAUNCHED_ENV = "SARABAN_BENCH_LAUNCHED"  # epoch seconds at which the bench launched the console probe


def _rss_now_mb() -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
