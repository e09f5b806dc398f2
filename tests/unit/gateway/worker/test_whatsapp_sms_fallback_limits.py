"""WhatsApp's SMS fallback (an update outside the 24-hour window, no template) counts as an SMS to that number:
the SMS quotas (per minute overall, updates per recipient per hour) see it, durably, as they see the SMS sender's
own sends. The real journal and receipt worker; the WhatsApp sender against the local Graph fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from channels.message import PeerUnavailable
from channels.social.whatsapp_graph import GraphApi, WhatsappReceiptSender
from gateway.store.records import InboundOutcome, ReceiptRow
from gateway.store.sqlite.journal import Journal
from gateway.worker.delivery import attach_delivery
from gateway.worker.rate_limits import RateLimits, Rule, default_rules
from gateway.worker.receipts import ReceiptWorker
from tests.fakes import FakeGraph
from tests.fakes.receipt_sender import RecordingSender

WA_ID, TID = "6281277700001", "4829157367"


def sms_update(n: int) -> ReceiptRow:
    return ReceiptRow(dedup_key=f"update:{n}:sms", kind="update", channel="sms.kannel",
                      target={"to": "0" + WA_ID[2:], "account": "1708", "reply_context": {"update_id": n}},
                      body={"text": f"Tiket {TID}: jawaban {n}", "public": False}, complaint_id="c1", tracking_id=TID)


def wa_update(n: int, account: str) -> ReceiptRow:
    return ReceiptRow(dedup_key=f"update:{n}:wa", kind="update", channel="social.whatsapp",
                      target={"to": WA_ID, "account": account,
                              "reply_context": {"to": WA_ID, "update_id": n, "status": "resolved"}},
                      body={"text": f"Tiket {TID}: jawaban {n}", "public": False}, complaint_id="c2", tracking_id=TID)


@asynccontextmanager
async def whatsapp_and(sms: RecordingSender, j: Journal, rules: list[Rule]
                       ) -> AsyncIterator[tuple[FakeGraph, ReceiptWorker, RateLimits]]:
    """The WhatsApp sender on the local Graph fake beside ``sms``, delivered by one receipt worker under ``rules``
    (the fallback wired as the gateway wires it): the fake, the worker and the limits."""
    async with FakeGraph() as fake:
        wa = WhatsappReceiptSender(GraphApi(fake.access_token, fake.phone_number_id, fake.base_url))
        limits = RateLimits(j, rules, secret="k")
        attach_delivery([sms, wa], j, limits=limits)
        try:
            yield fake, ReceiptWorker(j, [sms, wa], limits=limits), limits
        finally:
            await wa.close()


async def deliver(j: Journal, worker: ReceiptWorker, row: ReceiptRow, inbound: int) -> str:
    await j.record_outcomes([InboundOutcome(inbound, "normalized", receipts=[row])])
    (due,) = [r for r in j.due_receipts(10) if r["channel"] == row.channel]
    return await worker.deliver(due)


async def test_the_fallback_counts_toward_the_numbers_update_cap(journal: Journal) -> None:
    j, sms = journal, RecordingSender(prefix="s")
    async with whatsapp_and(sms, j, default_rules(10, 100, updates_per_recipient_per_hour=2)) as (fake, worker, _):
        assert await deliver(j, worker, sms_update(1), 1) == "sent"
        assert await deliver(j, worker, wa_update(2, fake.phone_number_id), 2) == "sent"  # by SMS: the second
        assert await deliver(j, worker, sms_update(3), 3) == "rate_limited"  # the number had its two
        assert len(sms.sent) == 2 and fake.sent_messages == []

        # and the other way: the number's SMS cap reached, the fallback is not sent either (failed, shown)
        assert await deliver(j, worker, wa_update(4, fake.phone_number_id), 4) == "failed"
    assert len(sms.sent) == 2
    (shown,) = [r for r in j.receipts_for(TID) if r["channel"] == "social.whatsapp" and r["state"] == "failed"]
    assert "rate limit updates_per_recipient" in shown["last_error"] and WA_ID not in shown["last_error"]


async def test_the_fallback_counts_toward_sms_per_minute(journal: Journal) -> None:
    j, sms = journal, RecordingSender(prefix="s")
    async with whatsapp_and(sms, j, default_rules(10, 1)) as (fake, worker, _):  # one SMS a minute
        assert await deliver(j, worker, wa_update(1, fake.phone_number_id), 1) == "sent"
        assert await deliver(j, worker, sms_update(2), 2) == "pending"  # deferred: the minute's SMS went
        assert await deliver(j, worker, wa_update(3, fake.phone_number_id), 3) == "pending"  # waits, not lost
    assert len(sms.sent) == 1


async def test_the_fallback_down_is_said_as_the_sms_paths_fault_and_waits(journal: Journal) -> None:
    j, sms = journal, RecordingSender(prefix="s")
    sms.down = PeerUnavailable("Kannel sendsms unreachable (ClientConnectorError)")
    async with whatsapp_and(sms, j, default_rules(10, 100, updates_per_recipient_per_hour=1)) as (fake, worker, limits):
        assert await deliver(j, worker, wa_update(1, fake.phone_number_id), 1) == "pending"  # tried again later
    (row,) = [r for r in j.receipts_for(TID) if r["channel"] == "social.whatsapp"]
    assert row["state"] == "pending" and "the SMS fallback: Kannel sendsms unreachable" in row["last_error"]
    assert fake.sent_messages == []
    # not sent, so not counted: the number's one update an hour is still there for the retry
    claim = await limits.count("sms", "update", "0" + WA_ID[2:], "social.whatsapp", TID)
    assert claim.outcome == "send"
