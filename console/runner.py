"""The bridge between the store and the engine: import → store → runner → events → store and screen.

Both the CLI and the Textual console run scans through a `Runner`, so results are saved the same way:
in batches during a scan, and at once for an operator's recheck or correction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace

from checks import events as ev
from checks.dns import MailResolver
from checks.model import Agency, Verdict
from checks.scheduler import Scanner
from console.config import AppConfig
from console.store import Correction, Store

SAVE_EVERY_S = 1.0  # a scan's verdicts are written at most this often (and at the end)
SAVE_BATCH = 250


class Runner:
    """Runs scans and rechecks for agencies held in a store, saving what they find."""

    def __init__(self, store: Store, config: AppConfig) -> None:
        self.store = store
        self.config = config
        self.scanner: Scanner | None = None
        # One resolver for rechecks keeps DNS warm for the "we fixed it" loop; the domain is forgotten first.
        self._recheck_resolver = MailResolver(config.engine.dns)

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

    def stop(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()

    def agencies_to_check(self, agency_ids: Sequence[str] | None = None) -> list[Agency]:
        """The agencies as they should be probed now: a correction replaces the declared address."""
        records = self.store.records()
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
    ) -> ev.ScanFinished:
        """Check the given agencies (all when None), saving verdicts in batches as they arrive."""
        if self.scanner is not None:
            raise RuntimeError("a scan is already running")
        agencies = self.agencies_to_check(agency_ids)
        scanner = Scanner(self.config.engine)
        self.scanner = scanner
        pending: list[Verdict] = []
        last_save = time.monotonic()
        saving: asyncio.Future[object] | None = None
        loop = asyncio.get_running_loop()

        def flush() -> None:
            nonlocal pending, last_save, saving
            if not pending:
                return
            batch, pending = pending, []
            last_save = time.monotonic()
            previous = saving

            def write() -> None:
                self.store.save_verdicts(batch, batch_size=SAVE_BATCH)

            async def chained() -> None:
                if previous is not None:
                    await previous
                await loop.run_in_executor(None, write)

            saving = asyncio.ensure_future(chained())

        def sink(event: ev.Event) -> None:
            if isinstance(event, ev.AgencyChecked):
                pending.append(event.verdict)
                if len(pending) >= SAVE_BATCH or time.monotonic() - last_save >= SAVE_EVERY_S:
                    flush()
            if on_event is not None:
                on_event(event)

        try:
            finished = await scanner.run(agencies, sink)
        finally:
            flush()
            if saving is not None:
                await saving
            self.scanner = None
        if snapshot and finished.stopped is None and agency_ids is None:
            await asyncio.to_thread(self.store.save_snapshot, self.province_counts(), label="scan")
        return finished

    def province_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for record in self.store.records():
            if record.verdict is None:
                continue
            by_group = counts.setdefault(record.agency.province or "-", {})
            by_group[record.verdict.group] = by_group.get(record.verdict.group, 0) + 1
        return counts

    async def recheck(self, agency_id: str, on_event: ev.EventSink | None = None) -> Verdict | None:
        """Recheck one agency now and save the verdict at once; None when the network canary stopped it."""
        agencies = self.agencies_to_check([agency_id])
        if not agencies:
            raise KeyError(agency_id)
        agency = agencies[0]
        domain = agency.declared.rpartition("@")[2].strip().lower()
        if domain:
            self._recheck_resolver.forget(domain)
        scanner = Scanner(self.config.engine, resolver=self._recheck_resolver)
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
