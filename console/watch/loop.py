"""The watcher's loop: plan, recheck the due agencies through a `Runner`, record what it verified.

It runs rechecks exactly as a scan does (same Runner, same politeness limits, same canary: a lost
network pauses the run until the canary passes again), never touches an address, and writes only
verdicts (via the runner) and, when a waiting agency turned A, the follow-up state plus a note with
the evidence. Between runs it sleeps until the next agency is due, looking every `poll` seconds
whether the store changed (a stat of its files), so an idle watcher costs next to nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks import events as ev
from checks.config import Rule
from checks.model import Verdict
from console.i18n import tr
from console.rules import BUCKET_READY, FIXED_VERIFIED, WAITING_STATES, Ruleset
from console.runner import Runner
from console.store import AgencyRecord, Store
from console.thai import be_date, safe_text
from console.watch.schedule import Candidate, Plan, Reason, WatchConfig, plan

DRAIN_LIMIT_S = 120.0  # SIGTERM: at most this long for the sessions under way to finish


def _when(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.astimezone()


def candidates(
    records: Sequence[AgencyRecord], ruleset: Ruleset, tried: Mapping[str, datetime] | None = None
) -> list[Candidate]:
    """What the schedule needs from the store's records (`tried`: this watcher's own, finer try times);
    the bucket and "temporary, retry later" are the ruleset's (console.rules), as on every surface."""
    out = []
    for rec in records:
        group = rec.verdict.group if rec.verdict is not None else None
        checked = _when(rec.verdict.checked_at) if rec.verdict is not None else None
        mine = tried.get(rec.agency.id) if tried else None
        if mine is not None and (checked is None or mine > checked):
            checked = mine  # the store keeps whole seconds; a round started later than that
        out.append(
            Candidate(
                agency_id=rec.agency.id,
                followup=rec.followup,
                group=group,
                bucket="unchecked" if group is None else ruleset.bucket(group),
                checked_at=checked,
                group_since=_when(rec.group_changed_at) or _when(rec.verdict.checked_at if rec.verdict else None),
                temporary=group in ruleset.waiting,
            )
        )
    return out


def evidence_line(verdict: Verdict, lang: str) -> str:
    """The deciding reply in one line: what an operator reads out on the phone."""
    probe = verdict.evidence.probe
    if probe is not None and probe.rcpt is not None:
        host = probe.attempts[-1].host if probe.attempts else "?"
        reply = probe.rcpt
        text = f"{reply.enhanced} {reply.text}" if reply.enhanced else reply.text
        return safe_text(
            tr("evidence.accepted", lang, host=host, code=reply.code, text=text[:200], address=probe.address)
        )
    return tr("evidence.group", lang, group=verdict.group)


@dataclass(frozen=True, slots=True)
class Fixed:
    """A waiting agency the watcher verified as fixed."""

    agency_id: str
    name: str
    address: str
    group: str
    at: str
    evidence: str


class Watcher:
    """One watcher on one store. `run()` until `stop()`; `run_once()` for one planned round."""

    def __init__(
        self,
        store: Store,
        runner: Runner,
        config: WatchConfig,
        rules: Sequence[Rule],
        *,
        operator: str,
        lang: str = "th",
        log: Callable[[str], None] | None = None,
        on_fixed: Callable[[Fixed], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        hold: Callable[[], bool] = lambda: False,
    ) -> None:
        self.store = store
        self.runner = runner
        self.config = config
        self.rules = tuple(rules)
        self.ruleset = Ruleset(self.rules, frozenset({runner.config.engine.fallback_group}))
        self.operator = operator
        self.lang = lang
        self.log = log or (lambda line: None)
        self.on_fixed = on_fixed
        self.clock = clock
        self.hold = hold  # True while something else probes (the console's own scan): wait, stay polite
        self.next_at: datetime | None = None
        self.busy = 0  # agencies in the round under way
        self.last_round = 0  # agencies in the last round (0: nothing was due)
        self.last_plan_s = 0.0  # how long the last plan took (reading the store, deciding who is due)
        self.last_recheck_s = 0.0  # the last round after its plan: probes, verdicts saved, fixes recorded
        self._stopping = False
        self._wake = asyncio.Event()
        self._tried: dict[str, datetime] = {}  # when this watcher last started a recheck of an agency

    # -- control -------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stopping

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    @property
    def paused(self) -> bool:
        return self.runner.paused

    def wake(self) -> None:
        """Plan again now (e.g. an operator just marked an agency "waiting")."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the sessions under way, save their verdicts, and end `run()`."""
        if self._stopping:
            return
        self._stopping = True
        self._wake.set()
        self.log(tr("watch.stopping", self.lang))
        if self.runner.running:
            self.runner.pause()  # no new session; the ones under way finish

    # -- planning ------------------------------------------------------------------------
    def plan(self) -> tuple[Plan, dict[str, AgencyRecord]]:
        """Who is due now (and when the next one is), with the records it was decided from."""
        records = self.store.records(with_history=False, light=True)
        by_id = {r.agency.id: r for r in records}
        return plan(candidates(records, self.ruleset, self._tried), self.clock(), self.config), by_id

    # -- one round -----------------------------------------------------------------------
    async def run_once(self) -> list[Fixed]:
        """Recheck whoever is due now; returns the waiting agencies verified as fixed."""
        if self.hold():
            self.next_at = self.clock() + timedelta(seconds=max(0.05, self.config.poll))
            return []
        began = time.perf_counter()
        the_plan, records = await asyncio.to_thread(self.plan)
        self.last_plan_s = time.perf_counter() - began
        self.next_at = the_plan.next_at
        if not the_plan.due or self._stopping:
            return []
        reasons = dict(the_plan.due)
        started = self.clock()
        self._tried.update(dict.fromkeys(reasons, started))
        counts = {r: sum(1 for x in reasons.values() if x == r) for r in Reason}
        self.log(
            tr(
                "watch.round",
                self.lang,
                n=len(reasons),
                waiting=counts[Reason.WAITING],
                retry=counts[Reason.RETRY_E],
                daily=counts[Reason.DAILY],
            )
        )
        verdicts: dict[str, Verdict] = {}

        def sink(event: ev.Event) -> None:
            if isinstance(event, ev.AgencyChecked):
                verdicts[event.agency.id] = event.verdict
                rec = records.get(event.agency.id)
                old = rec.verdict.group if rec is not None and rec.verdict is not None else "-"
                self.log(
                    tr(
                        "watch.recheck",
                        self.lang,
                        id=event.agency.id,
                        name=safe_text(event.agency.name),
                        address=safe_text(event.agency.declared),
                        old=old,
                        new=event.verdict.group,
                        reason=tr(f"reason.{reasons.get(event.agency.id, Reason.WAITING).value}", self.lang),
                    )
                )
            elif isinstance(event, ev.ScanPaused) and not self._stopping:
                self.log(tr("watch.paused", self.lang, reason=safe_text(event.reason)))
            elif isinstance(event, ev.ScanResumed) and not self._stopping:
                self.log(tr("watch.resumed", self.lang))

        self.busy = self.last_round = len(reasons)
        drain: asyncio.Task[None] | None = None
        try:
            scan = asyncio.ensure_future(
                self.runner.scan(
                    list(reasons), sink, snapshot=False, wait_for_network=True, records=list(records.values())
                )
            )
            while not scan.done():
                await asyncio.wait({scan}, timeout=0.2)
                if self._stopping and drain is None and not scan.done():
                    self.runner.pause()  # no new session; the ones under way finish
                    drain = asyncio.ensure_future(self._drain())
            await scan
        finally:
            self.busy = 0
            if drain is not None:
                drain.cancel()
        fixed = await asyncio.to_thread(self._record_fixed, records, verdicts)
        self.last_recheck_s = time.perf_counter() - began - self.last_plan_s
        return fixed

    async def _drain(self) -> None:
        """After stop(): wait for the sessions under way (paused runner), then end the scan."""
        loop = asyncio.get_running_loop()
        limit = loop.time() + DRAIN_LIMIT_S
        while self.runner.sessions_in_flight() and loop.time() < limit:
            await asyncio.sleep(0.05)
        self.runner.stop()

    def _record_fixed(self, records: dict[str, AgencyRecord], verdicts: dict[str, Verdict]) -> list[Fixed]:
        fixed: list[Fixed] = []
        for agency_id, verdict in verdicts.items():
            rec = records.get(agency_id)
            if rec is None or rec.followup not in WAITING_STATES or self.ruleset.bucket(verdict.group) != BUCKET_READY:
                continue
            evidence = evidence_line(verdict, self.lang)
            when = be_date(verdict.checked_at, with_time=True) if verdict.checked_at else ""
            self.store.add_note(agency_id, tr("watch.fixed_note", self.lang, when=when, evidence=evidence), self.operator)
            self.store.set_followup(agency_id, FIXED_VERIFIED, self.operator)
            item = Fixed(
                agency_id, rec.agency.name, rec.current_address, verdict.group, verdict.checked_at, evidence
            )
            fixed.append(item)
            self.log(
                tr(
                    "watch.fixed",
                    self.lang,
                    id=agency_id,
                    name=safe_text(item.name),
                    address=safe_text(item.address),
                    group=item.group,
                )
            )
            if self.on_fixed is not None:
                self.on_fixed(item)
        return fixed

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        """Rounds until stop(): each sleeps until the next agency is due or the store changes."""
        while not self._stopping:
            self.last_round = 0
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a store or network error must not end the watcher
                self.log(tr("watch.error", self.lang, error=safe_text(f"{type(exc).__name__}: {exc}")))
            if self._stopping:
                break
            if self.last_round:
                continue  # plan again at once: the round's own verdicts decide when each is next due
            await self._sleep()

    def seconds_to_next(self) -> float | None:
        if self.next_at is None:
            return None
        return max(0.0, (self.next_at - self.clock()).total_seconds())

    async def _sleep(self) -> None:
        """Until the next agency is due, or the store changed (someone marked one waiting), or stop()."""
        generation = await asyncio.to_thread(self.store.generation)
        poll = max(0.05, self.config.poll)
        while not self._stopping:
            left = self.seconds_to_next()
            if left is not None and left <= 0:
                return
            step = poll if left is None else min(poll, left)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(step):
                    await self._wake.wait()
                    return
            now_generation = await asyncio.to_thread(self.store.generation)
            if now_generation != generation:
                return
