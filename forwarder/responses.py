"""The second outbox: citizen responses, posted to the store at least once.

Each response is POSTed to ``/v1/complaints/{tracking_id}/citizen-responses`` with its id as
``Idempotency-Key`` and ``X-Signature``, once its complaint is in the store (the store's 201 for the
complaint came first: the journal only hands out such responses). Failures back off with full jitter;
after ``max_attempts`` (or a refusal) the response is a dead letter until ``retry-dead``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from channels.retry import Backoff, Wakeup
from forwarder.outbox import CentralClient, DeliveryError

log = logging.getLogger(__name__)


class ResponseOutbox(Protocol):
    """What the response forwarder needs from the journal."""

    def due_responses(self, limit: int) -> list[tuple[str, str, str, int]]: ...  # id, tracking, body json, attempts

    async def mark_response_forwarded(self, response_id: str, answer: dict[str, Any]) -> None: ...

    async def mark_response_failed(self, response_id: str, error: str, next_at: float, dead: bool) -> None: ...


class ResponseForwarder:
    name = "citizen responses"

    def __init__(
        self,
        store: ResponseOutbox,
        client: CentralClient,
        *,
        concurrency: int = 8,
        max_attempts: int = 12,
        backoff: Backoff | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.client = client
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.wake = Wakeup(idle_seconds)
        self._inflight: set[str] = set()
        self.delivered = 0

    async def run(self) -> None:
        sem = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        while True:
            due = await asyncio.to_thread(self.store.due_responses, self.concurrency * 8)
            fresh = [d for d in due if d[0] not in self._inflight]
            for rid, tracking_id, body, attempts in fresh:
                await sem.acquire()
                self._inflight.add(rid)
                t = asyncio.create_task(self._deliver(sem, rid, tracking_id, body, attempts))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            if not fresh:
                await self.wake.wait()

    async def _deliver(self, sem: asyncio.Semaphore, rid: str, tracking_id: str, body: str, attempts: int) -> None:
        try:
            try:
                answer = await self.client.post_citizen_response(tracking_id, body, rid)
            except DeliveryError as exc:
                dead = exc.permanent or attempts + 1 >= self.max_attempts
                log.warning("citizen response on %s failed (attempt %d): %s", tracking_id, attempts + 1, exc.reason)
                await self.store.mark_response_failed(rid, exc.reason, time.time() + self.backoff.delay(attempts), dead)
            else:
                await self.store.mark_response_forwarded(rid, answer)
                self.delivered += 1
        except Exception:
            log.exception("response forwarder: unexpected error for %s", tracking_id)
        finally:
            self._inflight.discard(rid)
            sem.release()
            self.wake.set()
