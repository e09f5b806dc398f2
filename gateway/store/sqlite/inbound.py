"""What citizens sent: accepted on the hot path (one multi-row INSERT per group commit), read by the worker."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from channels.base import AcceptResult
from channels.journal_forms import open_journaled
from channels.message import InboundMessage, JournalEntry, content_of
from gateway.store.records import DueInbound
from gateway.store.sqlite.base import Files, set_cursor_row


class InboundTables(Files):
    async def accept(self, msg: InboundMessage) -> AcceptResult:
        """Journal one message durably; a redelivery returns the first id with duplicate=True."""
        return (await self.accept_many([msg]))[0]

    async def accept_many(self, msgs: list[InboundMessage]) -> list[AcceptResult]:
        now = time.time()
        index, seal = self.sealer.index, self.sealer.seal
        rows = [
            (m.channel, m.account, index(m.external_id), seal(journal_bytes(m)), now, index(message_content(m)))
            for m in msgs
        ]
        return await self.intake_writer.write_bulk("accept", rows)

    async def accept_entries(self, entries: list[JournalEntry]) -> list[AcceptResult]:
        """Journal webhook entries (:class:`channels.base.JournalsEntries`) as :meth:`accept_many` does messages:
        the same row, keyed and deduplicated the same, ``data`` sealed as the channel wrote it."""
        now = time.time()
        index, seal = self.sealer.index, self.sealer.seal
        rows = [(e.channel, e.account, index(e.external_id), seal(e.data), now, index(e.content)) for e in entries]
        return await self.intake_writer.write_bulk("accept", rows)

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
            msg = open_journaled(self.sealer.open(payload), created_at)
        except Exception as exc:  # a damaged row must not stop every other message
            return DueInbound(inbound_id, None, attempts, created_at, bool(conflict), f"unreadable ({type(exc).__name__})")
        return DueInbound(inbound_id, msg, attempts, created_at, bool(conflict))

    async def get_cursor(self, key: str) -> str | None:
        """A poller's cursor (kept in the intake file, beside what it accepted)."""
        r = await asyncio.to_thread(self.intake_reader.one, "SELECT value FROM cursors WHERE key=?", (key,))
        return r[0] if r else None

    async def set_cursor(self, key: str, value: str) -> None:
        await self.intake_writer.write(lambda c: set_cursor_row(c, key, value, time.time()))


class JournalCursors:
    """:class:`channels.base.CursorStore` over the journal, namespaced per poller."""

    def __init__(self, journal: InboundTables, prefix: str) -> None:
        self.journal = journal
        self.prefix = prefix

    async def get(self, key: str) -> str | None:
        return await self.journal.get_cursor(f"{self.prefix}:{key}")

    async def set(self, key: str, value: str) -> None:
        await self.journal.set_cursor(f"{self.prefix}:{key}", value)


_INSERT = "INSERT INTO inbound(channel, account, external_id, payload, created_at, digest) VALUES "
_INSERT_OR_IGNORE = _INSERT.replace("INSERT", "INSERT OR IGNORE", 1)


MAX_ROWS = 1000  # rows in one INSERT: 6,000 bound values, below SQLite's limit on variables


def _values(n: int) -> str:
    return ",".join(["(?,?,?,?,?,?)"] * n)


def _new_results(first_id: int, n: int) -> list[AcceptResult]:
    """``n`` new messages journaled under consecutive ids from ``first_id``."""
    return [AcceptResult(str(first_id + i), False) for i in range(n)]


def accept_new_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[AcceptResult] | None:
    """The common batch, where every message is new: one INSERT that commits itself (outside a transaction).

    A redelivery in the batch makes the statement fail as a whole on the unique key, having written
    nothing: None, and the batch goes through :func:`accept_rows` instead.
    """
    if not rows or len(rows) > MAX_ROWS:
        return None
    try:
        cur = conn.execute(_INSERT + _values(len(rows)), [v for row in rows for v in row])
    except sqlite3.IntegrityError:
        return None
    # one statement's rows take consecutive rowids (below rowid 2**63-1, which no journal reaches), its last
    # is the statement's lastrowid
    return _new_results(int(cur.lastrowid or 0) - len(rows) + 1, len(rows))


def accept_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[AcceptResult]:
    """Insert every caller's messages with one multi-row INSERT; a redelivery keeps the first row.

    A row whose channel id is taken by a message with *other* content (a reused Kannel id or
    Message-ID) is not a redelivery: it is kept as its own message, marked as a conflict.
    """
    first_new = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM inbound").fetchone()[0]
    before = conn.total_changes
    # one multi-row statement: one sqlite3_step, so the writer thread gives up and retakes the GIL once
    # per batch instead of once per row (executemany), which is what the intake path waits on
    for start in range(0, len(rows), MAX_ROWS):
        chunk = rows[start : start + MAX_ROWS]
        conn.execute(_INSERT_OR_IGNORE + _values(len(chunk)), [v for row in chunk for v in row])
    if conn.total_changes - before == len(rows):  # no duplicates: rowids were handed out in order
        return _new_results(first_new, len(rows))
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



_TO_JSON = InboundMessage.__pydantic_serializer__.to_json
_ALWAYS = frozenset({"received_at"})


def journal_bytes(m: InboundMessage) -> bytes:
    """The message as the journal keeps it: the fields its channel set, and always its receive time.

    Half the cost of ``model_dump_json(exclude_defaults=True)``, which compares every field with its
    default; the receive time is named because its default is a factory (now): left out when the
    channel did not set it, each reading would make a new one."""
    return _TO_JSON(m, include=m.model_fields_set | _ALWAYS)


def message_content(m: InboundMessage) -> str:
    """:func:`channels.message.content_of` a message, its attachments and raw bytes included."""
    more = [a.sha256 for a in m.attachments]
    if m.raw is not None:
        more.append(hashlib.sha256(m.raw).hexdigest())
    return content_of(m.sender, m.subject, m.text, *more)

