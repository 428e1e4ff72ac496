"""Operator-facing strings of the watcher, trends and serve (merged into `console.i18n` at import)."""

from __future__ import annotations

TH: dict[str, str] = {
    "watch.started": "เริ่มเฝ้าตรวจซ้ำ: คลังข้อมูล {store} (รอแก้ไขทุก {waiting} นาที, กลุ่ม E เริ่มที่ {first} นาที{daily})",
    "watch.daily": ", B–E ทุกวัน",
    "watch.round": "ตรวจซ้ำ {n} หน่วยงาน (รอแก้ไข {waiting}, กลุ่ม E {retry}, ประจำวัน {daily})",
    "watch.recheck": "ตรวจซ้ำ {id} {name} <{address}>: {old} → {new} ({reason})",
    "watch.fixed": "แก้ไขแล้ว — ยืนยันโดยการตรวจซ้ำ: {id} {name} <{address}> กลุ่ม {group}",
    "watch.fixed_note": "แก้ไขแล้ว — ยืนยันโดยการตรวจซ้ำอัตโนมัติ {when}: {evidence}",
    "watch.next": "รอบถัดไป {when}",
    "watch.idle": "ไม่มีหน่วยงานที่ต้องเฝ้าตรวจ",
    "watch.paused": "พักการตรวจซ้ำ: {reason}",
    "watch.resumed": "ตรวจซ้ำต่อ",
    "watch.stopping": "ได้รับคำสั่งหยุด: รอให้การเชื่อมต่อที่ค้างอยู่เสร็จ แล้วหยุด",
    "watch.stopped": "หยุดเฝ้าตรวจซ้ำแล้ว",
    "watch.held": "มีตัวเฝ้าตรวจซ้ำอีกตัวทำงานกับคลังข้อมูลนี้อยู่แล้ว: {owner}",
    "watch.error": "ตรวจซ้ำไม่สำเร็จ: {error} (จะลองใหม่รอบหน้า)",
    "reason.waiting": "รอแก้ไข",
    "reason.retry_e": "ลองใหม่ กลุ่ม E",
    "reason.daily": "ประจำวัน",
    "followup.fixed_verified": "แก้ไขแล้ว — ยืนยันโดยการตรวจซ้ำ",
    "evidence.accepted": "{host} ตอบ {code} {text} ต่อ {address}",
    "evidence.group": "กลุ่ม {group}",
    "bar.watch_on": "เฝ้าตรวจซ้ำ: เปิด · รอบถัดไป {when}",
    "bar.watch_busy": "เฝ้าตรวจซ้ำ: กำลังตรวจ {n} หน่วยงาน",
    "bar.watch_idle": "เฝ้าตรวจซ้ำ: เปิด · ไม่มีรายการรอ",
    "bar.watch_paused": "เฝ้าตรวจซ้ำ: พักอยู่ ({n} หน่วยงาน) · กด s เพื่อตรวจต่อ",
    "key.watch": "เฝ้าตรวจซ้ำ",
    "flag.fixed": "✓แก้แล้ว",
    "notify.fixed": "แก้ไขแล้ว — ยืนยันโดยการตรวจซ้ำ: {name}",
    "notify.watch_on": "เปิดการเฝ้าตรวจซ้ำ",
    "notify.watch_off": "ปิดการเฝ้าตรวจซ้ำ",
}

EN: dict[str, str] = {
    "watch.started": "watching store {store} (waiting every {waiting} min, E from {first} min{daily})",
    "watch.daily": ", B–E daily",
    "watch.round": "rechecking {n} agencies (waiting {waiting}, E retry {retry}, daily {daily})",
    "watch.recheck": "recheck {id} {name} <{address}>: {old} → {new} ({reason})",
    "watch.fixed": "fixed — verified by recheck: {id} {name} <{address}> group {group}",
    "watch.fixed_note": "fixed — verified by automatic recheck {when}: {evidence}",
    "watch.next": "next run {when}",
    "watch.idle": "no agency to watch",
    "watch.paused": "rechecks paused: {reason}",
    "watch.resumed": "rechecks resumed",
    "watch.stopping": "asked to stop: finishing the sessions under way",
    "watch.stopped": "watcher stopped",
    "watch.held": "another watcher already runs on this store: {owner}",
    "watch.error": "recheck failed: {error} (tried again next run)",
    "reason.waiting": "waiting",
    "reason.retry_e": "E retry",
    "reason.daily": "daily",
    "followup.fixed_verified": "fixed — verified by recheck",
    "evidence.accepted": "{host} answered {code} {text} for {address}",
    "evidence.group": "group {group}",
    "bar.watch_on": "watch: on · next {when}",
    "bar.watch_busy": "watch: rechecking {n}",
    "bar.watch_idle": "watch: on · nothing waiting",
    "bar.watch_paused": "watch: paused ({n} agencies) · s resumes",
    "key.watch": "Watch",
    "flag.fixed": "✓fixed",
    "notify.fixed": "fixed — verified by recheck: {name}",
    "notify.watch_on": "watcher on",
    "notify.watch_off": "watcher off",
}

TH.update(
    {
        "pane.trends": "5 แนวโน้ม",
        "trend.a": "A พร้อมใช้",
        "trend.be": "B–E ต้องแก้ไข",
        "trend.w": "W ยกฐานะ",
        "trend.caption": "{area}: {n} ครั้งที่ตรวจ · ล่าสุด {when}: A {a}% · B–E {be}% · W {w}%",
        "trend.empty": "{area}: ยังไม่มีผลการตรวจครบทั้งชุดที่บันทึกไว้ (กด s เพื่อเริ่มตรวจ)",
        "trend.all": "ทั้งหมด",
        "trend.back": "[esc กลับ]",
        "key.pane_trends": "แนวโน้ม",
    }
)
EN.update(
    {
        "pane.trends": "5 Trends",
        "trend.a": "A ready",
        "trend.be": "B–E must fix",
        "trend.w": "W upgraded",
        "trend.caption": "{area}: {n} scans · latest {when}: A {a}% · B–E {be}% · W {w}%",
        "trend.empty": "{area}: no full scan recorded yet (press s to scan)",
        "trend.all": "whole store",
        "trend.back": "[esc back]",
        "key.pane_trends": "Trends",
    }
)
