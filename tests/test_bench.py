"""`saraban bench`: the figures it prints, the lower bound it compares against, and the politeness audit."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

import pytest

from checks import events as ev
from checks.config import EngineConfig, PolitenessConfig
from checks.model import Agency
from checks.scheduler import Scanner
from checks.sim.internet import SimInternet
from checks.sim.world import MAILBOX_OK, DomainSpec, HostSpec, World
from console import cli
from console.bench.suite import KEYS, SimProcess, extrapolate, lower_bound, run_bench, violations_of
from console.config import AppConfig


def _args(**kwargs: Any) -> argparse.Namespace:
    values: dict[str, Any] = {"agencies": 150, "delay_ms": 5.0, "json": True, "skip": ["tui", "scale"],
                              "baseline_budget_s": 3.0}
    values.update(kwargs)
    return argparse.Namespace(**values)


def test_small_national_bench_reports_every_figure_and_meets_its_bound(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bench(_args(), AppConfig()) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(KEYS) <= set(out)
    assert out["agencies"] == 150
    assert out["scan_done"] == 150 and out["scan_stopped"] is None
    assert out["lower_bound_s"] > 0
    # a scan cannot beat its physical lower bound: if it does, the bound's formula is wrong
    assert out["scan_s"] >= out["lower_bound_s"] * 0.9
    assert out["mismatches"] == 0, out["mismatch_examples"]
    assert out["politeness_violations"] == 0, out["politeness_violation_lines"]
    assert out["data_commands"] == 0
    assert out["recheck_group"] == "A1"
    # the same scan through a SOCKS5 proxy gives the same groups (its speed is a figure, not asserted)
    assert out["proxy_mismatches"] == 0 and out["proxy_scan_s"] > 0 and out["proxy_ratio"] > 0
    # the one-address-per-session baseline cannot finish in a 3 s budget: it is extrapolated, never below its bound
    assert out["per_address_extrapolated"] is True
    assert out["per_address_scan_s"] >= out["per_address_lower_bound_s"] * 0.999
    assert out["persist_scan_s"] > 0 and out["correction_write_s"] > 0 and out["store_bytes"] > 0
    assert out["tui_first_screen_s"] is None and out["skipped"] == ["scale", "tui"]


def test_everything_skipped_still_prints_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["bench", "--agencies", "50", "--json", "--skip", "scan", "--skip", "baseline",
                     "--skip", "store", "--skip", "tui"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == list(KEYS)
    assert out["scan_s"] is None and out["tui_filter_s"] is None and out["politeness_violations"] is None
    assert out["peak_rss_mb"] > 0


def test_table_names_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bench(_args(json=False, skip=["scan", "baseline", "store", "tui"]), AppConfig()) == 0
    table = capsys.readouterr().out
    assert "target <= 1.3x" in table and "target 0" in table and "—" in table
    assert "through a SOCKS5 proxy" in table


def test_unknown_part_to_skip_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bench(_args(skip=["scna"]), AppConfig()) == 2
    assert "scna" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The lower bound on a world small enough to count by hand
# ---------------------------------------------------------------------------------------------
def _one_host_world(n: int, *, starttls: bool = True) -> World:
    host = HostSpec(name="mx.bench.go.th", ip="127.3.0.10", starttls=starttls)
    world = World(canary_ip="127.3.0.1")
    world.hosts[host.name] = host
    world.domains["bench.go.th"] = DomainSpec("bench.go.th", mx=((10, host.name),))
    for i in range(n):
        address = f"saraban{i}@bench.go.th"
        host.mailboxes[address] = MAILBOX_OK
        world.agencies.append(Agency(id=f"b-{i}", name=f"หน่วยงาน {i}", declared=address))
        world.expected[f"b-{i}"] = "A1"
    return world


def test_lower_bound_counts_sessions_replies_and_limits() -> None:
    world = _one_host_world(199)  # 199 addresses + 1 catch-all probe (rejected) = 200 RCPT
    limits = PolitenessConfig(max_sessions_per_host=2, rcpt_per_session=50, rejections_per_session=8,
                              sessions_per_minute=60, max_concurrent_sessions=200)
    engine = EngineConfig(politeness=limits)
    bound = lower_bound(world, world.agencies, engine, 0.01)
    # 4 sessions x (banner, EHLO, STARTTLS, EHLO, MAIL, QUIT) + 200 RCPT replies, 2 at a time, + 2 DNS trips
    assert bound.seconds == pytest.approx((4 * 6 + 200) * 0.01 / 2 + 2 * 0.01)
    assert bound.busiest_ip == "127.3.0.10" and bound.busiest_rcpt == 200

    # a sliding 60 s window of 60 sessions: 200 one-RCPT sessions need 3 full windows first
    per_address = dataclasses.replace(engine, politeness=dataclasses.replace(limits, rcpt_per_session=1))
    bound = lower_bound(world, world.agencies, per_address, 0.01)
    assert bound.seconds == pytest.approx(3 * 60 + (20 * 6 + 20) * 0.01 / 2 + 2 * 0.01)

    # without STARTTLS a session waits for two replies less
    plain = _one_host_world(199, starttls=False)
    assert lower_bound(plain, plain.agencies, engine, 0.01).seconds == pytest.approx(
        (4 * 4 + 200) * 0.01 / 2 + 2 * 0.01)


async def _scan_against_bound(world: World, limits: PolitenessConfig) -> tuple[Scanner, ev.ScanFinished, float, SimInternet]:
    """One real scan of `world` on the simulated internet (10 ms a reply) and its lower bound."""
    async with SimInternet(world, delay=0.01) as sim:
        cfg = sim.engine_config(EngineConfig(politeness=limits))
        bound = lower_bound(world, world.agencies, cfg, 0.01, sim.smtp.delay_model)
        scanner = Scanner(cfg)
        finished = await scanner.run(world.agencies)
    return scanner, finished, bound.seconds, sim


async def test_a_real_scan_of_one_busy_host_does_not_beat_the_bound() -> None:
    world = _one_host_world(199)
    limits = PolitenessConfig(max_sessions_per_host=2, rcpt_per_session=50)
    scanner, finished, bound, sim = await _scan_against_bound(world, limits)
    assert finished.done == 199
    assert finished.elapsed_s >= bound * 0.9
    assert sim.smtp.audit.violations(2, 50, 60) == []
    assert {v.group for v in scanner.verdicts.values()} == {"A1"}


async def test_a_real_scan_of_a_host_rejecting_everyone_does_not_beat_the_bound() -> None:
    """The watcher's case: waiting agencies are mostly unknown mailboxes at one host, so the rejection cap
    decides how many sessions there are; the engine's sessions share the work and still cannot beat it."""
    world = _one_host_world(0)
    for i in range(63):  # + the catch-all probe: 64 rejected RCPT, 16 sessions of 4
        address = f"nobody{i}@bench.go.th"
        world.agencies.append(Agency(id=f"u-{i}", name=f"หน่วยงาน {i}", declared=address))
        world.expected[f"u-{i}"] = "D3"
    limits = PolitenessConfig(max_sessions_per_host=4, rcpt_per_session=50, rejections_per_session=4)
    scanner, finished, bound, sim = await _scan_against_bound(world, limits)
    assert finished.done == 63
    assert finished.elapsed_s >= bound * 0.9
    assert sim.smtp.audit.violations(4, 50, 60) == []
    assert sim.smtp.audit.stats("127.3.0.10").sessions == 16  # no session wasted on nothing
    assert {v.group for v in scanner.verdicts.values()} == {"D3"}


def test_extrapolation_of_a_windowed_host_uses_whole_windows() -> None:
    # a host that takes 60 sessions in a 6 s burst at the start of every minute; the run was stopped at 125 s
    samples = []
    for k in range(251):
        t = k * 0.5
        minute, into = divmod(t, 60.0)
        samples.append((t, int(minute) * 60 + min(60, int(into * 10))))
    run = dataclasses.make_dataclass("R", ["samples", "elapsed"])(samples, 125.0)
    total = extrapolate(run, 5000)  # type: ignore[arg-type]
    assert total is not None
    assert total == pytest.approx(125 + (5000 - samples[-1][1]) / 1.0, rel=0.02)


# ---------------------------------------------------------------------------------------------
# The simulator process and its politeness audit
# ---------------------------------------------------------------------------------------------
async def test_simulator_process_answers_commands_and_its_audit_catches_an_over_eager_prober() -> None:
    from checks.sim.worlds import national_world

    world = national_world(300, seed=2568)
    async with SimProcess("national", 300, 2568, 0.0) as sim:
        assert {"dns_port", "smtp_port", "canary_name", "canary_ip"} <= set(sim.info)
        assert (await sim.command("delay 0"))["ok"] is True
        with pytest.raises(Exception, match="unknown command"):
            await sim.command("launch")
        base = EngineConfig()
        from console.bench.suite import engine_config_for

        cfg = engine_config_for(world, sim.info, base, 0.0)
        eager = PolitenessConfig(max_sessions_per_host=50, rcpt_per_session=500, rejections_per_session=0,
                                 sessions_per_minute=10_000)
        await sim.command("reset")
        scanner = Scanner(dataclasses.replace(cfg, politeness=eager))
        finished = await scanner.run(world.agencies)
        assert finished.done == 300
        audit = await sim.command("audit")
        assert audit["total_rcpt"] > 0 and audit["data_commands"] == 0
        polite = PolitenessConfig(max_sessions_per_host=4, rcpt_per_session=50, sessions_per_minute=60)
        lines = violations_of(audit, polite)
        assert any("RCPT in one session (limit 50)" in line for line in lines), lines

        # many small sessions at once: too many concurrent sessions and too many per minute
        swarm = PolitenessConfig(max_sessions_per_host=50, rcpt_per_session=1, sessions_per_minute=10_000)
        await sim.command("reset")
        await Scanner(dataclasses.replace(cfg, politeness=swarm)).run(world.agencies)
        lines = violations_of(await sim.command("audit"), polite)
        assert any("concurrent sessions (limit 4)" in line for line in lines), lines
        assert any("new sessions in 60 s (limit 60)" in line for line in lines), lines

        # reset forgets it all
        await sim.command("reset")
        assert violations_of(await sim.command("audit"), polite) == []


def test_console_figures_are_the_median_launch_and_a_failed_launch_is_left_out() -> None:
    from console.bench.suite import probe_figures, probe_notes

    def launch(first: float | None, key: float, rss: float) -> dict[str, Any]:
        return {"tui_first_screen_s": first, "tui_filter_s": key, "tui_rss_mb": rss,
                "notes": {"tui_first_screen_s": f"app start -> painted {first}"}}

    runs = [launch(1.31, 0.04, 110.0), launch(0.92, 0.06, 118.5), launch(1.04, 0.05, 112.0)]
    # one slow launch on a shared machine is not the figure, and neither is the luckiest one
    assert probe_figures(runs) == {"tui_first_screen_s": 1.04, "tui_filter_s": 0.05, "tui_rss_mb": 118.5}
    notes = probe_notes(runs)
    assert "median of 3 launches (1.31, 0.92, 1.04)" in notes["tui_first_screen_s"]
    assert "app start -> painted 0.92" in notes["tui_first_screen_s"]  # every launch's own note is kept
    failed = [*runs[:2], launch(None, 0.05, 100.0)]
    assert probe_figures(failed)["tui_first_screen_s"] == pytest.approx((1.31 + 0.92) / 2, abs=1e-3)
    assert probe_figures([launch(None, 0.05, 1.0)])["tui_first_screen_s"] is None


def test_the_console_probe_loads_what_saraban_loads_and_not_the_bench() -> None:
    """The first screen is timed from the probe's launch: the bench's own modules (the simulated
    internet, the store and watcher benches) loaded there would count as the console's start-up."""
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, console.bench.console_probe; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert "console.cli" in loaded  # the `saraban` script's module, loaded before the console
    bench_only = ("checks.sim", "console.bench.suite", "console.bench_store", "console.watch.bench", "tinydb.queries")
    assert [module for module in loaded if module.startswith(bench_only)] == []
