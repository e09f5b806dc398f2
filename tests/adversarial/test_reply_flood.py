"""A flood of commands from one number: the answers stop at the durable limit, complaints keep their receipts.

Issue 11, item 8: 200 ``CEK``s from one number in a fraction of a second sent 200 SMS.
Here the flood goes through the real normalising worker (CEK with good, unknown
and malformed IDs, help words, mixed spellings of the number) and the real
receipt loop; only the SMS sender and the central store are fakes.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

from channels.message import InboundMessage
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.rate_limits import RateLimits, default_rules
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer
from normalizer.tracking import new_tracking_id
from tests.fakes.receipt_sender import RecordingSender

VAULT_KEY = base64.urlsafe_b64encode(b"f" * 32).decode()
SECRET = "flood-test-secret"
NUMBER = "6285755501234"
SPELLINGS = [NUMBER, "+" + NUMBER, "0" + NUMBER[2:]]
REPLIES_PER_HOUR = 10


async def no_central(_tracking_id: str) -> dict[str, Any] | None:
    return None


def flood_texts(n: int) -> list[str]:
    kinds = [lambda: f"CEK {new_tracking_id()}", lambda: f"cek  {new_tracking_id()} ", lambda: "CEK 12x4",
             lambda: "Cek", lambda: "BANTUAN", lambda: "/start", lambda: "ｃｅｋ 0000000000"]
    return [kinds[i % len(kinds)]() for i in range(n)]


def sms(i: int, text: str) -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id=f"flood-{i}",
                          sender=SPELLINGS[i % len(SPELLINGS)], text=text)


class Gateway:
    """The worker side of one gateway on ``tmp_path``: start it again to simulate a restart."""

    def __init__(self, tmp_path: Path) -> None:
        self.journal = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
        self.sender = RecordingSender(prefix="k")
        self.intake = Router(self.journal, Normalizer("reporter-key"), Templates("id"), {}, no_central)
        limits = RateLimits(self.journal, default_rules(REPLIES_PER_HOUR, 1000), secret=SECRET)
        self.receipts = ReceiptWorker(self.journal, [self.sender], limits=limits, idle_seconds=0.05)

    async def take(self, msgs: list[InboundMessage]) -> None:
        await self.journal.accept_many(msgs)
        self.intake.cursor = self.journal.worker_cursor()
        while rows := self.journal.due_inbound(self.intake.cursor, 500):
            await self.intake.process(rows)

    async def send_everything(self, deadline_s: float = 60.0) -> None:
        """Run the real receipt loop until nothing is pending or being sent."""
        task = asyncio.create_task(self.receipts.run())
        try:
            end = time.monotonic() + deadline_s
            while self.journal.counts()["receipts"].keys() & {"pending", "sending"}:
                assert time.monotonic() < end, self.journal.counts()
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def events(self, state: str) -> list[dict[str, Any]]:
        return [e for e in self.journal.events_after(0, 10_000) if e["state"] == state]


async def test_two_hundred_commands_from_one_number_send_at_most_the_limit(tmp_path: Path) -> None:
    gw = Gateway(tmp_path)
    await gw.take([sms(i, t) for i, t in enumerate(flood_texts(200))])
    assert gw.journal.counts()["receipts"] == {"pending": 200}
    await gw.send_everything()
    assert len(gw.sender.sent) == REPLIES_PER_HOUR
    assert gw.journal.counts()["receipts"] == {"sent": REPLIES_PER_HOUR, "rate_limited": 200 - REPLIES_PER_HOUR}
    (event,) = gw.events("reply_rate_limited")
    assert NUMBER[2:] not in str(event)

    # the same number then files a real complaint: acknowledged, so its receipt goes out
    await gw.take([sms(1000, "Lampu jalan di Jl. Mawar mati sejak seminggu, mohon diperbaiki.")])
    await gw.send_everything()
    assert len(gw.sender.sent) == REPLIES_PER_HOUR + 1
    assert gw.sender.sent[-1].reply_context["tracking_id"]
    gw.journal.close()


async def test_a_restart_does_not_forgive_the_flood(tmp_path: Path) -> None:
    first = Gateway(tmp_path)
    await first.take([sms(i, t) for i, t in enumerate(flood_texts(6))])
    await first.send_everything()
    assert len(first.sender.sent) == 6
    first.journal.close()

    again = Gateway(tmp_path)  # a new process on the same files
    await again.take([sms(100 + i, t) for i, t in enumerate(flood_texts(30))])
    await again.send_everything()
    assert len(again.sender.sent) == REPLIES_PER_HOUR - 6
    assert len(again.events("reply_rate_limited")) == 1
    again.journal.close()
