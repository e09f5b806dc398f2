"""Send quotas' counts (``rate_sends``) and their once-per-window notes (``rate_notes``), in the state file.

The check, the count and the claim of the receipt (``sending``) are one write through the state
writer, so two sends racing for the last slot cannot both pass. Which rules apply and under which
key is :mod:`gateway.worker.rate_limits`'s business; this module only counts.
"""

from __future__ import annotations

import sqlite3

from gateway.store.records import Claim, Event, RateCheck
from gateway.store.sqlite.base import Files
from gateway.store.sqlite.events import EVENT_INSERT

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rate_sends (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rate_sends_key ON rate_sends(key, at)",
    "CREATE INDEX IF NOT EXISTS rate_sends_at ON rate_sends(at)",
    "CREATE TABLE IF NOT EXISTS rate_notes (key TEXT PRIMARY KEY, until REAL NOT NULL)",
)


class RateLimitTables(Files):
    _rate_schema_ready = False  # set once a batch that created the tables has committed

    async def claim_send(self, receipt_id: str, checks: list[RateCheck], now: float, *, horizon: float,
                         channel: str, tracking_id: str | None) -> Claim:
        """See :class:`gateway.store.ports.RateLimitStore`."""
        ready = self._rate_schema_ready

        def write(conn: sqlite3.Connection) -> Claim:
            _ensure_schema(conn, ready)
            state = conn.execute("SELECT state FROM receipts WHERE id=?", (receipt_id,)).fetchone()
            if state is None or state[0] != "pending":
                return Claim("gone")  # settled meanwhile (a delivery report, a review decision)
            over, drop = _over(conn, checks, now, horizon)
            if drop is not None:
                conn.execute("UPDATE receipts SET state='rate_limited', last_error=? WHERE id=?",
                             (f"rate limit {drop.name}", receipt_id))
                _note_once(conn, drop, now, channel, tracking_id)
                return Claim("limited", drop.name)
            if over:
                latest, free = max(over, key=lambda o: o[1])
                conn.execute("UPDATE receipts SET next_at=?, last_error=? WHERE id=?",
                             (free, f"rate limit {latest.name}", receipt_id))
                for c, _free in over:
                    _note_once(conn, c, now, channel, tracking_id)
                return Claim("deferred", latest.name, free)
            counted = _count(conn, checks, now)
            conn.execute("UPDATE receipts SET state='sending', last_error=NULL, next_at=0 WHERE id=?", (receipt_id,))
            return Claim("send", counted=counted)

        claim = await self.state_writer.write(write)
        self._rate_schema_ready = True  # only once a batch with the schema in it has committed (a full disk rolls it back)
        return claim

    async def claim_post(self, response_id: str, checks: list[RateCheck], now: float, *, horizon: float,
                         channel: str, tracking_id: str | None) -> Claim:
        """See :class:`gateway.store.ports.RateLimitStore`."""
        ready = self._rate_schema_ready

        def write(conn: sqlite3.Connection) -> Claim:
            _ensure_schema(conn, ready)
            state = conn.execute("SELECT state FROM citizen_responses WHERE id=?", (response_id,)).fetchone()
            if state is None or state[0] != "pending":
                return Claim("gone")
            over, drop = _over(conn, checks, now, horizon)
            if drop is not None:
                conn.execute("UPDATE citizen_responses SET state='held', last_error=? WHERE id=?",
                             (f"rate limit {drop.name}: over {drop.limit} per {drop.window:g} s", response_id))
                _note_once(conn, drop, now, channel, tracking_id)
                return Claim("limited", drop.name)
            if over:
                latest, free = max(over, key=lambda o: o[1])
                conn.execute("UPDATE citizen_responses SET next_at=? WHERE id=?", (free, response_id))
                return Claim("deferred", latest.name, free)
            counted = _count(conn, checks, now)
            return Claim("send", counted=counted)

        claim = await self.state_writer.write(write)
        self._rate_schema_ready = True
        return claim

    async def count_sends(self, checks: list[RateCheck], now: float, *, horizon: float, channel: str,
                          tracking_id: str | None) -> Claim:
        """See :class:`gateway.store.ports.RateLimitStore`."""
        ready = self._rate_schema_ready

        def write(conn: sqlite3.Connection) -> Claim:
            _ensure_schema(conn, ready)
            over, drop = _over(conn, checks, now, horizon)
            if drop is not None:
                _note_once(conn, drop, now, channel, tracking_id)
                return Claim("limited", drop.name)
            if over:
                latest, free = max(over, key=lambda o: o[1])
                for c, _free in over:
                    _note_once(conn, c, now, channel, tracking_id)
                return Claim("deferred", latest.name, free)
            counted = _count(conn, checks, now)
            return Claim("send", counted=counted)

        claim = await self.state_writer.write(write)
        self._rate_schema_ready = True
        return claim

    async def give_back_sends(self, counted: list[int]) -> None:
        """See :class:`gateway.store.ports.RateLimitStore`."""
        if not counted:
            return
        marks = ",".join("?" * len(counted))
        await self.state_writer.write(
            lambda c: c.execute(f"DELETE FROM rate_sends WHERE id IN ({marks})", counted), savepoint=False
        )


def _ensure_schema(conn: sqlite3.Connection, ready: bool) -> None:
    if not ready:
        for statement in SCHEMA:  # one by one: executescript would commit the writer's batch
            conn.execute(statement)


def _over(conn: sqlite3.Connection, checks: list[RateCheck], now: float,
          horizon: float) -> tuple[list[tuple[RateCheck, float]], RateCheck | None]:
    """The checks with no room now (each with when its next slot frees), and the first of them that drops."""
    if horizon:
        conn.execute("DELETE FROM rate_sends WHERE at<=?", (now - horizon,))
    over = [(c, free) for c in checks if (free := _slot_free_at(conn, c, now)) is not None]
    return over, next((c for c, _free in over if not c.defer), None)


def _count(conn: sqlite3.Connection, checks: list[RateCheck], now: float) -> list[int]:
    """One send counted under every check; the ids, to give back if it does not happen."""
    return [int(conn.execute("INSERT INTO rate_sends(key, at) VALUES (?,?)", (c.key, now)).lastrowid or 0)
            for c in checks]


def _slot_free_at(conn: sqlite3.Connection, check: RateCheck, now: float) -> float | None:
    """None while the rule has room for one more send now; otherwise when the next slot frees."""
    since = now - check.window
    (n,) = conn.execute("SELECT count(*) FROM rate_sends WHERE key=? AND at>?", (check.key, since)).fetchone()
    if n < check.limit:
        return None
    (at,) = conn.execute("SELECT at FROM rate_sends WHERE key=? AND at>? ORDER BY at LIMIT 1 OFFSET ?",
                         (check.key, since, n - check.limit)).fetchone()
    return float(at) + check.window


def _note_once(conn: sqlite3.Connection, check: RateCheck, now: float, channel: str, tracking_id: str | None) -> None:
    """One intake-log event per key and window: a flood of 200 is one line, not 200."""
    conn.execute("DELETE FROM rate_notes WHERE until<=?", (now,))
    if conn.execute("INSERT OR IGNORE INTO rate_notes(key, until) VALUES (?,?)", (check.key, now + check.window)).rowcount:
        detail = f"{check.name}: over {check.limit} per {check.window:g} s"
        conn.execute(EVENT_INSERT, Event(channel, check.event, tracking_id, detail=detail).row(now))
