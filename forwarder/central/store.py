"""The reference central store's storage: one SQLite file, durable group commit.

Writes go through :class:`forwarder.groupcommit.GroupCommitWriter` (one writer
thread, one fsync per batch); reads go through its :class:`Reader` in worker
threads. Records are kept exactly as received (the raw JSON text) next to the
few columns the API filters on. Timestamps are stored as fixed-width UTC ISO
strings so that text order is time order.

Idempotency: the ``Idempotency-Key`` is unique and remembers the body's hash
and the first answer. A replay with the same body gets that answer (200); the
same key with another body, or another key for a tracking ID already stored,
is a conflict (409). The check is the INSERT itself, so the fast path costs two
INSERTs and no SELECT.

The return path (answers, the updates feed, citizen responses) is in :mod:`.conversation`,
the clock's expiries in :mod:`.expiry`; every write that adds updates tells the listeners
(the wake-up push) the newest ``update_id`` once it is durable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forwarder.groupcommit import GroupCommitWriter, Reader
from normalizer.record import Complaint

from . import conversation, expiry
from .bodies import AgencyResponse, CitizenResponse
from .conversation import UnknownComplaint  # noqa: F401 - re-exported (app, package)
from .status import INITIAL, STATUSES, check_transition
from .workdays import DEFAULT_CALENDAR, WorkdayCalendar

log = logging.getLogger("lapor.central")

SCHEMA = """
CREATE TABLE IF NOT EXISTS complaints (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_id  TEXT NOT NULL UNIQUE,
    idem_key     TEXT NOT NULL UNIQUE,
    body_hash    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    stored_at    TEXT NOT NULL,
    status       TEXT NOT NULL,
    status_since TEXT NOT NULL,
    entered      TEXT NOT NULL,  -- JSON {status: when it was last entered}, anchors of the clock
    answer       TEXT NOT NULL,  -- the first answer, replayed for the same Idempotency-Key
    record       TEXT NOT NULL   -- the complaint JSON as received
);
CREATE INDEX IF NOT EXISTS complaints_channel ON complaints (channel, seq);
CREATE TABLE IF NOT EXISTS status_history (
    id           INTEGER PRIMARY KEY,
    tracking_id  TEXT NOT NULL REFERENCES complaints (tracking_id),
    status       TEXT NOT NULL,
    at           TEXT NOT NULL,
    note         TEXT
);
CREATE INDEX IF NOT EXISTS status_history_tid ON status_history (tracking_id, id);
"""

MAX_LIMIT = 500
UPDATES_DEFAULT_LIMIT = 100
SWEEP_MAX = 1000  # expiries per sweep, so one sweep never holds the writer long
_CURSOR_PREFIX = "c1:"


class InvalidRecord(Exception):
    """The body is not a valid complaint record. ``errors`` hold locations and messages, never values."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"invalid complaint record ({len(errors)} errors)")
        self.errors = errors


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class UpdatesPage:
    items: list[dict[str, Any]]
    next_after: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC ISO text; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Raise ValueError for anything that is not a cursor we issued."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("bad cursor") from exc
    if not text.startswith(_CURSOR_PREFIX) or not text[len(_CURSOR_PREFIX) :].isdigit():
        raise ValueError("bad cursor")
    return int(text[len(_CURSOR_PREFIX) :])


def validate_record(record_json: str | bytes) -> Complaint:
    """Parse and validate; the errors keep pydantic's locations and messages but drop inputs."""
    try:
        return Complaint.model_validate_json(record_json)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise InvalidRecord([{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in errors]) from None


class CentralStore:
    """Complaints, their status, history and updates, in one SQLite file (tables created on open).

    ``clock`` gives "now" (UTC) for every write; tests pin it.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        batch_max: int = 256,
        calendar: WorkdayCalendar | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.path = Path(path)
        self.calendar = calendar or DEFAULT_CALENDAR
        self.clock = clock
        self._writer = GroupCommitWriter(self.path, SCHEMA + conversation.SCHEMA, batch_max=batch_max)
        self._reader = Reader(self.path)
        self._listeners: list[Callable[[int], None]] = []

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """``listener(newest_update_id)`` after each durable write that added updates; must not block."""
        self._listeners.append(listener)

    def _announce(self, answers: list[dict[str, Any]]) -> None:
        if not answers:
            return
        newest = max(a["update_id"] for a in answers)
        for listener in self._listeners:
            try:
                listener(newest)
            except Exception:  # a listener's bug must not fail the write that already happened
                log.exception("update listener failed")

    # -- writes ---------------------------------------------------------------

    async def put(self, key: str, body_hash: str, record_json: str | bytes) -> tuple[int, dict[str, Any]]:
        """Store a complaint once per key: (201, answer), (200, first answer) or (409, error).

        Raises :class:`InvalidRecord` when the body is not a complaint record.
        """
        complaint = validate_record(record_json)
        raw = record_json.decode() if isinstance(record_json, bytes) else record_json
        now = utc_text(self.clock())
        answer = {
            "tracking_id": complaint.tracking_id,
            "status": INITIAL,
            "received_at": complaint.received_at.isoformat(),
            "stored_at": now,
            "due": self._due(complaint.received_at, {}),
        }
        answer_json = json.dumps(answer, separators=(",", ":"))
        row = (
            complaint.tracking_id, key, body_hash, complaint.channel, utc_text(complaint.received_at), now,
            INITIAL, now, json.dumps({INITIAL: now}), answer_json, raw,
        )  # fmt: skip

        def insert(conn: sqlite3.Connection) -> tuple[int, dict[str, Any]]:
            try:
                conn.execute(
                    "INSERT INTO complaints (tracking_id, idem_key, body_hash, channel, received_at, stored_at,"
                    " status, status_since, entered, answer, record) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    row,
                )
            except sqlite3.IntegrityError:
                return _replay(conn, key, body_hash)
            conn.execute(
                "INSERT INTO status_history (tracking_id, status, at) VALUES (?,?,?)",
                (complaint.tracking_id, INITIAL, now),
            )
            return 201, answer

        return await self._writer.write(insert)

    async def set_status(self, tracking_id: str, status: str, note: str | None = None) -> dict[str, Any]:
        """Move a complaint along (adding a ``status`` update whose text is the note).

        Raises UnknownComplaint, or TransitionError when the move is not allowed.
        """
        if status not in STATUSES:
            raise ValueError("unknown status")
        now = utc_text(self.clock())

        def move(conn: sqlite3.Connection) -> tuple[sqlite3.Row, dict[str, Any]]:
            found = conversation.current(conn, tracking_id)
            check_transition(found["status"], status)
            conversation.move(conn, tracking_id, found, status, now, note)
            answer = conversation.add_update(conn, tracking_id, "status", status, note, now)
            return conn.execute(_STATUS_SQL, (tracking_id,)).fetchone(), answer

        row, answer = await self._writer.write(move)
        self._announce([answer])
        return self._status_view(row)

    async def respond(self, tracking_id: str, body: AgencyResponse) -> dict[str, Any]:
        """An agency's answer or request for details: one update. Raises UnknownComplaint, TransitionError."""
        now = utc_text(self.clock())
        answer = await self._writer.write(lambda conn: conversation.respond(conn, tracking_id, body, now))
        self._announce([answer])
        return answer

    async def citizen_respond(
        self, tracking_id: str, key: str, body_bytes: bytes, body: CitizenResponse
    ) -> tuple[int, dict[str, Any]]:
        """A citizen's answer once per key: (201, answer), (200, first answer), (409, error); or UnknownComplaint."""
        now = utc_text(self.clock())
        body_hash = hashlib.sha256(tracking_id.encode() + b"\n" + body_bytes).hexdigest()
        status, answer = await self._writer.write(
            lambda conn: conversation.citizen_respond(conn, tracking_id, key, body_hash, body, now)
        )
        if status == 201:
            self._announce([answer])
        return status, answer

    async def sweep(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Close and archive complaints whose clock ran out at ``now`` (default: the store's clock)."""
        moment = now or self.clock()
        due = await self._reader.aquery(lambda c: expiry.find_expired(c, moment, self.calendar, SWEEP_MAX))
        if not due:
            return []
        added = await self._writer.write(lambda conn: expiry.expire(conn, due, utc_text(moment)))
        self._announce(added)
        return added

    # -- reads ----------------------------------------------------------------

    async def status(self, tracking_id: str) -> dict[str, Any] | None:
        """Status and due dates only: nothing from the record itself."""
        found = await self._reader.aquery(lambda c: c.execute(_STATUS_SQL, (tracking_id,)).fetchone())
        return None if found is None else self._status_view(found)

    async def get(self, tracking_id: str) -> dict[str, Any] | None:
        """The record as received, with status, due dates, status history and the conversation."""

        def read(conn: sqlite3.Connection) -> tuple[sqlite3.Row | None, list[sqlite3.Row], list[dict[str, Any]]]:
            conn.execute("BEGIN")  # one snapshot for the three reads
            try:
                found = conn.execute("SELECT * FROM complaints WHERE tracking_id = ?", (tracking_id,)).fetchone()
                if found is None:
                    return None, [], []
                hist = conn.execute(
                    "SELECT status, at, note FROM status_history WHERE tracking_id = ? ORDER BY id", (tracking_id,)
                ).fetchall()
                return found, hist, conversation.responses(conn, tracking_id)
            finally:
                conn.execute("COMMIT")

        found, hist, responses = await self._reader.aquery(read)
        if found is None:
            return None
        item = self._full_view(found)
        item["history"] = [{k: h[k] for k in ("status", "at", "note") if h[k] is not None} for h in hist]
        item["responses"] = responses
        return item

    async def updates(self, after: int = 0, limit: int = UPDATES_DEFAULT_LIMIT) -> UpdatesPage:
        """The feed in ``update_id`` order after ``after``; ``next_after`` is the last id returned (or ``after``)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}")
        if after < 0:
            raise ValueError("after must be >= 0")
        items = await self._reader.aquery(lambda c: conversation.feed(c, after, limit))
        return UpdatesPage(items, items[-1]["update_id"] if items else after)

    async def list(
        self,
        *,
        since: datetime | None = None,
        channel: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        """Records in arrival order; ``since`` filters on the complaint's ``received_at``."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}")
        where, args = ["seq > ?"], [decode_cursor(cursor) if cursor else 0]
        if since is not None:
            where.append("received_at >= ?")
            args.append(utc_text(since))
        if channel is not None:
            where.append("channel = ?")
            args.append(channel)
        sql = f"SELECT * FROM complaints WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
        rows = await self._reader.aquery(lambda c: c.execute(sql, (*args, limit + 1)).fetchall())
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([self._full_view(r) for r in rows], encode_cursor(rows[-1]["seq"]) if more else None)

    async def count(self) -> int:
        return await self._reader.aquery(lambda c: c.execute("SELECT count(*) FROM complaints").fetchone()[0])

    def close(self) -> None:
        """Wait for the writer to finish its last batch, then close every connection."""
        self._writer.close()
        self._reader.close()

    # -- views ----------------------------------------------------------------

    def _due(self, received_at: datetime, entered: dict[str, str]) -> dict[str, str | None]:
        anchors = {s: datetime.fromisoformat(at) for s, at in entered.items()}
        due = self.calendar.due_dates(received_at, anchors)
        return {name: None if at is None else at.isoformat() for name, at in due.items()}

    def _status_view(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "tracking_id": row["tracking_id"],
            "status": row["status"],
            "status_since": row["status_since"],
            "due": self._due(datetime.fromisoformat(row["received_at"]), json.loads(row["entered"])),
        }

    def _full_view(self, row: sqlite3.Row) -> dict[str, Any]:
        view = self._status_view(row)
        view["stored_at"] = row["stored_at"]
        view["record"] = json.loads(row["record"])
        return view


_STATUS_SQL = "SELECT tracking_id, status, status_since, received_at, entered FROM complaints WHERE tracking_id = ?"


def _replay(conn: sqlite3.Connection, key: str, body_hash: str) -> tuple[int, dict[str, Any]]:
    first = conn.execute("SELECT body_hash, answer FROM complaints WHERE idem_key = ?", (key,)).fetchone()
    if first is None:
        return 409, {"error": "tracking_id already stored under another Idempotency-Key"}
    if first["body_hash"] != body_hash:
        return 409, {"error": "Idempotency-Key already used with a different body"}
    return 200, json.loads(first["answer"])
