"""'Changed since' and digit-blind search, as the operator meets them in the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Input
from tui_helpers import SIZE, screen_text, settle, shown_ids, type_text
from tui_sample import verdicts

from console.rules import Scope, parse_since
from console.tui.app import SarabanApp


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("2025-10-08", "2025-10-08"),
        ("08/10/2568", "2025-10-08"),  # Buddhist Era, as on the letters
        ("๐๘/๑๐/๒๕๖๘", "2025-10-08"),  # Thai digits
        ("8.10.2025", "2025-10-08"),
        ("2568-10-08", "2025-10-08"),
        ("  ", None),
    ],
)
def test_since_dates_as_operators_type_them(typed: str, iso: str | None) -> None:
    assert parse_since(typed) == iso


@pytest.mark.parametrize("typed", ["31/02/2568", "yesterday", "10/2568", "2568"])
def test_unreadable_since_dates_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_since(typed)


async def test_changed_since_means_the_group_changed(make_app: Callable[..., SarabanApp], store: Any) -> None:
    """A rescan that gives the same group is not a change; a fixed agency is, on the light records."""
    later = "2025-10-20T09:00:00+07:00"
    again = verdicts()
    store.save_verdicts(
        [
            replace(again["tak-326"], checked_at=later),  # B1 again: checked, not changed
            replace(again["tak-47"], group="A1", checked_at=later),  # the agency fixed its address
        ]
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert all(rec.history == () for rec in app.records.values())  # the console reads light records
        app.set_scope(Scope(changed_since="2025-10-15"))
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-47"]


async def test_filter_dialog_reads_a_buddhist_era_date_and_refuses_garbage(
    make_app: Callable[..., SarabanApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#filter-changed", Input).focus()
        await type_text(pilot, "31/02/2568")
        await pilot.press("enter")
        await pilot.pause()
        assert "อ่านวันที่ “31/02/2568” ไม่ได้" in screen_text(app)  # the dialog stays, says why
        field = app.screen.query_one("#filter-changed", Input)
        field.value = ""
        await type_text(pilot, "08/10/2568")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.scope.changed_since == "2025-10-08"
        assert "เปลี่ยนตั้งแต่ 08/10/2568" in screen_text(app)


@pytest.mark.parametrize("typed", ["663019", "๖๖๓๐๑๙"])
async def test_search_finds_an_address_whatever_digits_are_typed(
    make_app: Callable[..., SarabanApp], typed: str
) -> None:
    """The agency reads its address over the phone in Arabic digits; the list has Thai ones."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await type_text(pilot, typed)
        await pilot.press("enter")
        await settle(pilot, app)
        assert "tak-636" in shown_ids(app)


async def test_filter_dialog_fits_80x24_with_its_buttons_and_error(make_app: Callable[..., SarabanApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#filter-changed", Input).focus()
        await type_text(pilot, "xx/yy")
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "อ่านวันที่ “xx/yy” ไม่ได้" in text
        buttons = app.screen.query_one("#filter-apply")
        assert buttons.region.bottom <= 24 and buttons.region.height > 0  # on screen, not below it


async def test_filter_dialog_districts_follow_the_province(make_app: Callable[..., SarabanApp]) -> None:
    from textual.widgets import OptionList, Select

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        district = app.screen.query_one("#filter-district", Select)
        district.value = "แม่สอด"
        app.screen.query_one("#filter-province", Select).value = "พะเยา"
        await pilot.pause()
        choices = district.query_one(OptionList)  # the list the district Select drops down
        shown = "\n".join(str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count))
        assert "อำเภอ: เมืองพะเยา" in shown and "แม่สอด" not in shown
        assert district.value != "แม่สอด"  # a district of another province cannot stay chosen


async def test_changed_since_follows_streamed_results(make_app: Callable[..., SarabanApp], store: Any) -> None:
    """A scan result that changes the group shows in a changed-since view before the store is saved."""
    from checks import events as ev

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.set_scope(Scope(changed_since="2025-10-15"))
        await settle(pilot, app)
        assert shown_ids(app) == []
        rec = app.records["tak-326"]
        fixed = replace(verdicts()["tak-326"], group="A1", checked_at="2025-10-20T09:00:00+07:00")
        app.on_scan_event(ev.AgencyChecked(rec.agency, fixed, 1, 1))
        app.flush_pending()
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]
        same = replace(verdicts()["tak-12"], checked_at="2025-10-20T09:00:00+07:00")  # same group again
        app.on_scan_event(ev.AgencyChecked(app.records["tak-12"].agency, same, 2, 2))
        app.flush_pending()
        await settle(pilot, app)
        assert shown_ids(app) == ["tak-326"]
