"""``lapor-gateway review --reject ID --because REASON``: the reason from a fixed list is what the citizen is told
(``do_not_notify``: nothing); ``--reason`` stays a note for staff; ``show`` lists the notice with the receipts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.store.records import Event, ReceiptRow
from normalizer.tracking import new_tracking_id
from tests.unit.gateway.cli.cli_data import add_complaint, cli, journal, new_gateway

PHONE = "6281277700042"


@pytest.fixture
def gw(tmp_path: Path):
    return new_gateway(tmp_path)


def held(gw, record: dict | None = None, events: list[Event] | None = None) -> str:
    receipt = ReceiptRow(dedup_key=f"receipt-{new_tracking_id()}", kind="receipt", channel="sms.kannel",
                         target={"to": PHONE, "account": "1708", "reply_context": {}},
                         body={"text": "LAPOR! Aduan Anda diterima.", "public": False}, state="held")
    tid = new_tracking_id()
    for e in events or []:
        e.tracking_id = tid
    return add_complaint(gw, {"tracking_id": tid, "body": "Jual pulsa murah", **(record or {})}, state="review",
                         outcome="needs_review", receipts=[receipt], events=events)


def receipts(gw, tid: str) -> list[tuple[str, str]]:
    j = journal(gw)
    try:
        return sorted((r["kind"], r["state"]) for r in j.receipts_for(tid))
    finally:
        j.close()


def test_reject_needs_a_reason_from_the_list(gw):
    tid = held(gw)
    out = cli(gw, "review", "--reject", tid)
    assert out.returncode == 2 and "--because" in out.stderr and "do_not_notify" in out.stderr
    out = cli(gw, "review", "--reject", tid, "--because", "spam")
    assert out.returncode == 2 and "invalid choice" in out.stderr
    assert cli(gw, "review", "--approve", tid, "--because", "duplicate").returncode == 2
    assert receipts(gw, tid) == [("receipt", "held")]
    assert "--because" in cli(gw, "review", "--help").stdout


def test_reject_tells_the_citizen_once_and_show_lists_it(gw):
    tid = held(gw)
    out = cli(gw, "review", "--reject", tid, "--because", "out_of_scope", "--reason", "urusan perdata, staf C")
    assert out.returncode == 0 and "rejected" in out.stdout and "citizen is told" in out.stdout, out.stderr
    assert receipts(gw, tid) == [("receipt", "cancelled"), ("rejection", "pending")]
    again = cli(gw, "review", "--reject", tid, "--because", "out_of_scope")
    assert again.returncode == 1 and "not waiting for review" in again.stdout
    assert receipts(gw, tid) == [("receipt", "cancelled"), ("rejection", "pending")]
    shown = cli(gw, "show", tid, columns=160).stdout
    assert "rejection via sms.kannel" in shown and "di luar cakupan layanan LAPOR!" in shown
    data = json.loads(cli(gw, "show", tid, "--json").stdout)
    (notice,) = [r for r in data["receipts"] if r["kind"] == "rejection"]
    assert tid in notice["text"] and "staf C" not in notice["text"]
    assert data["review_reason"] == "urusan perdata, staf C"  # the note, for staff
    log = cli(gw, "log", "--tracking", tid, columns=200).stdout
    assert "out_of_scope" in log and "staf C" not in log


def test_do_not_notify_and_a_strangers_answer_tell_nobody(gw):
    spam = held(gw)
    out = cli(gw, "review", "--reject", spam, "--because", "do_not_notify")
    assert out.returncode == 0 and "not told" in out.stdout
    assert receipts(gw, spam) == [("receipt", "cancelled")]
    stranger = held(gw, {"needs_review": ["follow_up_of_unknown"], "follow_up_of": "4509948496"},
                    [Event("sms.kannel", "held_for_review", detail="answer_from_other_contact")])
    out = cli(gw, "review", "--reject", stranger, "--because", "not_a_complaint")
    assert out.returncode == 0 and "nobody is told" in out.stdout
    assert receipts(gw, stranger) == [("receipt", "cancelled")]
