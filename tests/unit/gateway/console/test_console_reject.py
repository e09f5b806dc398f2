"""The console's Reject: a reason from a fixed list (what the citizen is told, in their words), the reviewer's note
kept and audited but never sent; a missing or unknown reason, or no CSRF token, changes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from channels.message import InboundMessage
from gateway.store.records import ComplaintRow, Event, InboundOutcome, ReceiptRow
from gateway.worker.templates import REJECT_CHOICES
from normalizer.tracking import new_tracking_id
from tests.unit.gateway.cli.cli_data import cli, journal
from tests.unit.gateway.console.console_env import Env, loop_runner

PHONE = "6281277700042"


def held(env: Env, record: dict[str, Any] | None = None, events: list[Event] | None = None) -> str:
    """A complaint waiting for review whose receipt (to PHONE by SMS) is held with it."""
    tid = new_tracking_id()
    full = {"tracking_id": tid, "channel": "sms.kannel", "account": "1708", "body": "Jalan rusak di depan pasar",
            "received_at": "2026-12-02T01:15:02+00:00", **(record or {})}
    receipt = ReceiptRow(dedup_key=f"receipt:c-{tid}", kind="receipt", channel="sms.kannel",
                         target={"to": PHONE, "account": "1708", "reply_context": {}},
                         body={"text": "LAPOR! Aduan Anda diterima.", "public": False},
                         complaint_id=f"c-{tid}", tracking_id=tid, state="held")
    j = journal(env.gw)

    async def go() -> None:
        (res,) = await j.accept_many([InboundMessage(channel="sms.kannel", account="1708", external_id=f"ext-{tid}",
                                                     sender=PHONE, text="t")])
        inbound = int(res.message_id)
        row = ComplaintRow(id=f"c-{tid}", tracking_id=tid, inbound_id=inbound, channel="sms.kannel",
                           record_json=json.dumps(full), reporter_ref=None, anonymous=False, confidential=False,
                           vault={}, state="review")
        for e in events or []:
            e.tracking_id = tid
        out = InboundOutcome(inbound, "needs_review", row, receipts=[receipt], events=events or [])
        assert await j.record_outcomes([out], cursor=inbound) == [True]

    loop_runner(go)
    j.close()
    return tid


def kinds(env: Env, tid: str) -> list[tuple[str, str]]:
    return [(r["kind"], r["state"]) for r in env.console.open_journal().receipts_for(tid)]


async def post_reject(env: Env, tid: str, data: dict[str, str], token: bool = True) -> Any:
    if token:
        data = {"csrf_token": await env.csrf(f"/console/complaints/{tid}"), **data}
    return await env.client.post(f"/console/complaints/{tid}/reject", data=data, allow_redirects=False)


async def test_the_form_offers_the_fixed_reasons_and_says_the_note_is_not_sent(operator_env: Env) -> None:
    tid = held(operator_env)
    page = await (await operator_env.client.get(f"/console/complaints/{tid}")).text()
    form = re.search(rf'<form method="post" action="/console/complaints/{tid}/reject">.*?</form>', page, re.S)
    assert form is not None
    assert re.findall(r'<option value="([a-z_]+)">', form.group(0)) == list(REJECT_CHOICES)
    assert '<select id="reject-because" name="because" required>' in form.group(0)
    assert "Jangan beri tahu" in form.group(0) and "tidak dikirim ke pelapor" in form.group(0)


async def test_a_missing_or_unknown_reason_is_refused(operator_env: Env) -> None:
    tid = held(operator_env)
    for data in ({}, {"because": ""}, {"because": "spam"}, {"because": "<b>unreadable</b>"},
                 {"because": "UNREADABLE"}, {"reason": "tidak jelas"}):
        r = await post_reject(operator_env, tid, data)
        assert r.status == 400, data
        assert "Pilih alasan penolakan" in await r.text()
    assert operator_env.console.open_journal().complaint_by_tracking(tid)["state"] == "review"
    assert kinds(operator_env, tid) == [("receipt", "held")]
    assert not [a for a in operator_env.store.audit_entries() if a["action"] == "review_rejected"]


async def test_no_csrf_token_no_rejection(operator_env: Env) -> None:
    tid = held(operator_env)
    r = await post_reject(operator_env, tid, {"because": "duplicate"}, token=False)
    assert r.status == 403
    r = await post_reject(operator_env, tid, {"because": "duplicate", "csrf_token": "0" * 64}, token=False)
    assert r.status == 403
    assert operator_env.console.open_journal().complaint_by_tracking(tid)["state"] == "review"
    assert kinds(operator_env, tid) == [("receipt", "held")]


async def test_a_reason_queues_one_notice_in_the_citizens_words_and_is_audited(operator_env: Env) -> None:
    tid = held(operator_env)
    r = await post_reject(operator_env, tid, {"because": "duplicate", "reason": "sama dengan 4509948496, staf B"})
    assert r.status == 303 and r.headers["Location"] == "/console/review?done=rejected"
    assert "pelapor diberi tahu alasannya" in await (await operator_env.client.get(r.headers["Location"])).text()
    assert sorted(kinds(operator_env, tid)) == [("receipt", "cancelled"), ("rejection", "pending")]
    j = operator_env.console.open_journal()
    (notice,) = [t for i, t in j.receipt_texts_for(tid).items()
                 if i in {r["id"] for r in j.receipts_for(tid) if r["kind"] == "rejection"}]
    assert tid in notice and "sudah tercatat dengan nomor tiket lain" in notice
    assert "4509948496" not in notice and "staf B" not in notice  # never the reviewer's note (nor the other ticket)
    entry = next(a for a in operator_env.store.audit_entries() if a["action"] == "review_rejected")
    assert entry["tracking_id"] == tid and entry["user"] == "ops"
    assert entry["reason"] == "duplicate: sama dengan 4509948496, staf B"
    page = await (await operator_env.client.get(f"/console/complaints/{tid}")).text()
    assert "Pemberitahuan: tidak dapat diproses" in page  # listed with the other receipts
    out = cli(operator_env.gw, "show", tid, columns=160).stdout
    assert "rejection via sms.kannel" in out and "tidak dapat diproses" in out


async def test_do_not_notify_queues_nothing(operator_env: Env) -> None:
    tid = held(operator_env)
    r = await post_reject(operator_env, tid, {"because": "do_not_notify", "reason": "spam judi"})
    assert r.status == 303 and r.headers["Location"] == "/console/review?done=rejected_silent"
    assert "tidak ada yang diberi tahu" in await (await operator_env.client.get(r.headers["Location"])).text()
    assert kinds(operator_env, tid) == [("receipt", "cancelled")]


async def test_a_strangers_held_answer_rejected_from_the_console_tells_nobody(operator_env: Env) -> None:
    tid = held(operator_env, {"needs_review": ["follow_up_of_unknown"], "follow_up_of": "4509948496"},
               events=[Event("sms.kannel", "held_for_review", None, detail="answer_from_other_contact")])
    r = await post_reject(operator_env, tid, {"because": "not_a_complaint"})
    assert r.status == 303 and r.headers["Location"] == "/console/review?done=rejected_silent"
    assert kinds(operator_env, tid) == [("receipt", "cancelled")]
    assert not [r for r in operator_env.console.open_journal().receipts_for("4509948496")]
    record = json.loads(operator_env.console.open_journal().complaint_by_tracking(tid)["record"])
    assert record["follow_up_of"] == "4509948496"
