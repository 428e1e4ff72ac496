"""The bridge between the store and the engine: import → store → runner → events → store and screen.

Both the CLI and the Textual console run scans through a `Runner`, so results are saved the same way:
in batches during a scan, and at once for an operator's recheck or correction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from checks import events as ev
from checks.config import EngineConfig
from checks.model import Agency, Verdict
from console.config import AppConfig
from console.store import AgencyRecord, Correction, Store

if TYPE_CHECKING:  # the engine loads with the first scan or recheck, not with the console (first screen)
    from checks.dns import MailResolver
    from checks.scheduler import Backlog, Scanner, SessionLedger
    from console.doctor import Preflight

SAVE_EVERY_S = 5.0  # a scan's verdicts are written at most this often (and at the end): each save touches every shard
SAVE_BATCH = 1000


class _BatchSaver:
    """A scan's verdicts saved in batches (every SAVE_BATCH or SAVE_EVERY_S), one write after another, off the loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[Verdict] = []
        self.last_save = time.monotonic()
        self.saving: asyncio.Future[object] | None = None

    def add(self, verdict: Verdict) -> None:
        self.pending.append(verdict)
        if len(self.pending) >= SAVE_BATCH or time.monotonic() - self.last_save >= SAVE_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self.last_save = time.monotonic()
        previous = self.saving

        async def chained() -> None:
            if previous is not None:
                await previous
            await asyncio.to_thread(self.store.save_verdicts, batch, batch_size=SAVE_BATCH)

        self.saving = asyncio.ensure_future(chained())

    def failed(self) -> bool:
        """A save has failed (full disk...): results can no longer be kept."""
        saving = self.saving
        return bool(saving is not None and saving.done() and not saving.cancelled() and saving.exception())

    async def close(self) -> None:
        self.flush()
        if self.saving is not None:
            await self.saving


class _Relay:
    """The events of a scan's passes as one scan: verdicts saved, counts continued, one start and end."""

    def __init__(self, saver: _BatchSaver, total: int, on_event: ev.EventSink | None, stop: Callable[[], None]):
        self.saver, self.total, self.on_event, self.stop = saver, total, on_event, stop
        self.done_before = 0
        self.first_pass = True

    def __call__(self, event: ev.Event) -> None:
        if self.saver.failed():
            self.stop()  # results can no longer be saved (full disk...): stop probing; the error follows
        if isinstance(event, ev.AgencyChecked):
            self.saver.add(event.verdict)
            event = ev.AgencyChecked(event.agency, event.verdict, self.done_before + event.done, self.total)
        elif isinstance(event, ev.ScanStarted) and not self.first_pass:
            return  # a resumed pass continues the same scan
        elif isinstance(event, ev.ScanFinished):
            return  # reported once, at the end
        if self.on_event is not None:
            self.on_event(event)


class IdentityRefused(Exception):
    """A real probe with the shipped placeholder identity: the message names the keys, the file and why."""


class Runner:
    """Runs scans and rechecks for agencies held in a store, saving what they find.

    A full scan is guarded: the placeholder identity is refused, the doctor's checks run first when a
    `preflight` is given (the CLI and console pass one for the real internet), and a large scan begins
    with a pilot that stops it when the mail hosts say "it is you".
    """

    def __init__(self, store: Store, config: AppConfig, *, preflight: Preflight | None = None) -> None:
        self.store = store
        self.config = config
        self.preflight = preflight
        self.scanner: Scanner | None = None
        self._stop_requested = False
        self._scanning = False  # from the call to scan() to its end, agencies' loading included
        # One resolver for rechecks keeps DNS warm for the "we fixed it" loop; the domain is forgotten first.
        self._recheck_resolver: MailResolver | None = None
        # Every scan of this runner (pilot, scan, resumed pass, rechecks, a watcher's rounds) counts its
        # sessions per host in one ledger: a server sees our rate, not our scans. Made at first use so
        # that the console starts without the engine loaded.
        self._ledger: SessionLedger | None = None

    def _scanner(self, engine: EngineConfig, resolver: MailResolver | None = None) -> Scanner:
        from checks.scheduler import Scanner, SessionLedger

        if self._ledger is None:
            self._ledger = SessionLedger()
        return Scanner(engine, resolver=resolver, ledger=self._ledger)

    @property
    def running(self) -> bool:
        return self.scanner is not None

    @property
    def paused(self) -> bool:
        return self.scanner is not None and self.scanner.paused

    def pause(self) -> None:
        if self.scanner is not None:
            self.scanner.pause()

    def resume(self) -> None:
        if self.scanner is not None:
            self.scanner.resume()

    def sessions_in_flight(self) -> int:
        return self.scanner.sessions_in_flight() if self.scanner is not None else 0

    def backlog(self) -> Backlog | None:
        """The running scan's slowest queue (see Scanner.backlog); None when idle."""
        return self.scanner.backlog() if self.scanner is not None else None

    def stop(self) -> None:
        """Stop the scan under way, also while it is still reading its agencies (idle: nothing to stop)."""
        if self._scanning:
            self._stop_requested = True
        if self.scanner is not None:
            self.scanner.stop()

    def agencies_to_check(
        self, agency_ids: Sequence[str] | None = None, records: Sequence[AgencyRecord] | None = None
    ) -> list[Agency]:
        """The agencies as they should be probed now: a correction replaces the declared address.

        `records`: the store's records if the caller has just read them (the watcher), else read here.
        """
        if records is None:
            records = self.store.records(with_history=False, light=True)
        wanted = set(agency_ids) if agency_ids is not None else None
        result: list[Agency] = []
        for record in records:
            if wanted is not None and record.agency.id not in wanted:
                continue
            agency = record.agency
            if record.current_address != agency.declared:
                agency = replace(agency, declared=record.current_address)
            result.append(agency)
        return result

    async def scan(
        self,
        agency_ids: Sequence[str] | None = None,
        on_event: ev.EventSink | None = None,
        *,
        snapshot: bool = True,
        wait_for_network: bool = False,
        records: Sequence[AgencyRecord] | None = None,
    ) -> ev.ScanFinished:
        """Check the given agencies (all when None), saving verdicts in batches as they arrive.

        With `wait_for_network`, a failed network canary pauses the scan instead of ending it: the
        canary is retried every `canary.interval` and the scan resumes with the agencies not yet done.
        """

        if self.scanner is not None:
            raise RuntimeError("a scan is already running")
        self._stop_requested = False
        self._scanning = True
        try:
            agencies = await asyncio.to_thread(self.agencies_to_check, agency_ids, records)
        except BaseException:
            self._scanning = False
            raise
        total = len(agencies)
        stopped = "stopped by operator" if self._stop_requested else None  # while its agencies were read
        refused = stopped or await self._guard(agencies, agency_ids is None, on_event)
        if refused is not None:
            self._scanning = False
            result = ev.ScanFinished(total=total, done=0, stopped=refused,
                                     unfinished=tuple(a.id for a in agencies))
            if on_event is not None:
                on_event(result)
            return result
        saver = _BatchSaver(self.store)
        started = time.monotonic()
        sink = _Relay(saver, total, on_event, self.stop)
        first_pass = True
        counts: dict[str, int] = {}
        remaining = agencies
        try:
            while True:
                if self._stop_requested and first_pass:  # stopped during the doctor's checks or the pilot
                    ids = tuple(a.id for a in remaining)
                    finished = ev.ScanFinished(total, 0, {}, 0.0, "stopped by operator", unfinished=ids)
                    break
                scanner = self._scanner(self.config.engine)
                self.scanner = scanner
                finished = await scanner.run(remaining, sink)
                first_pass = sink.first_pass = False
                for verdict in scanner.verdicts.values():
                    counts[verdict.group] = counts.get(verdict.group, 0) + 1
                sink.done_before += finished.done
                outage = bool(finished.stopped and finished.stopped.startswith("canary"))
                if not (wait_for_network and outage) or self._stop_requested or not finished.unfinished:
                    break
                if not await self._network_back(scanner, finished.stopped or "canary", on_event):
                    break
                unfinished = set(finished.unfinished)
                remaining = [a for a in remaining if a.id in unfinished]
        finally:
            await saver.close()
            self.scanner = None
            self._scanning = False
        result = ev.ScanFinished(
            total=total,
            done=sink.done_before,
            counts=counts,
            elapsed_s=time.monotonic() - started,
            stopped=finished.stopped,
            unfinished=finished.unfinished,
        )
        if on_event is not None:
            on_event(result)
        if snapshot and result.stopped is None and agency_ids is None:
            from console.trends import save_scan_groups

            await asyncio.to_thread(self.store.save_snapshot, self.province_counts(), label="scan")
            await asyncio.to_thread(save_scan_groups, self.store)  # who moved where: `report --since`
        return result

    async def _network_back(self, scanner: Scanner, reason: str, on_event: ev.EventSink | None) -> bool:
        """Paused by a failed canary: retry it every `canary.interval`; False when stopped meanwhile."""
        if on_event is not None:
            on_event(ev.ScanPaused(reason))
        began = time.monotonic()
        while not self._stop_requested:
            await asyncio.sleep(max(0.05, self.config.engine.canary.interval))
            if await scanner.canary() is None:
                break
        if self._stop_requested:
            return False
        if on_event is not None:
            on_event(ev.CanaryRestored(time.monotonic() - began))
            on_event(ev.ScanResumed())
        return True

    def record_offline(self, agency_ids: Sequence[str] | None = None) -> int:
        """See `record_offline` (module level)."""
        return record_offline(self.store, self.config.engine, agency_ids)

    async def _guard(self, agencies: list[Agency], full: bool, on_event: ev.EventSink | None) -> str | None:
        """Why this scan must not go on (identity, doctor, pilot), or None. Nothing is recorded here."""
        from checks.pilot import choose_pilot, judge_pilot
        from console.doctor import identity_refusal, preflight_stop, preflight_warnings

        refusal = identity_refusal(self.config)
        if refusal is not None:
            return f"identity: {refusal}"
        lang = self.config.language
        our_ip: str | None = None
        if full and self.preflight is not None:
            report = await self.preflight()
            our_ip = report.public_ip
            stop = preflight_stop(report, lang)
            if stop is not None:
                return f"doctor: {stop}"
            if on_event is not None:
                for warning in preflight_warnings(report, lang):
                    on_event(ev.PreflightWarning(warning))
        pilot = self.config.engine.pilot
        if not full or pilot.size <= 0 or len(agencies) < pilot.min_agencies:
            return None
        sample = choose_pilot(agencies, pilot.size)
        engine = replace(self.config.engine, smtp=replace(self.config.engine.smtp, retries=0))
        scanner = self._scanner(engine)
        self.scanner = scanner

        def quiet(event: ev.Event) -> None:
            if isinstance(event, ev.CanaryFailed) and on_event is not None:
                on_event(event)

        try:
            finished = await scanner.run(sample, quiet)
        finally:
            self.scanner = None
        if finished.stopped:
            return finished.stopped
        judgement = judge_pilot(list(scanner.verdicts.values()), pilot, our_ip)
        return judgement.reason if judgement.stop else None

    def province_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for record in self.store.records(with_history=False, light=True):
            if record.verdict is None:
                continue
            by_group = counts.setdefault(record.agency.province or "-", {})
            by_group[record.verdict.group] = by_group.get(record.verdict.group, 0) + 1
        return counts

    async def recheck(self, agency_id: str, on_event: ev.EventSink | None = None) -> Verdict | None:
        """Recheck one agency now and save the verdict at once; None when the network canary stopped it."""
        from checks.dns import MailResolver
        from console.doctor import identity_refusal

        refusal = identity_refusal(self.config)
        if refusal is not None:
            raise IdentityRefused(refusal)
        agencies = await asyncio.to_thread(self.agencies_to_check, [agency_id])
        if not agencies:
            raise KeyError(agency_id)
        agency = agencies[0]
        domain = agency.declared.rpartition("@")[2].strip().lower()
        if self._recheck_resolver is None:
            self._recheck_resolver = MailResolver(self.config.engine.dns)
        if domain:
            self._recheck_resolver.forget(domain)
        scanner = self._scanner(self.config.engine, self._recheck_resolver)
        await scanner.run([agency], on_event)
        verdict = scanner.verdicts.get(agency.id)
        if verdict is not None:
            await asyncio.to_thread(self.store.save_verdicts, [verdict])
        return verdict

    async def correct(
        self, agency_id: str, new_address: str, reason: str, operator: str, *, recheck: bool = True
    ) -> tuple[Correction, Verdict | None]:
        """Record an operator's correction at once, then recheck the new address."""
        correction = await asyncio.to_thread(self.store.add_correction, agency_id, new_address, reason, operator)
        if not recheck:
            return correction, None
        verdict = await self.recheck(agency_id)
        if verdict is not None:
            await asyncio.to_thread(
                self.store.set_correction_recheck, correction.id, verdict.group, verdict.checked_at
            )
        return correction, verdict


def record_offline(store: Store, engine: EngineConfig, agency_ids: Sequence[str] | None = None) -> int:
    """Give at once the verdict that needs no network (checks.scheduler.offline_verdict) to the
    agencies with no verdict about the address they have now; returns how many got one.

    Called after an import, so an officer sees Thai digits, free mail, non-government domains, bad
    syntax and missing announcements before any check instead of "not checked yet".
    """
    from checks.scheduler import offline_verdict

    wanted = set(agency_ids) if agency_ids is not None else None
    verdicts: list[Verdict] = []
    for record in store.records(with_history=False, light=True):
        if wanted is not None and record.agency.id not in wanted:
            continue
        current = record.current_address
        if record.verdict is not None and record.verdict.evidence.declared == current:
            continue  # already checked as it is: a real verdict is never replaced by this one
        agency = record.agency if current == record.agency.declared else replace(record.agency, declared=current)
        verdict = offline_verdict(agency, engine)
        if verdict is not None:
            verdicts.append(verdict)
    return store.save_verdicts(verdicts, batch_size=SAVE_BATCH) if verdicts else 0
