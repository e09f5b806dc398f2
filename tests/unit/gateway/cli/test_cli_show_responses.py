"""``show`` lists the citizen's answers in the conversation (state, attempts, last error; a confidential one's
text not printed) and ``retry-dead`` queues a dead one again (issue 15)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gateway.store.records import ResponseRow
from gateway.store.sqlite.responses import write_response
from tests.unit.gateway.cli.cli_data import add_complaint, cli, conversation_at, journal, new_gateway

ANSWER = "Lampunya masih mati, tiangnya juga miring"


@pytest.fixture
def gw(tmp_path: Path):
    return new_gateway(tmp_path)


def add_response(gw, tid: str, state: str = "pending", error: str | None = None, *, confidential: bool = False) -> None:
    j = journal(gw)
    row = ResponseRow("r-" + tid, f"c-{tid}", tid, "sms.kannel", {
        "text": ANSWER, "received_at": "2026-12-02T01:20:00+00:00", "channel": "sms.kannel",
        "attachments": [{"sha256": "b" * 64, "media_type": "image/jpeg", "size": 12, "filename": None}]},
        confidential=confidential)
    row.sealed = j.seal_json(row.payload)

    def write(conn) -> None:
        write_response(conn, time.time(), 99, row)
        conn.execute("UPDATE citizen_responses SET state=?, last_error=?, attempts=? WHERE id=?",
                     (state, error, 3 if error else 0, row.id))

    j.state_writer.write_sync(write)
    j.close()


def test_show_lists_the_citizens_answer_with_its_state(gw):
    tid = add_complaint(gw, {"body": "lampu mati"})
    add_response(gw, tid, "dead_letter", "central store unreachable: ClientConnectorError")
    out = cli(gw, "show", tid, columns=100)
    assert out.returncode == 0, out.stderr
    _, conversation = out.stdout.split("Conversation (1)")
    assert "citizen_response via sms.kannel · dead_letter · 3 attempt(s)" in conversation
    assert ANSWER in conversation and "central store unreachable" in conversation
    [entry] = json.loads(cli(gw, "show", tid, "--json").stdout)["conversation"]
    assert (entry["by"], entry["what"], entry["state"], entry["text"]) == ("citizen", "citizen_response",
                                                                         "dead_letter", ANSWER)
    assert entry["attachments"][0]["size"] == 12 and entry["received_at"].endswith("+07:00")

    again = cli(gw, "retry-dead", tid)
    assert again.returncode == 0, again.stderr
    assert f"{tid}  citizen response to the central store queued again" in again.stdout
    assert "1 citizen response(s)" in again.stdout
    [entry] = json.loads(cli(gw, "show", tid, "--json").stdout)["conversation"]
    assert entry["state"] == "pending" and entry["attempts"] == 0


def test_a_confidential_complaints_answer_is_not_printed(gw):
    tid = add_complaint(gw, {"body": "rahasia", "privacy": {"confidential": True}}, confidential=True)
    add_response(gw, tid, confidential=True)
    for args in ((tid,), (tid, "--json")):
        out = cli(gw, "show", *args)
        assert out.returncode == 0, out.stderr
        assert ANSWER not in out.stdout and "(confidential: not shown)" in out.stdout


def test_at_80_columns_the_answer_and_its_error_stay_indented(gw):
    tid = add_complaint(gw, {"body": "lampu mati"})
    add_response(gw, tid, "dead_letter", "central store unreachable: ClientConnectorError " * 3)
    first, body = conversation_at(gw, tid, 80)
    assert first.startswith("  citizen_response via sms.kannel · dead_letter")
    assert len(body) >= 3 and all(ln.startswith("    ") for ln in body), body
    assert ANSWER in " ".join(ln.strip() for ln in body)
