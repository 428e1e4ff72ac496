"""One truth for every surface: for a few hundred random scopes over a national store, the console's
rows, `saraban export`'s rows and `saraban report`'s counts are the same agencies and the same numbers.

The store has what makes surfaces disagree when each has its own rules: stale verdicts (an address
corrected or re-imported after the check), group changes at known dates, rules without a `bucket`,
agencies never checked, and "called" marks.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import settle
from tui_sample import Config, FakeRunner, verdict

from checks.config import DEFAULT_RULES, EngineConfig
from checks.sim.worlds import national_world
from console import cli
from console.rules import UNCHECKED, Scope, group_of
from console.store import Store
from console.tui.factory import make_app

pytestmark = pytest.mark.slow

SCOPES = 200
FIRST = "2025-09-01T09:00:00+07:00"
SECOND = "2025-10-01T09:00:00+07:00"
SINCE = ("2025-08-01", "2025-09-15", "2025-10-01", "2025-10-09", "2025-12-31")
# The default ruleset with two rules that leave `bucket` empty: read from the group's code everywhere.
RULES = tuple(replace(r, bucket="") if r.group in ("A2", "D1") else r for r in DEFAULT_RULES)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    rng = random.Random(2568)
    world = national_world()
    store = Store(tmp_path_factory.mktemp("national") / "store.json")
    store.merge_import(world.agencies, source="national", operator="t")
    groups = [r.group for r in RULES]
    first = {a.id: rng.choice(groups) for a in world.agencies if rng.random() < 0.92}
    by_id = {a.id: a for a in world.agencies}
    store.save_verdicts([verdict(i, g, by_id[i].declared, at=FIRST) for i, g in first.items()])
    again = [i for i in first if rng.random() < 0.4]  # rechecked: half keep their group, half change it
    store.save_verdicts(
        [verdict(i, first[i] if rng.random() < 0.5 else rng.choice(groups), by_id[i].declared, at=SECOND) for i in again]
    )
    for agency_id in rng.sample(sorted(first), 120):  # corrected after the check: the verdict is stale
        store.add_correction(agency_id, f"saraban{rng.randrange(10**6)}@dla.go.th", "โทรแจ้ง", "t")
    for agency_id in rng.sample(sorted(by_id), 200):
        store.set_followup(agency_id, "called_waiting", "t")
    yield store


class ReadOnce:
    """The store with its records read once: the CLI's commands select from the same objects."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.read = store.records(with_history=False)

    def records(self, *, with_history: bool = True, light: bool = False) -> list[Any]:
        return self.read

    def snapshots(self) -> list[dict[str, Any]]:
        return []

    def __getattr__(self, name: str) -> Any:  # the rest (path, problems...) as the store has it
        return getattr(self.store, name)


def random_scope(rng: random.Random, records: list[Any]) -> Scope:
    some = rng.choice(records).agency
    words = [w for w in (some.name[:4], some.seq or "", "dla", some.district[:3], "go.th") if w]
    return Scope(
        search=rng.choice(words) if rng.random() < 0.3 else "",
        group=rng.choice([r.group for r in RULES]) if rng.random() < 0.25 else None,
        bucket=rng.choice(["A", "BE", "W", UNCHECKED]) if rng.random() < 0.2 else None,
        province=some.province if rng.random() < 0.4 else None,
        district=some.district if rng.random() < 0.2 else None,
        kind=some.kind if rng.random() < 0.25 else None,
        followup_only=rng.random() < 0.3,
        changed_since=rng.choice(SINCE) if rng.random() < 0.3 else None,
    )


def cli_flags(scope: Scope) -> list[str]:
    """The command-line flags for a console scope."""
    flags: list[str] = []
    pairs = [("--search", scope.search), ("--group", scope.group), ("--bucket", scope.bucket),
             ("--province", scope.province), ("--district", scope.district), ("--kind", scope.kind),
             ("--changed-since", scope.changed_since)]  # fmt: skip
    for flag, value in pairs:
        if value:
            flags += [flag, value]
    if scope.followup_only:
        flags.append("--followup")
    if not (scope.group or scope.bucket or scope.followup_only):
        flags.append("--all")  # export's default is the follow-up list
    return flags


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


async def test_console_export_and_report_agree_on_random_scopes(
    national: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(engine=EngineConfig(rules=RULES), export_dir=tmp_path, store_path=national.path)
    # the CLI reads the same store, once (not 8,286 agencies once per command)
    monkeypatch.setattr(cli, "_open_store", lambda args, config: ReadOnce(national))
    monkeypatch.setattr(cli, "load_config", lambda path: config)
    out = tmp_path / "rows.jsonl"
    rng = random.Random(12)
    app = make_app(config, national, FakeRunner(national, config=config))
    shown: list[tuple[Scope, list[str]]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        records = list(app.records.values())
        assert len(records) == 8286
        for _ in range(SCOPES):
            scope = random_scope(rng, records)
            app.set_scope(scope)
            console_rows = [r.agency.id for r in app.visible_records()]
            assert app.order == console_rows  # what the table holds
            shown.append((scope, console_rows))
    groups = {rec.agency.id: group_of(rec) or UNCHECKED for rec in records}
    for scope, console_rows in shown:  # the CLI after the app: Textual holds stdout while it runs
        flags = cli_flags(scope)
        run_cli(capsys, "export", *flags, "--format", "json", "--force", "-o", str(out))
        exported = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
        assert sorted(exported) == sorted(console_rows), (scope, flags)
        report = json.loads(run_cli(capsys, "report", *[f for f in flags if f != "--all"], "--json"))
        counts = Counter(groups[i] for i in console_rows)
        assert report["total"] == len(console_rows), scope
        assert report["by_bucket"]["unchecked"] == counts.pop(UNCHECKED, 0), scope
        assert {g: n for g, n in report["by_group"].items() if n} == dict(counts), scope
    sizes = [len(rows) for _, rows in shown]
    assert sum(1 for n in sizes if n) > SCOPES // 3 and 0 in sizes  # neither all empty nor all full
