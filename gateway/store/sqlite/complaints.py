"""Complaints: looked up by the worker and the CLI, taken by the forwarder (its outbox), held for review.

The outbox writes (:func:`mark_delivered`, :func:`mark_failed`, :func:`requeue_dead`) serve the second
outbox too (``citizen_responses``, :mod:`gateway.store.sqlite.responses`): the same columns.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, Literal

from gateway.store.records import STRANGER_HOLDS, STRANGERS_ANSWER, Event, ReceiptRow
from gateway.store.sqlite.base import Files, due_rows, set_cursor_row
from gateway.store.sqlite.events import EVENT_INSERT
from normalizer.ids import uuid7

RECENT_PER_REPORTER = 20  # a reporter's recent complaints compared with a new one, for near-duplicate links
FORWARDER_PROGRESS = "forwarder:progress"  # its updated_at is when a forward's try last ended
MAX_REFS = 400  # reporters a statement reads: well under SQLite's bound on its parameters


def _chunks(refs: list[str]) -> Iterator[tuple[list[str], str]]:
    """The distinct refs a statement's worth at a time, each with its ``?`` marks."""
    refs = list(dict.fromkeys(refs))
    for start in range(0, len(refs), MAX_REFS):
        chunk = refs[start:start + MAX_REFS]
        yield chunk, ",".join("?" * len(chunk))


class ComplaintTables(Files):
    def recent_by_reporters(self, reporter_refs: Collection[str], since: float) -> dict[str, list[tuple[str, str]]]:
        """Each reporter's newest complaints since ``since`` (at most :data:`RECENT_PER_REPORTER`, newest first) as
        (tracking ID, body), for many reporters in one statement a :data:`MAX_REFS` of them."""
        out: dict[str, list[tuple[str, str]]] = {ref: [] for ref in reporter_refs}
        for chunk, marks in _chunks(list(out)):
            # the window numbers each reporter's rows newest first; the body is read only for the rows kept
            for ref, tracking_id, body in self.reader.rows(
                "SELECT c.reporter_ref, c.tracking_id, json_extract(c.record, '$.body') FROM ("
                "  SELECT rowid AS r, ROW_NUMBER() OVER (PARTITION BY reporter_ref ORDER BY created_at DESC) AS n "
                f"  FROM complaints WHERE reporter_ref IN ({marks}) AND created_at>=?"
                ") w JOIN complaints c ON c.rowid=w.r WHERE w.n<=? ORDER BY c.reporter_ref, w.n",
                (*chunk, since, RECENT_PER_REPORTER),
            ):
                out[ref].append((tracking_id, body or ""))
        return out

    def complaint_by_tracking(self, tracking_id: str) -> dict[str, Any] | None:
        r = self.reader.one(
            "SELECT id, tracking_id, channel, record, reporter_ref, anonymous, confidential, state, attempts, "
            "last_error, central_answer, created_at, forwarded_at, review_reason FROM complaints WHERE tracking_id=?",
            (tracking_id,),
        )
        return dict(r) if r else None

    def tracking_for_inbound(self, inbound_ids: list[int]) -> dict[int, str]:
        marks = ",".join("?" * len(inbound_ids))
        return {r[0]: r[1] for r in self.reader.rows(
            f"SELECT inbound_id, tracking_id FROM complaints WHERE inbound_id IN ({marks})", inbound_ids)}

    def tracking_for_external(self, channel: str, account: str, external_id: str) -> str | None:
        """The tracking ID the worker gave a journaled message (a desk entry), None while it has none yet."""
        r = self.intake_reader.one("SELECT id FROM inbound WHERE channel=? AND account=? AND external_id=?",
                                   (channel, account, self.sealer.index(external_id)))
        if r is None:
            return None
        return self.tracking_for_inbound([r[0]]).get(r[0])

    def sealed_identity(self, tracking_id: str) -> dict[str, Any] | None:
        """The vault's identity of a complaint, opened (only for a supervisor's audited reveal)."""
        r = self.reader.one("SELECT v.sealed FROM vault v JOIN complaints c ON c.id=v.complaint_id "
                            "WHERE c.tracking_id=?", (tracking_id,))
        return self.open_json(r[0]) if r and r[0] else None

    # --- forwarder outbox ----------------------------------------------------------------
    def due_forwards(self, limit: int) -> list[tuple[str, str, str, int]]:
        rows = due_rows(self.reader, "SELECT id, tracking_id, record, attempts, created_at FROM complaints",
                        "state='normalized'", limit)
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def mark_forwarded(self, complaint_id: str, answer: dict[str, Any]) -> None:
        def write(c: sqlite3.Connection) -> None:
            mark_delivered(c, "complaints", complaint_id, answer, "forwarded")
            set_cursor_row(c, FORWARDER_PROGRESS, "", time.time())

        await self.state_writer.write(write)

    async def mark_forward_failed(self, complaint_id: str, error: str, next_at: float, dead: bool) -> None:
        def write(c: sqlite3.Connection) -> None:
            mark_failed(c, "complaints", complaint_id, error, next_at, dead=dead, waiting_state="normalized",
                        dead_event="dead_letter")
            set_cursor_row(c, FORWARDER_PROGRESS, "", time.time())

        await self.state_writer.write(write)

    def forwarding_progress(self) -> dict[str, Any]:
        """For /healthz: since when a forward is due (one of them; the oldest ages as a stalled forwarder
        leaves them), and when the forwarder last wrote the end of a try."""
        due = self.reader.one("SELECT MAX(created_at, next_at) FROM complaints WHERE state='normalized' "
                              "AND next_at<=? ORDER BY next_at LIMIT 1", (time.time(),))
        last = self.reader.one("SELECT updated_at FROM cursors WHERE key=?", (FORWARDER_PROGRESS,))
        return {"due_since": due[0] if due else None, "last_progress": last[0] if last else None}

    def dead_forwards(self, limit: int = 500) -> list[dict[str, Any]]:
        """Forwards that gave up (``dead_letter``), newest first: what ``retry-dead`` would queue again."""
        return [dict(r) for r in self.reader.rows(
            "SELECT tracking_id, channel, attempts, last_error, created_at FROM complaints WHERE state='dead_letter' "
            "ORDER BY created_at DESC LIMIT ?", (limit,))]

    def retry_dead_sync(self, tracking_ids: Iterable[str] | None = None) -> int:
        return len(self.retry_dead_forwards_sync(tracking_ids))

    def retry_dead_forwards_sync(self, tracking_ids: Iterable[str] | None = None) -> list[str]:
        """Dead forwards (of these tickets, or all) are due again, their attempts afresh: their tracking IDs."""
        ids = list(tracking_ids or [])
        return self.state_writer.write_sync(
            lambda c: requeue_dead(c, "complaints", ids, waiting_state="normalized", event="retry_dead"))

    # --- waiting for the citizen's details ---------------------------------------------------
    def awaiting_details_by_reporter(self, reporter_refs: Collection[str], since: float) -> dict[str, dict[str, Any]]:
        """Each reporter's newest complaint since ``since`` that had no substance and waits for their details
        (``id``, ``tracking_id``, ``anonymous``, ``confidential``, ``created_at``); reporters with none are left out."""
        out: dict[str, dict[str, Any]] = {}
        for chunk, marks in _chunks([r for r in reporter_refs if r]):
            for r in self.reader.rows(
                "SELECT * FROM ("
                "  SELECT reporter_ref, id, tracking_id, anonymous, confidential, created_at, "
                "  ROW_NUMBER() OVER (PARTITION BY reporter_ref ORDER BY created_at DESC) AS n "
                f"  FROM complaints WHERE state='awaiting_details' AND reporter_ref IN ({marks}) AND created_at>=?"
                ") WHERE n=1",
                (*chunk, since),
            ):
                waiting = dict(r)
                del waiting["n"]
                out[waiting.pop("reporter_ref")] = waiting
        return out

    # --- review queue --------------------------------------------------------------------
    def review_queue(self) -> list[dict[str, Any]]:
        """Complaints held for a person, and those waiting for the citizen's details (asked for, not
        forwarded): ``reasons`` (JSON) then starts with ``waiting_for_details``."""
        out = []
        for r in self.reader.rows(
            "SELECT tracking_id, channel, created_at, state, json_extract(record, '$.needs_review') AS reasons, "
            "json_extract(record, '$.attachments') AS attachments FROM complaints "
            "WHERE state IN ('review', 'awaiting_details') ORDER BY created_at"
        ):
            item = dict(r)
            if item["state"] == "awaiting_details":
                item["reasons"] = json.dumps(["waiting_for_details", *json.loads(item["reasons"] or "[]")])
            out.append(item)
        return out

    def review_decide_sync(self, tracking_id: str, approve: bool, reason: str | None = None, *,
                           because: str | None = None, notices: Sequence[ReceiptRow] = ()) -> bool:
        """Approve (forward it, send its held receipts) or reject (keep it; its held receipts cancelled); the
        person's reason is kept with the decision (``review_reason``; never in the intake log: it is free text).

        A rejection queues ``notices`` (built by :mod:`gateway.worker.rejections`: the citizen told it cannot be
        processed, at the addresses its receipts were for) in the same transaction, so the citizen hears once or
        not at all whatever crashes. ``because`` (the reviewer's choice from a fixed list) is the
        ``review_rejected`` event's detail. A stranger's answer held for review (one naming a ticket not theirs,
        or one never issued) is rejected in silence whatever is passed: nobody learns whether that ticket exists."""
        sealed = [(r, self.seal_json(r.target), self.seal_json(r.body)) for r in notices] if not approve else []

        def write(conn: sqlite3.Connection) -> bool:
            r = conn.execute(
                "UPDATE complaints SET state=?, review_reason=? WHERE tracking_id=? "
                "AND state IN ('review', 'awaiting_details') RETURNING id, channel, record",
                ("normalized" if approve else "rejected", reason or None, tracking_id),
            ).fetchone()
            if r is None:
                return False
            now = time.time()
            conn.execute("UPDATE receipts SET state=? WHERE complaint_id=? AND state='held'",
                         ("pending" if approve else "cancelled", r[0]))
            if approve:
                conn.execute(EVENT_INSERT, Event(r[1], "review_approved", tracking_id).row(now))
                return True
            # its citizen's answers can never reach the store: settled with it, not left waiting
            settle_responses(conn, r[0], "rejected", "its complaint was rejected in review", "response_rejected")
            silent = answers_someone_else(conn, tracking_id, r[2])
            told = 0
            for row, target, body in [] if silent else sealed:
                told += conn.execute(
                    "INSERT INTO receipts(id, dedup_key, complaint_id, tracking_id, kind, channel, target, body, "
                    "state, created_at) VALUES (?,?,?,?,?,?,?,?,'pending',?) ON CONFLICT(dedup_key) DO NOTHING",
                    (uuid7(), row.dedup_key, r[0], tracking_id, row.kind, row.channel, target, body, now),
                ).rowcount
            detail = because or "no reason chosen"
            if silent:
                detail += "; not told: it answers a ticket that is not its sender's"
            elif told:
                detail += f"; the citizen is told ({told} notice{'s' if told > 1 else ''})"
            else:
                detail += "; not told"
            conn.execute(EVENT_INSERT, Event(r[1], "review_rejected", tracking_id, detail=detail).row(now))
            return True

        return self.state_writer.write_sync(write)

    def strangers_answer(self, tracking_id: str) -> bool:
        """Whether the complaint is a stranger's held answer (what a rejection of it keeps silent)."""

        def read(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT record FROM complaints WHERE tracking_id=?", (tracking_id,)).fetchone()
            return row is not None and answers_someone_else(conn, tracking_id, row[0])

        return self.reader.query(read)

    def review_correct_sync(self, tracking_id: str, record_json: str) -> bool:
        """A person's corrected record for a complaint still waiting for review (False: it is not waiting)."""

        def write(conn: sqlite3.Connection) -> bool:
            r = conn.execute("UPDATE complaints SET record=? WHERE tracking_id=? AND state='review' RETURNING channel",
                             (record_json, tracking_id)).fetchone()
            if r is None:
                return False
            conn.execute(EVENT_INSERT, Event(r[0], "review_corrected", tracking_id).row(time.time()))
            return True

        return self.state_writer.write_sync(write)


# --- the outbox columns complaints and citizen_responses share -----------------------------
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
        if table == "complaints":  # its waiting answers die with it, and retry-dead of the ticket queues both
            settle_responses(conn, row_id, "dead_letter", "its complaint is a dead letter", "response_dead_letter")


def answers_someone_else(conn: sqlite3.Connection, tracking_id: str, record_json: str | None) -> bool:
    """Whether a held complaint is a stranger's answer (a BALAS, reply or subject naming a ticket that is not the
    sender's, or one never issued): its record's review reasons, or the hold the worker logged for it."""
    try:
        reasons = json.loads(record_json or "{}").get("needs_review") or []
    except (ValueError, AttributeError):
        return True  # a record we cannot read: say nothing rather than guess
    if STRANGERS_ANSWER in reasons:
        return True
    marks = ",".join("?" * len(STRANGER_HOLDS))
    return conn.execute(f"SELECT 1 FROM events WHERE tracking_id=? AND state='held_for_review' AND detail IN ({marks})",
                        (tracking_id, *STRANGER_HOLDS)).fetchone() is not None


def settle_responses(conn: sqlite3.Connection, complaint_id: str, state: str, reason: str, event: str) -> None:
    """A complaint that will not reach the store takes its pending citizen responses with it: ``state``,
    ``reason`` as their last error, ``event`` logged for each (what show and the dead letters list)."""
    now = time.time()
    for ch, tid in conn.execute(
        "UPDATE citizen_responses SET state=?, last_error=? WHERE complaint_id=? AND state='pending' "
        "RETURNING channel, tracking_id", (state, reason, complaint_id),
    ).fetchall():
        conn.execute(EVENT_INSERT, Event(ch, event, tracking_id=tid, detail=reason).row(now))


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
