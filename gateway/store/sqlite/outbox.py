"""What the two outboxes' tables (``complaints``, ``citizen_responses``) share: the columns a delivery to
the central store writes (``state``, ``attempts``, ``next_at``, ``last_error``, ``central_answer``,
``forwarded_at``), and the intake-log event each outcome logs."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Literal

from gateway.store.records import Event
from gateway.store.sqlite.events import EVENT_INSERT

Table = Literal["complaints", "citizen_responses"]


def mark_delivered(conn: sqlite3.Connection, table: Table, row_id: str, answer: dict[str, Any], event: str) -> None:
    """The store took it: its answer kept, ``event`` logged once (a second answer changes nothing)."""
    now = time.time()
    r = conn.execute(
        f"UPDATE {table} SET state='forwarded', central_answer=?, forwarded_at=?, last_error=NULL "
        "WHERE id=? AND state!='forwarded' RETURNING channel, tracking_id",
        (json.dumps(answer), now, row_id),
    ).fetchone()
    if r:
        conn.execute(EVENT_INSERT, Event(r[0], event, tracking_id=r[1]).row(now))


def mark_failed(conn: sqlite3.Connection, table: Table, row_id: str, error: str, next_at: float, *, dead: bool,
                waiting_state: str, dead_event: str) -> None:
    """One more failed try: again at ``next_at`` (back to ``waiting_state``), or a dead letter, logged."""
    r = conn.execute(
        f"UPDATE {table} SET attempts=attempts+1, next_at=?, last_error=?, state=? WHERE id=? "
        "RETURNING channel, tracking_id",
        (next_at, error, "dead_letter" if dead else waiting_state, row_id),
    ).fetchone()
    if r and dead:
        conn.execute(EVENT_INSERT, Event(r[0], dead_event, tracking_id=r[1], detail=error).row(time.time()))


def requeue_dead(conn: sqlite3.Connection, table: Table, tracking_ids: list[str], *, waiting_state: str,
                 event: str) -> list[str]:
    """Dead letters (of these tickets, or all) due again, their attempts afresh: their tracking IDs."""
    where = "state='dead_letter'"
    if tracking_ids:
        where += f" AND tracking_id IN ({','.join('?' * len(tracking_ids))})"
    rows = conn.execute(
        f"UPDATE {table} SET state=?, attempts=0, next_at=0 WHERE {where} RETURNING channel, tracking_id",
        [waiting_state, *tracking_ids],
    ).fetchall()
    now = time.time()
    for ch, tid in rows:
        conn.execute(EVENT_INSERT, Event(ch, event, tracking_id=tid).row(now))
    return [tid for _ch, tid in rows]
