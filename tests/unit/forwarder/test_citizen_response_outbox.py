"""The second outbox: citizen responses posted to the reference store (in-process, real HTTP), signed, with
their id as Idempotency-Key; they wait for their complaint to be in the store, back off while the store is
down, become dead letters after the attempts, and ``retry-dead`` queues them again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from channels.retry import Backoff
from forwarder.central import build_central_app
from forwarder.outbox import CentralClient
from forwarder.responses import ResponseForwarder
from gateway.store.sqlite.journal import Journal
from tests.peers.ports import free_port
from tests.unit.sms_feed import feed, sms_router

HMAC_KEY, API_TOKEN = "outbox-hmac", "outbox-token"
NUMBER = "6281277700001"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN))
    await server.start_server()
    yield server
    await server.close()


async def until(what: str, check: Callable[[], Any], rounds: int = 400) -> Any:
    for _ in range(rounds):
        if value := check():
            return value
        await asyncio.sleep(0.025)
    raise AssertionError(f"never: {what}")


async def test_waits_for_its_complaint_backs_off_dies_and_is_queued_again(journal: Journal, store: TestServer) -> None:
    router = sms_router(journal)
    await feed(journal, router, "Trotoar di Jl. Merdeka amblas sepanjang lima meter dekat halte", 1, NUMBER)
    tid = journal.reader.one("SELECT tracking_id FROM complaints")[0]
    await feed(journal, router, f"BALAS {tid} amblasnya makin dalam, ada anak jatuh", 2, NUMBER)

    assert journal.due_responses(10) == []  # the store does not have the complaint yet
    up = CentralClient(str(store.make_url("")), HMAC_KEY, api_token=API_TOKEN)
    cid, _tid, record, _att = journal.due_forwards(10)[0]
    await journal.mark_forwarded(cid, await up.post(record, cid))
    [(rid, due_tid, _body, attempts)] = journal.due_responses(10)
    assert due_tid == tid and attempts == 0

    # the store down: tried, backed off, then a dead letter after max_attempts
    down = CentralClient(f"http://127.0.0.1:{free_port()}", HMAC_KEY, timeout=2)
    fwd = ResponseForwarder(journal, down, max_attempts=2, backoff=Backoff(0.01, 0.02), idle_seconds=0.02)
    task = asyncio.create_task(fwd.run())
    try:
        dead = await until("a dead letter", lambda: [r for r in journal.responses_for(tid) if r["state"] == "dead_letter"])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await down.close()
    assert dead[0]["attempts"] == 2 and "unreachable" in dead[0]["last_error"]
    states = [e["state"] for e in journal.events_matching(tracking_id=tid)]
    assert "response_dead_letter" in states
    assert [(d["tracking_id"], d["attempts"]) for d in journal.dead_responses()] == [(tid, 2)]

    # retry-dead queues it again; the store up takes it, once
    assert journal.retry_dead_responses_sync([tid]) == [tid]
    assert journal.retry_dead_responses_sync([tid]) == []
    fwd = ResponseForwarder(journal, up, idle_seconds=0.02)
    task = asyncio.create_task(fwd.run())
    try:
        await until("forwarded", lambda: journal.responses_for(tid)[0]["state"] == "forwarded")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    async with up.session.get(f"{up.url}/{tid}", headers={"Authorization": f"Bearer {API_TOKEN}"}) as resp:
        view = await resp.json()
    assert [(r["by"], r["text"]) for r in view["responses"]] == [("citizen", "amblasnya makin dalam, ada anak jatuh")]

    # a replay of the same key (a crash after the store's 201) is the store's 200, not a second response
    sealed = journal.reader.one("SELECT payload FROM citizen_responses WHERE id=?", (rid,))[0]
    answer = await up.post_citizen_response(tid, json.dumps(journal.open_json(sealed), ensure_ascii=False), rid)
    assert answer["tracking_id"] == tid
    async with up.session.get(f"{up.url}/{tid}", headers={"Authorization": f"Bearer {API_TOKEN}"}) as resp:
        assert len((await resp.json())["responses"]) == 1
    await up.close()
