"""The worker's decisions: each message's outcome (complaint, sealed identity, receipts, events) in one batch."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from channels.email.thread_ids import tracking_in_text
from channels.registry import spec_for
from gateway.store.records import Event, InboundOutcome, ReceiptRow
from gateway.store.sqlite.base import Files, set_cursor_row
from gateway.store.sqlite.events import EVENT_INSERT
from gateway.store.sqlite.responses import write_response
from normalizer.ids import uuid7

WORKER_CURSOR = "worker:inbound"
WORKER_PROGRESS = "worker:progress"  # its updated_at is when the worker last wrote an outcome


class OutcomeTables(Files):
    async def record_outcomes(
        self, outcomes: list[InboundOutcome], cursor: int | None = None, *, max_attempts: int = 8
    ) -> list[bool]:
        """Write every outcome in one durable batch, and the worker's cursor with them.

        Each outcome fails alone: one that cannot be sealed or written (a value the
        database refuses) is rolled back to its own savepoint and counted as a failed
        try of its message (quarantined after ``max_attempts``), while the rest of the
        batch commits. A tracking-ID clash is retried at once. Only a fault of the
        storage itself (disk full, I/O error) fails the whole batch: nothing of it
        is written, and the caller tries again later.
        """
        sealed: list[tuple[InboundOutcome, Any]] = []
        for o in outcomes:
            try:
                if o.response is not None:  # a citizen response: sealed as receipts are
                    o.response.sealed = self.seal_json(o.response.payload)
                sealed.append((o, (
                    self.seal_json(o.complaint.vault) if o.complaint else None,
                    [(r, self.seal_json(r.target), self.seal_json(r.body)) for r in o.receipts],
                )))
            except Exception as exc:  # e.g. a string JSON cannot encode: this message alone fails
                sealed.append((o, exc))

        def write(conn: sqlite3.Connection) -> list[bool]:
            now = time.time()
            done = []
            for o, prepared in sealed:
                if o.failure is not None:
                    _fail_outcome(conn, o, o.failure, now, 1 if o.final else max_attempts)
                    done.append(False)
                    continue
                if isinstance(prepared, Exception):
                    _fail_outcome(conn, o, f"outcome not storable ({type(prepared).__name__})", now, max_attempts)
                    done.append(False)
                    continue
                vault, receipts = prepared
                conn.execute("SAVEPOINT item")
                try:
                    _write_outcome(conn, now, o, vault, receipts)
                except sqlite3.IntegrityError:
                    conn.execute("ROLLBACK TO item")
                    conn.execute("RELEASE item")
                    _set_processed(conn, o.inbound_id, "retry", now, None, bump=False)
                    done.append(False)
                    continue
                except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
                    if _storage_fault(exc):
                        raise  # the disk, not the message: the whole batch waits
                    conn.execute("ROLLBACK TO item")
                    conn.execute("RELEASE item")
                    _fail_outcome(conn, o, f"outcome not storable ({type(exc).__name__})", now, max_attempts)
                    done.append(False)
                    continue
                except Exception as exc:
                    conn.execute("ROLLBACK TO item")
                    conn.execute("RELEASE item")
                    _fail_outcome(conn, o, f"outcome not storable ({type(exc).__name__})", now, max_attempts)
                    done.append(False)
                    continue
                conn.execute("RELEASE item")
                done.append(True)
            if cursor is not None:
                set_cursor_row(conn, WORKER_CURSOR, str(cursor), now)
            set_cursor_row(conn, WORKER_PROGRESS, str(len(outcomes)), now)
            return done

        return await self.state_writer.write(write)

    def progress(self) -> dict[str, Any]:
        """What /healthz needs to tell a stalled worker: work waiting, since when, and the last progress."""
        now = time.time()
        cursor = self.worker_cursor()
        oldest = self.intake_reader.one("SELECT created_at FROM inbound WHERE id>? ORDER BY id LIMIT 1", (cursor,))
        retry = self.reader.one("SELECT MIN(next_at) FROM processed WHERE state='retry' AND next_at<=?", (now,))
        last = self.reader.one("SELECT updated_at FROM cursors WHERE key=?", (WORKER_PROGRESS,))
        due_since = [t for t in ((oldest[0] if oldest else None), (retry[0] if retry else None)) if t]
        return {"due_since": min(due_since) if due_since else None, "last_progress": last[0] if last else None}

    def worker_cursor(self) -> int:
        r = self.reader.one("SELECT value FROM cursors WHERE key=?", (WORKER_CURSOR,))
        return int(r[0]) if r else 0


def _storage_fault(exc: BaseException) -> bool:
    """A fault of the disk or the database file (full, I/O, read-only), as opposed to one value refused."""
    code = getattr(exc, "sqlite_errorcode", None)  # sqlite3 sets it only on errors from SQLite itself
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
                               sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return any(w in text for w in ("disk", "full", "i/o", "readonly", "locked"))


def _fail_outcome(conn: sqlite3.Connection, o: InboundOutcome, error: str, now: float, max_attempts: int) -> None:
    give_up = o.attempts + 1 >= max_attempts
    _set_processed(conn, o.inbound_id, "failed" if give_up else "retry", now + min(300, 2**o.attempts), error, bump=True)
    if give_up:
        conn.execute(EVENT_INSERT, Event(o.channel or "?", "failed", detail=f"inbound {o.inbound_id} quarantined: {error}").row(now))


def _set_processed(
    conn: sqlite3.Connection, inbound_id: int, state: str, next_at: float, error: str | None, *, bump: bool
) -> None:
    conn.execute(
        "INSERT INTO processed(inbound_id, state, attempts, next_at, error, updated_at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(inbound_id) DO UPDATE SET state=excluded.state, next_at=excluded.next_at, error=excluded.error, "
        "updated_at=excluded.updated_at, attempts=attempts+excluded.attempts",
        (inbound_id, state, int(bump), next_at, error, time.time()),
    )




def _write_outcome(
    conn: sqlite3.Connection,
    now: float,
    o: InboundOutcome,
    vault: bytes | None,
    receipts: list[tuple[ReceiptRow, bytes, bytes]],
) -> None:
    done = conn.execute("SELECT state FROM processed WHERE inbound_id=?", (o.inbound_id,)).fetchone()
    if done is not None and done[0] not in ("retry", "deferred"):
        return  # decided before (a message read twice after a crash): the first decision stands
    if o.state == "deferred":  # set aside for the heavy lane: decided there, later
        _set_processed(conn, o.inbound_id, "deferred", 0, None, bump=False)
        return
    c = o.complaint
    if c is not None and c.completes:
        # the citizen's details for a complaint that waited for them: its record and identity, now complete
        done = conn.execute(
            "UPDATE complaints SET record=?, reporter_ref=?, anonymous=?, confidential=?, state=? "
            "WHERE id=? AND state=?",
            (c.record_json, c.reporter_ref, int(c.anonymous), int(c.confidential), c.state, c.id, c.completes),
        ).rowcount
        if not done:  # an operator decided it meanwhile: decided again, as a message of its own
            raise sqlite3.IntegrityError("the complaint no longer waits for details")
        conn.execute("UPDATE vault SET sealed=? WHERE complaint_id=?", (vault, c.id))
    elif c is not None:
        conn.execute(
            "INSERT INTO complaints(id, tracking_id, inbound_id, channel, record, reporter_ref, anonymous, confidential, "
            "state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (c.id, c.tracking_id, c.inbound_id, c.channel, c.record_json, c.reporter_ref, int(c.anonymous),
             int(c.confidential), c.state, now),
        )
        conn.execute("INSERT INTO vault(complaint_id, sealed) VALUES (?,?)", (c.id, vault))
    for r, target, body in receipts:
        conn.execute(
            "INSERT INTO receipts(id, dedup_key, complaint_id, tracking_id, kind, channel, target, body, state, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(dedup_key) DO NOTHING",
            (uuid7(), r.dedup_key, r.complaint_id, r.tracking_id, r.kind, r.channel, target, body, r.state, now),
        )
    if o.delivery:
        rid, status, family = o.delivery
        # only receipts of the reporting channel's family: provider ids of two providers may collide
        candidates = conn.execute(
            "SELECT id, channel FROM receipts WHERE id=? OR provider_id=? OR (tracking_id=? AND kind='receipt')",
            (rid, rid, rid),
        ).fetchall()
        if not candidates and (tid := tracking_in_text(rid)):
            # one of our Message-IDs that no row sent (a mail of an older version): the ticket's receipt
            candidates = conn.execute(
                "SELECT id, channel FROM receipts WHERE tracking_id=? AND kind='receipt'", (tid,)).fetchall()
        for (receipt_id,) in ((r[0],) for r in candidates if spec_for(r[1]).delivery_family == family):
            conn.execute(
                "UPDATE receipts SET delivery_status=?, delivered_at=CASE WHEN ?='delivered' THEN ? ELSE delivered_at END, "
                "state=CASE WHEN state IN ('sending','pending','unsure') AND ? IN ('accepted','delivered') THEN 'sent' "
                "ELSE state END WHERE id=?",
                (status, status, now, status, receipt_id),
            )
    if o.response is not None:
        write_response(conn, now, o.inbound_id, o.response)
    _set_processed(conn, o.inbound_id, o.state, 0, o.error, bump=False)
    for e in o.events:
        conn.execute(EVENT_INSERT, e.row(now))
