"""Nothing accepted waits for ever: a citizen response whose complaint will never reach the store (rejected in
review, or a dead letter) ends in a state an operator sees, listed beside the dead letters, and comes back with
its complaint when ``retry-dead`` queues that again."""

from __future__ import annotations

from gateway.cli.show import citizen_responses
from gateway.store.sqlite.journal import Journal
from tests.unit.sms_feed import feed, sms_router

NUMBER = "6281277700042"


async def complaint_with_response(journal: Journal, state: str | None = None) -> tuple[str, str]:
    """A complaint (moved to ``state`` first when given) and a citizen response on it: (tracking ID, complaint id)."""
    router = sms_router(journal)
    await feed(journal, router, "Lampu jalan di Jl. Kenanga mati sejak seminggu, gelap sekali malam hari", 1, NUMBER)
    cid, tid = journal.reader.one("SELECT id, tracking_id FROM complaints")
    if state is not None:
        journal.state_writer.write_sync(lambda c: c.execute("UPDATE complaints SET state=? WHERE id=?", (state, cid)))
    await feed(journal, router, f"BALAS {tid} sekarang tiang lampunya juga miring", 2, NUMBER)
    [resp] = journal.responses_for(tid)
    assert resp["state"] == "pending"
    return tid, cid


async def test_a_response_on_a_complaint_rejected_in_review_is_settled_rejected(journal: Journal) -> None:
    tid, _cid = await complaint_with_response(journal, "review")
    assert journal.review_decide_sync(tid, approve=False)

    [resp] = journal.responses_for(tid)
    assert resp["state"] == "rejected" and "rejected in review" in resp["last_error"]
    assert journal.due_responses(10) == []
    assert "response_rejected" in [e["state"] for e in journal.events_matching(tracking_id=tid)]
    listed = [d for d in journal.dead_responses() if d["tracking_id"] == tid]
    assert [(d["state"], d["tracking_id"]) for d in listed] == [("rejected", tid)]
    shown = citizen_responses(journal, tid, "Asia/Jakarta")
    assert [e["state"] for e in shown] == ["rejected"] and "rejected" in shown[0]["last_error"]
    # a rejected complaint's response is settled, not a dead letter retry-dead would post to a store without it
    assert journal.retry_dead_responses_sync([tid]) == []


async def test_an_approved_complaints_response_still_goes(journal: Journal) -> None:
    tid, _cid = await complaint_with_response(journal, "review")
    assert journal.review_decide_sync(tid, approve=True)
    assert [r["state"] for r in journal.responses_for(tid)] == ["pending"]


async def test_a_response_follows_its_complaint_into_the_dead_letters_and_back(journal: Journal) -> None:
    tid, cid = await complaint_with_response(journal)
    await journal.mark_forward_failed(cid, "central store answered 422: bad record", 0.0, dead=True)

    [resp] = journal.responses_for(tid)
    assert resp["state"] == "dead_letter" and "complaint" in resp["last_error"]
    assert [d["tracking_id"] for d in journal.dead_responses()] == [tid]
    assert "response_dead_letter" in [e["state"] for e in journal.events_matching(tracking_id=tid)]

    # retry-dead of the ticket queues both: the response waits for its complaint again
    assert journal.retry_dead_forwards_sync([tid]) == [tid]
    assert journal.retry_dead_responses_sync([tid]) == [tid]
    assert [r["state"] for r in journal.responses_for(tid)] == ["pending"]
    assert journal.due_responses(10) == []  # not before the complaint is in the store


async def test_a_failed_forward_that_will_be_retried_leaves_the_response_waiting(journal: Journal) -> None:
    tid, cid = await complaint_with_response(journal)
    await journal.mark_forward_failed(cid, "central store unreachable", 0.0, dead=False)
    assert [r["state"] for r in journal.responses_for(tid)] == ["pending"]


async def test_an_answer_on_a_complaint_already_dead_joins_it_in_the_dead_letters(journal: Journal) -> None:
    router = sms_router(journal)
    await feed(journal, router, "Saluran air di Jl. Melati tersumbat sampah, banjir tiap hujan", 1, NUMBER)
    cid, tid = journal.reader.one("SELECT id, tracking_id FROM complaints")
    await journal.mark_forward_failed(cid, "central store answered 422: bad record", 0.0, dead=True)
    await feed(journal, router, f"BALAS {tid} sudah tiga hari airnya tidak surut", 2, NUMBER)
    assert [(r["state"], r["last_error"]) for r in journal.responses_for(tid)] == [
        ("dead_letter", "its complaint is a dead letter")]
