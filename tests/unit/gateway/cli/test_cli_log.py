"""Issue 13 item 7: ``log`` at 80 columns never splits a tracking ID, its columns line up in both modes,
times are in service.timezone with the zone shown, and it filters by channel, state, tracking ID and time."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len

from gateway.cli.log import parse_since
from gateway.store.records import Event
from normalizer.tracking import new_tracking_id
from tests.gateway_proc import REPO, wait_until
from tests.unit.gateway.cli.cli_data import cli, log_events, new_gateway

AT = datetime(2025, 3, 4, 1, 19, 5, tzinfo=ZoneInfo("UTC")).timestamp()  # 08:19:05 WIB, 09:19:05 WITA
TIDS = [new_tracking_id() for _ in range(4)]
EVENTS = [
    Event("sms.kannel", "received", at=AT),
    Event("sms.kannel", "normalized", TIDS[0], contact="6281******001", category="Administrasi Kependudukan",
          flags="anonim,rahasia", detail="kategori dari kata kunci; pesan panjang yang harus dilipat di kolomnya", at=AT),
    Event("email.smtp.scan", "receipt_suppressed", TIDS[1], contact="w***@example.id", category="Infrastruktur",
          at=AT + 60),
    Event("letters.hotfolder", "needs_review", TIDS[2], detail="low_confidence; ocr 41%", at=AT + 120),
    Event("social.whatsapp", "forwarded", TIDS[3], at=AT + 7200),
    Event("sms.json", "receipt_failed", TIDS[0], detail="kannel sendsms unreachable: ClientConnectorError", at=AT + 7300),
]


@pytest.fixture
def gw(tmp_path: Path):
    gw = new_gateway(tmp_path)
    log_events(gw, EVENTS)
    return gw


def _columns(header: str) -> list[int]:
    """Where each header word starts (the column starts)."""
    return [m.start() for m in re.finditer(r"(?:(?<=\s)|^)\S", header)]


def _check_layout(out: str, width: int) -> None:
    lines = out.rstrip("\n").split("\n")
    assert all(cell_len(ln) <= width for ln in lines), max(lines, key=cell_len)
    header = lines[0]
    tracking_col = header.index("tracking")
    for tid in TIDS:
        rows = [ln for ln in lines if tid in ln]
        assert rows, f"{tid} split or missing"
        for row in rows:
            assert row.index(tid) == tracking_col  # in its column, whole
    for ln in lines[1:]:  # each event's first line: channel and tracking cells start at the header's columns
        if re.match(r"\d", ln):
            for name in ("channel", "tracking"):
                col = header.index(name)
                assert ln[col - 1] == " " and (ln[col] != " " or name == "tracking"), (ln, name)
    for e in EVENTS:
        row = next(ln for ln in lines if e.state in ln)
        assert row.index(e.state) == header.index("state"), row


@pytest.mark.parametrize("width", [80, 100, 132, 160, 200])
def test_log_at_80_columns_and_wider_never_splits_a_tracking_id(gw, width: int):
    done = cli(gw, "log", columns=width)
    assert done.returncode == 0, done.stderr
    _check_layout(done.stdout, width)
    out = done.stdout
    assert "time WIB" in out.splitlines()[0]  # the zone shown
    assert "08:19:05" in out and "01:19:05" not in out  # the service's zone, not UTC
    assert "2025-03-04" in out  # the date: in each row, or on a line of its own when narrow
    assert "letters.hotfolder" in out and "social.whatsapp" in out and "receipt_suppressed" in out  # whole


def test_the_long_detail_wraps_inside_its_column_at_80(gw):
    out = cli(gw, "log", columns=80).stdout
    lines = out.splitlines()
    indent = lines[0].index("channel")
    assert lines[1].strip() == "contact · category · flags · detail" and lines[1].index("contact") == indent
    first = next(i for i, ln in enumerate(lines) if TIDS[0] in ln and "normalized" in ln)
    rest = [ln for ln in lines[first + 1:first + 4] if not re.match(r"\d", ln)][:2]
    assert len(rest) == 2
    assert all(ln[:indent].strip() == "" for ln in rest)  # the shared cell's lines sit under the row, indented
    assert "pesan panjang yang harus dilipat di kolomnya" in " ".join(ln.strip() for ln in rest)


NEW_STATES = [  # this session's return path: states and details an 80-column log must show whole
    Event("central", "update_queued", TIDS[0], detail="update 41 (status_changed)", at=AT + 7400),
    Event("sms.kannel", "update_sent", TIDS[0], contact="6281******001", detail="provider id 9912", at=AT + 7500),
    Event("email.smtp.scan", "citizen_response", TIDS[1], contact="w***@example.id", at=AT + 7600),
    Event("social.telegram", "answer_refused", None, detail="no_ticket_and_no_text", at=AT + 7700),
    Event("social.whatsapp", "response_rate_limited", TIDS[3], detail="responses_per_complaint", at=AT + 7800),
    Event("email.smtp.scan", "held_for_review", TIDS[2], detail="answer_from_other_contact", at=AT + 7900),
    Event("sms.json", "response_dead_letter", TIDS[0], detail="central 503 after 12 attempts", at=AT + 8000),
]


@pytest.mark.parametrize("width", [80, 100])
def test_new_states_and_long_details_are_never_split_at_narrow_widths(gw, width: int):
    log_events(gw, NEW_STATES)
    done = cli(gw, "log", columns=width)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").split("\n")
    assert all(cell_len(ln) <= width for ln in lines), max(lines, key=cell_len)
    assert lines[0].split() == ["time", "WIB", "channel", "tracking", "state"]  # the header on one line, unwrapped
    state_col = lines[0].index("state")
    for e in NEW_STATES:
        row = next(ln for ln in lines if re.search(rf"\b{e.state}\b", ln))
        assert row.index(e.state) == state_col, row  # whole, in its column
        if e.detail:
            assert any(e.detail in ln for ln in lines), e.detail  # never split mid-word
    for word in ("answer_from_other_contact", "responses_per_complaint", "no_ticket_and_no_text"):
        assert sum(word in ln for ln in lines) == 1


def test_every_console_state_fits_the_state_column() -> None:
    from gateway.cli.log import STATE_WIDTH
    from gateway.console.i18n import STATES

    assert max(map(len, STATES)) <= STATE_WIDTH, max(STATES, key=len)


def test_times_follow_service_timezone(gw):
    out = cli(gw, "log", env={"LAPOR_SERVICE__TIMEZONE": "Asia/Makassar"}, columns=120).stdout
    assert out.splitlines()[0].startswith("time WITA")
    assert "2025-03-04 09:19:05" in out


def test_follow_rows_line_up_with_the_header_and_new_events_are_picked_up(gw, tmp_path: Path):
    out_path = tmp_path / "follow.txt"
    with out_path.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "log", "--follow", "-n", "2"], cwd=REPO,
                                env={**gw.env, "COLUMNS": "80"}, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: TIDS[0] in out_path.read_text(), what="the first events")
            late = new_tracking_id()
            log_events(gw, [Event("sms.kannel", "receipt_sent", late, detail="provider id 7781", at=time.time())])
            wait_until(lambda: late in out_path.read_text(), what="a new event while following")
        finally:
            proc.terminate()
            proc.wait(10)
    text = out_path.read_text()
    assert "Traceback" not in text
    lines = text.rstrip("\n").split("\n")
    col = lines[0].index("tracking")
    row = next(ln for ln in lines if late in ln)
    assert row.index(late) == col and row.index("receipt_sent") == lines[0].index("state")
    assert cell_len(max(lines, key=cell_len)) <= 80
    assert not any(TIDS[1] in ln or TIDS[2] in ln for ln in lines)  # -n 2: the last two before following
    assert sum(TIDS[3] in ln for ln in lines) == 1 and sum(TIDS[0] in ln for ln in lines) == 1  # once, not again


def test_filters(gw):
    def tids(*args: str) -> set[str]:
        done = cli(gw, "log", *args, columns=132)
        assert done.returncode == 0, done.stderr
        return {t for t in TIDS if t in done.stdout}

    assert tids("--channel", "sms") == {TIDS[0]}  # sms.kannel and sms.json, not social.whatsapp
    assert tids("--channel", "email") == {TIDS[1]}
    assert tids("--channel", "sm") == set()  # a family is a whole name part
    assert tids("--state", "needs_review,forwarded") == {TIDS[2], TIDS[3]}
    assert tids("--tracking", TIDS[1]) == {TIDS[1]}
    assert tids("--since", "2025-03-04T10:00") == {TIDS[3], TIDS[0]}  # 10:00 WIB = 03:00 UTC
    assert tids("--since", "2025-03-05") == set()
    assert tids("--since", "1h") == set()  # the events are long past
    done = cli(gw, "log", "--since", "yesterday")
    assert done.returncode == 2 and "--since 'yesterday'" in done.stderr and "Traceback" not in done.stderr


def test_parse_since_units():
    now = 1_000_000.0
    assert parse_since("90s", "Asia/Jakarta", now) == now - 90
    assert parse_since("30m", "Asia/Jakarta", now) == now - 1800
    assert parse_since("2h", "Asia/Jakarta", now) == now - 7200
    assert parse_since("7d", "Asia/Jakarta", now) == now - 7 * 86400
    assert parse_since("2026-12-02", "Asia/Jakarta") == datetime(2026, 12, 2, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
    assert parse_since("2026-12-02T08:00+00:00", "Asia/Jakarta") == datetime(2026, 12, 2, 8,
                                                                            tzinfo=ZoneInfo("UTC")).timestamp()
    for bad in ("", "2x", "-3h", "12/02/2026"):
        with pytest.raises(ValueError, match="--since"):
            parse_since(bad, "Asia/Jakarta")


def test_every_state_the_gateway_logs_fits_its_column_whole() -> None:
    """A state is never wrapped (``waiting_for_details``, ``external_id_conflict`` were split)."""
    import re
    from pathlib import Path

    from gateway.cli.log import STATE_WIDTH

    root = Path(__file__).resolve().parents[4]
    states = set()
    for path in [*root.glob("gateway/**/*.py"), *root.glob("channels/**/*.py")]:
        states |= set(re.findall(r'Event\(\s*[^,()]+,\s*f?"([a-z_{}]+)"', path.read_text()))
    states = {s for s in states if "{" not in s}
    assert {"received", "external_id_conflict", "waiting_for_details"} <= states
    assert max(map(len, states)) <= STATE_WIDTH, sorted(states, key=len)[-3:]
