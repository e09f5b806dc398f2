"""The outbox loop against a store whose reads race its own tries: a read that began before a try ended may
still show that row as due, as it was; the loop must not post it again from that stale copy."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from forwarder.outbox import Outbox


class RacingOutbox(Outbox):
    """Row ``r1`` due once; the second read is held until the first try has ended and then returns the row as
    it was before that try, as a read that started before the try's write committed does."""

    def __init__(self) -> None:
        super().__init__(store=None, client=None, idle_seconds=0.01)  # type: ignore[arg-type]
        self.reads = 0
        self.posts: list[int] = []
        self.marked = threading.Event()

    def due(self, limit: int) -> list[tuple[str, str, str, int]]:
        self.reads += 1
        if self.reads == 1:
            return [("r1", "T1", "{}", 0)]
        if self.reads == 2:
            self.marked.wait(5)  # the read is slow; the first try ends meanwhile
            return [("r1", "T1", "{}", 0)]
        return []

    async def post(self, row_id: str, tracking_id: str, body: str) -> dict[str, Any]:
        self.posts.append(len(self.posts))
        return {"tracking_id": tracking_id}

    async def delivered_as(self, row_id: str, answer: dict[str, Any]) -> None:
        self.marked.set()


async def test_a_row_whose_try_ended_during_a_read_is_not_posted_again_from_that_read() -> None:
    outbox = RacingOutbox()
    task = asyncio.create_task(outbox.run())
    for _ in range(400):
        if outbox.reads >= 4:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert outbox.reads >= 4, "the loop stopped reading"
    assert outbox.posts == [0], "posted again from a read older than its try"
    assert task.cancelled()
