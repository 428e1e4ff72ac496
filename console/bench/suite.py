"""`saraban bench`: how fast, how polite and how heavy a national scan is, on the simulated internet.

The simulated internet runs in a subprocess (`python -m checks.sim serve`), so it does not share the
engine's CPU or GIL; this process rebuilds the same deterministic world to know the agencies and the
expected groups. Figures (every key is always in the JSON; a skipped or impossible part is null):

* scan_s: a full national scan with the configured politeness limits and reply delay;
* lower_bound_s: the least time any scheduler needs under the same limits and delay (formula below);
* per_address_scan_s / unpipelined_scan_s: the same scan with one address per session / without
  pipelining, capped at a time budget and extrapolated from the busiest host's rate when capped;
* recheck_s: one agency rechecked with warm DNS (the operator's "we fixed it" loop);
* zero_delay_addresses_per_s: agencies per second with no reply delay (engine CPU, see below);
* peak_rss_mb, politeness_violations (the simulator's audit against each run's limits);
* store figures (issue 3) and TUI figures (issue 4).

The lower bound
---------------
What one host costs is counted from what the engine really sends (`checks.smtp`) and from what the
simulator really does (`checks.sim.smtp_server`), per mail host h (one IP):

    n   = RCPT the scan must send to h: every distinct address probed (declared address and
          suggested fix) whose first reachable MX is h, plus one catch-all probe per domain on h
    rej = how many of those h rejects (unknown/disabled/full mailbox, catch-all probe on a host
          that is not catch-all, greylisting's first 450)
    S   = max(ceil(n / rcpt_per_session), ceil(rej / rejections_per_session))   sessions, at least
    B   = replies every session waits for: banner + EHLO + (STARTTLS + EHLO when h offers STARTTLS
          and the probe uses it) + MAIL + QUIT                                  (4 or 6)
    R   = RCPT replies: the simulator sleeps `d` before every reply, one command after another, so
          a pipelined chunk costs one `d` per RCPT as well: R = n. (With a round-trip delay model,
          delay_model "per_flight", a pipelined chunk of at most rejections_per_session RCPT costs
          one `d`: R = max(S, ceil(n / rejections_per_session)); unpipelined R = n.)
    work(h)   = (S*B + R) * d / max_sessions_per_host     and at least one whole session:
                (B + ceil(R / S)) * d
    window(h) = the limit is a sliding 60 s window (the audit's definition), so the k-th session
                (k = 0..S-1) cannot start before floor(k / L) * 60 s, L = sessions_per_minute:
                w = floor((S - 1) / L) full windows, then the rest of the sessions,
                rem_s = S - w*L, carrying rem_n = max(rem_s, n - w*L*rcpt_per_session) RCPT:
                w * 60 + (rem_s*B + rem_R) * d / max_sessions_per_host
                (NB: (S - 1) * 60 / L is the bound of a *paced* limit; a sliding window allows
                bursts of L sessions, so that formula is not a lower bound here.)
    host(h)   = max(work(h), window(h)) + 2 DNS round trips (MX, then A/AAAA of the MX name)

    lower_bound = max( max over h of host(h),
                       sum over h of (S*B + R) * d / max_concurrent_sessions,
                       retry chains: an address whose answer is temporary (greylisting, SERVFAIL,
                       421 at greeting) waits retry_delay before each of its retries )

Hosts whose behaviour is hostile (silent, drip, garbage...) are left out: leaving work out keeps it
a lower bound. The canary (one DNS lookup and one TCP connect) is not in the bound: the engine
runs it alongside the first lookups (sessions wait for it), so only what it takes beyond them shows
up in the ratio. Nor is saving the verdicts: the watcher's figure includes its save, the bound not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks import events as ev
from checks.config import EngineConfig, PolitenessConfig
from checks.model import Agency, Verdict
from checks.sim.world import World
from console.bench.bounds import Bound, HostLoad, host_loads, lower_bound
from console.bench.measure import LAUNCHED_ENV, TUI_TIMEOUT_S, _peak_rss_mb, _r
from console.bench_store import KEYS as STORE_SCALE_KEYS
from console.bench_store import table_rows as store_scale_rows
from console.config import AppConfig
from console.watch.bench import KEYS as WATCH_KEYS
from console.watch.bench import table_rows as watch_rows
from console.watch.bench import watch_figures

if TYPE_CHECKING:  # the engine loads when a scan is measured: the console probe (a submodule) must not pay for it
    from checks.scheduler import Scanner

BASELINE_BUDGET_S = 120.0  # each baseline run (per address, unpipelined) stops after this and extrapolates
SEED = 2568  # the national world's seed (the same in the simulator process)
SIM_START_TIMEOUT_S = 60.0
SAMPLE_EVERY_S = 0.5  # the busiest host's progress is sampled this often (for extrapolation)
PROGRESS_EVERY_S = 10.0  # a progress line on stderr this often
STORE_HISTORY = 10  # history entries per agency for the correction figure
TUI_LARGE = 20_000  # the console is measured again on a store grown to this many agencies
# The console's targets (issue 12): (first screen from launch, filter keystroke, memory) per store size
TUI_TARGETS = {"": (0.8, 0.05, 250.0), "_20k": (1.2, 0.08, None)}
UNLIMITED_SESSIONS_PER_MINUTE = 1_000_000
PARTS = ("scan", "baseline", "store", "scale", "tui", "watch")
PROBE_LAUNCHES = 3  # fresh console processes per store size; the figures are their median

# Every key of the JSON object, in print order (values are null when not measured).
KEYS: tuple[str, ...] = (
    "agencies",
    "delay_ms",
    "limits",
    "world_build_s",
    "scan_s",
    "scan_done",
    "scan_stopped",
    "lower_bound_s",
    "lower_bound_host",
    "ratio",
    "busiest_host_first_s",
    "busiest_host_done_s",
    "scan_engine_cpu_s",
    "mismatches",
    "mismatch_examples",
    "groups",
    "sessions",
    "rcpt",
    "data_commands",
    "per_address_scan_s",
    "per_address_extrapolated",
    "per_address_lower_bound_s",
    "per_address_speedup",
    "unpipelined_scan_s",
    "unpipelined_extrapolated",
    "pipelining_speedup",
    "recheck_s",
    "recheck_group",
    "proxy_scan_s",
    "proxy_ratio",
    "proxy_mismatches",
    "zero_delay_scan_s",
    "zero_delay_addresses_per_s",
    "zero_delay_engine_cpu_s",
    "peak_rss_mb",
    "politeness_violations",
    "politeness_violation_lines",
    "persist_scan_s",
    "store_history_build_s",
    "correction_write_s",
    "store_bytes",
    *STORE_SCALE_KEYS,
    "tui_first_screen_s",
    "tui_filter_s",
    "tui_rss_mb",
    "tui_first_screen_20k_s",
    "tui_filter_20k_s",
    "tui_rss_20k_mb",
    *WATCH_KEYS,
    "skipped",
    "notes",
)



# ---------------------------------------------------------------------------------------------
# The simulator process
# ---------------------------------------------------------------------------------------------
class SimError(Exception):
    """The simulator process did not start or stopped answering."""


class SimProcess:
    """`python -m checks.sim serve` as a child process, driven over its stdin/stdout (one JSON line each)."""

    def __init__(self, world: str, agencies: int, seed: int, delay_ms: float) -> None:
        self.argv = [sys.executable, "-m", "checks.sim", "serve", "--world", world,
                     "--agencies", str(agencies), "--seed", str(seed), "--delay-ms", str(delay_ms)]
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> SimProcess:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=env, limit=64 * 1024 * 1024,
        )
        try:
            self.info = await self._read(SIM_START_TIMEOUT_S)
        except BaseException:
            await self.close()
            raise
        if "smtp_port" not in self.info:
            await self.close()
            raise SimError(f"the simulator did not say where it listens: {self.info}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read(self, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            async with asyncio.timeout(timeout):
                line = await self.proc.stdout.readline()
        except TimeoutError:
            raise SimError("the simulator did not answer in time") from None
        if not line:
            raise SimError(f"the simulator stopped (exit code {self.proc.returncode})")
        data = json.loads(line)
        if not isinstance(data, dict):
            raise SimError("the simulator answered something that is not a JSON object")
        return data

    async def command(self, text: str, timeout: float = 30.0) -> dict[str, Any]:
        async with self._lock:
            if self.proc is None or self.proc.stdin is None or self.proc.returncode is not None:
                raise SimError("the simulator is not running")
            self.proc.stdin.write(text.encode("ascii") + b"\n")
            await self.proc.stdin.drain()
            data = await self._read(timeout)
        if "error" in data:
            raise SimError(str(data["error"]))
        return data

    async def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.write(b"quit\n")
                await proc.stdin.drain()
                proc.stdin.close()
        try:
            async with asyncio.timeout(10.0):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


def engine_config_for(world: World, info: dict[str, Any], base: EngineConfig, delay: float) -> EngineConfig:
    """The engine settings pointing at the simulator process (the same as `SimInternet.engine_config`)."""
    from checks.sim.internet import SimInternet

    # SimInternet is only used for its settings here: it is not started, nothing is bound.
    proxy = SimInternet(world, delay=delay, dns_port=int(info["dns_port"]), smtp_port=int(info["smtp_port"]))
    # a national scan needs DNS slack: the engine's loop can stall past 1 s while it starts 8,286 checks
    return proxy.engine_config(base, dns_timeout=2.0, dns_lifetime=4.0)


def violations_of(audit: dict[str, Any], limits: PolitenessConfig) -> list[str]:
    from checks.sim.__main__ import audit_from_json

    return audit_from_json(audit).violations(
        limits.max_sessions_per_host, limits.rcpt_per_session, limits.sessions_per_minute
    )


# ---------------------------------------------------------------------------------------------
# One timed scan
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Run:
    label: str
    elapsed: float
    scanner: Scanner
    finished: ev.ScanFinished
    capped: bool
    audit: dict[str, Any]
    violations: list[str]
    samples: list[tuple[float, int]]  # (seconds since start, RCPT answered by the watched host)
    cpu: float  # CPU seconds of this (engine) process during the scan

    def watched_first_and_done(self) -> tuple[float | None, float | None]:
        """When the watched host answered its first RCPT, and when it had answered all it ever did."""
        if not self.samples or self.samples[-1][1] <= 0:
            return None, None
        final = self.samples[-1][1]
        first = next(t for t, n in self.samples if n > 0)
        done = next(t for t, n in self.samples if n >= final)
        return first, done


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def timed_scan(
    sim: SimProcess,
    agencies: Sequence[Agency],
    cfg: EngineConfig,
    label: str,
    *,
    budget: float | None = None,
    watch_ip: str | None = None,
    resolver: Any = None,
    progress: Callable[[str], None] = _say,
) -> Run:
    """Scan with a fresh audit; stop at `budget` seconds (if given) and sample `watch_ip`'s progress."""
    from checks.scheduler import Scanner

    await sim.command("reset")
    scanner = Scanner(cfg, resolver=resolver) if resolver is not None else Scanner(cfg)
    done = 0

    def sink(event: ev.Event) -> None:
        nonlocal done
        if isinstance(event, ev.AgencyChecked):
            done = event.done

    samples: list[tuple[float, int]] = []
    cpu0 = time.process_time()
    started = time.monotonic()
    task = asyncio.ensure_future(scanner.run(agencies, sink))
    capped = False
    next_progress = started + PROGRESS_EVERY_S
    while not task.done():
        await asyncio.wait({task}, timeout=SAMPLE_EVERY_S if watch_ip else 1.0)
        now = time.monotonic()
        if watch_ip and not task.done():
            data = await sim.command(f"audit {watch_ip}")
            samples.append((time.monotonic() - started, int(data.get("total_rcpt", 0))))
        if now >= next_progress:
            progress(f"  {label}: {done}/{len(agencies)} agencies after {now - started:.0f} s")
            next_progress = now + PROGRESS_EVERY_S
        if budget is not None and not task.done() and now - started >= budget:
            capped = True
            if watch_ip:
                data = await sim.command(f"audit {watch_ip}")
                samples.append((time.monotonic() - started, int(data.get("total_rcpt", 0))))
            scanner.stop("bench time budget reached")
            break
    elapsed = samples[-1][0] if capped and samples else time.monotonic() - started
    finished = await task
    if not capped:
        elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu0
    await asyncio.sleep(0.2)  # let the simulator see the last sessions end
    audit = await sim.command("audit")
    violations = [f"{label}: {line}" for line in violations_of(audit, cfg.politeness)]
    return Run(label, elapsed, scanner, finished, capped, audit, violations, samples, cpu)


def extrapolate(run: Run, needed: int) -> float | None:
    """Seconds the capped run would have taken: the watched (busiest) host's remaining RCPT at its rate.

    With a sliding 60 s window the host works in bursts that repeat every 60 s, so the rate is
    taken over the last 60 s (any 60 s window of a periodic process holds one period's work);
    shorter runs use the average since the start, which overstates the rate after the first burst.
    """
    if not run.samples:
        return None
    t_end, done_end = run.samples[-1]
    if done_end <= 0 or t_end <= 0:
        return None
    if t_end >= 61.0:
        t_from = t_end - 60.0
        earlier = [s for s in run.samples if s[0] <= t_from]
        later = [s for s in run.samples if s[0] > t_from]
        if earlier and later:
            (t0, d0), (t1, d1) = earlier[-1], later[0]
            done_from = d0 + (d1 - d0) * ((t_from - t0) / (t1 - t0) if t1 > t0 else 0.0)
        else:
            done_from = 0.0
        rate = (done_end - done_from) / 60.0
    else:
        rate = done_end / t_end
    if rate <= 0:
        return None
    return t_end + max(0, needed - done_end) / rate






# ---------------------------------------------------------------------------------------------
# The parts
# ---------------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


class _Bench:
    def __init__(self, args: argparse.Namespace, config: AppConfig) -> None:
        self.args = args
        self.config = config
        self.n = int(args.agencies)
        self.delay_ms = max(0.0, float(args.delay_ms))
        self.delay = self.delay_ms / 1000.0
        self.skip = {p.strip().lower() for s in (getattr(args, "skip", None) or []) for p in s.split(",") if p.strip()}
        unknown = self.skip - set(PARTS)
        if unknown:
            raise ValueError(f"unknown part(s) to skip: {', '.join(sorted(unknown))} (use {', '.join(PARTS)})")
        self.budget = float(getattr(args, "baseline_budget_s", None) or BASELINE_BUDGET_S)
        self.progress: Callable[[str], None] = _say
        self.out: dict[str, Any] = dict.fromkeys(KEYS)
        self.out["skipped"] = sorted(self.skip)
        self.out["notes"] = {}
        self.violations: list[str] = []
        self.verdicts: list[Verdict] = []
        self.world: World | None = None
        self.agencies: list[Agency] = []
        self._tui_store_dir: str | None = None  # the store the console is measured on (made by the store part)

    def note(self, key: str, text: str) -> None:
        self.out["notes"][key] = text

    async def run(self) -> dict[str, Any]:
        from checks.sim.worlds import national_world

        out = self.out
        out["agencies"] = self.n
        out["delay_ms"] = self.delay_ms
        limits = self.config.engine.politeness
        out["limits"] = dataclasses.asdict(limits)
        t0 = time.perf_counter()
        self.world = national_world(self.n, seed=SEED)
        out["world_build_s"] = _r(time.perf_counter() - t0)
        self.agencies = list(self.world.agencies)
        if not ({"scan", "baseline"} <= self.skip):
            await self._network_parts()
        else:
            self.note("scan_s", "skipped")
        if out["peak_rss_mb"] is None:
            out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        out["politeness_violations"] = len(self.violations) if not ({"scan", "baseline"} <= self.skip) else None
        out["politeness_violation_lines"] = self.violations
        if "store" not in self.skip:
            self._store_part()
        else:
            self.note("store", "skipped")
        if "scale" not in self.skip:  # issue 13: the store at 20,000 agencies after 50 scans
            from console.bench_store import run_scale

            await run_scale(self)
        else:
            self.note("scale", "skipped")
        if "tui" not in self.skip:
            await self._tui_part()
        else:
            self.note("tui", "skipped")
        return out

    # -- scans -------------------------------------------------------------------------------
    async def _network_parts(self) -> None:
        assert self.world is not None
        out, world, agencies = self.out, self.world, self.agencies
        base = self.config.engine
        self.progress(f"saraban bench: starting the simulated internet ({self.n} agencies, {self.delay_ms:g} ms)")
        async with SimProcess("national", self.n, SEED, self.delay_ms) as sim:
            model = str(sim.info.get("delay_model", "per_reply"))
            cfg = engine_config_for(world, sim.info, base, self.delay)
            bound = lower_bound(world, agencies, cfg, self.delay, model)
            out["lower_bound_s"] = _r(bound.seconds)
            out["lower_bound_host"] = bound.host
            main: Run | None = None
            if "scan" not in self.skip:
                self.progress("  full scan with the configured limits...")
                main = await timed_scan(sim, agencies, cfg, "scan", watch_ip=bound.busiest_ip,
                                        progress=self.progress)
                self._record_main(main)
                # the engine's memory for one national scan (world + scanner + verdicts), before other runs
                out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
                await self._recheck(sim, cfg, main)
                await self._proxied(sim, cfg, main)
                if "watch" not in self.skip:
                    await self._watch(sim, cfg, model)
            if "baseline" not in self.skip:
                await self._baselines(sim, cfg, bound, model)
            if "scan" not in self.skip:
                await self._zero_delay(sim, base)

    def _record_main(self, main: Run) -> None:
        assert self.world is not None
        out = self.out
        out["scan_s"] = _r(main.elapsed)
        out["scan_done"] = main.finished.done
        out["scan_stopped"] = main.finished.stopped
        out["ratio"] = _ratio(main.elapsed, out["lower_bound_s"])
        first, done = main.watched_first_and_done()
        out["busiest_host_first_s"], out["busiest_host_done_s"] = _r(first, 1), _r(done, 1)
        out["scan_engine_cpu_s"] = _r(main.cpu, 1)
        out["groups"] = dict(sorted(main.finished.counts.items()))
        out["sessions"] = main.audit.get("total_sessions")
        out["rcpt"] = main.audit.get("total_rcpt")
        out["data_commands"] = main.audit.get("data_commands")
        mismatches = []
        for agency in self.agencies:
            expected = self.world.expected.get(agency.id)
            verdict = main.scanner.verdicts.get(agency.id)
            got = verdict.group if verdict is not None else None
            if expected is not None and got != expected:
                mismatches.append(f"{agency.id}: expected {expected}, got {got}")
        out["mismatches"] = len(mismatches)
        out["mismatch_examples"] = mismatches[:10]
        self.violations += main.violations
        self.verdicts = list(main.scanner.verdicts.values())

    async def _proxied(self, sim: SimProcess, cfg: EngineConfig, main: Run) -> None:
        """The same scan with every SMTP session through a SOCKS5 proxy (the simulator's, on loopback)."""
        from checks.config import parse_socks_url
        from checks.sim.socks5 import SimSocks5Process

        assert self.world is not None
        async with SimSocks5Process() as proxy:
            proxied = dataclasses.replace(cfg, smtp=dataclasses.replace(cfg.smtp, proxy=parse_socks_url(proxy.url)))
            self.progress("  the same scan through a SOCKS5 proxy...")
            run = await timed_scan(sim, self.agencies, proxied, "socks5", progress=self.progress)
        if run.finished.stopped:
            self.note("proxy_scan_s", f"stopped: {run.finished.stopped}")
        self.violations += [f"socks5: {line}" for line in run.violations]
        self.out["proxy_scan_s"] = _r(run.elapsed)
        self.out["proxy_ratio"] = _ratio(run.elapsed, main.elapsed)
        expected = self.world.expected
        self.out["proxy_mismatches"] = sum(
            1 for a in self.agencies
            if a.id in expected and getattr(run.scanner.verdicts.get(a.id), "group", None) != expected[a.id])

    async def _recheck(self, sim: SimProcess, cfg: EngineConfig, main: Run) -> None:
        assert self.world is not None
        expected = self.world.expected
        candidates = [a for a in self.agencies if expected.get(a.id) == "A1"]
        dla = [a for a in candidates if a.declared.lower().endswith("@dla.go.th")]
        pick = (dla or candidates or self.agencies)[:1]
        if not pick:
            return
        agency = pick[0]
        from checks.scheduler import Scanner

        await sim.command("reset")
        scanner = Scanner(cfg, resolver=main.scanner.resolver)
        t0 = time.perf_counter()
        verdict = await scanner.check_one(agency)
        self.out["recheck_s"] = _r(time.perf_counter() - t0)
        self.out["recheck_group"] = verdict.group if verdict is not None else None
        audit = await sim.command("audit")
        self.violations += [f"recheck: {line}" for line in violations_of(audit, cfg.politeness)]

    async def _watch(self, sim: SimProcess, cfg: EngineConfig, model: str) -> None:
        """The watcher's figures (console/watch/bench.py) on the verdicts of the scan just made."""
        assert self.world is not None

        async def reset() -> None:
            await sim.command("reset")

        self.out.update(await watch_figures(
            self.world, self.verdicts, cfg, self.config,
            lambda world, agencies, engine: lower_bound(world, agencies, engine, self.delay, model).seconds,
            reset, self.progress,
        ))
        audit = await sim.command("audit")
        self.violations += [f"watch: {line}" for line in violations_of(audit, cfg.politeness)]

    async def _baselines(self, sim: SimProcess, cfg: EngineConfig, bound: Bound, model: str) -> None:
        assert self.world is not None
        out = self.out
        per_address = dataclasses.replace(cfg, politeness=dataclasses.replace(cfg.politeness, rcpt_per_session=1))
        pa_bound = lower_bound(self.world, self.agencies, per_address, self.delay, model)
        out["per_address_lower_bound_s"] = _r(pa_bound.seconds)
        await self._baseline(sim, per_address, "per_address", "one address per session", pa_bound.busiest_ip,
                             lambda: pa_bound)
        out["per_address_speedup"] = _ratio(out["per_address_scan_s"], out["scan_s"])
        unpipelined = dataclasses.replace(cfg, smtp=dataclasses.replace(cfg.smtp, pipelining=False))
        await self._baseline(sim, unpipelined, "unpipelined", "without pipelining", bound.busiest_ip,
                             lambda: lower_bound(self.world, self.agencies, unpipelined, self.delay, model))
        out["pipelining_speedup"] = _ratio(out["unpipelined_scan_s"], out["scan_s"])
        if model == "per_reply":
            self.note("pipelining_speedup", "the simulator sleeps the delay before every reply, one command "
                      "after another, so pipelining cannot save delay here (only client round trips)")

    async def _baseline(
        self, sim: SimProcess, cfg: EngineConfig, key: str, what: str, watch_ip: str | None, bound: Callable[[], Bound]
    ) -> None:
        """One slow baseline run within the budget; `<key>_scan_s`, extrapolated when the budget ran out."""
        self.progress(f"  {what} (budget {self.budget:g} s)...")
        label = key.replace("_", "-")
        run = await timed_scan(sim, self.agencies, cfg, label, budget=self.budget, watch_ip=watch_ip, progress=self.progress)
        self.violations += run.violations
        seconds = self._extrapolated(run, bound(), f"{key}_scan_s") if run.capped else run.elapsed
        self.out[f"{key}_scan_s"] = _r(seconds)
        self.out[f"{key}_extrapolated"] = run.capped

    def _extrapolated(self, run: Run, bound: Bound, key: str) -> float:
        """The extrapolation, but never below the run's own lower bound (a short budget sees only bursts)."""
        guess = extrapolate(run, bound.busiest_rcpt)
        if guess is None or guess < bound.seconds:
            self.note(key, f"the rate measured in {run.elapsed:.0f} s extrapolates below the lower bound "
                      f"({'none' if guess is None else f'{guess:.0f} s'}); the lower bound is reported")
            return bound.seconds
        return guess

    async def _zero_delay(self, sim: SimProcess, base: EngineConfig) -> None:
        assert self.world is not None
        await sim.command("delay 0")
        cfg = engine_config_for(self.world, sim.info, base, 0.0)
        cfg = dataclasses.replace(cfg, politeness=dataclasses.replace(
            cfg.politeness, sessions_per_minute=UNLIMITED_SESSIONS_PER_MINUTE))
        self.progress("  zero delay (engine throughput)...")
        run = await timed_scan(sim, self.agencies, cfg, "zero-delay", progress=self.progress)
        self.violations += run.violations
        self.out["zero_delay_scan_s"] = _r(run.elapsed)
        self.out["zero_delay_addresses_per_s"] = round(len(self.agencies) / run.elapsed, 1) if run.elapsed else None
        self.out["zero_delay_engine_cpu_s"] = _r(run.cpu, 1)
        self.note("zero_delay_addresses_per_s", "configured limits except sessions_per_minute (lifted, so the "
                  "figure measures the engine, not the 60 s window)")

    # -- store (issue 3) ---------------------------------------------------------------------
    def _store_part(self) -> None:
        from console.store import Store

        if not self.verdicts:
            self.note("store", "needs the scan's verdicts (the scan part was skipped)")
            return
        self.progress("  store: persisting the scan, building history, one correction...")
        out = self.out
        with tempfile.TemporaryDirectory(prefix="saraban-bench-") as tmp:
            store = Store(Path(tmp) / "persist.json")
            store.merge_import(self.agencies, source="bench", operator="bench")
            t0 = time.perf_counter()
            store.save_verdicts(self.verdicts)
            out["persist_scan_s"] = _r(time.perf_counter() - t0)

            history = Store(Path(tmp) / "history.json", history_limit=STORE_HISTORY)
            history.merge_import(self.agencies, source="bench", operator="bench")
            t0 = time.perf_counter()
            for i in range(STORE_HISTORY + 1):  # the first save has no history; each later one adds one entry
                stamp = f"2025-10-{i + 1:02d}T09:00:00+07:00"
                history.save_verdicts([dataclasses.replace(v, checked_at=stamp) for v in self.verdicts])
            out["store_history_build_s"] = _r(time.perf_counter() - t0)
            agency = self.agencies[0]
            t0 = time.perf_counter()
            history.add_correction(agency.id, "saraban@dla.go.th", "bench: the agency called back", "bench")
            out["correction_write_s"] = _r(time.perf_counter() - t0, 4)
            out["store_bytes"] = sum(
                p.stat().st_size for p in Path(tmp).rglob("*")
                if p.is_file() and p.relative_to(tmp).parts[0].startswith("history.json")
            )
            if "tui" not in self.skip:
                self._tui_store_dir = tempfile.mkdtemp(prefix="saraban-bench-tui-")
                for p in Path(tmp).iterdir():
                    if p.name.startswith("history.json"):
                        os.replace(p, Path(self._tui_store_dir) / p.name)

    # -- TUI (issues 4, 12) -------------------------------------------------------------------
    async def _probe(self, path: Path, suffix: str) -> None:
        """The console's figures on the store at `path`, each from PROBE_LAUNCHES fresh processes; keys
        end in `suffix`. One launch on a shared machine is a lottery (CPU time of the same launch varies by
        a third between runs here), so the figure is the median launch, and the note lists every one."""
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        # As an installed saraban: its modules compiled once (pip does it), not at every launch, even
        # where the environment says not to write bytecode (~0.25 s of 8,286 agencies' first screen).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        compiled = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "compileall", "-q", str(Path(root) / "console"), str(Path(root) / "checks"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
        )
        await compiled.wait()
        runs: list[dict[str, Any]] = []
        for _ in range(PROBE_LAUNCHES):
            result = await self._probe_once(path, suffix, env)
            if result is None:
                return
            runs.append(result)
        for key, value in probe_figures(runs).items():
            name, unit = key.rsplit("_", 1)
            self.out[f"{name}{suffix}_{unit}"] = value
        for key, text in probe_notes(runs).items():
            name, unit = key.rsplit("_", 1)
            self.note(f"{name}{suffix}_{unit}", text)

    async def _probe_once(self, path: Path, suffix: str, env: dict[str, str]) -> dict[str, Any] | None:
        """One launch of the console probe: its JSON result, or None (the reason noted)."""
        env = {**env, LAUNCHED_ENV: repr(time.time())}  # the probe's first screen counts from here: start-up included
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console.bench.console_probe", "tui-probe", str(path), self.config.language,
            *([str(self.config.source)] if self.config.source else []),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )
        try:
            async with asyncio.timeout(TUI_TIMEOUT_S + 60.0):
                stdout, stderr = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            self.note("tui" + suffix, f"the console probe did not finish in {TUI_TIMEOUT_S + 60:g} s")
            return None
        lines = stdout.decode("utf-8", "replace").strip().splitlines()
        try:
            result = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            result = None
        if not isinstance(result, dict):
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            self.note("tui" + suffix, f"the console probe failed (exit {proc.returncode}): {' | '.join(tail)[:500]}")
            return None
        return result

    async def _tui_part(self) -> None:
        """Measured in a fresh process, so its memory is the console's alone (not this bench's world and scans)."""
        from console.store import Store

        self.progress("  TUI: first screen and one filter keystroke...")
        store_dir = self._tui_store_dir
        made_dir = store_dir is None
        if store_dir is None:
            store_dir = tempfile.mkdtemp(prefix="saraban-bench-tui-")
        try:
            path = Path(store_dir) / "history.json"
            if made_dir:
                store = Store(path)
                store.merge_import(self.agencies, source="bench", operator="bench")
                if self.verdicts:
                    store.save_verdicts(self.verdicts)
            await self._probe(path, "")
            if self.n < TUI_LARGE and self.agencies:
                self.progress(f"  TUI: the same on {TUI_LARGE:,} agencies (10 scans)...")
                large = Path(store_dir) / "large" / "history.json"
                large.parent.mkdir()
                agencies, verdicts = scaled(self.agencies, self.verdicts, TUI_LARGE)
                build_scanned_store(large, agencies, verdicts)
                await self._probe(large, "_20k")
        finally:
            import shutil

            shutil.rmtree(store_dir, ignore_errors=True)


PROBE_KEYS = ("tui_first_screen_s", "tui_filter_s", "tui_rss_mb")


def probe_figures(runs: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """The console's figures over several launches: the median launch's first screen and keystroke
    (a launch that failed a figure counts as None and is left out), and the largest memory."""
    out: dict[str, float | None] = {}
    for key in PROBE_KEYS:
        values = [v for run in runs if isinstance(v := run.get(key), int | float)]
        if not values:
            out[key] = None
        elif key == "tui_rss_mb":
            out[key] = max(values)
        else:
            out[key] = _r(statistics.median(values))
    return out


def probe_notes(runs: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Each launch's note, after the figure that was taken and each launch's value."""
    figures = probe_figures(runs)
    taken = {"tui_first_screen_s": "median", "tui_filter_s": "median of each launch's median", "tui_rss_mb": "largest"}
    notes: dict[str, str] = {}
    for key in PROBE_KEYS:
        values = ", ".join("—" if run.get(key) is None else f"{run[key]:g}" for run in runs)
        said = [str(note) for run in runs if (note := (run.get("notes") or {}).get(key))]
        # the first screen's note is short and differs per launch; the others say the same each time
        each = " | ".join(said) if key == "tui_first_screen_s" else (said[0] if said else "")
        head = f"{taken[key]} of {len(runs)} launches ({values})" if figures[key] is not None else f"{len(runs)} launches"
        notes[key] = head + (f"; {'each' if key == 'tui_first_screen_s' else 'the first'}: {each}" if each else "")
    return notes


def scaled(agencies: Sequence[Agency], verdicts: Sequence[Verdict], n: int) -> tuple[list[Agency], list[Verdict]]:
    """`n` agencies made by repeating the national list (copies renamed so the importer keeps them apart)."""
    by_id = {v.agency_id: v for v in verdicts}
    out_a: list[Agency] = []
    out_v: list[Verdict] = []
    for i in range(n):
        agency = agencies[i % len(agencies)]
        copy = i // len(agencies)
        if copy:
            agency = dataclasses.replace(agency, id=f"{agency.id}~{copy}", name=f"{agency.name} ({copy + 1})", code="")
        out_a.append(agency)
        verdict = by_id.get(agencies[i % len(agencies)].id)
        if verdict is not None:
            out_v.append(dataclasses.replace(verdict, agency_id=agency.id) if copy else verdict)
    return out_a, out_v


def build_scanned_store(path: Path, agencies: Sequence[Agency], verdicts: Sequence[Verdict]) -> None:
    """A store as after STORE_HISTORY scans: the list imported, then the verdicts saved that many times."""
    from console.store import Store

    store = Store(path, history_limit=STORE_HISTORY)
    store.merge_import(agencies, source="bench", operator="bench")
    for i in range(STORE_HISTORY + 1 if verdicts else 0):
        stamp = f"2025-10-{i + 1:02d}T09:00:00+07:00"
        store.save_verdicts([dataclasses.replace(v, checked_at=stamp) for v in verdicts])


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
        return text + unit
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return str(value)


def format_table(out: dict[str, Any]) -> str:
    """The human table: one figure per line, with the targets beside those that have one."""
    lines: list[str] = []

    def row(label: str, value: Any, unit: str = "", target: str = "") -> None:
        text = _fmt(value, unit)
        lines.append(f"  {label:<34} {text:>14}   {target}".rstrip())

    limits = out.get("limits") or {}
    lines.append(f"saraban bench — {_fmt(out['agencies'])} agencies, reply delay {_fmt(out['delay_ms'])} ms")
    if limits:
        lines.append(
            "  limits: {max_sessions_per_host} sessions/host, {rcpt_per_session} RCPT/session, "
            "{rejections_per_session} rejections/session, {sessions_per_minute} sessions/min/host, "
            "{max_concurrent_sessions} sessions overall".format(**limits)
        )
    lines.append("scan")
    row("full scan", out["scan_s"], " s")
    row("lower bound", out["lower_bound_s"], " s", f"set by {out['lower_bound_host']}" if out["lower_bound_host"] else "")
    row("scan / lower bound", out["ratio"], "x", "target <= 1.3x")
    row("busiest host: first / last RCPT", None if out["busiest_host_first_s"] is None else
        f"{out['busiest_host_first_s']:g} / {out['busiest_host_done_s']:g} s")
    row("engine CPU during the scan", out["scan_engine_cpu_s"], " s")
    row("mismatches (expected vs got)", out["mismatches"], "", "target 0")
    row("sessions / RCPT / DATA", None if out["sessions"] is None else
        f"{out['sessions']:,} / {out['rcpt']:,} / {out['data_commands']}")
    extrap = " (extrapolated)" if out["per_address_extrapolated"] else ""
    row("one address per session", out["per_address_scan_s"], " s", extrap.strip())
    row("  speed-up of batching", out["per_address_speedup"], "x", "target >= 10x")
    extrap = " (extrapolated)" if out["unpipelined_extrapolated"] else ""
    row("without pipelining", out["unpipelined_scan_s"], " s", extrap.strip())
    row("  speed-up of pipelining", out["pipelining_speedup"], "x")
    row("through a SOCKS5 proxy", out["proxy_scan_s"], " s",
        "" if out["proxy_ratio"] is None else f"{out['proxy_ratio']:g}x direct, {out['proxy_mismatches']} mismatches")
    row("recheck one agency (warm DNS)", out["recheck_s"], " s", "target < 0.5 s")
    row("zero delay throughput", out["zero_delay_addresses_per_s"], " agencies/s")
    row("peak memory (engine process)", out["peak_rss_mb"], " MB", "target < 250 MB")
    row("politeness violations", out["politeness_violations"], "", "target 0")
    for line in (out["politeness_violation_lines"] or [])[:20]:
        lines.append(f"    {line}")
    lines.append("watcher")
    for label, value, unit, target in watch_rows(out):
        row(label, value, unit, target)
    lines.append("store")
    row("persist the scan's verdicts", out["persist_scan_s"], " s")
    row("one correction (10 history each)", out["correction_write_s"], " s")
    row("store size", None if out["store_bytes"] is None else out["store_bytes"] / 1e6, " MB")
    for label, value, unit, target in store_scale_rows(out):
        row(label, value, unit, target)
    lines.append("console")
    for suffix, (screen, keystroke, memory) in TUI_TARGETS.items():
        size = f"{TUI_LARGE:,}" if suffix else _fmt(out["agencies"])
        row(f"first screen, {size} agencies", out[f"tui_first_screen{suffix}_s"], " s",
            f"target <= {screen:g} s (from launch)")
        row("  filter keystroke", out[f"tui_filter{suffix}_s"], " s", f"target <= {keystroke:g} s")
        row("  memory with the console up", out[f"tui_rss{suffix}_mb"], " MB",
            f"target <= {memory:g} MB" if memory else "")
    for key, text in (out.get("notes") or {}).items():
        lines.append(f"  note {key}: {text}")
    for example in (out.get("mismatch_examples") or [])[:5]:
        lines.append(f"  mismatch {example}")
    return "\n".join(lines)


def run_bench(args: argparse.Namespace, config: AppConfig) -> int:
    """Run the benchmark and print the table (or, with --json, one JSON object). 0 = measured."""
    try:
        bench = _Bench(args, config)
    except ValueError as exc:
        _say(f"saraban bench: {exc}")
        return 2
    try:
        out = asyncio.run(bench.run())
    except SimError as exc:
        _say(f"saraban bench: the simulated internet failed: {exc}")
        return 1
    if getattr(args, "json", False):
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(format_table(out))
    return 0


__all__ = ["BASELINE_BUDGET_S", "KEYS", "Bound", "HostLoad", "SimProcess", "host_loads", "lower_bound", "run_bench"]
