"""A store with five scans over three months (fixed dates), for the trend chart's tests and a look."""

from __future__ import annotations

from pathlib import Path

import console.store.facade
from checks.model import Agency
from console.store import Store

SCANS: tuple[tuple[str, dict[str, dict[str, int]]], ...] = (
    ("2025-08-01T09:00:00+07:00", {"ตาก": {"A1": 40, "D3": 35, "D1": 15, "W": 10}, "น่าน": {"A1": 50, "B1": 50}}),
    ("2025-08-22T09:00:00+07:00", {"ตาก": {"A1": 48, "D3": 30, "D1": 12, "W": 10}, "น่าน": {"A1": 55, "B1": 45}}),
    ("2025-09-12T09:00:00+07:00", {"ตาก": {"A1": 60, "D3": 20, "D1": 10, "W": 10}, "น่าน": {"A1": 62, "B1": 38}}),
    ("2025-10-03T09:00:00+07:00", {"ตาก": {"A1": 70, "A2": 5, "D3": 10, "E": 5, "W": 10}, "น่าน": {"A1": 70, "B1": 30}}),
    ("2025-10-24T09:00:00+07:00", {"ตาก": {"A1": 78, "A2": 6, "D3": 4, "E": 2, "W": 10}, "น่าน": {"A1": 80, "B1": 20}}),
)


def build_trend_store(path: Path) -> Store:
    store = Store(path)
    store.merge_import(
        [Agency("tak-1", "เทศบาลตำบลทุ่งหลวง", "saraban@tambonthungluang.go.th", seq="1", district="แม่ระมาด",
                province="ตาก"),
         Agency("nan-1", "อบต.ทดสอบ", "saraban@tambontest.go.th", seq="2", district="เมืองน่าน", province="น่าน")],
        source="test", operator="somchai",
    )
    original = console.store.facade.now_iso
    try:
        for at, counts in SCANS:
            console.store.facade.now_iso = lambda at=at: at  # each snapshot carries its own scan date
            store.save_snapshot(counts, label="scan")
    finally:
        console.store.facade.now_iso = original
    return store
