"""The console with the real Runner against the simulated internet: what the operator sees is what
the engine found, not what a fake said.

The Tak rows (tests/data/tak-2568.tsv) are imported into a real store, scanned from the console,
then the Thai-digit address of ๖๓๖ is corrected in the correction dialog and rechecked on the spot.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tui_helpers import notices, screen_text, select, settle, table, wait_until

from checks.sim.internet import SimInternetThread
from checks.sim.worlds import catalogue_world
from console.config import AppConfig
from console.importer import read_agencies
from console.runner import Runner
from console.store import Store
from console.tui.app import SarabanApp

DATA = Path(__file__).resolve().parent.parent / "data" / "tak-2568.tsv"


@pytest.fixture(scope="module")
def internet() -> Iterator[Any]:
    with SimInternetThread(catalogue_world()) as sim:
        yield sim


@pytest.fixture
def sim_app(internet: Any, tmp_path: Path) -> SarabanApp:
    store = Store(tmp_path / "store.json")
    store.merge_import(read_agencies(DATA).agencies, source=str(DATA), operator="สมชาย")
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    config = AppConfig(
        engine=internet.engine_config(), store_path=tmp_path / "store.json", operator="สมชาย", export_dir=export_dir
    )
    return SarabanApp(store, Runner(store, config), config)


def _id_of(app: SarabanApp, seq: str) -> str:
    return next(key for key, rec in app.records.items() if rec.agency.seq == seq)


def _group(app: SarabanApp, agency_id: str) -> str:
    return str(table(app).get_cell(agency_id, "group"))


async def test_scan_then_correction_turns_b3_into_a1_on_the_sim(sim_app: SarabanApp) -> None:
    app = sim_app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert len(app.records) == 3
        await pilot.press("s")  # a full scan of the store, through DNS and SMTP on loopback
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        tungluang, tasailuad, nongbua = (_id_of(app, s) for s in ("47", "326", "636"))
        assert {_group(app, k) for k in (tungluang, tasailuad, nongbua)} == {"B2", "B1", "B3"}
        assert _group(app, nongbua) == "B3"
        assert "ตรวจเสร็จ 3/3" in screen_text(app)

        # The agency calls back: select it, c, take the suggested ASCII-digit form, enter.
        await select(pilot, app, nongbua)
        await pilot.press("c")
        await pilot.pause()
        assert "แนะนำ: saraban_663019@dla.go.th" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.press("enter")
        await wait_until(pilot, app, lambda: _group(app, nongbua) == "A1")
        assert str(table(app).get_cell(nongbua, "address")) == "saraban_663019@dla.go.th"
        await wait_until(pilot, app, lambda: "rcpt" in str(app.query_one("#detail-body").render()).lower())
        detail = str(app.query_one("#detail-body").render())
        assert "กลุ่ม: A1" in detail
        assert "saraban_๖๖๓๐๑๙@dla.go.th → saraban_663019@dla.go.th" in detail
        assert "250" in detail  # the sim's mail host accepted the mailbox, and the evidence says so
        assert "A1" in notices(app)
        # it is in the store, not only on the screen
        saved = app.store.record(nongbua)
        assert saved.verdict.group == "A1" and saved.corrections[-1].new_address == "saraban_663019@dla.go.th"


async def test_recheck_and_followup_export_on_the_sim(sim_app: SarabanApp, tmp_path: Path) -> None:
    app = sim_app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        tasailuad = _id_of(app, "326")
        await select(pilot, app, tasailuad)
        await pilot.press("r")
        await wait_until(pilot, app, lambda: _group(app, tasailuad) == "B1")
        await pilot.press("s")
        await wait_until(pilot, app, lambda: app.scan_state == "finished")
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")  # the default path: followup-ตาก-<BE date>.xlsx in the export folder
        await wait_until(pilot, app, lambda: any(app.config.export_dir.iterdir()))
        (written,) = app.config.export_dir.iterdir()
        assert written.name.startswith("followup-ตาก-25") and written.suffix == ".xlsx"
        sheet = openpyxl.load_workbook(written).active
        rows = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
        body = "\n".join("\t".join(r) for r in rows[1:])
        assert len(rows) == 4  # header + the three Tak rows: all of them need a phone call
        assert "Tasailuadmeasod@gmail.com" in body and "B1" in body
        assert "saraban_๖๖๓๐๑๙@dla.go.th" in body and "saraban_663019@dla.go.th" in body

