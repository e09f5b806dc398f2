"""The response outbox's test rig: the reference store in process (``store`` and ``up`` in this folder's
conftest), an SMS complaint from ``NUMBER`` forwarded to it, and a worker run for as long as a test needs it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from forwarder.outbox import CentralClient
from gateway.store.sqlite.journal import Journal
from gateway.worker.router import Router
from tests.peers.ports import free_port
from tests.unit.sms_feed import feed

HMAC_KEY, API_TOKEN = "outbox-hmac", "outbox-token"
NUMBER = "6281277700001"
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


class Runs(Protocol):
    async def run(self) -> None: ...


async def until(what: str, check: Callable[[], Any], rounds: int = 400) -> Any:
    for _ in range(rounds):
        if value := check():
            return value
        await asyncio.sleep(0.025)
    raise AssertionError(f"never: {what}")


@contextlib.asynccontextmanager
async def running(worker: Runs) -> AsyncIterator[None]:
    """``worker.run()`` as a task for the block, cancelled after it."""
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def sms_complaint(journal: Journal, router: Router, text: str) -> str:
    """An SMS complaint from the reporter (``NUMBER``), routed: its tracking ID."""
    await from_the_reporter(journal, router, text, 1)
    return journal.reader.one("SELECT tracking_id FROM complaints")[0]


async def from_the_reporter(journal: Journal, router: Router, text: str, n: int) -> None:
    """SMS number ``n`` from the reporter (``NUMBER``), routed: a ``BALAS`` is a citizen response."""
    await feed(journal, router, text, n, NUMBER)


def unreachable_store() -> CentralClient:
    """A client of a store that is not there (a free port, nothing listening)."""
    return CentralClient(f"http://127.0.0.1:{free_port()}", HMAC_KEY, timeout=2)


async def forward_complaint(journal: Journal, up: CentralClient) -> None:
    """The journal's first complaint due, posted to the store and marked forwarded (the first outbox's part)."""
    cid, _tid, record, _att = journal.due_forwards(10)[0]
    await journal.mark_forwarded(cid, await up.post(record, cid))


async def store_view(up: CentralClient, tid: str) -> dict[str, Any]:
    """The store's ``GET /v1/complaints/<tid>``."""
    async with up.session.get(f"{up.url}/{tid}", headers=BEARER) as resp:
        return await resp.json()
