"""An update mail that bounces, or is answered by an out-of-office (issue 15, "delivery failures are shown").

The real chain short of the processes: a citizen's mail routed by the real router into the real journal,
its receipt and the agency's answer sent by the real email sender to a real SMTP socket (the sink), the
answer recorded in the reference store on a real port; the bounce is a DSN built from the update mail the
sink captured (its own headers returned, as mail servers do), read by the real mail completer.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from channels.email.complete import MailCompleter, raw_message
from channels.email.send import EmailReceiptSender
from channels.message import InboundMessage
from forwarder.central import serve_central
from gateway.cli.show import gather
from gateway.store.blobs import BlobStore
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from gateway.worker.update_texts import UpdateTexts
from gateway.worker.updates import UpdateFeed, UpdatePoller
from normalizer.pipeline import Normalizer
from tests.peers.dsn import dsn_for as peer_dsn
from tests.peers.ports import free_port
from tests.peers.smtp_sink import Captured, SmtpSink
from tests.unit.forwarder.central.conftest import API_TOKEN, HMAC_KEY, body_of, make_complaint, post_headers

VAULT_KEY = base64.urlsafe_b64encode(b"b" * 32).decode()
OURS = "pengaduan@pemkot-contoh.go.id"
CITIZEN = "warga.bounce@contoh.id"
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
FIRST_MAIL = "Jalan di depan SD Negeri 3 Tembalang berlubang besar sejak bulan lalu, sudah dua motor jatuh."


class Rig:
    def __init__(self, tmp: Path, sink: SmtpSink, http: aiohttp.ClientSession, store_url: str) -> None:
        self.journal = Journal(tmp / "gateway.db", Sealer(VAULT_KEY))
        self.blobs = BlobStore(tmp / "blobs")
        self.router = Router(self.journal, Normalizer("reporter-key"), Templates("id"), {}, self._status)
        self.sender = EmailReceiptSender("127.0.0.1", sink.port, OURS)
        self.worker = ReceiptWorker(self.journal, [self.sender])
        self.poller = UpdatePoller(self.journal, UpdateFeed(store_url, API_TOKEN, timeout=5),
                                   UpdateTexts(Templates("id")), statuses=["in_progress", "resolved"])
        self.sink, self.http, self.store_url = sink, http, store_url

    async def _status(self, tracking_id: str) -> dict[str, Any] | None:
        return None

    async def mail(self, raw: bytes, envelope: str | None) -> int:
        msg = raw_message("email.smtp", OURS, raw, self.blobs, envelope, null_sender=envelope is None)
        filled: InboundMessage = MailCompleter(self.blobs).fill(msg, raw)
        result = await self.journal.accept(filled)
        await self.router.process(self.journal.due_inbound(self.router.cursor, 100))
        return int(result.message_id)

    async def deliver_all(self) -> None:
        while due := await asyncio.to_thread(self.journal.due_receipts, 100):
            for r in due:
                await self.worker.deliver(r)

    async def answer(self, tid: str, text: str) -> None:
        async with self.http.post(f"{self.store_url}/v1/complaints/{tid}/responses",
                                  json={"kind": "response", "text": text}, headers=BEARER) as resp:
            assert resp.status == 201, await resp.text()
        await self.poller.poll_once()
        await self.deliver_all()

    async def complaint_answered(self) -> tuple[str, Captured, Captured]:
        """A citizen's mail, our receipt, and one answer from the agency: (tracking ID, receipt, update mail)."""
        inbound = await self.mail(plain(f"From: Warga <{CITIZEN}>", f"To: {OURS}", "Subject: Jalan berlubang",
                                        "Message-ID: <asli-1@contoh.id>", body=FIRST_MAIL), CITIZEN)
        tid = self.journal.tracking_for_inbound([inbound])[inbound]
        body = body_of(make_complaint(1, channel="email", tracking_id=tid))
        async with self.http.post(f"{self.store_url}/v1/complaints", data=body,
                                  headers=post_headers(body, f"k-{tid}")) as resp:
            assert resp.status == 201, await resp.text()
        await self.deliver_all()
        await self.answer(tid, "Lubang akan ditambal minggu ini.")
        receipt, update = await self.sink.wait_for(2)
        assert "[LAPOR" in str(update.message["Subject"]) and update.message["In-Reply-To"] == "<asli-1@contoh.id>"
        return tid, receipt, update

    def receipts(self, tid: str) -> dict[str, dict[str, Any]]:
        rows = self.journal.reader.rows("SELECT kind, provider_id, delivery_status FROM receipts WHERE tracking_id=?",
                                        (tid,))
        return {r["provider_id"]: dict(r) for r in rows}

    def complaint_count(self) -> int:
        return int(self.journal.reader.one("SELECT count(*) FROM complaints")[0])


def plain(*headers: str, body: str) -> bytes:
    return ("\r\n".join([*headers, "Content-Type: text/plain; charset=utf-8"]) + "\r\n\r\n" + body).encode()


def dsn_for(sent: Captured, *, returned: str = "headers") -> bytes:
    return peer_dsn(sent.raw, OURS, CITIZEN, returned=returned)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    db, port = tmp_path / "central.db", free_port()
    server = await serve_central(db, HMAC_KEY, API_TOKEN, "127.0.0.1", port)
    async with SmtpSink() as sink, aiohttp.ClientSession() as http:
        r = Rig(tmp_path, sink, http, f"http://127.0.0.1:{port}")
        yield r
        await r.poller.close()
        r.journal.close()
    await server.close()


@pytest.mark.parametrize("returned", ["headers", "whole"])
async def test_a_bounced_update_mail_marks_that_update_not_the_first_receipt(rig: Rig, returned: str) -> None:
    tid, receipt, update = await rig.complaint_answered()
    before = rig.complaint_count()
    await rig.mail(dsn_for(update, returned=returned), None)
    rows = rig.receipts(tid)
    assert rows[str(update.message["Message-ID"])] == {"kind": "update", "provider_id": update.message["Message-ID"],
                                                        "delivery_status": "bounce"}
    assert rows[str(receipt.message["Message-ID"])]["delivery_status"] is None  # the receipt reached them
    assert rig.complaint_count() == before
    [shown] = rig.journal.updates_for(tid)
    assert shown["delivery_status"] == "bounce"


async def test_a_second_update_bouncing_marks_only_the_second(rig: Rig) -> None:
    tid, _receipt, first = await rig.complaint_answered()
    await rig.answer(tid, "Penambalan sudah dijadwalkan hari Kamis.")
    second = (await rig.sink.wait_for(3))[2]
    assert second.message["Message-ID"] != first.message["Message-ID"]
    await rig.mail(dsn_for(second), None)
    statuses = [u["delivery_status"] for u in rig.journal.updates_for(tid)]
    assert statuses == [None, "bounce"]


async def test_a_bounce_of_the_receipt_still_marks_the_receipt(rig: Rig) -> None:
    tid, receipt, _update = await rig.complaint_answered()
    await rig.mail(dsn_for(receipt), None)
    rows = rig.receipts(tid)
    assert rows[str(receipt.message["Message-ID"])]["delivery_status"] == "bounce"
    assert [u["delivery_status"] for u in rig.journal.updates_for(tid)] == [None]


async def test_show_puts_the_bounce_on_the_update_in_the_conversation(rig: Rig) -> None:
    tid, _receipt, update = await rig.complaint_answered()
    await rig.mail(dsn_for(update), None)
    out = gather(rig.journal, rig.journal.complaint_by_tracking(tid), "Asia/Jakarta")  # what show prints
    [entry] = [e for e in out["conversation"] if e["what"] == "update"]
    assert entry["delivery_status"] == "bounce"
    assert [r.get("delivery_status") for r in out["receipts"]] == [None]


OUT_OF_OFFICE = "Saya sedang cuti sampai 20 Maret. Untuk hal mendesak hubungi kantor."


@pytest.mark.parametrize(("subject", "threaded"), [
    ("Out of Office: Re: [LAPOR {tid}] Jalan berlubang", True),
    ("Balasan otomatis: Re: [LAPOR {tid}] Jalan berlubang", True),
    ("Automatic reply: Re: [LAPOR {tid}] Jalan berlubang", False),  # no In-Reply-To, no Auto-Submitted
], ids=["out-of-office", "balasan-otomatis", "subject-only"])
async def test_an_out_of_office_to_an_update_is_neither_a_response_nor_a_complaint(rig: Rig, subject: str,
                                                                                   threaded: bool) -> None:
    tid, _receipt, update = await rig.complaint_answered()
    before = rig.complaint_count()
    headers = [f"From: Warga <{CITIZEN}>", f"To: {OURS}", f"Subject: {subject.format(tid=tid)}",
               "Message-ID: <ooo-1@contoh.id>"]
    if threaded:
        headers += ["Auto-Submitted: auto-replied", f"In-Reply-To: {update.message['Message-ID']}",
                    f"References: <asli-1@contoh.id> {update.message['Message-ID']}"]
    inbound = await rig.mail(plain(*headers, body=OUT_OF_OFFICE), CITIZEN)
    assert rig.complaint_count() == before
    assert rig.journal.reader.one("SELECT count(*) FROM citizen_responses")[0] == 0
    state = rig.journal.reader.one("SELECT state FROM processed WHERE inbound_id=?", (inbound,))[0]
    assert state == "recorded"
    # nothing sent back to an auto-responder: the receipt and the update only
    await rig.deliver_all()
    assert len(rig.sink.messages) == 2
    assert rig.journal.reader.one("SELECT count(*) FROM receipts")[0] == 2
    if threaded:  # the update reached a mailbox (its auto-responder answered it): not failed
        assert [u["delivery_status"] for u in rig.journal.updates_for(tid)] == ["auto_reply"]
    assert "bounce" not in [u["delivery_status"] for u in rig.journal.updates_for(tid)]
