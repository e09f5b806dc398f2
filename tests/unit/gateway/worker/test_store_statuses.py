"""The poller keeps the store's latest status of each complaint it reads an update of, whether or not the
citizen is told (a status outside ``notify.statuses``, a complaint with no address to tell): the monthly
report's "resolved" reads that, not the notices."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.store.records import ComplaintRow, InboundOutcome
from gateway.store.sqlite.journal import Journal
from normalizer.ids import uuid7
from tests.unit.gateway.worker.test_updates import local_complaint, poller, store

__all__ = ["store"]


async def test_every_status_read_is_kept_told_or_not(journal: Journal, store) -> None:
    told = await store.complaint(1)
    await local_complaint(journal, told)
    silent = await store.complaint(2)  # no receipt went anywhere: nobody to tell
    await journal.record_outcomes([InboundOutcome(2, "normalized", complaint=ComplaintRow(
        id=uuid7(), tracking_id=silent, inbound_id=2, channel="letters.scan", record_json="{}", reporter_ref=None,
        anonymous=False, confidential=False, vault={}, state="forwarded"))])
    unknown = await store.complaint(3)  # not ours: nothing kept
    await store.status(told, "verifying", "forwarded_to_agency", "resolved")
    await store.status(silent, "verifying", "forwarded_to_agency", "in_progress", "resolved")
    await store.status(unknown, "verifying")

    p = poller(journal, store, statuses=["in_progress"])  # resolved is not told to anybody
    await p.poll_once()

    seen = journal.store_statuses([told, silent, unknown])
    assert set(seen) == {told, silent}
    assert seen[told]["status"] == "resolved" and seen[silent]["status"] == "resolved"
    assert set(seen[told]["first"]) == {"verifying", "forwarded_to_agency", "resolved"}
    assert seen[silent]["first"]["forwarded_to_agency"] <= seen[silent]["first"]["resolved"]
    assert isinstance(seen[told]["at"], float)

    # read again (a replay after a crash): the first times stay, the latest stays the latest
    before = journal.store_statuses([told])
    await journal.record_updates([], [], 0, statuses=[(told, "verifying", 1.0, 1)])
    assert journal.store_statuses([told]) == before


def test_the_stores_time_is_read_or_else_now() -> None:
    from gateway.worker.updates import feed_time

    now = 1_900_000_000.0
    assert feed_time("2026-12-02T10:00:00+07:00", now) == 1_796_180_400.0
    assert feed_time("2026-12-02T03:00:00Z", now) == 1_796_180_400.0
    for bad in (None, "", "kemarin", "2026-12-02T10:00:00", "9999-12-31T23:59:59+00:00", "\ud800",
                "0001-01-01T00:00:00+14:00"):
        assert feed_time(bad, now) == now  # absent, unreadable, without a zone, in the future or long past


@given(st.text(max_size=60))
def test_any_text_as_the_stores_time_is_a_time_not_after_now(text: str) -> None:
    from gateway.worker.updates import feed_time

    assert 946684800.0 <= feed_time(text, 1_900_000_000.0) <= 1_900_000_000.0
