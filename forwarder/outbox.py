"""The outbox worker: at-least-once delivery of complaints to the central store.

Each complaint is POSTed with ``Idempotency-Key`` (its id) and ``X-Signature``;
failures back off exponentially with full jitter; after ``max_attempts`` the
complaint becomes a dead letter until an operator retries it. The store being
down never blocks intake or receipts: this worker just waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from channels.retry import Backoff, Wakeup
from channels.signing import sha256_signature

log = logging.getLogger(__name__)


class OutboxStore(Protocol):
    """What the forwarder needs from the journal."""

    def due_forwards(self, limit: int) -> list[tuple[str, str, str, int]]: ...  # id, tracking, record json, attempts

    async def mark_forwarded(self, complaint_id: str, answer: dict[str, Any]) -> None: ...

    async def mark_forward_failed(self, complaint_id: str, error: str, next_at: float, dead: bool) -> None: ...


class DeliveryError(Exception):
    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


STATUS_PAUSE = 15.0  # seconds without status calls after one found the store unreachable or hanging
ECHO_WINDOW = 12  # this many characters of what we sent, found in the store's answer, make it an echo


def store_words(answer: str, sent: bytes) -> str:
    """The store's reason for a refusal, for the log and the dead letter (its ``error`` when it answers
    JSON), left out when it quotes what we sent: a careless store's error may repeat a confidential text
    or an anonymous reporter's words, and neither may reach a log."""
    try:
        data = json.loads(answer)
        words = data["error"] if isinstance(data, dict) and isinstance(data.get("error"), str) else answer
    except (ValueError, RecursionError):
        words = answer
    words = " ".join(words.split())[:200]
    try:
        decoded = " ".join(_strings(json.loads(sent)))
    except (ValueError, RecursionError):
        decoded = ""
    haystack = " ".join(f"{sent.decode('utf-8', 'replace')} {decoded}".split()).casefold()
    folded = words.casefold()
    if any(folded[i : i + ECHO_WINDOW] in haystack for i in range(max(len(folded) - ECHO_WINDOW + 1, 0))):
        return "(its words left out: they quote what was sent)"
    return words


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class CentralClient:
    def __init__(self, base_url: str, hmac_key: str, timeout: float = 10.0, api_token: str | None = None) -> None:
        self.url = base_url.rstrip("/") + "/v1/complaints"
        self.key = hmac_key.encode()
        self._read_headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._status_paused_until = 0.0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, connector=aiohttp.TCPConnector(limit=64, force_close=False)
            )
        return self._session

    async def post(self, record_json: str, idempotency_key: str) -> dict[str, Any]:
        body = record_json.encode()
        signature = sha256_signature(self.key, body)
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key, "X-Signature": signature}
        try:
            async with self.session.post(self.url, data=body, headers=headers) as resp:
                if resp.status in (200, 201):
                    return await resp.json()
                detail = store_words(await resp.text(), body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"central store unreachable: {type(exc).__name__}", permanent=False) from exc
        # 422 (record refused) and 409 (conflicting replay) will not get better by retrying
        raise DeliveryError(f"central store answered {resp.status}: {detail}", permanent=resp.status in (409, 422))

    async def post_citizen_response(self, tracking_id: str, body_json: str, idempotency_key: str) -> dict[str, Any]:
        """A citizen's answer on ``tracking_id``, signed as complaints are; 201 or 200 (a replay) is done."""
        body = body_json.encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key,
                   "X-Signature": sha256_signature(self.key, body)}
        url = f"{self.url}/{quote(tracking_id, safe='')}/citizen-responses"
        try:
            async with self.session.post(url, data=body, headers=headers) as resp:
                if resp.status in (200, 201):
                    return await resp.json()
                detail = store_words(await resp.text(), body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"central store unreachable: {type(exc).__name__}", permanent=False) from exc
        # 422 (refused), 409 (key reused with another body) and 413 do not get better by retrying; a 404 may
        # (a store restored from an older backup): retried, then dead
        raise DeliveryError(f"central store answered {resp.status}: {detail}", permanent=resp.status in (409, 413, 422))

    async def status(self, tracking_id: str) -> dict[str, Any] | None:
        """The store's status view for ``CEK``, or None (unknown, refused, unreachable: the local state answers).

        The router asks for one message after another: after a call that found the store unreachable or
        hanging, the next :data:`STATUS_PAUSE` seconds answer None at once, so a burst of CEK or BALAS
        does not hold every receipt behind it for 3 s each."""
        if time.monotonic() < self._status_paused_until:
            return None
        try:
            url = f"{self.url}/{quote(tracking_id, safe='')}/status"
            timeout = aiohttp.ClientTimeout(total=3)
            async with self.session.get(url, headers=self._read_headers, timeout=timeout) as resp:
                if resp.status == 200:
                    return await resp.json()
        except (aiohttp.ClientError, TimeoutError):
            self._status_paused_until = time.monotonic() + STATUS_PAUSE
            return None
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class Outbox:
    """At-least-once delivery of due rows to the store, ``concurrency`` at a time; a subclass says where
    the rows come from (:meth:`due`), how one is posted (:meth:`post`) and how the answer is kept."""

    name = "forwarder"
    default_concurrency = 32
    failure_line = "forward of %s failed (attempt %d): %s"  # tracking id, attempt, reason

    def __init__(
        self,
        store: Any,
        client: CentralClient,
        *,
        concurrency: int | None = None,
        max_attempts: int = 12,
        backoff: Backoff | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.client = client
        self.concurrency = concurrency or self.default_concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.wake = Wakeup(idle_seconds)
        self._inflight: set[str] = set()
        self._ended_while_reading: set[str] = set()
        self.delivered = 0

    def due(self, limit: int) -> list[tuple[str, str, str, int]]:
        """(id, tracking id, body json, attempts) of the rows due now; blocking (run in a thread)."""
        raise NotImplementedError

    async def post(self, row_id: str, tracking_id: str, body: str) -> dict[str, Any]:
        raise NotImplementedError

    async def delivered_as(self, row_id: str, answer: dict[str, Any]) -> None:
        raise NotImplementedError

    async def failed(self, row_id: str, reason: str, next_at: float, dead: bool) -> None:
        raise NotImplementedError

    async def admit(self, row_id: str, tracking_id: str) -> bool:
        """Whether the row may be posted now (a quota); False leaves it to the journal (held or waiting)."""
        return True

    async def run(self) -> None:
        sem = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                # a row whose try ended while due() read is left to the next read: this one may show it as it was
                # before that try (posted twice, its attempts counted from a stale number)
                self._ended_while_reading = set()
                due = await asyncio.to_thread(self.due, self.concurrency * 8)
                ended, self._ended_while_reading = self._ended_while_reading, set()
                fresh = [d for d in due if d[0] not in self._inflight and d[0] not in ended]
                for row_id, tracking_id, body, attempts in fresh:
                    await sem.acquire()
                    self._inflight.add(row_id)
                    t = asyncio.create_task(self._deliver(sem, row_id, tracking_id, body, attempts))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                if not fresh:
                    await self.wake.wait()
        finally:
            # stopped: the posts in flight stop with it (a row not marked is simply due again at the next start),
            # instead of going on with a client that is being closed
            for t in list(tasks):
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(self, sem: asyncio.Semaphore, row_id: str, tracking_id: str, body: str, attempts: int) -> None:
        try:
            if not await self.admit(row_id, tracking_id):
                return
            try:
                answer = await self.post(row_id, tracking_id, body)
            except DeliveryError as exc:
                dead = exc.permanent or attempts + 1 >= self.max_attempts
                next_at = time.time() + self.backoff.delay(attempts)
                log.warning(self.failure_line, tracking_id, attempts + 1, exc.reason)
                await self.failed(row_id, exc.reason, next_at, dead)
            else:
                await self.delivered_as(row_id, answer)
                self.delivered += 1
        except Exception:
            log.exception("%s: unexpected error for %s", self.name, tracking_id)
        finally:
            self._inflight.discard(row_id)
            self._ended_while_reading.add(row_id)
            sem.release()
            self.wake.set()


class Forwarder(Outbox):
    """Complaints: POSTed to the store, the store's answer kept."""

    store: OutboxStore

    def due(self, limit: int) -> list[tuple[str, str, str, int]]:
        return self.store.due_forwards(limit)

    async def post(self, row_id: str, tracking_id: str, body: str) -> dict[str, Any]:
        return await self.client.post(body, row_id)

    async def delivered_as(self, row_id: str, answer: dict[str, Any]) -> None:
        await self.store.mark_forwarded(row_id, answer)

    async def failed(self, row_id: str, reason: str, next_at: float, dead: bool) -> None:
        await self.store.mark_forward_failed(row_id, reason, next_at, dead)
