"""Rate limits apply to the citizen's answers too: at most ``receipts.citizen_responses_per_complaint_per_hour``
are posted to the store per complaint per hour, counted durably (a restart forgives nothing); the rest is held
for a person, not dropped: its state and reason in show, listed beside the dead letters, logged once."""

from __future__ import annotations

from forwarder.outbox import CentralClient
from forwarder.responses import ResponseForwarder
from gateway.settings import Settings
from gateway.store.sqlite.journal import Journal
from gateway.worker.rate_limits import RateLimits, default_rules
from tests.unit.forwarder import outbox_rig as rig
from tests.unit.sms_feed import sms_router

TEXT = "Trotoar di Jl. Merdeka amblas sepanjang lima meter dekat halte"


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
    async with rig.running(fwd):
        await rig.until("nothing due", lambda: not j.due_responses(50) and not fwd._inflight)


def test_the_setting_exists_with_a_default() -> None:
    assert Settings().receipts.citizen_responses_per_complaint_per_hour > 0


async def test_answers_over_the_cap_are_held_not_posted_and_shown(journal: Journal, up: CentralClient) -> None:
    router = sms_router(journal)
    tid = await rig.sms_complaint(journal, router, TEXT)
    await rig.forward_complaint(journal, up)
    for n in range(4):
        await rig.from_the_reporter(journal, router, f"BALAS {tid} tambahan nomor {n}", 10 + n)

    clock = Clock()
    await drain(journal, up, limits(journal, clock))
    states = [r["state"] for r in journal.responses_for(tid)]
    assert sorted(states) == ["forwarded", "forwarded", "held", "held"]
    held = [r for r in journal.responses_for(tid) if r["state"] == "held"]
    assert all("responses_per_complaint" in r["last_error"] for r in held)
    assert [d["state"] for d in journal.dead_responses() if d["tracking_id"] == tid] == ["held", "held"]
    assert [e["state"] for e in journal.events_matching(tracking_id=tid)].count("response_rate_limited") == 1

    assert len((await rig.store_view(up, tid))["responses"]) == 2

    # durable: a fresh limiter (a restart) still counts the two of this hour
    await rig.from_the_reporter(journal, router, f"BALAS {tid} satu lagi", 20)
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


async def test_a_failed_post_gives_its_slot_back(journal: Journal, up: CentralClient) -> None:
    router = sms_router(journal)
    tid = await rig.sms_complaint(journal, router, TEXT)
    await rig.forward_complaint(journal, up)
    await rig.from_the_reporter(journal, router, f"BALAS {tid} pertama", 10)
    clock = Clock()
    lim = limits(journal, clock, cap=1)
    down = rig.unreachable_store()
    fwd = ResponseForwarder(journal, down, idle_seconds=0.02, limits=lim, max_attempts=1)
    try:
        async with rig.running(fwd):
            await rig.until("dead", lambda: journal.responses_for(tid)[0]["state"] == "dead_letter")
    finally:
        await down.close()
    journal.retry_dead_responses_sync([tid])
    await drain(journal, up, lim)
    assert [r["state"] for r in journal.responses_for(tid)] == ["forwarded"]
