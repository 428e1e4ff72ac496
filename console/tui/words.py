"""The console's words for issue 15 (follow-up view, filter dialog, legend), joined to console.i18n."""

from __future__ import annotations

TH: dict[str, str] = {
    "col.followup": "ติดตาม",
    "followup.status.none": "ยังไม่โทร",
    "followup.status.waiting": "โทรแล้ว รอแก้ไข",
    "followup.status.fixed": "แก้ไขแล้ว (ตรวจยืนยัน)",
    "followup.cell.waiting": "รอแก้ไข",
    "followup.cell.fixed": "✓แก้แล้ว",
    "filter.followup_status": "การติดตาม: {value}",
    "dlg.followup_status": "การติดตาม",
    "palette.followup_status": "กรองการติดตาม: {value}",
    "dlg.filters_hint": "Tab/↓ ช่องถัดไป · Enter ใช้ตัวกรอง · Esc ยกเลิก",
    "dlg.followup_only": "เฉพาะที่ต้องติดตาม (กลุ่ม B–D ไม่รวม E ที่ยังตรวจสอบไม่ได้)",
    "msg.marked": "เลือกไว้ {n} รายการ (space อีกครั้งเพื่อยกเลิก, ↓ ไปแถวถัดไป)",
    "msg.unmarked": "ยกเลิกการเลือก (เลือกไว้ {n} รายการ)",
    "msg.filter_kept_province": "ล้างตัวกรองแล้ว (ยังคงจังหวัด {province}; ล้างทั้งหมดได้ที่ ctrl+p)",
    "help.legend": "ความหมายของกลุ่ม",
    "detail.opdc_round": "ผลรอบของ สพร.",
    "followup.count": "ต้องติดตาม {n:,} รายการ",
    "groups.followup": "ต้องโทร",
    "groups.followup_excl": "ไม่รวม {what}",
}

EN: dict[str, str] = {
    "col.followup": "Follow-up",
    "followup.status.none": "not called",
    "followup.status.waiting": "called, waiting for fix",
    "followup.status.fixed": "fixed (verified)",
    "followup.cell.waiting": "waiting",
    "followup.cell.fixed": "✓fixed",
    "filter.followup_status": "follow-up: {value}",
    "dlg.followup_status": "Follow-up",
    "palette.followup_status": "Filter follow-up: {value}",
    "dlg.filters_hint": "Tab/↓ next field · Enter apply · Esc cancel",
    "dlg.followup_only": "Only agencies that need follow-up (groups B–D, not E: not yet verifiable)",
    "msg.marked": "{n} marked (space again to unmark, ↓ for the next row)",
    "msg.unmarked": "unmarked ({n} marked)",
    "msg.filter_kept_province": "Filters cleared (province {province} kept; clear all from ctrl+p)",
    "help.legend": "What the groups mean",
    "detail.opdc_round": "OPDC's round",
    "followup.count": "{n:,} need follow-up",
    "groups.followup": "to phone",
    "groups.followup_excl": "not {what}",
}
