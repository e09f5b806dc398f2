"""The outboxes' due read in two index walks (gateway.store.sqlite.base.due_rows) against the one sorted
query it replaced: the same rows whenever the retried rows due fit in the limit, and otherwise only due
rows, as many as the limit, the never-tried ones oldest first."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from forwarder.groupcommit import Reader, connect
from gateway.store.sqlite.base import due_rows
from gateway.store.sqlite.schema import STATE_SCHEMA

SELECT = "SELECT id, created_at FROM complaints"
WHERE = "state='normalized'"
REFERENCE = f"{SELECT} WHERE {WHERE} AND next_at<=? ORDER BY created_at LIMIT ?"

# each row: (state, next_at kind, created_at step). Fresh rows are written in the order they were created;
# a retried row keeps its old place and creation time and gets a next_at in the past or the future.
row = st.tuples(st.sampled_from(["normalized", "forwarded", "dead_letter"]),
                st.sampled_from(["fresh", "past", "future"]),
                st.integers(min_value=1, max_value=5),  # distinct times: the old order among ties was arbitrary
                st.integers(min_value=1, max_value=10_000))


def fill(path: Path, rows: list[tuple[str, str, int, int]]) -> None:
    conn = connect(path)
    conn.executescript(STATE_SCHEMA)
    now, created = time.time(), 1_000.0
    for i, (state, due, step, offset) in enumerate(rows):
        created += step
        next_at = {"fresh": 0.0, "past": now - offset, "future": now + 3600 + offset}[due]
        conn.execute("INSERT INTO complaints(id, tracking_id, inbound_id, channel, record, anonymous, confidential, "
                     "state, created_at, next_at) VALUES (?,?,?,'sms.kannel','{}',0,0,?,?,?)",
                     (f"c{i:05d}", f"T{i:05d}", i, state, created, next_at))
    conn.commit()
    conn.close()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, max_size=60), limit=st.integers(min_value=1, max_value=20))
@example(rows=[("normalized", "past", 1, 5), ("normalized", "fresh", 1, 1), ("normalized", "past", 1, 9)], limit=1)
def test_due_rows_agree_with_the_sorted_read(rows: list[tuple[str, str, int, int]], limit: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "state.db"
        fill(path, rows)
        reader = Reader(path)
        try:
            got = [r["id"] for r in due_rows(reader, SELECT, WHERE, limit)]
            conn = sqlite3.connect(path)
            want = [r[0] for r in conn.execute(REFERENCE, (time.time(), limit))]
            due = {r[0] for r in conn.execute(f"{SELECT} WHERE {WHERE} AND next_at<=?", (time.time(),))}
            fresh = [r[0] for r in conn.execute(f"{SELECT} WHERE {WHERE} AND next_at=0 ORDER BY rowid")]
            retried_due = len(due) - len(fresh)
            conn.close()
        finally:
            reader.close()
    assert set(got) <= due
    assert len(got) == len(set(got)) == min(limit, len(due))
    taken_fresh = [i for i in got if i in set(fresh)]
    assert taken_fresh == fresh[: len(taken_fresh)]  # never a younger untried row before an older one
    if retried_due <= limit:
        assert got == want
