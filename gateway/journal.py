"""The journal: every accepted message, complaint, outbox entry, receipt and intake-log event.

SQLite in WAL mode with ``synchronous=FULL``, written through one group-commit
writer (:mod:`gateway.groupcommit`) and read through read-only connections.
The operations below are the storage interface the rest of the gateway uses;
a PostgreSQL backend implements the same methods.

Identity never lies here in clear: inbound payloads and reply targets are
sealed with the vault key (:mod:`gateway.vault`) before they are written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channels.base import AcceptResult
from channels.message import InboundMessage
from gateway.groupcommit import GroupCommitWriter, Reader, connect
from gateway.vault import Sealer
from normalizer.ids import uuid7

# The intake file: what citizens sent, written only by the process that acknowledges
# (so its group commit never waits on the worker's transactions), read by the worker.
INTAKE_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  account TEXT NOT NULL,
  external_id TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at REAL NOT NULL,
  digest TEXT,
  conflict INTEGER NOT NULL DEFAULT 0,
  UNIQUE (channel, account, external_id)
);
CREATE TABLE IF NOT EXISTS cursors (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at REAL NOT NULL
);
"""

# The state file: what the worker made of it, written only by the worker (and the CLI).
STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
  inbound_id INTEGER PRIMARY KEY,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  error TEXT,
  updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS processed_retry ON processed(next_at) WHERE state='retry';
CREATE TABLE IF NOT EXISTS complaints (
  id TEXT PRIMARY KEY,
  tracking_id TEXT NOT NULL UNIQUE,
  inbound_id INTEGER NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  record TEXT NOT NULL,
  reporter_ref TEXT,
  anonymous INTEGER NOT NULL,
  confidential INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  last_error TEXT,
  central_answer TEXT,
  created_at REAL NOT NULL,
  forwarded_at REAL
);
CREATE INDEX IF NOT EXISTS complaints_outbox ON complaints(state, next_at);
CREATE INDEX IF NOT EXISTS complaints_reporter ON complaints(reporter_ref, created_at);
CREATE TABLE IF NOT EXISTS vault (
  complaint_id TEXT PRIMARY KEY REFERENCES complaints(id),
  sealed BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  dedup_key TEXT NOT NULL UNIQUE,
  complaint_id TEXT,
  tracking_id TEXT,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL,
  target BLOB NOT NULL,
  body BLOB NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  provider_id TEXT,
  last_error TEXT,
  created_at REAL NOT NULL,
  sent_at REAL,
  delivered_at REAL,
  delivery_status TEXT
);
CREATE INDEX IF NOT EXISTS receipts_due ON receipts(state, next_at);
CREATE INDEX IF NOT EXISTS receipts_tracking ON receipts(tracking_id);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  channel TEXT NOT NULL,
  tracking_id TEXT,
  state TEXT NOT NULL,
  contact TEXT,
  category TEXT,
  flags TEXT,
  detail TEXT
);
CREATE TABLE IF NOT EXISTS cursors (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at REAL NOT NULL
);
"""


@dataclass
class Event:
    """One intake-log entry; holds nothing a log may not hold (masked contact, no body)."""

    channel: str
    state: str
    tracking_id: str | None = None
    contact: str | None = None
    category: str | None = None
    flags: str | None = None
    detail: str | None = None
    at: float | None = None  # when it happened, if not when it is written

    def row(self, now: float) -> tuple[Any, ...]:
        return (self.at or now, *(_storable(v) for v in (self.channel, self.tracking_id, self.state, self.contact,
                                                         self.category, self.flags, self.detail)))


@dataclass
class DueInbound:
    id: int
    msg: InboundMessage | None  # None: the sealed payload could not be opened (quarantined at once)
    attempts: int
    created_at: float
    conflict: bool = False  # its channel id was reused by a message with other content
    error: str | None = None


@dataclass
class ReceiptRow:
    """A reply to send: ``target`` and ``body`` are sealed at rest."""

    dedup_key: str
    kind: str
    channel: str
    target: dict[str, Any]
    body: dict[str, Any]
    complaint_id: str | None = None
    tracking_id: str | None = None
    state: str = "pending"


@dataclass
class ComplaintRow:
    id: str
    tracking_id: str
    inbound_id: int
    channel: str
    record_json: str
    reporter_ref: str | None
    anonymous: bool
    confidential: bool
    vault: dict[str, Any]
    state: str = "normalized"


@dataclass
class InboundOutcome:
    """What the normaliser decided for one inbound message; written in one transaction."""

    inbound_id: int
    state: str  # normalized | answered | recorded | needs_review | failed | deferred (to the heavy lane)
    complaint: ComplaintRow | None = None
    receipts: list[ReceiptRow] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    delivery: tuple[str, str, str] | None = None  # (receipt id, status, channel family) from a DLR/status callback
    attempts: int = 0  # tries before this one: an outcome that cannot be written counts as a failed try
    channel: str = ""  # for the quarantine event when it cannot be written
    failure: str | None = None  # this try failed, for this reason: again later, or quarantined
    final: bool = False  # the failure is a refusal: quarantined at once


WORKER_CURSOR = "worker:inbound"
WORKER_PROGRESS = "worker:progress"  # its updated_at is when the worker last wrote an outcome
EVENT_INSERT = (
    "INSERT INTO events(at, channel, tracking_id, state, contact, category, flags, detail) VALUES (?,?,?,?,?,?,?,?)"
)


class Journal:
    """Two SQLite files: ``gateway.db`` (inbound, written by intake) and ``gateway-state.db`` (the rest).

    Writers are opened on first write, so a process only ever writes the file it owns.
    """

    def __init__(self, path: Path, sealer: Sealer, batch_max: int = 256) -> None:
        self.path = Path(path)
        self.state_path = self.path.with_name(f"{self.path.stem}-state{self.path.suffix or '.db'}")
        self.sealer = sealer
        self.batch_max = batch_max
        for file, schema in ((self.path, INTAKE_SCHEMA), (self.state_path, STATE_SCHEMA)):
            file.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(file)
            conn.executescript(schema)
            if file == self.path:
                _add_missing_columns(conn)
            conn.close()
        self.intake_reader = Reader(self.path)
        self.reader = Reader(self.state_path)
        self._intake_writer: GroupCommitWriter | None = None
        self._state_writer: GroupCommitWriter | None = None

    @property
    def intake_writer(self) -> GroupCommitWriter:
        if self._intake_writer is None:
            self._intake_writer = GroupCommitWriter(self.path, batch_max=self.batch_max)
            self._intake_writer.register_bulk("accept", _accept_rows)
        return self._intake_writer

    @property
    def writer(self) -> GroupCommitWriter:
        if self._state_writer is None:
            self._state_writer = GroupCommitWriter(self.state_path, batch_max=self.batch_max)
        return self._state_writer

    def close(self) -> None:
        for w in (self._intake_writer, self._state_writer):
            if w is not None:
                w.close()
        self.intake_reader.close()
        self.reader.close()

    # --- sealing -------------------------------------------------------------------------
    def seal_json(self, obj: Any) -> bytes:
        # "replace": a lone surrogate that got this far must not make a whole outcome unstorable
        return self.sealer.seal(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8", "replace"))

    def open_json(self, blob: bytes) -> Any:
        return json.loads(self.sealer.open(blob))

    # --- intake (hot path) ---------------------------------------------------------------
    async def accept(self, msg: InboundMessage) -> AcceptResult:
        """Journal one message durably; a redelivery returns the first id with duplicate=True."""
        return (await self.accept_many([msg]))[0]

    async def accept_many(self, msgs: list[InboundMessage]) -> list[AcceptResult]:
        now = time.time()
        index = self.sealer.index
        rows = [
            (m.channel, m.account, index(m.external_id),
             self.sealer.seal(m.model_dump_json(exclude_defaults=True).encode()), now, content_digest(index, m))
            for m in msgs
        ]
        return await self.intake_writer.write_bulk("accept", rows)

    # --- normaliser ----------------------------------------------------------------------
    def due_inbound(
        self, after: int, limit: int, *, deferred: int = 0, busy: Iterable[int] = ()
    ) -> list[DueInbound]:
        """New messages after the worker's cursor, then retries that have come due, then up to
        ``deferred`` messages set aside for the heavy lane that are not ``busy`` there already."""
        fresh = self.intake_reader.rows(
            "SELECT id, payload, created_at, conflict FROM inbound WHERE id>? ORDER BY id LIMIT ?", (after, limit)
        )
        out = [self._due(r[0], r[1], 0, r[2], r[3]) for r in fresh]
        seen = {d.id for d in out} | set(busy)
        later = list(self.reader.rows(
            "SELECT inbound_id, attempts FROM processed WHERE state='retry' AND next_at<=? LIMIT ?",
            (time.time(), max(1, limit - len(out))),
        ))
        if deferred > 0:
            later += self.reader.rows(
                "SELECT inbound_id, attempts FROM processed WHERE state='deferred' ORDER BY inbound_id LIMIT ?",
                (deferred + len(seen),),
            )
        for inbound_id, attempts in later:
            if inbound_id in seen or len(out) >= limit + deferred:
                continue
            r = self.intake_reader.one("SELECT payload, created_at, conflict FROM inbound WHERE id=?", (inbound_id,))
            if r is not None:
                seen.add(inbound_id)
                out.append(self._due(inbound_id, r[0], attempts, r[1], r[2]))
        return out

    def _due(self, inbound_id: int, payload: bytes, attempts: int, created_at: float, conflict: int) -> DueInbound:
        """One journaled message, opened; a payload that cannot be opened is returned without one, to be
        quarantined (by design this cannot happen: it was sealed from a validated message)."""
        try:
            msg = InboundMessage.model_validate_json(self.sealer.open(payload))
        except Exception as exc:  # a damaged row must not stop every other message
            return DueInbound(inbound_id, None, attempts, created_at, bool(conflict), f"unreadable ({type(exc).__name__})")
        return DueInbound(inbound_id, msg, attempts, created_at, bool(conflict))

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
                _set_cursor(conn, WORKER_CURSOR, str(cursor), now)
            _set_cursor(conn, WORKER_PROGRESS, str(len(outcomes)), now)
            return done

        return await self.writer.write(write)

    def progress(self) -> dict[str, Any]:
        """What /healthz needs to tell a stalled worker: work waiting, since when, and the last progress."""
        now = time.time()
        cursor = self.worker_cursor()
        oldest = self.intake_reader.one("SELECT created_at FROM inbound WHERE id>? ORDER BY id LIMIT 1", (cursor,))
        retry = self.reader.one("SELECT MIN(next_at) FROM processed WHERE state='retry' AND next_at<=?", (now,))
        last = self.reader.one("SELECT updated_at FROM cursors WHERE key=?", (WORKER_PROGRESS,))
        due_since = [t for t in ((oldest[0] if oldest else None), (retry[0] if retry else None)) if t]
        return {"due_since": min(due_since) if due_since else None, "last_progress": last[0] if last else None}

    def recent_by_reporter(self, reporter_ref: str, since: float) -> list[tuple[str, str]]:
        rows = self.reader.rows(
            "SELECT tracking_id, json_extract(record, '$.body') FROM complaints "
            "WHERE reporter_ref=? AND created_at>=? ORDER BY created_at DESC LIMIT 20",
            (reporter_ref, since),
        )
        return [(r[0], r[1] or "") for r in rows]

    def complaint_by_tracking(self, tracking_id: str) -> dict[str, Any] | None:
        r = self.reader.one(
            "SELECT id, tracking_id, channel, record, reporter_ref, anonymous, confidential, state, attempts, "
            "last_error, central_answer, created_at, forwarded_at FROM complaints WHERE tracking_id=?",
            (tracking_id,),
        )
        return dict(r) if r else None

    def tracking_for_inbound(self, inbound_ids: list[int]) -> dict[int, str]:
        marks = ",".join("?" * len(inbound_ids))
        return {r[0]: r[1] for r in self.reader.rows(
            f"SELECT inbound_id, tracking_id FROM complaints WHERE inbound_id IN ({marks})", inbound_ids)}

    # --- forwarder outbox ----------------------------------------------------------------
    def due_forwards(self, limit: int) -> list[tuple[str, str, str, int]]:
        rows = self.reader.rows(
            "SELECT id, tracking_id, record, attempts FROM complaints WHERE state='normalized' AND next_at<=? "
            "ORDER BY created_at LIMIT ?",
            (time.time(), limit),
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def mark_forwarded(self, complaint_id: str, answer: dict[str, Any]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            now = time.time()
            r = conn.execute(
                "UPDATE complaints SET state='forwarded', central_answer=?, forwarded_at=?, last_error=NULL "
                "WHERE id=? AND state!='forwarded' RETURNING channel, tracking_id",
                (json.dumps(answer), now, complaint_id),
            ).fetchone()
            if r:
                conn.execute(EVENT_INSERT, Event(r[0], "forwarded", tracking_id=r[1]).row(now))

        await self.writer.write(write)

    async def mark_forward_failed(self, complaint_id: str, error: str, next_at: float, dead: bool) -> None:
        def write(conn: sqlite3.Connection) -> None:
            r = conn.execute(
                "UPDATE complaints SET attempts=attempts+1, next_at=?, last_error=?, state=? WHERE id=? "
                "RETURNING channel, tracking_id",
                (next_at, error, "dead_letter" if dead else "normalized", complaint_id),
            ).fetchone()
            if r and dead:
                conn.execute(EVENT_INSERT, Event(r[0], "dead_letter", tracking_id=r[1], detail=error).row(time.time()))

        await self.writer.write(write)

    def retry_dead_sync(self, tracking_ids: Iterable[str] | None = None) -> int:
        ids = list(tracking_ids or [])

        def write(conn: sqlite3.Connection) -> int:
            if ids:
                marks = ",".join("?" * len(ids))
                cur = conn.execute(
                    f"UPDATE complaints SET state='normalized', attempts=0, next_at=0 "
                    f"WHERE state='dead_letter' AND tracking_id IN ({marks}) RETURNING channel, tracking_id",
                    ids,
                )
            else:
                cur = conn.execute(
                    "UPDATE complaints SET state='normalized', attempts=0, next_at=0 WHERE state='dead_letter' "
                    "RETURNING channel, tracking_id"
                )
            rows = cur.fetchall()
            now = time.time()
            for ch, tid in rows:
                conn.execute(EVENT_INSERT, Event(ch, "retry_dead", tracking_id=tid).row(now))
            return len(rows)

        return self.writer.write_sync(write)

    # --- review queue --------------------------------------------------------------------
    def review_queue(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader.rows(
            "SELECT tracking_id, channel, created_at, json_extract(record, '$.needs_review') AS reasons, "
            "json_extract(record, '$.attachments') AS attachments FROM complaints WHERE state='review' "
            "ORDER BY created_at"
        )]

    def review_decide_sync(self, tracking_id: str, approve: bool) -> bool:
        """Approve (forward it, send its held receipts) or reject (keep it, send nothing)."""

        def write(conn: sqlite3.Connection) -> bool:
            r = conn.execute(
                "UPDATE complaints SET state=? WHERE tracking_id=? AND state='review' RETURNING id, channel",
                ("normalized" if approve else "rejected", tracking_id),
            ).fetchone()
            if r is None:
                return False
            conn.execute("UPDATE receipts SET state=? WHERE complaint_id=? AND state='held'",
                         ("pending" if approve else "cancelled", r[0]))
            conn.execute(EVENT_INSERT, Event(r[1], "review_approved" if approve else "review_rejected",
                                             tracking_id).row(time.time()))
            return True

        return self.writer.write_sync(write)

    # --- receipts ------------------------------------------------------------------------
    def due_receipts(self, limit: int) -> list[dict[str, Any]]:
        rows = self.reader.rows(
            "SELECT id, kind, channel, tracking_id, target, body, attempts FROM receipts "
            "WHERE state='pending' AND next_at<=? ORDER BY created_at LIMIT ?",
            (time.time(), limit),
        )
        return [dict(r) | {"target": self.open_json(r["target"]), "body": self.open_json(r["body"])} for r in rows]

    async def set_receipt_state(
        self,
        receipt_id: str,
        state: str,
        *,
        provider_id: str | None = None,
        error: str | None = None,
        next_at: float = 0,
        event: Event | None = None,
    ) -> None:
        def write(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute(
                "UPDATE receipts SET state=?, provider_id=COALESCE(?, provider_id), last_error=?, next_at=?, "
                "attempts=attempts+(CASE WHEN ?='pending' THEN 1 ELSE 0 END), "
                "sent_at=CASE WHEN ?='sent' THEN ? ELSE sent_at END WHERE id=?",
                (state, provider_id, error, next_at, state, state, now, receipt_id),
            )
            if event:
                conn.execute(EVENT_INSERT, event.row(now))

        await self.writer.write(write)

    async def mark_unsure_sending(self) -> int:
        """At start-up: receipts claimed as 'sending' by a crashed process may or may not have left."""
        return await self.writer.write(
            lambda c: c.execute("UPDATE receipts SET state='unsure' WHERE state='sending'").rowcount
        )

    async def resend_unsure(self) -> int:
        """After the grace period no delivery report confirmed them: send again (at-least-once)."""
        return await self.writer.write(
            lambda c: c.execute("UPDATE receipts SET state='pending' WHERE state='unsure'").rowcount
        )

    def receipts_for(self, tracking_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader.rows(
            "SELECT id, kind, channel, state, attempts, provider_id, last_error, created_at, sent_at, "
            "delivered_at, delivery_status FROM receipts WHERE tracking_id=? ORDER BY created_at",
            (tracking_id,),
        )]

    # --- intake log & cursors -----------------------------------------------------------
    async def log_event(self, event: Event) -> None:
        await self.writer.write(lambda c: c.execute(EVENT_INSERT, event.row(time.time())), savepoint=False)

    def events_after(self, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader.rows("SELECT * FROM events WHERE seq>? ORDER BY seq LIMIT ?", (seq, limit))]

    def last_event_seq(self) -> int:
        return int(self.reader.one("SELECT COALESCE(MAX(seq), 0) FROM events")[0])  # type: ignore[index]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for table in ("processed", "complaints", "receipts"):
            out[table] = {r[0]: r[1] for r in self.reader.rows(f"SELECT state, count(*) FROM {table} GROUP BY state")}
        # ids are handed out in order and never reused: the largest is the number accepted
        accepted = self.intake_reader.one("SELECT COALESCE(MAX(id), 0) FROM inbound")
        out["inbound"] = {"accepted": accepted[0] if accepted else 0}
        return out

    def worker_cursor(self) -> int:
        r = self.reader.one("SELECT value FROM cursors WHERE key=?", (WORKER_CURSOR,))
        return int(r[0]) if r else 0

    async def get_cursor(self, key: str) -> str | None:
        """A poller's cursor (kept in the intake file, beside what it accepted)."""
        r = self.intake_reader.one("SELECT value FROM cursors WHERE key=?", (key,))
        return r[0] if r else None

    async def set_cursor(self, key: str, value: str) -> None:
        await self.intake_writer.write(lambda c: _set_cursor(c, key, value, time.time()))


class JournalCursors:
    """:class:`channels.base.CursorStore` over the journal, namespaced per poller."""

    def __init__(self, journal: Journal, prefix: str) -> None:
        self.journal = journal
        self.prefix = prefix

    async def get(self, key: str) -> str | None:
        return await self.journal.get_cursor(f"{self.prefix}:{key}")

    async def set(self, key: str, value: str) -> None:
        await self.journal.set_cursor(f"{self.prefix}:{key}", value)


def _accept_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[AcceptResult]:
    """Insert every caller's messages with one multi-row INSERT; a redelivery keeps the first row.

    A row whose channel id is taken by a message with *other* content (a reused Kannel id or
    Message-ID) is not a redelivery: it is kept as its own message, marked as a conflict.
    """
    first_new = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM inbound").fetchone()[0]
    before = conn.total_changes
    # one multi-row statement: one sqlite3_step, so the writer thread gives up and retakes the GIL once
    # per batch instead of once per row (executemany), which is what the intake path waits on
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        conn.execute(
            "INSERT OR IGNORE INTO inbound(channel, account, external_id, payload, created_at, digest) VALUES "
            + ",".join(["(?,?,?,?,?,?)"] * len(chunk)),
            [v for row in chunk for v in row],
        )
    if conn.total_changes - before == len(rows):  # no duplicates: rowids were handed out in order
        return [AcceptResult(str(first_new + i), False) for i in range(len(rows))]
    out, seen = [], set()
    for channel, account, ext, payload, now, digest in rows:
        rid, stored = conn.execute(
            "SELECT id, digest FROM inbound WHERE channel=? AND account=? AND external_id=?", (channel, account, ext)
        ).fetchone()
        if stored is not None and stored != digest:
            # same id, other content: its own message, once (a replay of it is a duplicate of it)
            other = f"{ext}#{digest[:24]}"
            conn.execute(
                "INSERT OR IGNORE INTO inbound(channel, account, external_id, payload, created_at, digest, conflict) "
                "VALUES (?,?,?,?,?,?,1)", (channel, account, other, payload, now, digest))
            (rid,) = conn.execute(
                "SELECT id FROM inbound WHERE channel=? AND account=? AND external_id=?", (channel, account, other)
            ).fetchone()
        out.append(AcceptResult(str(rid), rid < first_new or rid in seen))
        seen.add(rid)
    return out


def _storable(value: str | None) -> str | None:
    """Text SQLite can bind: a lone surrogate becomes U+FFFD (an event must never fail its batch)."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    return value


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """A journal made before the reuse check gets its columns (rows without a digest never conflict)."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(inbound)")}
    for column, decl in (("digest", "TEXT"), ("conflict", "INTEGER NOT NULL DEFAULT 0")):
        if column not in have:
            conn.execute(f"ALTER TABLE inbound ADD COLUMN {column} {decl}")


def content_digest(index: Callable[[str], str], m: InboundMessage) -> str:
    """Keyed digest of what a message says (not when or how it came): tells a redelivery from a reuse of its id."""
    parts = [m.sender or "", m.subject or "", m.text, *(a.sha256 for a in m.attachments)]
    if m.raw is not None:
        parts.append(hashlib.sha256(m.raw).hexdigest())
    return index("\x00".join(parts))


def _storage_fault(exc: BaseException) -> bool:
    """A fault of the disk or the database file (full, I/O, read-only), as opposed to one value refused."""
    code = getattr(exc, "sqlite_errorcode", None)
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


def _set_cursor(conn: sqlite3.Connection, key: str, value: str, now: float) -> None:
    conn.execute(
        "INSERT INTO cursors(key, value, updated_at) VALUES (?,?,?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
        (key, value, now),
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
    if c is not None:
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
        conn.execute(
            "UPDATE receipts SET delivery_status=?, delivered_at=CASE WHEN ?='delivered' THEN ? ELSE delivered_at END, "
            "state=CASE WHEN state IN ('sending','pending','unsure') AND ? IN ('accepted','delivered') THEN 'sent' ELSE state END "
            "WHERE (id=? OR provider_id=? OR (tracking_id=? AND kind='receipt')) AND channel LIKE ? || '%'",
            (status, status, now, status, rid, rid, rid, family),
        )
    _set_processed(conn, o.inbound_id, o.state, 0, o.error, bump=False)
    for e in o.events:
        conn.execute(EVENT_INSERT, e.row(now))
