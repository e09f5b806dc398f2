"""Receipts and replies that cannot go out, and what they wait for (issue 13, items 1-4).

The real journal, receipt worker and router on a temporary directory; the sender is a stand-in whose
peer goes down and comes back. The same through Kannel: ``tests/e2e/sms/test_sms_receipt_failures.py``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from aiohttp import web

from channels.message import InboundMessage, PeerUnavailable, Rejected
from gateway.intake.receipt_paths import ReceiptPaths
from gateway.settings import Settings
from gateway.store.records import InboundOutcome, ReceiptRow
from gateway.store.sqlite.journal import Journal
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer
from normalizer.tracking import new_tracking_id
from tests.fakes.receipt_sender import RecordingSender
from tests.peers.ports import free_port

PHONE = "6281277700001"
TEXT = "Jalan berlubang di depan SD Negeri 2 Sukamaju sudah sebulan, motor sering jatuh"


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


async def queue(j: Journal, i: int, *, kind: str = "receipt", tracking_id: str | None = "1234567890") -> None:
    await j.record_outcomes([InboundOutcome(i, "normalized", receipts=[ReceiptRow(
        dedup_key=f"{kind}:{i}", kind=kind, channel="sms.kannel", target={"to": PHONE, "account": "1708"},
        body={"text": f"teks {i}", "public": False}, complaint_id=f"c{i}" if kind == "receipt" else None,
        tracking_id=tracking_id,
    )])])


def events(j: Journal, state: str) -> list[dict[str, Any]]:
    return [e for e in j.events_after(0, 10_000) if e["state"] == state]


def receipt_rows(j: Journal) -> list[dict[str, Any]]:
    return [dict(r) for r in j.reader.rows("SELECT * FROM receipts ORDER BY created_at")]


def make_due(j: Journal) -> None:
    j.state_writer.write_sync(lambda c: c.execute("UPDATE receipts SET next_at=0"))


def fail_since(j: Journal, seconds_ago: float) -> None:
    j.state_writer.write_sync(lambda c: c.execute("UPDATE receipts SET failing_since=?", (time.time() - seconds_ago,)))


async def first_attempt_fails(j: Journal, w: ReceiptWorker, sender: RecordingSender, error: Exception) -> str:
    """Receipt 1 (of ticket 1234567890) queued and tried once with its peer down: what that attempt came to."""
    await queue(j, 1)
    sender.down = error
    return await w.deliver(j.due_receipts(10)[0])


# --- item 1: not silent -----------------------------------------------------------------------------------
async def test_the_first_failed_attempt_is_a_warning_once_per_receipt(journal: Journal, sender: RecordingSender,
                                                                      caplog: Any) -> None:
    w = ReceiptWorker(journal, [sender])
    await queue(journal, 1)
    sender.down = PeerUnavailable("kannel sendsms unreachable: ClientConnectorError")
    with caplog.at_level(logging.WARNING):
        for _ in range(4):
            make_due(journal)
            (row,) = journal.due_receipts(10)
            assert await w.deliver(row) == "pending"
    (warning,) = events(journal, "receipt_retrying")
    assert "unreachable" in warning["detail"] and "24h" in warning["detail"]
    assert warning["tracking_id"] == "1234567890"
    assert events(journal, "receipt_failed") == []
    assert receipt_rows(journal)[0]["attempts"] == 4 and receipt_rows(journal)[0]["failing_since"] is not None
    assert sum("retrying for up to 24h" in r.getMessage() for r in caplog.records) == 1
    assert all(PHONE not in r.getMessage() for r in caplog.records)  # never the recipient


async def test_a_failing_path_is_on_healthz_and_metrics_and_clears_when_it_works(journal: Journal,
                                                                                  sender: RecordingSender) -> None:
    w = ReceiptWorker(journal, [sender])
    paths = ReceiptPaths(journal, Settings(mail={"outbound_host": None}))
    assert paths.problems() == [] and 'lapor_receipt_path_up{family="sms"} 1' in paths.metrics()
    for i in (1, 2, 3):
        await queue(journal, i, tracking_id=f"12345678{i}0")
    sender.down = PeerUnavailable("kannel sendsms unreachable: ClientConnectorError")
    for row in journal.due_receipts(10):
        await w.deliver(row)
    (problem,) = paths.problems()
    assert problem.startswith("receipts: sms failing since ") and problem.endswith("(3 waiting)")
    assert "+07:00" in problem  # in service.timezone
    assert 'lapor_receipt_path_up{family="sms"} 0' in paths.metrics()
    assert 'lapor_receipts_waiting{family="sms"} 3' in paths.metrics()
    # the peer is back: one receipt goes out, and the others (in their backoff) are due at once
    sender.down = None
    assert journal.due_receipts(10) == []
    make_due(journal)
    first = journal.due_receipts(1)[0]
    assert await w.deliver(first) == "sent"
    assert len(journal.due_receipts(10)) == 2
    assert paths.problems() == [] and 'lapor_receipt_path_up{family="sms"} 1' in paths.metrics()


async def test_refused_credentials_fail_the_path_too(journal: Journal, sender: RecordingSender) -> None:
    w = ReceiptWorker(journal, [sender])
    paths = ReceiptPaths(journal, Settings())
    refused = Rejected(403, "kannel refused sendsms: Authorization failed for sendsms")
    assert await first_attempt_fails(journal, w, sender, refused) == "failed"
    (problem,) = paths.problems()
    assert problem.startswith("receipts: sms failing since")


async def test_start_up_check_says_in_one_line_when_a_receipt_path_is_unreachable(journal: Journal,
                                                                                   caplog: Any) -> None:
    closed = free_port()
    app = web.Application()  # any HTTP status counts as reachable: this one answers 404 to everything
    runner = web.AppRunner(app)
    await runner.setup()
    open_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", open_port).start()
    try:
        down = ReceiptPaths(journal, Settings(
            sms={"kannel": {"sendsms_url": f"http://127.0.0.1:{closed}/cgi-bin/sendsms?password=s3cret"}},
            mail={"outbound_host": "127.0.0.1", "outbound_port": closed}))
        with caplog.at_level(logging.INFO):
            await down.check_at_start()
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("receipts:")]
        assert len(lines) == 2
        assert f"Kannel sendsms at http://127.0.0.1:{closed}/cgi-bin/sendsms unreachable" in lines[0]
        assert f"mail relay 127.0.0.1:{closed} unreachable" in lines[1]
        assert all("\n" not in line and "s3cret" not in line for line in lines)
        assert [p.split(" failing")[0] for p in down.problems()] == ["receipts: email", "receipts: sms"]
        caplog.clear()
        up = ReceiptPaths(journal, Settings(
            sms={"kannel": {"sendsms_url": f"http://127.0.0.1:{open_port}/cgi-bin/sendsms"}}))
        with caplog.at_level(logging.INFO):
            await up.check_at_start()
        assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("receipts:")] == [
            f"receipts: Kannel sendsms at http://127.0.0.1:{open_port}/cgi-bin/sendsms reachable"]
        assert up.problems() == []
    finally:
        await runner.cleanup()


# --- item 2: retried for hours, then queued again by hand ----------------------------------------------------
async def test_an_hour_of_failures_does_not_cost_the_receipt(journal: Journal, sender: RecordingSender) -> None:
    w = ReceiptWorker(journal, [sender], retry_hours=24)
    await first_attempt_fails(journal, w, sender, PeerUnavailable("kannel sendsms answered 503"))
    fail_since(journal, 3600)
    journal.state_writer.write_sync(lambda c: c.execute("UPDATE receipts SET attempts=40"))  # far past any count
    make_due(journal)
    assert await w.deliver(journal.due_receipts(10)[0]) == "pending"
    sender.down = None
    make_due(journal)
    assert await w.deliver(journal.due_receipts(10)[0]) == "sent" and len(sender.sent) == 1
    assert events(journal, "receipt_failed") == []


async def test_after_retry_hours_it_fails_and_retry_dead_queues_it_again(journal: Journal,
                                                                          sender: RecordingSender) -> None:
    w = ReceiptWorker(journal, [sender], retry_hours=2)
    await first_attempt_fails(journal, w, sender, PeerUnavailable("kannel sendsms unreachable: ClientConnectorError"))
    fail_since(journal, 2 * 3600 + 1)
    make_due(journal)
    assert await w.deliver(journal.due_receipts(10)[0]) == "failed"
    (failed,) = events(journal, "receipt_failed")
    assert "gave up after 2h" in failed["detail"]
    (problem,) = ReceiptPaths(journal, Settings()).problems()
    assert problem.endswith("(0 waiting, 1 failed)")
    assert journal.due_receipts(10) == []
    assert journal.known_tracking_ids(["1234567890", "9999999999"]) == {"1234567890"}
    assert journal.retry_failed_receipts_sync(["9999999999"]) == []
    assert journal.retry_failed_receipts_sync(["1234567890"]) == [("1234567890", "receipt", "sms.kannel")]
    assert journal.retry_failed_receipts_sync(["1234567890"]) == []  # queued once, not twice
    sender.down = None
    (row,) = journal.due_receipts(10)
    assert row["attempts"] == 0 and row["failing_since"] is None
    assert await w.deliver(row) == "sent" and len(sender.sent) == 1
    assert len(events(journal, "retry_receipt")) == 1


def test_retry_hours_is_a_setting() -> None:
    assert Settings().receipts.retry_hours == 24
    assert Settings(receipts={"retry_hours": 1.5}).receipts.retry_hours == 1.5
    with pytest.raises(ValueError):
        Settings(receipts={"retry_hours": 0})


# --- item 3: a reply about a ticket waits for that ticket's receipt -----------------------------------------
async def test_a_reply_about_a_ticket_waits_for_its_pending_receipt(journal: Journal, sender: RecordingSender) -> None:
    w = ReceiptWorker(journal, [sender])
    await queue(journal, 1)  # the receipt of 1234567890
    await queue(journal, 2, kind="reply")  # a CEK answer about it
    await queue(journal, 3, kind="reply", tracking_id="5555555555")  # about another ticket
    await queue(journal, 4, kind="reply", tracking_id=None)  # help: about no ticket
    sender.down = PeerUnavailable("kannel sendsms answered 503")
    due = journal.due_receipts(10)
    assert [r["kind"] for r in due] == ["receipt", "reply", "reply"]
    assert "1234567890" not in [r["tracking_id"] for r in due if r["kind"] == "reply"]
    await w.deliver(due[0])  # failed for now: still pending, so the CEK answer still waits
    make_due(journal)
    assert [r["tracking_id"] for r in journal.due_receipts(10)] == ["1234567890", "5555555555", None]
    sender.down = None
    await w.deliver(journal.due_receipts(10)[0])
    assert "1234567890" in [r["tracking_id"] for r in journal.due_receipts(10) if r["kind"] == "reply"]


# --- the router: CEK stored with its ticket, an empty SMS waits for details ---------------------------------
async def no_central(_tracking_id: str) -> dict[str, Any] | None:
    return None


@pytest.fixture
def router(journal: Journal) -> Router:
    return Router(journal, Normalizer("reporter-key"), Templates("id"), {}, no_central)


async def feed(j: Journal, w: Router, ext: str, text: str, sender: str = PHONE) -> None:
    await j.accept(InboundMessage(channel="sms.kannel", account="1708", external_id=ext, sender=sender, text=text))
    for _ in range(5):
        rows = j.due_inbound(w.cursor, 100)
        if not rows:
            return
        await w.process(rows)


def complaint(j: Journal, tid: str) -> dict[str, Any]:
    row = j.complaint_by_tracking(tid)
    assert row is not None
    return row | {"record": json.loads(row["record"])}


def bodies(j: Journal) -> list[tuple[str, str | None, str]]:
    return [(r["kind"], r["tracking_id"], j.open_json(r["body"])["text"]) for r in receipt_rows(j)]


async def test_a_cek_reply_is_stored_with_the_ticket_it_answers(journal: Journal, router: Router) -> None:
    await feed(journal, router, "m1", TEXT)
    ((_, tid, _),) = bodies(journal)
    await feed(journal, router, "m2", f"CEK {tid}")
    nobodys = new_tracking_id()
    await feed(journal, router, "m3", f"CEK {nobodys}")  # a ticket nobody has: answered, about that ID
    await feed(journal, router, "m4", "bantuan")
    kinds = [(k, t) for k, t, _ in bodies(journal)]
    assert kinds == [("receipt", tid), ("reply", tid), ("reply", nobodys), ("reply", None)]
    assert [r["kind"] for r in journal.receipts_for(tid)] == ["receipt", "reply"]


async def test_an_empty_sms_waits_for_details_and_the_next_sms_completes_it(journal: Journal, router: Router) -> None:
    await feed(journal, router, "m1", "halo")
    ((kind, tid, text),) = bodies(journal)
    assert kind == "receipt" and "kurang jelas" in text and tid in text
    assert complaint(journal, tid)["state"] == "awaiting_details"
    assert journal.due_forwards(10) == []  # not forwarded empty
    (item,) = journal.review_queue()
    assert item["tracking_id"] == tid and json.loads(item["reasons"])[0] == "waiting_for_details"
    (waiting,) = events(journal, "waiting_for_details")
    assert waiting["tracking_id"] == tid and "no_substance" in waiting["detail"]
    assert PHONE not in json.dumps(waiting)
    assert events(journal, "needs_review") == []

    # someone else's message does not complete it
    await feed(journal, router, "m2", TEXT, sender="6281277700099")
    assert complaint(journal, tid)["state"] == "awaiting_details"

    await feed(journal, router, "m3", TEXT)
    done = complaint(journal, tid)
    assert done["state"] == "normalized" and done["record"]["body"] == TEXT
    assert "no_substance" not in done["record"]["needs_review"]
    assert tid in [f[1] for f in journal.due_forwards(10)]
    assert journal.review_queue() == []
    receipts_of_tid = [(k, t) for k, t, x in bodies(journal) if t == tid]
    assert receipts_of_tid == [("receipt", tid), ("receipt", tid)]  # the request, then the real receipt
    assert "kurang jelas" not in bodies(journal)[-1][2] and tid in bodies(journal)[-1][2]
    assert len(events(journal, "details_received")) == 1
    # the citizen's next message after that is a complaint of its own
    await feed(journal, router, "m4", "Lampu jalan di Gg. Mawar mati tiga hari, gelap sekali kalau malam")
    assert len({t for _k, t, _x in bodies(journal)}) == 3


async def test_anonim_alone_then_the_details_stays_anonymous(journal: Journal, router: Router) -> None:
    await feed(journal, router, "m1", "ANONIM")
    ((_, tid, _),) = bodies(journal)
    assert complaint(journal, tid)["state"] == "awaiting_details"
    await feed(journal, router, "m2", TEXT)
    done = complaint(journal, tid)
    assert done["state"] == "normalized" and done["anonymous"] == 1
    assert done["record"]["privacy"]["anonymous"] is True and done["record"]["reporter"] is None


async def test_an_empty_answer_is_asked_again_under_the_same_ticket(journal: Journal, router: Router) -> None:
    await feed(journal, router, "m1", "halo")
    await feed(journal, router, "m2", "p")
    (tid,) = {t for _k, t, _x in bodies(journal)}
    assert [k for k, _t, _x in bodies(journal)] == ["receipt", "reply"] and "kurang jelas" in bodies(journal)[1][2]
    assert complaint(journal, tid)["state"] == "awaiting_details" and len(journal.review_queue()) == 1


async def test_details_after_the_window_are_a_new_complaint(journal: Journal, router: Router) -> None:
    await feed(journal, router, "m1", "halo")
    ((_, tid, _),) = bodies(journal)
    eight_days = time.time() - 8 * 86400
    journal.state_writer.write_sync(lambda c: c.execute("UPDATE complaints SET created_at=?", (eight_days,)))
    await feed(journal, router, "m2", TEXT)
    assert complaint(journal, tid)["state"] == "awaiting_details"  # still kept, visible in review
    assert len({t for _k, t, _x in bodies(journal)}) == 2


async def test_an_operator_decision_meanwhile_wins(journal: Journal, router: Router) -> None:
    """Rejected by an operator between the lookup and the write: the details become a complaint of their own."""
    await feed(journal, router, "m1", "halo")
    ((_, tid, _),) = bodies(journal)
    await journal.accept(InboundMessage(channel="sms.kannel", account="1708", external_id="m2", sender=PHONE,
                                        text=TEXT))
    rows = journal.due_inbound(router.cursor, 100)
    outcomes = [await router.outcome(r, r.msg) for r in rows]
    assert journal.review_decide_sync(tid, approve=False)
    await journal.record_outcomes(outcomes, max(r.id for r in rows))
    assert complaint(journal, tid)["state"] == "rejected"
    journal.state_writer.write_sync(lambda c: c.execute("UPDATE processed SET next_at=0 WHERE state='retry'"))
    await router.process(journal.due_inbound(router.cursor, 100))
    (new,) = {t for _k, t, _x in bodies(journal)} - {tid}
    assert complaint(journal, new)["record"]["body"] == TEXT and complaint(journal, tid)["state"] == "rejected"
