"""The second outbox: citizen responses posted to the reference store (in-process, real HTTP), signed, with
their id as Idempotency-Key; they wait for their complaint to be in the store, back off while the store is
down, become dead letters after the attempts, and ``retry-dead`` queues them again."""

from __future__ import annotations

import json

from channels.retry import Backoff
from forwarder.outbox import CentralClient
from forwarder.responses import ResponseForwarder
from gateway.store.sqlite.journal import Journal
from tests.unit.forwarder import outbox_rig as rig
from tests.unit.sms_feed import sms_router


async def test_waits_for_its_complaint_backs_off_dies_and_is_queued_again(journal: Journal, up: CentralClient) -> None:
    router = sms_router(journal)
    tid = await rig.sms_complaint(journal, router, "Trotoar di Jl. Merdeka amblas sepanjang lima meter dekat halte")
    await rig.from_the_reporter(journal, router, f"BALAS {tid} amblasnya makin dalam, ada anak jatuh", 2)

    assert journal.due_responses(10) == []  # the store does not have the complaint yet
    await rig.forward_complaint(journal, up)
    [(rid, due_tid, _body, attempts)] = journal.due_responses(10)
    assert due_tid == tid and attempts == 0

    # the store down: tried, backed off, then a dead letter after max_attempts
    down = rig.unreachable_store()
    fwd = ResponseForwarder(journal, down, max_attempts=2, backoff=Backoff(0.01, 0.02), idle_seconds=0.02)
    try:
        async with rig.running(fwd):
            dead = await rig.until("a dead letter",
                                   lambda: [r for r in journal.responses_for(tid) if r["state"] == "dead_letter"])
    finally:
        await down.close()
    assert dead[0]["attempts"] == 2 and "unreachable" in dead[0]["last_error"]
    states = [e["state"] for e in journal.events_matching(tracking_id=tid)]
    assert "response_dead_letter" in states
    assert [(d["tracking_id"], d["attempts"]) for d in journal.dead_responses()] == [(tid, 2)]

    # retry-dead queues it again; the store up takes it, once
    assert journal.retry_dead_responses_sync([tid]) == [tid]
    assert journal.retry_dead_responses_sync([tid]) == []
    fwd = ResponseForwarder(journal, up, idle_seconds=0.02)
    async with rig.running(fwd):
        await rig.until("forwarded", lambda: journal.responses_for(tid)[0]["state"] == "forwarded")
    view = await rig.store_view(up, tid)
    assert [(r["by"], r["text"]) for r in view["responses"]] == [("citizen", "amblasnya makin dalam, ada anak jatuh")]

    # a replay of the same key (a crash after the store's 201) is the store's 200, not a second response
    sealed = journal.reader.one("SELECT payload FROM citizen_responses WHERE id=?", (rid,))[0]
    answer = await up.post_citizen_response(tid, json.dumps(journal.open_json(sealed), ensure_ascii=False), rid)
    assert answer["tracking_id"] == tid
    assert len((await rig.store_view(up, tid))["responses"]) == 1
