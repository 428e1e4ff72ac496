"""Reading agency lists as operators receive them: the real Tak TSV, XLSX, cp874 CSV, URLs, bad rows."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest

from console.importer import (
    IGNORED,
    ListReadError,
    agency_id,
    guess_field,
    read_agencies,
)

DATA = Path(__file__).parent / "data"
TAK = DATA / "tak-2568.tsv"
TAK_HEADER = [
    "ลำดับที่",
    "หน่วยงาน",
    "อำเภอ",
    "จังหวัด",
    "การนำ ประกาศ ม.๑๐ ลงในระบบ info.go.th",
    "การนำคำสั่ง ม.๑๖ ลงในระบบ info.go.th",
    "email ที่ระบุใน ม.๑๐",
    "ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘",
]
TAK_ROWS = [
    [
        "๔๗",
        "เทศบาลตำบลทุ่งหลวง",
        "แม่ระมาด",
        "ตาก",
        "/",
        "/",
        "saraban@tambonthungluang.co.th",
        "reject:ไม่พบโดเมน",
    ],
    [
        "๓๒๖",
        "องค์การบริหารส่วนตำบลท่าสายลวด",
        "แม่สอด",
        "ตาก",
        "/",
        "/",
        "Tasailuadmeasod@gmail.com",
        "reject:ไม่พบmail",
    ],
    [
        "๖๓๖",
        "องค์การบริหารส่วนตำบลหนองบัวเหนือ",
        "เมืองตาก",
        "ตาก",
        "/",
        "/",
        "saraban_๖๖๓๐๑๙@dla.go.th",
        "reject:ไม่พบmail",
    ],
]


def _tsv(rows: list[list[str]]) -> str:
    return "".join("\t".join(r) + "\n" for r in rows)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------------------------------
# The real Tak list
# ------------------------------------------------------------------------------------------------


def test_tak_tsv_exactly() -> None:
    result = read_agencies(TAK)
    assert result.problems == []
    assert result.sheet is None
    assert [a.seq for a in result.agencies] == ["47", "326", "636"]
    assert [a.name for a in result.agencies] == [r[1] for r in TAK_ROWS]
    assert [a.district for a in result.agencies] == ["แม่ระมาด", "แม่สอด", "เมืองตาก"]
    assert {a.province for a in result.agencies} == {"ตาก"}
    # the declared address is kept exactly as written, Thai digits and capitals included
    assert [a.declared for a in result.agencies] == [
        "saraban@tambonthungluang.co.th",
        "Tasailuadmeasod@gmail.com",
        "saraban_๖๖๓๐๑๙@dla.go.th",
    ]
    assert all(a.announced is True and a.order_announced is True for a in result.agencies)
    assert not any(a.upgraded or a.parent_announcement for a in result.agencies)
    # OPDC's own mail round is kept as the previous round's result, with the date its header names
    assert [a.previous_result for a in result.agencies] == ["reject:ไม่พบโดเมน", "reject:ไม่พบmail", "reject:ไม่พบmail"]
    assert {a.previous_round for a in result.agencies} == {"2025-10-07"}
    assert result.mapping == {
        "ลำดับที่": "seq",
        "หน่วยงาน": "name",
        "อำเภอ": "district",
        "จังหวัด": "province",
        "การนำ ประกาศ ม.๑๐ ลงในระบบ info.go.th": "announced",
        "การนำคำสั่ง ม.๑๖ ลงในระบบ info.go.th": "order_announced",
        "email ที่ระบุใน ม.๑๐": "declared",
        "ปัญหาในการส่ง mail ๐๗/๑๐/๒๕๖๘": "previous_result",
    }


def test_ids_are_stable_across_imports_and_formats(tmp_path: Path) -> None:
    first = [a.id for a in read_agencies(TAK).agencies]
    assert first == [a.id for a in read_agencies(TAK).agencies]
    assert len(set(first)) == 3
    assert all(i.startswith("p-") and len(i) == 14 for i in first)
    # same agencies written as CSV: same ids
    csv_text = "\n".join(",".join(r) for r in [TAK_HEADER, *TAK_ROWS]) + "\n"
    again = read_agencies(_write(tmp_path / "tak.csv", csv_text))
    assert [a.id for a in again.agencies] == first


def test_code_of_13_digits_is_the_id(tmp_path: Path) -> None:
    text = _tsv(
        [
            ["รหัสหน่วยงาน", "หน่วยงาน", "อีเมล"],
            ["๖๖๓๐๑๙๑๒๓๔๕๖๗", "อบต. ก", "a@dla.go.th"],
            ["12", "อบต. ข", "b@dla.go.th"],
        ]
    )
    agencies = read_agencies(_write(tmp_path / "c.tsv", text)).agencies
    assert agencies[0].id == "6630191234567" and agencies[0].code == "6630191234567"
    assert agencies[1].id.startswith("p-") and agencies[1].code == "12"


# ------------------------------------------------------------------------------------------------
# XLSX
# ------------------------------------------------------------------------------------------------


def _xlsx(path: Path, sheets: list[tuple[str, list[list[object]]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_picks_the_sheet_with_a_header(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "tak.xlsx",
        [
            ("คำอธิบาย", [["รายชื่อ อปท. ที่ส่งอีเมลไม่ได้"], ["ส่งเมื่อ ๐๗/๑๐/๒๕๖๘"]]),
            ("ตาก", [["สำนักงานจังหวัดตาก"], [], TAK_HEADER, *TAK_ROWS]),
        ],
    )
    result = read_agencies(path)
    assert result.sheet == "ตาก"
    assert result.problems == []
    assert [a.seq for a in result.agencies] == ["47", "326", "636"]
    assert result.agencies[2].declared == "saraban_๖๖๓๐๑๙@dla.go.th"
    assert [a.id for a in result.agencies] == [a.id for a in read_agencies(TAK).agencies]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "two.xlsx",
        [("ตาก", [TAK_HEADER, *TAK_ROWS]), ("สำรอง", [TAK_HEADER, TAK_ROWS[0]])],
    )
    assert len(read_agencies(path, sheet="สำรอง").agencies) == 1
    with pytest.raises(ListReadError) as err:
        read_agencies(path, sheet="เชียงใหม่")
    message = str(err.value)
    assert "เชียงใหม่" in message and "ตาก" in message and "สำรอง" in message and "two.xlsx" in message


def test_xlsx_numbers_and_row_numbers(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "n.xlsx",
        [
            (
                "S",
                [
                    ["ชื่อรายการ"],
                    ["ลำดับ", "หน่วยงาน", "โทรศัพท์", "อีเมล", "รหัสหน่วยงาน"],
                    [1, "อบต. หนึ่ง", 55123456, "a@dla.go.th", 6630191234567],
                    [2.0, "", "", "b@dla.go.th", None],
                ],
            )
        ],
    )
    result = read_agencies(path)
    (agency,) = result.agencies
    assert agency.seq == "1"
    assert agency.phone == "055123456"  # a number cell lost the leading 0
    assert agency.id == "6630191234567"
    assert result.problems[0].row == 4 and result.problems[0].field == "name"


def test_xlsx_formula_looking_text_is_text(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["หน่วยงาน", "อีเมล"])
    ws.append(["x", "y"])
    ws["A2"].value = '=HYPERLINK("http://evil","click")'
    ws["A2"].data_type = "s"
    ws["B2"].value = "=1+1"
    ws["B2"].data_type = "s"
    wb.save(path)
    (agency,) = read_agencies(path).agencies
    assert agency.name == '=HYPERLINK("http://evil","click")'
    assert agency.declared == "=1+1"


# ------------------------------------------------------------------------------------------------
# CSV encodings, delimiters and header variants
# ------------------------------------------------------------------------------------------------


def test_csv_in_cp874(tmp_path: Path) -> None:
    text = "\r\n".join(",".join(r) for r in [TAK_HEADER, *TAK_ROWS]) + "\r\n"
    path = _write(tmp_path / "old-excel.csv", text, "cp874")
    result = read_agencies(path)
    assert [a.name for a in result.agencies] == [r[1] for r in TAK_ROWS]
    assert result.agencies[2].declared == "saraban_๖๖๓๐๑๙@dla.go.th"


def test_csv_with_bom_and_semicolons(tmp_path: Path) -> None:
    text = "\n".join(";".join(r) for r in [TAK_HEADER, *TAK_ROWS]) + "\n"
    path = _write(tmp_path / "bom.csv", text, "utf-8-sig")
    result = read_agencies(path)
    assert next(iter(result.mapping)) == "ลำดับที่"  # no BOM left on the first header
    assert [a.seq for a in result.agencies] == ["47", "326", "636"]


def test_utf16_unicode_text_from_excel(tmp_path: Path) -> None:
    path = _write(tmp_path / "unicode.txt", _tsv([TAK_HEADER, *TAK_ROWS]), "utf-16")
    assert [a.seq for a in read_agencies(path).agencies] == ["47", "326", "636"]


def test_quoted_commas_inside_a_csv_cell_stay_in_the_address(tmp_path: Path) -> None:
    text = 'หน่วยงาน,อีเมล,อำเภอ\n"อบต. ก","a@dla.go.th, b@dla.go.th",เมือง\n'
    (agency,) = read_agencies(_write(tmp_path / "q.csv", text)).agencies
    assert agency.declared == "a@dla.go.th, b@dla.go.th"
    assert agency.district == "เมือง"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("ลำดับ", "seq"),
        (" No. ", "seq"),
        ("#", "seq"),
        ("ชื่อหน่วยงาน", "name"),
        ("Agency  Name", "name"),
        ("AMPHOE", "district"),
        ("Province", "province"),
        ("E-Mail", "declared"),
        ("อีเมลกลางของหน่วยงาน", "declared"),
        ("email ที่ระบุใน ม.10", "declared"),
        ("เบอร์โทร", "phone"),
        ("Tel.", "phone"),
        ("ประเภทหน่วยงาน", "kind"),
        ("Status", "status"),
        ("ประกาศจาก", "announced_by"),
        ("รหัสหน่วยงาน", "code"),
        ("ประกาศ ม. ๑๐", "announced"),
        ("คำสั่ง ม.16", "order_announced"),
        ("ปัญหาในการส่ง mail 07/10/2568", "previous_result"),
        ("หมายเหตุ", None),
        ("", None),
    ],
)
def test_header_variants(header: str, field: str | None) -> None:
    assert guess_field(header) == field


def test_english_list_with_preamble_and_markers(tmp_path: Path) -> None:
    rows = [
        ["Agencies of province X, exported 2025-10-07"],
        [],
        [
            "No",
            "Agency",
            "District",
            "Province",
            "Email",
            "Status",
            "Announced by",
            "Section 10",
            "Kind",
            "Notes",
        ],
        ["1", "  Unit   One ", "D", "P", " a@x.go.th ", "active", "own", "yes", "local", "n"],
        ["2", "Unit Two", "D", "P", "b@x.go.th", "upgraded 2024", "parent agency", "-", "", ""],
        ["3", "Unit Three", "D", "P", "", "ยกฐานะเป็นเทศบาล", "ต้นสังกัด", "ไม่มี", "", ""],
    ]
    result = read_agencies(_write(tmp_path / "en.csv", "\n".join(",".join(r) for r in rows) + "\n"))
    one, two, three = result.agencies
    assert one.name == "Unit   One" and one.declared == " a@x.go.th "  # name stripped, address untouched
    assert one.announced and not one.upgraded and not one.parent_announcement and one.kind == "local"
    assert two.upgraded and two.parent_announcement and two.announced is False
    assert three.upgraded and three.parent_announcement and three.announced is False and three.declared == ""
    assert result.mapping["Notes"] == IGNORED
    assert one.order_announced is None  # no Section 16 column


def test_map_override(tmp_path: Path) -> None:
    text = _tsv([["ชื่อ อบต.", "ติดต่อ", "เขตพื้นที่", "ลำดับที่"], ["อบต. ก", "a@dla.go.th", "เมือง", "๙"]])
    path = _write(tmp_path / "m.tsv", text)
    with pytest.raises(ListReadError, match="--map"):
        read_agencies(path)  # no recognisable email column: the message says how to map it
    result = read_agencies(
        path, mapping={"ชื่อ อบต.": "name", "ติดต่อ": "declared", "3": "district", "D": "ignore"}
    )
    (agency,) = result.agencies
    assert (agency.name, agency.declared, agency.district, agency.seq) == (
        "อบต. ก",
        "a@dla.go.th",
        "เมือง",
        None,
    )
    assert result.mapping == {"ชื่อ อบต.": "name", "ติดต่อ": "declared", "เขตพื้นที่": "district", "ลำดับที่": IGNORED}


def test_map_override_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ListReadError, match="emial"):
        read_agencies(TAK, mapping={"email ที่ระบุใน ม.๑๐": "emial"})
    with pytest.raises(ListReadError, match="ไม่มีคอลัมน์นี้"):
        read_agencies(TAK, mapping={"ไม่มีคอลัมน์นี้": "phone"})


# ------------------------------------------------------------------------------------------------
# Bad rows: reported with the row number a person sees, never an exception
# ------------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_row_numbers(tmp_path: Path) -> None:
    header = ["ลำดับที่", "รหัสหน่วยงาน", "หน่วยงาน", "อำเภอ", "จังหวัด", "อีเมล"]
    rows = [
        header,  # row 1
        ["1", "1111111111111", "อบต. ก", "เมือง", "ตาก", "a@dla.go.th"],  # 2 ok
        ["2", "", "", "เมือง", "ตาก", "b@dla.go.th"],  # 3 missing name
        [],  # 4 empty: skipped silently
        ["3", "1111111111111", "อบต. ข", "เมือง", "ตาก", "c@dla.go.th"],  # 5 same code: kept, own id
        ["4", "", "อบต. ก", "เมือง", "ตาก", "d@dla.go.th"],  # 6 same name+district+province: kept
        ["5", "", "อบต. ค", "เมือง"],  # 7 short row: padded, kept
        ["6", "", "อบต. ง", "เมือง", "ตาก", "e@dla.go.th", "extra", "more"],  # 8 long row: kept
        ["7", "", "อบต. จ" + "ก" * 2_500, "เมือง", "ตาก", "f@dla.go.th"],  # 9 huge cell
        ["8", "", "อบต. ฉ", "เมือง", "ตาก", "x" * 2_001],  # 10 huge address
    ]
    result = read_agencies(_write(tmp_path / "bad.tsv", _tsv(rows)))
    # every row that names an agency is one (duplicates are the operator's call, flagged by the store)
    assert [a.seq for a in result.agencies] == ["1", "3", "4", "5", "6"]
    assert len({a.id for a in result.agencies}) == 5
    assert result.agencies[1].id == "1111111111111~2"
    short = result.agencies[3]
    assert short.province == "" and short.declared == ""
    assert [(p.row, p.field) for p in result.problems] == [(3, "name"), (9, "name"), (10, "declared")]


def test_multiline_cell_keeps_row_numbers_as_records(tmp_path: Path) -> None:
    text = 'หน่วยงาน,อีเมล\n"อบต. ก\nหมู่ 2",a@dla.go.th\n,b@dla.go.th\n'
    result = read_agencies(_write(tmp_path / "ml.csv", text))
    assert result.agencies[0].name == "อบต. ก หมู่ 2"
    assert [(p.row, p.field) for p in result.problems] == [(3, "name")]


def test_formula_and_escape_text_in_csv(tmp_path: Path) -> None:
    text = 'หน่วยงาน,อีเมล\n"=cmd|\' /C calc\'!A0","@SUM(1)"\n"อบต. \x1b]0;pwned\x07ก\u202e",a@b.go.th\n'
    result = read_agencies(_write(tmp_path / "f.csv", text))
    formula, escaped = result.agencies
    assert formula.name == "=cmd|' /C calc'!A0"  # imported as text, untouched
    assert formula.declared == "@SUM(1)"
    assert escaped.name == "อบต. ก"  # terminal escapes and bidi override removed from names


# ------------------------------------------------------------------------------------------------
# Files that cannot be read at all
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.csv", None, "ไม่พบไฟล์"),
        ("empty.csv", b"", "ไฟล์ว่าง"),
        ("binary.csv", bytes(range(256)) * 10, "UTF-8"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xlsx"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "XLSX"),
        ("noheader.csv", b"a,b,c\n1,2,3\n", "--map"),
    ],
)
def test_unreadable_files_raise_list_read_error(
    tmp_path: Path, name: str, content: bytes | None, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ListReadError) as err:
        read_agencies(path)
    assert name in str(err.value)
    assert words in str(err.value)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = _write(tmp_path / "big.tsv", TAK.read_text(encoding="utf-8"))
    with pytest.raises(ListReadError, match="ใหญ่เกิน"):
        read_agencies(path, max_bytes=100)


def test_agency_id_ignores_spacing_and_normalisation() -> None:
    assert agency_id("อบต.  ก", "เมือง", "ตาก") == agency_id("อบต. ก", "เมือง", "ตาก")
    assert agency_id("อบต. ก", "เมือง", "ตาก") != agency_id("อบต. ก", "แม่สอด", "ตาก")
    # canonically equivalent spellings (decomposed vs composed) give the same id
    assert agency_id("Cafe\u0301", "", "") == agency_id("Café", "", "")


# ------------------------------------------------------------------------------------------------
# URLs (a tiny local server on 127.0.0.1)
# ------------------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    release = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/stall":
            self.release.wait(5)
            return
        if self.path == "/endless":  # no Content-Length; streams past any limit
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            try:
                for _ in range(10_000):
                    self.wfile.write(b"x" * 1024)
            except OSError:
                pass
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    xlsx = _xlsx(tmp_path / "u.xlsx", [("ตาก", [TAK_HEADER, *TAK_ROWS])]).read_bytes()
    _Handler.release.clear()
    _Handler.routes = {
        "/tak.tsv": (200, {"Content-Type": "text/tab-separated-values; charset=utf-8"}, TAK.read_bytes()),
        "/download?id=7": (200, {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, xlsx),
        "/file.xlsx": (200, {"Content-Type": "application/octet-stream"}, xlsx),
        "/old": (302, {"Location": "/tak.tsv"}, b""),
        "/cp874.csv": (200, {"Content-Type": "text/csv; charset=tis-620"},
                       "\n".join(",".join(r) for r in [TAK_HEADER, *TAK_ROWS]).encode("cp874")),
    }  # fmt: skip
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()


def test_url_tsv_xlsx_redirect_and_charset(server: str) -> None:
    tsv = read_agencies(f"{server}/tak.tsv")
    assert [a.seq for a in tsv.agencies] == ["47", "326", "636"]
    assert tsv.source == f"{server}/tak.tsv"
    by_type = read_agencies(f"{server}/download?id=7")
    assert by_type.sheet == "ตาก" and [a.id for a in by_type.agencies] == [a.id for a in tsv.agencies]
    assert len(read_agencies(f"{server}/file.xlsx").agencies) == 3
    assert [a.declared for a in read_agencies(f"{server}/old").agencies] == [a.declared for a in tsv.agencies]
    assert read_agencies(f"{server}/cp874.csv").agencies[2].declared == "saraban_๖๖๓๐๑๙@dla.go.th"


def test_url_size_limit(server: str) -> None:
    with pytest.raises(ListReadError, match="ใหญ่เกิน"):
        read_agencies(f"{server}/tak.tsv", max_bytes=100)  # by Content-Length
    with pytest.raises(ListReadError, match="ใหญ่เกิน"):
        read_agencies(f"{server}/endless", max_bytes=200_000)  # while streaming


def test_url_errors(server: str) -> None:
    with pytest.raises(ListReadError, match="404"):
        read_agencies(f"{server}/nothing.csv")
    with pytest.raises(ListReadError, match=r"0\.2"):
        read_agencies(f"{server}/stall", timeout=0.2)
    with pytest.raises(ListReadError, match="http"):
        read_agencies("ftp://127.0.0.1/list.csv")


def test_a_totals_row_under_the_list_is_not_an_agency(tmp_path: Path) -> None:
    from console.importer import read_agencies

    source = tmp_path / "with-total.csv"
    source.write_text(
        "ลำดับที่,หน่วยงาน,อำเภอ,จังหวัด,email ที่ระบุใน ม.๑๐\n"
        "๑,องค์การบริหารส่วนตำบลแม่กุ,แม่สอด,ตาก,saraban@maeku.go.th\n"
        "๒,เทศบาลตำบลรวมไทย,แม่สอด,ตาก,\n"  # a real unit whose name contains รวม, without an address
        ",รวม ๒ หน่วยงาน,,,\n",
        encoding="utf-8",
    )
    result = read_agencies(source)
    assert [a.name for a in result.agencies] == ["องค์การบริหารส่วนตำบลแม่กุ", "เทศบาลตำบลรวมไทย"]
    assert [(p.row, p.field) for p in result.problems] == [(4, "name")]
    assert "แถวสรุปยอด" in result.problems[0].message
