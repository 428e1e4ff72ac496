"""Issue 16, items 3, 4 and 7: lists and configs prepared by a clumsy operator or an attacker.

Import is bounded in memory and time (zip bombs, a server dripping bytes), the CSV reader reports
the rows it would have had to guess about instead of merging them, a web page is refused, a URL's
password is never recorded, and a config holds only finite numbers in documented ranges.
"""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli import main
from console.config import ConfigError, load_config
from console.importer import ListReadError, read_agencies
from tests.reliability.hostile_kit import (
    MAIN_DIR,
    SHEET_HEAD,
    SHEET_TAIL,
    STRINGS_HEAD,
    STRINGS_TAIL,
    store_files,
    xlsx_bomb,
)

HEADER = "ลำดับที่,หน่วยงาน,อำเภอ,จังหวัด,email ที่ระบุใน ม.๑๐\n"


def row(i: int, name: str | None = None) -> str:
    return f"{i},{name or f'เทศบาลตำบลทดสอบ{i}'},เมืองตาก,ตาก,saraban{i}@dla.go.th\n"


def write_csv(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


# ------------------------------------------------------------------------------------------------
# XLSX bombs: refused in seconds with little memory (measured in a child process)
# ------------------------------------------------------------------------------------------------
_MEASURE = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # on a broken importer: fail, not swap
from console.importer import ListReadError, read_agencies
started = time.perf_counter()
try:
    read_agencies(sys.argv[1])
    outcome = "accepted"
except ListReadError as exc:
    outcome = "refused: " + str(exc)
except MemoryError:
    outcome = "MemoryError"
# VmHWM, not ru_maxrss: Linux carries a parent's peak across fork+exec into ru_maxrss, so under a big
# pytest process the child would report the parent's size. VmHWM belongs to this process's own memory.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started, "peak_mb": peak_kb / 1024}))
"""


def measure_import(path: Path) -> dict[str, object]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, timeout=60, cwd=MAIN_DIR
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"importing {path.name} still ran after 60 s")
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{path.name}: {figures}")  # the figures for the closing note (pytest -s shows them)
    return figures


def test_a_sheet_inflating_to_a_gigabyte_of_rows_is_refused_fast_and_small(tmp_path: Path) -> None:
    bomb = xlsx_bomb(tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", SHEET_HEAD, b"<row/>", SHEET_TAIL, 1 << 30)
    assert bomb.stat().st_size < 2_000_000
    figures = measure_import(bomb)
    assert str(figures["outcome"]).startswith("refused") and "rows" in str(figures["outcome"])
    assert float(figures["seconds"]) < 10  # the bound; measured ~1 s
    assert float(figures["peak_mb"]) < 300  # measured ~40 MB


def test_fifty_million_shared_strings_are_refused_fast_and_small(tmp_path: Path) -> None:
    unit = b"<si><t>a</t></si>"
    bomb = xlsx_bomb(tmp_path / "strings.xlsx", "xl/sharedStrings.xml", STRINGS_HEAD, unit, STRINGS_TAIL, 50_000_000 * len(unit))
    assert bomb.stat().st_size < 3_000_000
    figures = measure_import(bomb)
    assert str(figures["outcome"]).startswith("refused") and "texts" in str(figures["outcome"])
    assert float(figures["seconds"]) < 10
    assert float(figures["peak_mb"]) < 300


# ------------------------------------------------------------------------------------------------
# URL import: one deadline for the whole download, a size cap, no password recorded
# ------------------------------------------------------------------------------------------------
class Server:
    """A loopback HTTP server that answers every request with `respond(conn)` in its own thread."""

    def __init__(self, respond: object) -> None:
        self.respond = respond
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.requests: list[bytes] = []
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.requests.append(conn.recv(65536))
            self.respond(conn, self.stop)  # type: ignore[operator]

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[Server] = []

    def start(respond: object) -> Server:
        servers.append(Server(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def drip(data: bytes, stop: threading.Event, every: float) -> object:
    def send(conn: socket.socket) -> None:
        for byte in data:
            if stop.wait(every):
                return
            conn.sendall(bytes([byte]))

    return send


BODY = (HEADER + row(1) + row(2)).encode("utf-8")
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nX-Padding: " + b"x" * 200 + b"\r\nContent-Length: %d\r\n\r\n" % len(BODY)


def timed_read(url: str, deadline: float) -> tuple[float, BaseException | None]:
    """read_agencies in a thread; (seconds it took, what it raised). Fails if it outlives 4x the deadline."""
    outcome: list[BaseException | None] = []
    started = time.monotonic()

    def run() -> None:
        try:
            read_agencies(url, timeout=deadline)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(deadline * 4)
    assert outcome, f"the download was still running after {deadline * 4:g} s (deadline {deadline:g} s)"
    return time.monotonic() - started, outcome[0]


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_server_dripping_bytes_is_cut_off_at_the_overall_deadline(serve: object, where: str) -> None:
    def respond(conn: socket.socket, stop: threading.Event) -> None:
        if where == "body":
            conn.sendall(HEAD)
            drip(BODY, stop, 0.4)(conn)  # type: ignore[operator]
        else:
            drip(HEAD + BODY, stop, 0.4)(conn)  # type: ignore[operator]

    server = serve(respond)  # type: ignore[operator]
    seconds, raised = timed_read(f"http://127.0.0.1:{server.port}/list.csv", deadline=2.0)
    print(f"drip in the {where}: refused after {seconds:.2f} s (deadline 2 s, a byte every 0.4 s)")
    assert isinstance(raised, ListReadError), raised
    assert "2 วินาที" in str(raised)
    assert seconds < 2.0 + 1.5


def test_a_body_beyond_the_size_cap_is_refused_while_streaming(serve: object) -> None:
    def respond(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while not stop.is_set():
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    server = serve(respond)  # type: ignore[operator]
    with pytest.raises(ListReadError, match="ใหญ่เกิน"):
        read_agencies(f"http://127.0.0.1:{server.port}/list.csv", max_bytes=1_000_000, timeout=10)


def test_a_password_in_the_url_is_never_recorded(
    serve: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def respond(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(HEAD + BODY)

    server = serve(respond)  # type: ignore[operator]
    store = tmp_path / "store.json"
    code = main(["--store", str(store), "import", f"http://somchai:s3cr3t-pw@127.0.0.1:{server.port}/list.csv"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert b"authorization: basic" in server.requests[0].lower()  # it was still used to log in
    for path in store_files(store):
        assert b"s3cr3t-pw" not in path.read_bytes(), path
    assert "s3cr3t-pw" not in captured.out + captured.err
    assert f"127.0.0.1:{server.port}/list.csv" in store.read_text(encoding="utf-8")


def test_a_web_page_is_refused_as_a_web_page(serve: object, tmp_path: Path) -> None:
    page = (
        "<!DOCTYPE html>\n<html><head><title>รายชื่อ</title></head><body>\n"
        + HEADER + row(1) + row(2) + "</body></html>\n"
    )  # fmt: skip
    with pytest.raises(ListReadError, match="หน้าเว็บ"):
        read_agencies(write_csv(tmp_path / "list.csv", page))

    def respond(conn: socket.socket, stop: threading.Event) -> None:
        body = page.encode("utf-8")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    server = serve(respond)  # type: ignore[operator]
    with pytest.raises(ListReadError, match="a web page, not a list"):
        read_agencies(f"http://127.0.0.1:{server.port}/download?id=3")


# ------------------------------------------------------------------------------------------------
# CSV: rows the reader would have to guess about are reported, never merged
# ------------------------------------------------------------------------------------------------
def test_one_unbalanced_quote_costs_one_row_not_half_the_file(tmp_path: Path) -> None:
    lines = [row(i, f'"เทศบาลตำบลทดสอบ{i}"') for i in range(1, 50)]
    lines[9] = row(10, '"เทศบาลตำบลทดสอบ10')  # the closing quote was deleted
    result = read_agencies(write_csv(tmp_path / "list.csv", HEADER + "".join(lines)))
    assert len(result.agencies) == 48
    assert [(p.row, p.field) for p in result.problems] == [(11, "row")]
    assert "บรรทัด 11" in result.problems[0].message and '"' in result.problems[0].message
    assert {a.name for a in result.agencies} == {f"เทศบาลตำบลทดสอบ{i}" for i in range(1, 50) if i != 10}


def test_an_open_quote_running_to_the_end_is_reported(tmp_path: Path) -> None:
    lines = [row(i) for i in range(1, 20)]
    lines[4] = '5,"เทศบาลตำบลทดสอบ5,เมืองตาก,ตาก,saraban5@dla.go.th\n'
    result = read_agencies(write_csv(tmp_path / "list.csv", HEADER + "".join(lines)))
    assert len(result.agencies) == 18
    assert [p.row for p in result.problems] == [6]


def test_a_bare_cr_inside_a_row_is_one_bad_row_not_junk_agencies(tmp_path: Path) -> None:
    lines = [row(i) for i in range(1, 10)]
    lines[3] = "4,เทศบาล\rตำบล\rทดสอบ\r4,เมืองตาก,ตาก,saraban4@dla.go.th\n"
    result = read_agencies(write_csv(tmp_path / "list.csv", HEADER + "".join(lines)))
    assert len(result.agencies) == 8
    assert [(p.row, p.field) for p in result.problems] == [(5, "row")]
    assert "CR" in result.problems[0].message


def test_one_nul_byte_is_one_bad_row_not_a_refused_file(tmp_path: Path) -> None:
    lines = [row(i) for i in range(1, 10)]
    lines[6] = "7,เทศบาลตำบล\x00ทดสอบ7,เมืองตาก,ตาก,saraban7@dla.go.th\n"
    result = read_agencies(write_csv(tmp_path / "list.csv", HEADER + "".join(lines)))
    assert len(result.agencies) == 8
    assert [(p.row, p.field) for p in result.problems] == [(8, "row")]
    assert "NUL" in result.problems[0].message


def test_a_quoted_cell_with_a_line_break_is_still_one_agency(tmp_path: Path) -> None:
    text = HEADER + row(1) + '2,"เทศบาลตำบล\nทดสอบ2",เมืองตาก,ตาก,saraban2@dla.go.th\n' + row(3)
    result = read_agencies(write_csv(tmp_path / "list.csv", text))
    assert [a.name for a in result.agencies] == ["เทศบาลตำบลทดสอบ1", "เทศบาลตำบล ทดสอบ2", "เทศบาลตำบลทดสอบ3"]
    assert result.problems == []


# ------------------------------------------------------------------------------------------------
# Config: finite numbers in documented ranges, clean identities, safe rulesets, bounded files
# ------------------------------------------------------------------------------------------------
def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value).replace(str(path), "CONFIG")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[smtp]\ntimeout = 1e308\n", "CONFIG:2: smtp.timeout:"),
        ("[smtp]\ntimeout = inf\n", "CONFIG:2: smtp.timeout:"),
        ("[dns]\nlifetime = nan\n", "CONFIG:2: dns.lifetime:"),
        ("[smtp]\n\nretries = 1000000\n", "CONFIG:3: smtp.retries:"),
        ("[smtp]\nretry_delay = 1e308\n", "CONFIG:2: smtp.retry_delay:"),
        ("[dns]\nmax_concurrent = 0\n", "CONFIG:2: dns.max_concurrent:"),
        ("[limits]\nrejections_per_session = 0\n", "CONFIG:2: limits.rejections_per_session:"),
        ("[canary]\ninterval = -inf\n", "CONFIG:2: canary.interval:"),
        ("[general]\nhistory_limit = 100000000\n", "CONFIG:2: general.history_limit:"),
    ],
)
def test_numbers_must_be_finite_and_in_their_documented_range(tmp_path: Path, text: str, where: str) -> None:
    message = config_error(tmp_path, text)
    assert message.startswith(where), message
    assert "range" in message or "finite" in message


def test_every_documented_range_is_in_the_example_config() -> None:
    from checks.config import RANGES

    example = (MAIN_DIR / "config.example.toml").read_text(encoding="utf-8")
    for section, keys in RANGES.items():
        body = example.split(f"[{section}]", 1)[1].split("\n[", 1)[0]
        for key, (low, high) in keys.items():
            line = next(line for line in body.splitlines() if line.startswith(f"{key} "))
            assert f"range {low:g}-{high:g}" in line, line


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[smtp]\nhelo_name = "probe\\u0000.example"\n', "CONFIG:2: smtp.helo_name:"),
        ('[smtp]\nmail_from = "a\\u001b[2J@example.go.th"\n', "CONFIG:2: smtp.mail_from:"),
        ('[general]\noperator = "x\\u001b]0;pwned\\u0007"\n', "CONFIG:2: general.operator:"),
        ('[general]\noperator = "' + "ก" * 201 + '"\n', "CONFIG:2: general.operator:"),
        ('[[rules]]\ngroup = "A\\u202e1"\nall_of = ["mail_accepted"]\nbucket = "A"\n', "CONFIG:2: rules.group:"),
    ],
)
def test_identities_and_names_have_no_control_characters_and_a_length(tmp_path: Path, text: str, where: str) -> None:
    message = config_error(tmp_path, text)
    assert message.startswith(where), message


def test_duplicate_group_names_are_refused(tmp_path: Path) -> None:
    text = (
        '[[rules]]\ngroup = "D3"\nany_of = ["mailbox_not_found"]\n\n'
        '[[rules]]\ngroup = "D3"\nany_of = ["no_mail_server"]\n\n'
        '[[rules]]\ngroup = "A1"\nall_of = ["mail_accepted"]\nbucket = "A"\n'
    )
    message = config_error(tmp_path, text)
    assert message.startswith("CONFIG:6: rules.group:") and "earlier rule" in message


def test_a_ruleset_calling_broken_addresses_ready_is_refused_unless_allowed(tmp_path: Path) -> None:
    everything = '[[rules]]\ngroup = "A1"\nany_of = ["mail_accepted", "bad_syntax", "free_mail", "no_address"]\nbucket = "A"\n'
    message = config_error(tmp_path, everything)
    assert message.startswith("CONFIG:1:") and "bad_syntax" in message and "allow_unsafe_rules" in message
    escaped = (
        '[[rules]]\ngroup = "D3"\nany_of = ["mailbox_not_found"]\nnone_of = ["typo_suspect"]\n\n'
        '[[rules]]\ngroup = "A1"\nall_of = ["mail_accepted"]\nbucket = "A"\n'
    )  # a D3 with a typo suspect escapes its rule and lands in A1
    message = config_error(tmp_path, escaped)
    assert message.startswith("CONFIG:6:") and "mailbox_not_found" in message
    path = tmp_path / "allowed.toml"
    path.write_text("[general]\nallow_unsafe_rules = true\n" + everything, encoding="utf-8")
    assert load_config(path).engine.rules[0].group == "A1"


def test_a_huge_config_and_a_nesting_bomb_are_refused_with_a_message(tmp_path: Path) -> None:
    message = config_error(tmp_path, "# padding\n" * 200_000)
    assert "too big" in message or "bigger than" in message
    message = config_error(tmp_path, "[keys]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert message.startswith("CONFIG:") and ("nested" in message or "TOML" in message)


def test_the_cli_says_so_in_one_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[keys]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert main(["--config", str(path), "report"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert resource.getrlimit(resource.RLIMIT_STACK)  # (the parser did not need a bigger stack)
