"""``show`` lists the conversation after the receipts (issue 15): every update sent with its text, channel
and delivery state; a capped one says so; a confidential complaint's answers are not printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.store.records import ReceiptRow
from tests.unit.gateway.cli.cli_data import add_complaint, cli, conversation_at, journal, new_gateway

PHONE = "6281200000077"
ANSWER = "Jembatan diperbaiki minggu depan oleh Dinas PU"


@pytest.fixture
def gw(tmp_path: Path):
    return new_gateway(tmp_path)


def _rows(update_id: int, state: str) -> list[ReceiptRow]:
    return [
        ReceiptRow(dedup_key=f"receipt-{update_id}", kind="receipt", channel="sms.kannel", target={"to": PHONE},
                   body={"text": "diterima"}, state="sent"),
        ReceiptRow(dedup_key=f"update:{update_id}:r", kind="update", channel="sms.kannel",
                   target={"to": PHONE, "reply_context": {"update_id": update_id}},
                   body={"text": f"LAPOR! jawaban instansi: {ANSWER}", "public": False,
                         "update": {"update_id": update_id, "kind": "response", "status": "in_progress"}},
                   state=state),
    ]


def _mark(gw, state: str, error: str | None) -> None:
    j = journal(gw)
    j.state_writer.write_sync(lambda c: c.execute("UPDATE receipts SET state=?, last_error=?, delivery_status=? "
                                                  "WHERE kind='update'", (state, error, "delivered")))
    j.close()


def test_show_lists_each_update_after_the_receipts_with_its_state(gw):
    tid = add_complaint(gw, {"body": "jembatan putus"}, receipts=_rows(7, "pending"))
    _mark(gw, "rate_limited", "rate limit updates_per_recipient")
    out = cli(gw, "show", tid, columns=100)
    assert out.returncode == 0, out.stderr
    receipts, conversation = out.stdout.split("Conversation (1)")
    assert "Receipts and replies (1)" in receipts and ANSWER not in receipts
    assert "update 7 (response, status in_progress) via sms.kannel · rate_limited" in conversation
    assert "rate limit updates_per_recipient" in conversation and "delivered" in conversation
    assert "Jembatan diperbaiki" in conversation
    assert PHONE not in out.stdout

    data = json.loads(cli(gw, "show", tid, "--json").stdout)
    [entry] = data["conversation"]
    assert {k: entry[k] for k in ("by", "what", "update_id", "update_kind", "status", "channel", "state")} == {
        "by": "agency", "what": "update", "update_id": 7, "update_kind": "response", "status": "in_progress",
        "channel": "sms.kannel", "state": "rate_limited"}
    assert ANSWER in entry["text"] and entry["created_at"].endswith("+07:00")
    assert [r["kind"] for r in data["receipts"]] == ["receipt"]


def test_a_confidential_complaints_answers_are_not_printed(gw):
    tid = add_complaint(gw, {"body": "rahasia", "privacy": {"confidential": True}}, confidential=True,
                        receipts=_rows(8, "sent"))
    for args in ((tid,), (tid, "--json")):
        out = cli(gw, "show", *args)
        assert out.returncode == 0, out.stderr
        assert ANSWER not in out.stdout and "(confidential: not shown)" in out.stdout


def test_the_central_store_line_is_the_latest_status_heard_not_the_forwards_answer(gw):
    tid = add_complaint(gw, {"body": "jembatan putus"}, receipts=_rows(9, "sent"))
    j = journal(gw)
    j.state_writer.write_sync(lambda c: c.execute(
        "UPDATE complaints SET central_answer=? WHERE tracking_id=?",
        (json.dumps({"status": "received", "received_at": "2026-12-02T01:15:03+00:00"}), tid)))
    j.close()
    out = cli(gw, "show", tid, columns=160)
    assert out.returncode == 0, out.stderr
    [line] = [x for x in out.stdout.splitlines() if x.startswith("central store")]
    # update 9 said in_progress: the forward's 'received' is when the store took it, not where it is now
    assert "in_progress (update 9," in line and "took it 2026-12-02T08:15:03+07:00" in line
    assert "received ·" not in line


def test_at_80_columns_the_update_text_and_error_wrap_at_their_indent(gw):
    tid = add_complaint(gw, {"body": "jembatan putus"}, receipts=_rows(8, "pending"))
    _mark(gw, "failed", "kannel sendsms unreachable: ClientConnectorError " * 3)
    first, body = conversation_at(gw, tid, 80)
    assert first.startswith("  update 8 (response, status in_progress)")
    assert len(body) >= 4 and all(ln.startswith("    ") for ln in body), body  # never back at column 0
    assert ANSWER in " ".join(ln.strip() for ln in body)
