"""The update poller (issue 15, the return path): the reference store on a real socket, the real journal.

Complaints are written into the journal as the router writes them (complaint, sealed identity, receipt),
and the same complaint is stored in the reference store, whose feed the poller reads. Sends go through the
real receipt worker to a stand-in sender that records what it got.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from channels.message import PeerUnavailable
from forwarder.central import serve_central
from gateway.store.records import ComplaintRow, InboundOutcome, ReceiptRow
from gateway.store.sqlite.journal import Journal
from gateway.worker.rate_limits import RateLimits, default_rules
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.templates import Templates
from gateway.worker.update_texts import UpdateTexts
from gateway.worker.updates import UpdateFeed, UpdatePoller
from normalizer.ids import uuid7
from tests.fakes.receipt_sender import RecordingSender
from tests.peers.ports import free_port
from tests.unit.forwarder.central.conftest import API_TOKEN, HMAC_KEY, body_of, make_complaint, post_headers

PHONE = "6281277700042"
ANON_PHONE = "6281299912345"  # the canary: an anonymous reporter's number
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
STATUSES = ["forwarded_to_agency", "in_progress", "resolved", "closed", "archived"]


class Store:
    """The reference store on a real port, which can be stopped and started again on the same file."""

    def __init__(self, tmp: Path) -> None:
        self.db, self.port, self.server = tmp / "central.db", free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> Store:
        self.server = await serve_central(self.db, HMAC_KEY, API_TOKEN, "127.0.0.1", self.port)
        self.http = self.http or aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def complaint(self, n: int) -> str:
        c = make_complaint(n)
        body = body_of(c)
        assert self.http is not None
        async with self.http.post(f"{self.url}/v1/complaints", data=body,
                                  headers=post_headers(body, f"k-{c.tracking_id}")) as resp:
            assert resp.status == 201, await resp.text()
        return c.tracking_id

    async def respond(self, tid: str, text: str, kind: str = "response", status: str | None = None) -> int:
        body: dict[str, Any] = {"kind": kind, "text": text} | ({"status": status} if status else {})
        assert self.http is not None
        async with self.http.post(f"{self.url}/v1/complaints/{tid}/responses", json=body, headers=BEARER) as resp:
            assert resp.status == 201, await resp.text()
            return int((await resp.json())["update_id"])

    async def status(self, tid: str, *statuses: str) -> None:
        assert self.http is not None
        for s in statuses:
            async with self.http.post(f"{self.url}/v1/complaints/{tid}/status", json={"status": s},
                                      headers=BEARER) as resp:
                assert resp.status == 200, await resp.text()

    async def citizen(self, tid: str, text: str) -> None:
        body = json.dumps({"text": text, "received_at": "2026-03-16T04:00:00+00:00", "channel": "sms",
                           "attachments": []}).encode()
        assert self.http is not None
        async with self.http.post(f"{self.url}/v1/complaints/{tid}/citizen-responses", data=body,
                                  headers=post_headers(body, f"c-{text}")) as resp:
            assert resp.status in (200, 201), await resp.text()

    async def close(self) -> None:
        await self.stop()
        if self.http is not None:
            await self.http.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store(tmp_path).start()
    yield s
    await s.close()



def poller(j: Journal, store: Store, **kw: Any) -> UpdatePoller:
    kw.setdefault("statuses", STATUSES)
    return UpdatePoller(j, UpdateFeed(store.url, API_TOKEN, timeout=5), UpdateTexts(Templates("id")), **kw)


async def local_complaint(j: Journal, tid: str, *, to: str = PHONE, anonymous: bool = False, inbound: int = 1,
                          channel: str = "sms.kannel", extra: list[ReceiptRow] = ()) -> str:
    """The complaint and its receipt as the router writes them, its receipt already sent."""
    cid = uuid7()
    row = ComplaintRow(id=cid, tracking_id=tid, inbound_id=inbound, channel=channel, record_json="{}",
                       reporter_ref=None if anonymous else "ref", anonymous=anonymous, confidential=False,
                       vault={"reporter": {"phone": to}}, state="forwarded")
    receipt = ReceiptRow(dedup_key=f"receipt:{cid}", kind="receipt", channel=channel,
                         target={"to": to, "account": "1708", "reply_context": {"mo_id": "m1"}},
                         body={"text": "diterima", "public": False}, complaint_id=cid, tracking_id=tid, state="sent")
    for r in extra:
        r.complaint_id, r.tracking_id = cid, tid
    await j.record_outcomes([InboundOutcome(inbound, "normalized", complaint=row, receipts=[receipt, *extra])])
    return cid


def updates(j: Journal) -> list[dict[str, Any]]:
    rows = j.reader.rows("SELECT * FROM receipts WHERE kind='update' ORDER BY created_at, id")
    return [dict(r) | {"target": j.open_json(r["target"]), "body": j.open_json(r["body"])} for r in rows]


def events(j: Journal, state: str) -> list[dict[str, Any]]:
    return [e for e in j.events_after(0, 10_000) if e["state"] == state]


async def deliver_all(j: Journal, worker: ReceiptWorker) -> list[str]:
    out = []
    while due := await asyncio.to_thread(j.due_receipts, 100):
        out += [await worker.deliver(r) for r in due]
    return out


# --- the feed to the journal ------------------------------------------------------------------------------

async def test_an_answer_becomes_one_update_receipt_and_the_cursor_moves(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    uid = await store.respond(tid, "Lampu sudah diganti petugas kemarin.")
    p = poller(journal, store)
    assert await p.poll_once() is False
    [u] = updates(journal)
    assert u["dedup_key"].startswith(f"update:{uid}:")
    assert u["channel"] == "sms.kannel" and u["tracking_id"] == tid and u["state"] == "pending"
    assert u["target"]["to"] == PHONE and u["target"]["account"] == "1708"
    ctx = u["target"]["reply_context"]
    assert ctx["mo_id"] == "m1"  # the original context, kept
    assert {k: ctx[k] for k in ("update_id", "update_kind", "tracking_id")} == {
        "update_id": uid, "update_kind": "response", "tracking_id": tid}
    assert "Lampu sudah diganti" in u["body"]["text"] and tid in u["body"]["text"]
    assert u["body"]["public"] is False
    assert journal.updates_cursor() == uid
    [e] = events(journal, "update_queued")
    assert e["tracking_id"] == tid and PHONE not in json.dumps(e)

    sender = RecordingSender()
    assert await deliver_all(journal, ReceiptWorker(journal, [sender])) == ["sent"]
    [sent] = sender.sent
    assert sent.kind == "update" and sent.public is False and sent.to == PHONE
    assert sent.reply_context["update_id"] == uid and sent.reply_context["receipt_id"] == u["id"]
    assert [e["tracking_id"] for e in events(journal, "update_sent")] == [tid]


async def test_a_replay_inserts_nothing(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    await store.respond(tid, "Sedang kami tinjau.")
    await poller(journal, store).poll_once()
    # a crash after the rows but with the cursor lost (or a store that sends the page again): nothing twice
    journal.state_writer.write_sync(lambda c: c.execute("DELETE FROM cursors WHERE key='central:updates'"))
    again = poller(journal, store)
    await again.poll_once()
    assert len(updates(journal)) == 1 and again.counts["queued"] == 0
    assert len(events(journal, "update_queued")) == 1


async def test_each_address_of_the_complaint_hears_once(journal, store):
    """A letter answered on paper and by SMS to the number it gave; the SMS asked for details twice (the
    first ask and the details' receipt go to one number): one notice per address."""
    tid = await store.complaint(1)
    extra = [
        ReceiptRow(dedup_key="receipt:x:phone", kind="receipt", channel="sms.letters",
                   target={"to": "081277700042", "account": "", "reply_context": {}}, body={"text": "x"}),
        ReceiptRow(dedup_key="receipt:x:phone:details", kind="receipt", channel="sms.letters",
                   target={"to": "+6281277700042", "account": "", "reply_context": {}}, body={"text": "x"}),
    ]
    await local_complaint(journal, tid, to="", channel="letters.hotfolder", extra=extra)
    await store.respond(tid, "Jawaban.")
    await poller(journal, store).poll_once()
    assert sorted(u["channel"] for u in updates(journal)) == ["letters.hotfolder", "sms.letters"]


async def test_notify_statuses_chooses_the_status_changes_told(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    await store.status(tid, "verifying", "forwarded_to_agency", "in_progress")
    await store.respond(tid, "Mohon kirim foto lokasi.", kind="request_details")  # always told
    p = poller(journal, store, statuses=["in_progress"])
    await p.poll_once()
    told = [(u["body"]["update"]["kind"], u["body"]["update"]["status"]) for u in updates(journal)]
    assert told == [("status", "in_progress"), ("request_details", "needs_details")]
    assert p.counts["skipped_status_not_told"] == 2
    assert journal.updates_cursor() == 4  # the skipped ones are passed too


async def test_the_gateways_own_citizen_responses_are_not_told(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    await store.respond(tid, "Mohon foto.", kind="request_details")
    await store.citizen(tid, "ini fotonya")
    p = poller(journal, store)
    await p.poll_once()
    assert [u["body"]["update"]["kind"] for u in updates(journal)] == ["request_details"]
    assert p.counts["skipped_citizen_response"] == 1


async def test_an_update_for_a_ticket_we_do_not_know_is_skipped_and_counted(journal, store):
    ours, theirs = await store.complaint(1), await store.complaint(2)  # the second came by another gateway
    await local_complaint(journal, ours)
    await store.respond(theirs, "Untuk orang lain.")
    last = await store.respond(ours, "Untuk Anda.")
    p = poller(journal, store)
    await p.poll_once()
    assert [u["tracking_id"] for u in updates(journal)] == [ours]
    assert p.counts["skipped_unknown_ticket"] == 1
    [e] = events(journal, "update_unknown_ticket")
    assert e["tracking_id"] is None and theirs not in json.dumps(e)
    assert journal.updates_cursor() == last


async def test_the_store_down_then_up_each_update_delivered_once(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    await store.respond(tid, "Pertama.")
    await store.stop()
    p = poller(journal, store, poll_seconds=3600)
    with pytest.raises(PeerUnavailable):
        await p.poll_once()
    task = asyncio.create_task(p.run())
    try:
        async def until(check: Any) -> None:
            for _ in range(400):
                if check():
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("not reached")

        await until(lambda: p.failing is not None)  # the loop met the store down and backs off
        await store.start()
        await store.respond(tid, "Kedua.")
        p.wake.set()  # what the store's push does: read now, not after the backoff
        await until(lambda: len(updates(journal)) == 2)
        await until(lambda: p.failing is None)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await p.close()
    sender = RecordingSender()
    await deliver_all(journal, ReceiptWorker(journal, [sender]))
    texts = [s.text for s in sender.sent]
    assert len(texts) == 2 and "Pertama." in texts[0] and "Kedua." in texts[1]


async def test_the_push_wakes_the_poller_before_its_poll_interval(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    p = poller(journal, store, poll_seconds=3600)
    task = asyncio.create_task(p.run())
    try:
        for _ in range(200):
            if p.cursor is not None:
                break
            await asyncio.sleep(0.05)
        await store.respond(tid, "Segera.")
        p.wake.set()
        for _ in range(400):
            if updates(journal):
                break
            await asyncio.sleep(0.05)
        assert len(updates(journal)) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await p.close()


async def test_an_anonymous_reporter_is_reached_through_the_vault_only(journal, store, caplog):
    caplog.set_level("DEBUG")
    tid = await store.complaint(1)
    await local_complaint(journal, tid, to=ANON_PHONE, anonymous=True)
    await store.respond(tid, "Terima kasih atas laporan Anda.")
    await poller(journal, store).poll_once()
    sender = RecordingSender()
    await deliver_all(journal, ReceiptWorker(journal, [sender]))
    assert [s.to for s in sender.sent] == [ANON_PHONE]
    raw = journal.reader.rows("SELECT target, body FROM receipts WHERE kind='update'")
    assert all(ANON_PHONE.encode() not in bytes(r[0]) + bytes(r[1]) for r in raw)  # sealed at rest
    assert ANON_PHONE not in json.dumps(journal.events_after(0, 10_000))
    assert ANON_PHONE not in caplog.text
    async with aiohttp.ClientSession() as http, http.get(f"{store.url}/v1/complaints/{tid}", headers=BEARER) as r:
        assert ANON_PHONE not in await r.text()


async def test_an_update_flood_is_capped_per_citizen_per_hour_and_shown(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    for n in range(14):
        await store.respond(tid, f"Jawaban {n}.")
    await poller(journal, store).poll_once()
    limits = RateLimits(journal, default_rules(10, 6000, None, 10), secret="k")
    sender = RecordingSender()
    states = await deliver_all(journal, ReceiptWorker(journal, [sender], limits=limits))
    assert states.count("sent") == 10 and states.count("rate_limited") == 4
    assert len(sender.sent) == 10
    assert len(events(journal, "update_rate_limited")) == 1  # one line for the flood, not one per message
    shown = journal.updates_for(tid)
    assert [u["state"] for u in shown].count("rate_limited") == 4
    assert all(u["last_error"] == "rate limit updates_per_recipient" for u in shown if u["state"] == "rate_limited")


async def test_a_failed_delivery_report_is_recorded_on_the_update_and_shown(journal, store):
    tid = await store.complaint(1)
    await local_complaint(journal, tid)
    await store.respond(tid, "Jawaban.")
    await poller(journal, store).poll_once()
    await deliver_all(journal, ReceiptWorker(journal, [RecordingSender()]))
    [u] = journal.updates_for(tid)
    assert u["state"] == "sent"
    # Kannel's DLR for the update's receipt id (the id its dlr-url carries), as the router records it
    await journal.record_outcomes([InboundOutcome(99, "recorded", delivery=(u["id"], "failed", "sms"))])
    [u] = journal.updates_for(tid)
    assert u["delivery_status"] == "failed"


def test_updates_have_their_own_cap_not_the_citizens_mail_limit():
    rules = {r.name: r for r in default_rules(10, 6000, 5, 10)}
    assert rules["updates_per_recipient"].applies("email", "update") and rules["updates_per_recipient"].applies(
        "sms", "update")
    assert not rules["email_per_address"].applies("email", "update")
    assert rules["email_per_address"].applies("email", "receipt") and not rules["updates_per_recipient"].applies(
        "sms", "reply")
