"""Rate limits apply to the citizen's answers too: at most ``receipts.citizen_responses_per_complaint_per_hour``
are posted to the store per complaint per hour, counted durably (a restart forgives nothing); the rest is held
for a person, not dropped: its state and reason in show, listed beside the dead letters, logged once."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from aiohttp.test_utils import TestServer

from forwarder.outbox import CentralClient
from forwarder.responses import ResponseForwarder
from gateway.settings import Settings
from gateway.store.sqlite.journal import Journal
from gateway.worker.rate_limits import RateLimits, default_rules
from tests.unit.forwarder.test_citizen_response_outbox import (  # noqa: F401 (fixtures)
    API_TOKEN,
    HMAC_KEY,
    NUMBER,
    store,
    until,
)
from tests.unit.sms_feed import feed, sms_router


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def limits(j: Journal, clock: Clock, cap: int = 2) -> RateLimits:
    rules = default_rules(10, 100, responses_per_complaint_per_hour=cap)
    return RateLimits(j, rules, secret="rate-secret", clock=clock)


async def drain(j: Journal, client: CentralClient, lim: RateLimits) -> None:
    """Runs the response outbox until no response is due."""
    fwd = ResponseForwarder(j, client, idle_seconds=0.02, limits=lim)
    task = asyncio.create_task(fwd.run())
    try:
        await until("nothing due", lambda: not j.due_responses(50) and not fwd._inflight)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_the_setting_exists_with_a_default() -> None:
    assert Settings().receipts.citizen_responses_per_complaint_per_hour > 0


async def test_answers_over_the_cap_are_held_not_posted_and_shown(journal: Journal, store: TestServer,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    router = sms_router(journal)
    await feed(journal, router, "Trotoar di Jl. Merdeka amblas sepanjang lima meter dekat halte", 1, NUMBER)
    tid = journal.reader.one("SELECT tracking_id FROM complaints")[0]
    up = CentralClient(str(store.make_url("")), HMAC_KEY, api_token=API_TOKEN)
    cid, _tid, record, _att = journal.due_forwards(10)[0]
    await journal.mark_forwarded(cid, await up.post(record, cid))
    for n in range(4):
        await feed(journal, router, f"BALAS {tid} tambahan nomor {n}", 10 + n, NUMBER)

    clock = Clock()
    await drain(journal, up, limits(journal, clock))
    states = [r["state"] for r in journal.responses_for(tid)]
    assert sorted(states) == ["forwarded", "forwarded", "held", "held"]
    held = [r for r in journal.responses_for(tid) if r["state"] == "held"]
    assert all("responses_per_complaint" in r["last_error"] for r in held)
    assert [d["state"] for d in journal.dead_responses() if d["tracking_id"] == tid] == ["held", "held"]
    assert [e["state"] for e in journal.events_matching(tracking_id=tid)].count("response_rate_limited") == 1

    async with up.session.get(f"{up.url}/{tid}", headers={"Authorization": f"Bearer {API_TOKEN}"}) as resp:
        assert len((await resp.json())["responses"]) == 2

    # durable: a fresh limiter (a restart) still counts the two of this hour
    await feed(journal, router, f"BALAS {tid} satu lagi", 20, NUMBER)
    await drain(journal, up, limits(journal, clock))
    assert sorted(r["state"] for r in journal.responses_for(tid)).count("held") == 3

    # retry-dead queues the held ones: still held within the hour, posted (up to the cap) after it
    assert sorted(journal.retry_dead_responses_sync([tid])) == [tid] * 3
    await drain(journal, up, limits(journal, clock))
    assert sorted(r["state"] for r in journal.responses_for(tid)).count("held") == 3
    clock.now += 3601
    journal.retry_dead_responses_sync([tid])
    await drain(journal, up, limits(journal, clock))
    assert sorted(r["state"] for r in journal.responses_for(tid)) == ["forwarded"] * 4 + ["held"]
    await up.close()


async def test_a_failed_post_gives_its_slot_back(journal: Journal, store: TestServer) -> None:  # noqa: F811
    from tests.peers.ports import free_port

    router = sms_router(journal)
    await feed(journal, router, "Trotoar di Jl. Merdeka amblas sepanjang lima meter dekat halte", 1, NUMBER)
    tid = journal.reader.one("SELECT tracking_id FROM complaints")[0]
    up = CentralClient(str(store.make_url("")), HMAC_KEY, api_token=API_TOKEN)
    cid, _tid, record, _att = journal.due_forwards(10)[0]
    await journal.mark_forwarded(cid, await up.post(record, cid))
    await feed(journal, router, f"BALAS {tid} pertama", 10, NUMBER)
    clock = Clock()
    lim = limits(journal, clock, cap=1)
    down = CentralClient(f"http://127.0.0.1:{free_port()}", HMAC_KEY, timeout=2)
    fwd = ResponseForwarder(journal, down, idle_seconds=0.02, limits=lim, max_attempts=1)
    task = asyncio.create_task(fwd.run())
    try:
        await until("dead", lambda: journal.responses_for(tid)[0]["state"] == "dead_letter")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await down.close()
    journal.retry_dead_responses_sync([tid])
    await drain(journal, up, lim)
    assert [r["state"] for r in journal.responses_for(tid)] == ["forwarded"]
    await up.close()
