"""Citizen responses: written with the worker's outcome, posted to the store by their own outbox.

A response waits until its complaint has reached the store (the store cannot take an answer on a complaint
it does not have), then is posted with its id as ``Idempotency-Key``; failures back off, and after the
forwarder's attempts it is a dead letter that ``retry-dead`` queues again. The text and attachments'
metadata are sealed at rest, as receipts are.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from channels.registry import spec_for
from gateway.store.records import Event, ResponseRow
from gateway.store.sqlite.base import Files, due_rows
from gateway.store.sqlite.complaints import mark_delivered, mark_failed, requeue_dead, settle_responses
from gateway.store.sqlite.events import EVENT_INSERT


def write_response(conn: sqlite3.Connection, now: float, inbound_id: int, r: ResponseRow) -> None:
    """Inside the outcome's transaction: the response and its place in the outbox."""
    assert r.sealed is not None
    conn.execute(
        "INSERT INTO citizen_responses(id, inbound_id, complaint_id, tracking_id, channel, payload, anonymous, "
        "confidential, state, created_at) VALUES (?,?,?,?,?,?,?,?,'pending',?) ON CONFLICT(inbound_id) DO NOTHING",
        (r.id, inbound_id, r.complaint_id, r.tracking_id, r.channel, r.sealed, int(r.anonymous), int(r.confidential),
         now),
    )
    dead = conn.execute("SELECT 1 FROM complaints WHERE id=? AND state='dead_letter'", (r.complaint_id,)).fetchone()
    if dead:  # an answer on a complaint that already gave up waits with it, where the dead letters are
        settle_responses(conn, r.complaint_id, "dead_letter", "its complaint is a dead letter", "response_dead_letter")


class ResponseTables(Files):
    # --- which complaint a reply answers (the router) ---------------------------------------
    def complaints_answered_by(self, channel: str, account: str, ref: str) -> list[dict[str, Any]]:
        """Complaints a reply on ``channel`` to the message ``ref`` may answer: one of our messages of that
        channel's family with this provider id, or the citizen's own journaled message with this id."""
        family = spec_for(channel).delivery_family
        tids: set[str] = set()
        for pid in dict.fromkeys((ref, f"<{ref.strip('<>')}>")):
            rows = self.reader.rows(
                "SELECT channel, tracking_id FROM receipts WHERE provider_id=? AND tracking_id IS NOT NULL", (pid,))
            tids |= {r[1] for r in rows if spec_for(r[0]).delivery_family == family}
        own = self.intake_reader.one("SELECT id FROM inbound WHERE channel=? AND account=? AND external_id=?",
                                     (channel, account, self.sealer.index(ref.strip("<>"))))
        if own is not None:
            tids |= set(self.tracking_for_inbound([own[0]]).values())  # type: ignore[attr-defined]
        found = (self.complaint_by_tracking(t) for t in sorted(tids))  # type: ignore[attr-defined]
        return [c for c in found if c is not None]

    # --- the outbox (the response forwarder) ------------------------------------------------
    def due_responses(self, limit: int) -> list[tuple[str, str, str, int]]:
        """(id, tracking ID, payload JSON, attempts) of responses due whose complaint the store has."""
        rows = due_rows(self.reader, "SELECT r.id, r.tracking_id, r.payload, r.attempts, r.created_at "
                        "FROM citizen_responses r JOIN complaints c ON c.id=r.complaint_id",
                        "r.state='pending' AND c.state='forwarded'", limit, alias="r")
        return [(r[0], r[1], json.dumps(self.open_json(r[2]), ensure_ascii=False), r[3]) for r in rows]

    async def mark_response_forwarded(self, response_id: str, answer: dict[str, Any]) -> None:
        await self.state_writer.write(
            lambda c: mark_delivered(c, "citizen_responses", response_id, answer, "response_forwarded"))

    async def mark_response_failed(self, response_id: str, error: str, next_at: float, dead: bool) -> None:
        await self.state_writer.write(lambda c: mark_failed(
            c, "citizen_responses", response_id, error, next_at, dead=dead, waiting_state="pending",
            dead_event="response_dead_letter"))

    def dead_responses(self, limit: int = 500) -> list[dict[str, Any]]:
        """Citizen responses that will not reach the store as they are, newest first: ``dead_letter`` (what
        ``retry-dead`` queues again), ``rejected`` (their complaint was) and ``held`` (over the per-complaint
        cap, for a person to look at; ``retry-dead`` queues them too)."""
        return [dict(r) for r in self.reader.rows(
            "SELECT tracking_id, channel, state, attempts, last_error, created_at FROM citizen_responses "
            "WHERE state IN ('dead_letter', 'rejected', 'held') ORDER BY created_at DESC LIMIT ?", (limit,))]

    def retry_dead_responses_sync(self, tracking_ids: Iterable[str] | None = None) -> list[str]:
        """Dead and held responses (on these tickets, or all) due again, attempts afresh: their tracking IDs
        (a held one is checked against the per-complaint cap again: it goes once the hour has room)."""
        ids = list(tracking_ids or [])

        def write(conn: sqlite3.Connection) -> list[str]:
            dead = requeue_dead(conn, "citizen_responses", ids, waiting_state="pending", event="retry_dead_response")
            where = "state='held'" + (f" AND tracking_id IN ({','.join('?' * len(ids))})" if ids else "")
            held = conn.execute(f"UPDATE citizen_responses SET state='pending', next_at=0 WHERE {where} "
                                "RETURNING channel, tracking_id", ids).fetchall()
            now = time.time()
            for ch, tid in held:
                conn.execute(EVENT_INSERT, Event(ch, "retry_held_response", tracking_id=tid).row(now))
            return dead + [tid for _ch, tid in held]

        return self.state_writer.write_sync(write)

    # --- show ---------------------------------------------------------------------------
    def responses_for(self, tracking_id: str) -> list[dict[str, Any]]:
        """A complaint's citizen responses, opened, oldest first."""
        out = []
        for r in self.reader.rows(
            "SELECT id, channel, payload, anonymous, confidential, state, attempts, last_error, created_at, "
            "forwarded_at FROM citizen_responses WHERE tracking_id=? ORDER BY created_at", (tracking_id,)
        ):
            item = dict(r)
            item.update(self.open_json(item.pop("payload")))
            out.append(item)
        return out
