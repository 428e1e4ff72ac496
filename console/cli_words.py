"""`saraban --help` in Thai: the English help text of the CLI (the key, so an untranslated help stays
readable) and its Thai wording. Descriptions, subcommands, options and arguments all come from here."""

from __future__ import annotations

HELP_TH: dict[str, str] = {
    # the program, its global options and argparse's own -h
    "Check the Section 10 email addresses of Thai state agencies and follow up on them.":
        "ตรวจอีเมลตามมาตรา ๑๐ ของหน่วยงานรัฐ แบ่งกลุ่ม และติดตามให้แก้ไข",
    "the JSON store (default: the user data dir)": "ไฟล์ข้อมูล (ค่าเริ่มต้น: โฟลเดอร์ข้อมูลของผู้ใช้)",
    "config TOML (default: the user config dir, else built-in defaults)":
        "ไฟล์ตั้งค่า TOML (ค่าเริ่มต้น: โฟลเดอร์ตั้งค่าของผู้ใช้ หรือค่าในตัวโปรแกรม)",
    "language of operator-facing text": "ภาษาของข้อความ (th หรือ en)",
    "show this help message and exit": "แสดงคำอธิบายนี้แล้วออก",
    # subcommands
    "check agencies of a CSV/TSV/XLSX file, or of the store": "ตรวจหน่วยงานจากไฟล์ CSV/TSV/XLSX หรือจากข้อมูลที่นำเข้าแล้ว",
    "import an agency list (CSV, TSV, XLSX or URL) into the store": "นำเข้ารายชื่อหน่วยงาน (CSV, TSV, XLSX หรือ URL)",
    "record a corrected address and recheck it at once": "บันทึกอีเมลที่แก้ไขแล้วและตรวจซ้ำทันที",
    "add a note to an agency": "เพิ่มบันทึกให้หน่วยงาน",
    "export the follow-up list (or, with --all / --group, other agencies)":
        "ส่งออกรายชื่อที่ต้องติดตาม (หรือ --all / --group สำหรับกลุ่มอื่น)",
    "OPDC-style summary: buckets, groups, per province": "สรุปแบบ สพร.: กลุ่มใหญ่ กลุ่มย่อย รายจังหวัด",
    "open the console (the default)": "เปิดหน้าจอหลัก (ค่าเริ่มต้น)",
    "the console on the national sample world and a simulated internet":
        "ทดลองใช้หน้าจอกับข้อมูลตัวอย่างทั้งประเทศและอินเทอร์เน็ตจำลอง",
    "is this machine ready to probe the internet? (PTR, port 25, blocklists, SPF…)":
        "เครื่องนี้พร้อมตรวจหรือยัง (PTR, พอร์ต 25, blocklist, SPF…)",
    "create the store; --shared GROUP: one store for a whole Unix group":
        "สร้างไฟล์ข้อมูล; --shared GROUP: ใช้ร่วมกันทั้งกลุ่มผู้ใช้",
    "a consistent copy of the store while others work (open it with --store)":
        "สำรองข้อมูลขณะคนอื่นทำงานอยู่ (เปิดด้วย --store)",
    "two rows flagged as possible duplicates are one agency: merge them":
        "สองแถวที่สงสัยว่าซ้ำเป็นหน่วยงานเดียวกัน: รวมเป็นหนึ่ง",
    "two rows flagged as possible duplicates are different agencies": "สองแถวที่สงสัยว่าซ้ำเป็นคนละหน่วยงาน",
    "set the follow-up mark of several agencies in one write": "ตั้งสถานะการติดตามของหลายหน่วยงานในครั้งเดียว",
    "recheck waiting and E agencies on a schedule (headless, for systemd)":
        "ตรวจซ้ำหน่วยงานที่รอแก้ไขและกลุ่ม E ตามรอบเวลา (ไม่มีหน้าจอ สำหรับ systemd)",
    "the console in a browser, read-only, for supervisors": "หน้าจอในเบราว์เซอร์ อ่านอย่างเดียว สำหรับผู้บังคับบัญชา",
    "measure speed, politeness and memory on the simulated internet":
        "วัดความเร็ว ความสุภาพต่อเซิร์ฟเวอร์ และหน่วยความจำ บนอินเทอร์เน็ตจำลอง",
    # the console's filters as flags (check, export, report)
    "only these groups (repeat or comma-separate; '-' for not checked)":
        "เฉพาะกลุ่มเหล่านี้ (ใส่ซ้ำหรือคั่นด้วยจุลภาค; '-' คือยังไม่ตรวจ)",
    "only one of OPDC's buckets ('-': not checked)": "เฉพาะกลุ่มใหญ่ของ สพร. กลุ่มเดียว ('-' คือยังไม่ตรวจ)",
    "only this province": "เฉพาะจังหวัดนี้",
    "only this district": "เฉพาะอำเภอนี้",
    "only this kind of agency (e.g. องค์การบริหารส่วนตำบล)": "เฉพาะหน่วยงานประเภทนี้ (เช่น องค์การบริหารส่วนตำบล)",
    "the console's search: words of the name, area, address or ลำดับที่":
        "ค้นหาแบบเดียวกับหน้าจอ: คำในชื่อ อำเภอ จังหวัด อีเมล หรือลำดับที่",
    "only agencies that need follow-up (B–E, not E)": "เฉพาะที่ต้องติดตาม (B–E ไม่รวม E)",
    "only agencies whose group or address changed since this date (2026-01-31 or 31/01/2569)":
        "เฉพาะหน่วยงานที่กลุ่มหรืออีเมลเปลี่ยนตั้งแต่วันที่นี้ (2026-01-31 หรือ 31/01/2569)",
    # check
    "a list to check without a store": "ไฟล์รายชื่อที่จะตรวจโดยไม่บันทึกลงไฟล์ข้อมูล",
    "the XLSX sheet to read, by its name (when the workbook has several)": "ชื่อชีตใน XLSX ที่จะอ่าน (เมื่อมีหลายชีต)",
    "one JSON object per agency per line": "พิมพ์ JSON หนึ่งบรรทัดต่อหนึ่งหน่วยงาน",
    "every agency in the store (the default)": "ทุกหน่วยงานในไฟล์ข้อมูล (ค่าเริ่มต้น)",
    "one agency: its id or ลำดับที่": "หน่วยงานเดียว: รหัสหรือลำดับที่",
    "check against a simulated internet": "ตรวจกับอินเทอร์เน็ตจำลอง",
    # import
    "the list: a CSV, TSV or XLSX file, or an http(s) URL": "รายชื่อ: ไฟล์ CSV, TSV, XLSX หรือ URL แบบ http(s)",
    "read this column header as this field when the header is not recognised, e.g. --map "
    "\"อีเมลสารบรรณ=declared\" (repeatable)":
        "อ่านหัวคอลัมน์นี้เป็นช่องข้อมูลนี้เมื่อโปรแกรมไม่รู้จักหัวคอลัมน์ เช่น --map \"อีเมลสารบรรณ=declared\" "
        "(ใส่ได้หลายครั้ง)",
    # correct, note
    "the agency: its id or ลำดับที่": "หน่วยงาน: รหัสหรือลำดับที่",
    "the corrected address": "อีเมลที่แก้ไขแล้ว",
    "why (optional, as in the console): e.g. 'the agency called'":
        "เหตุผล (ไม่บังคับ เหมือนในหน้าจอ) เช่น 'หน่วยงานโทรแจ้ง'",
    "who records it (default: the config's operator)": "ชื่อผู้บันทึก (ค่าเริ่มต้น: operator ในไฟล์ตั้งค่า)",
    "record the correction only; recheck later": "บันทึกการแก้ไขอย่างเดียว ตรวจซ้ำภายหลัง",
    "the note's text": "ข้อความบันทึก",
    # export, report
    "every agency in the filters, not only those to follow up": "ทุกหน่วยงานตามตัวกรอง ไม่ใช่เฉพาะที่ต้องติดตาม",
    "the file's format (default: from the ending of -o)": "รูปแบบไฟล์ (ค่าเริ่มต้น: ตามนามสกุลของ -o)",
    "the province's attachment to its districts: one print-ready sheet per district (XLSX)":
        "ไฟล์แนบหนังสือจังหวัดถึงอำเภอ: หนึ่งชีตพร้อมพิมพ์ต่ออำเภอ (XLSX)",
    "the file to write": "ไฟล์ที่จะเขียน",
    "replace the output file if it exists": "เขียนทับไฟล์เดิมถ้ามีอยู่แล้ว",
    "print JSON instead of text": "พิมพ์เป็น JSON แทนข้อความ",
    "also write the Section 22 summary as XLSX": "เขียนสรุปตามมาตรา ๒๒ เป็นไฟล์ XLSX ด้วย",
    "replace the --xlsx / -o file if it exists": "เขียนทับไฟล์ --xlsx / -o ถ้ามีอยู่แล้ว",
    "who moved between the scan of DATE (2026-11-01 or BE 01/11/2569) and the latest":
        "หน่วยงานที่เปลี่ยนกลุ่มระหว่างรอบตรวจของวันที่ DATE (2026-11-01 หรือ พ.ศ. 01/11/2569) กับรอบล่าสุด",
    "with --since: print, or write -o FILE": "ใช้กับ --since: พิมพ์ออกจอ หรือเขียนไฟล์ -o FILE",
    "with --since --format xlsx: the file to write": "ใช้กับ --since --format xlsx: ไฟล์ที่จะเขียน",
    # tui, demo, doctor
    "no corrections, notes, scans, imports, exports": "อ่านอย่างเดียว: แก้ไข บันทึก ตรวจ นำเข้า ส่งออก ไม่ได้",
    "size of the sample world (default 8,286)": "จำนวนหน่วยงานในข้อมูลตัวอย่าง (ค่าเริ่มต้น 8,286)",
    "simulated latency per reply": "เวลาหน่วงจำลองต่อคำตอบ (มิลลิวินาที)",
    "scan in the terminal instead of opening the console": "ตรวจในเทอร์มินัลโดยไม่เปิดหน้าจอ",
    "open the console without starting a scan": "เปิดหน้าจอโดยยังไม่เริ่มตรวจ",
    "keep the demo's /tmp directory (removed on exit otherwise)": "เก็บโฟลเดอร์ /tmp ของการทดลองไว้ (ปกติลบเมื่อออก)",
    "the result as JSON": "ผลเป็น JSON",
    "play one situation on a simulated internet": "จำลองสถานการณ์หนึ่งบนอินเทอร์เน็ตจำลอง",
    # init, backup, same, different, followup
    "directory 2770 and files 0660 in GROUP, kept on every write":
        "โฟลเดอร์ 2770 และไฟล์ 0660 ของกลุ่ม GROUP คงไว้ทุกครั้งที่เขียน",
    "the new store path of the copy": "ที่อยู่ไฟล์ข้อมูลใหม่ของสำเนา",
    "the agency to keep (id or ลำดับที่)": "หน่วยงานที่จะเก็บไว้ (รหัสหรือลำดับที่)",
    "the row merged into it": "แถวที่จะรวมเข้าไป",
    "one of the two rows (id or ลำดับที่)": "แถวหนึ่งในสองแถว (รหัสหรือลำดับที่)",
    "the other row": "อีกแถวหนึ่ง",
    "e.g. called_waiting; '-' clears it": "เช่น called_waiting; '-' ล้างสถานะ",
    "ids or ลำดับที่": "รหัสหรือลำดับที่",
    # watch, serve, bench
    "one round of whoever is due now, then exit": "ตรวจหน่วยงานที่ถึงรอบหนึ่งรอบ แล้วออก",
    "address to listen on (default 127.0.0.1: use an SSH tunnel)":
        "ที่อยู่ที่รอรับการเชื่อมต่อ (ค่าเริ่มต้น 127.0.0.1: ใช้ผ่าน SSH tunnel)",
    "port to listen on (default 8000)": "พอร์ตที่รอรับการเชื่อมต่อ (ค่าเริ่มต้น 8000)",
    "the token the URL must carry (made for you on any non-loopback address)":
        "โทเค็นที่ URL ต้องมี (สร้างให้เองเมื่อไม่ใช่ที่อยู่ loopback)",
    "the address browsers use, when it differs from --host:--port": "ที่อยู่ที่เบราว์เซอร์ใช้ เมื่อไม่ตรงกับ --host:--port",
    "size of the simulated world (default 8,286)": "จำนวนหน่วยงานในโลกจำลอง (ค่าเริ่มต้น 8,286)",
    "simulated latency per reply, in milliseconds": "เวลาหน่วงจำลองต่อคำตอบ (มิลลิวินาที)",
    "the figures as JSON": "ตัวเลขเป็น JSON",
    "skip a part: scan, baseline, store, scale, tui, watch": "ข้ามบางส่วน: scan, baseline, store, scale, tui, watch",
    "seconds allowed to each slow baseline run before it is extrapolated":
        "วินาทีที่ให้การวัดแบบช้าแต่ละรอบ ก่อนคาดคะเนส่วนที่เหลือ",
}
