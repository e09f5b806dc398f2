"""The senders of updates get what they need from the worker, and an update that cannot go says why.

The real journal and receipt worker on a temporary directory, the WhatsApp sender against the local
Graph fake (:mod:`tests.fakes.graph_api`).
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

from channels.letters.printer import LettersReceiptPrinter
from channels.message import InboundMessage
from channels.sms.sender import KannelSender
from channels.social.telegram_bot import TelegramReceiptSender, make_bot
from channels.social.whatsapp_graph import GraphApi, WhatsappReceiptSender
from gateway.store.records import InboundOutcome, ReceiptRow
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.delivery import attach_delivery
from gateway.worker.receipts import ReceiptWorker
from tests.fakes import FakeGraph

VAULT_KEY = base64.urlsafe_b64encode(b"d" * 32).decode()
WA_ID, TID = "6281277700001", "4829157367"


def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))


async def test_whatsapp_and_the_printer_are_given_their_lookups(tmp_path: Path) -> None:
    j = journal(tmp_path)
    graph = GraphApi("t", "106540352242922", "http://127.0.0.1:9")
    wa, sms = WhatsappReceiptSender(graph), KannelSender("http://127.0.0.1:9/cgi-bin/sendsms", None, None, "1708")
    printer = LettersReceiptPrinter(tmp_path / "receipts")
    telegram = TelegramReceiptSender(make_bot("123456:fake-token", "http://127.0.0.1:9/bot"))
    attach_delivery([sms, wa, printer, telegram], j, language="en")
    assert wa.sms is sms and printer.language == "en" and wa.last_inbound and printer.identity
    assert telegram.language == "en"
    assert await wa.last_inbound("106540352242922", WA_ID) is None
    at = time.time() - 3600
    await j.accept(InboundMessage(channel="social.whatsapp", account="106540352242922", external_id="wamid.1",
                                  sender=WA_ID, text="halo", received_at=datetime.fromtimestamp(at, UTC)))
    found = await wa.last_inbound("106540352242922", WA_ID)
    assert found is not None and abs(found - at) < 1
    assert await printer.identity(TID) is None  # no such complaint: the letter goes to "Bapak/Ibu Pelapor"
    await graph.close()
    j.close()


async def test_an_undeliverable_whatsapp_update_is_failed_with_its_reason(tmp_path: Path) -> None:
    """Outside the 24-hour window, no template, no SMS: failed at once (no retries), the reason kept for show."""
    j = journal(tmp_path)
    async with FakeGraph() as fake:
        wa = WhatsappReceiptSender(GraphApi(fake.access_token, fake.phone_number_id, fake.base_url))
        attach_delivery([wa], j)
        await j.record_outcomes([InboundOutcome(1, "normalized", receipts=[ReceiptRow(
            dedup_key="update:7:r1", kind="update", channel="social.whatsapp",
            target={"to": WA_ID, "account": fake.phone_number_id,
                    "reply_context": {"to": WA_ID, "update_id": 7, "status": "resolved"}},
            body={"text": f"Tiket {TID}: jawaban rahasia", "public": False}, complaint_id="c1", tracking_id=TID,
        )])])
        (row,) = j.due_receipts(10)
        assert await ReceiptWorker(j, [wa]).deliver(row) == "failed"
        await wa.close()
        assert fake.sent_messages == []
    (shown,) = j.receipts_for(TID)
    assert shown["state"] == "failed" and "undeliverable" in shown["last_error"]
    assert "whatsapp.update_template" in shown["last_error"] and WA_ID not in shown["last_error"]
    assert [e["state"] for e in j.events_after(0) if e["tracking_id"] == TID] == ["update_failed"]
    j.close()
