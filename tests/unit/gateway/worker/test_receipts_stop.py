"""A stop while receipts are in flight: they stay claimed (``sending``), as after a crash, never ``failed``.

Delivery stops its loops, then closes its senders' HTTP sessions. A send still in flight then raised
"Session is closed", which the receipt worker took for the receipt's own failure and wrote down for good:
a citizen lost the receipt of an acknowledged complaint to a restart.
"""

from __future__ import annotations

import asyncio

from channels.base import OutboundReceipt
from gateway.store.sqlite.journal import Journal
from gateway.worker.receipts import ReceiptWorker
from tests.unit.gateway.worker.test_receipt_failures import queue, receipt_rows


class SessionSender:
    """A sender whose HTTP call hangs until its session is closed, which fails it as aiohttp's does."""

    family = "sms"

    def __init__(self) -> None:
        self.in_flight = asyncio.Event()
        self.closed = asyncio.Event()
        self.cancelled = 0

    async def send(self, receipt: OutboundReceipt) -> str:
        self.in_flight.set()
        try:
            await self.closed.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        raise RuntimeError("Session is closed")

    async def close(self) -> None:
        self.closed.set()


async def test_a_stop_leaves_a_receipt_in_flight_claimed_not_failed(journal: Journal) -> None:
    sender = SessionSender()
    await queue(journal, 1)
    w = ReceiptWorker(journal, [sender])
    run = asyncio.create_task(w.run())
    await asyncio.wait_for(sender.in_flight.wait(), 10)

    run.cancel()  # what delivery's stop does to its loops, before it closes the senders
    await asyncio.gather(run, return_exceptions=True)
    await sender.close()
    for _ in range(20):  # a send left running would fail now and write its state
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)

    assert sender.cancelled == 1
    (row,) = receipt_rows(journal)
    assert row["state"] == "sending"  # the next start marks it unsure, waits for a report, then sends it again
    assert await journal.mark_unsure_sending() == 1
