"""Send quotas' counts (``rate_sends``) and their once-per-window notes (``rate_notes``), in the state file.

The check, the count and the claim of the receipt (``sending``) are one write through the state
writer, so two sends racing for the last slot cannot both pass. Which rules apply and under which
key is :mod:`gateway.worker.rate_limits`'s business; this module only counts.

A key's sends older than its window are deleted when it is checked, and triggers keep the number of
each key's rows in ``rate_counts``: a check reads one row, however many sends its window holds. (A
``count(*)`` over the window read every one of them: the overall SMS quota, 6,000 a minute, cost each
receipt 6,000 index steps at the cap.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from gateway.store.records import Claim, Event, RateCheck
from gateway.store.sqlite.base import Files
from gateway.store.sqlite.events import EVENT_INSERT

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rate_sends (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rate_sends_key ON rate_sends(key, at)",
    "CREATE INDEX IF NOT EXISTS rate_sends_at ON rate_sends(at)",
    "CREATE TABLE IF NOT EXISTS rate_notes (key TEXT PRIMARY KEY, until REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rate_counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
)
COUNTED = "rate_sends_counted"
TRIGGERS = (  # rate_counts.n is the number of rate_sends rows under the key, kept by SQLite itself
    f"CREATE TRIGGER {COUNTED} AFTER INSERT ON rate_sends BEGIN "
    "INSERT INTO rate_counts(key, n) VALUES (new.key, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER rate_sends_uncounted AFTER DELETE ON rate_sends BEGIN "
    "UPDATE rate_counts SET n = n - 1 WHERE key = old.key; DELETE FROM rate_counts WHERE key = old.key AND n <= 0; END",
)


class RateLimitTables(Files):
    _rate_schema_ready = False  # set once a batch that created the tables has committed

    async def claim_send(self, receipt_id: str, checks: list[RateCheck], now: float, *, horizon: float,
                         channel: str, tracking_id: str | None) -> Claim:
        """See :class:`gateway.store.ports.RateLimitStore`."""

        def write(conn: sqlite3.Connection) -> Claim:
            state = conn.execute("SELECT state FROM receipts WHERE id=?", (receipt_id,)).fetchone()
            if state is None or state[0] != "pending":
                return Claim("gone")  # settled meanwhile (a delivery report, a review decision)
            claim, _check = _decide(conn, checks, now, horizon, channel, tracking_id, note_deferred=True)
            if claim.outcome == "limited":
                conn.execute("UPDATE receipts SET state='rate_limited', last_error=? WHERE id=?",
                             (f"rate limit {claim.rule}", receipt_id))
            elif claim.outcome == "deferred":
                conn.execute("UPDATE receipts SET next_at=?, last_error=? WHERE id=?",
                             (claim.next_at, f"rate limit {claim.rule}", receipt_id))
            else:
                conn.execute("UPDATE receipts SET state='sending', last_error=NULL, next_at=0 WHERE id=?", (receipt_id,))
            return claim

        return await self._rate_write(write)

    async def claim_post(self, response_id: str, checks: list[RateCheck], now: float, *, horizon: float,
                         channel: str, tracking_id: str | None) -> Claim:
        """See :class:`gateway.store.ports.RateLimitStore`."""

        def write(conn: sqlite3.Connection) -> Claim:
            state = conn.execute("SELECT state FROM citizen_responses WHERE id=?", (response_id,)).fetchone()
            if state is None or state[0] != "pending":
                return Claim("gone")
            # only a held answer is noted in the log; a deferred one just waits for its slot
            claim, check = _decide(conn, checks, now, horizon, channel, tracking_id, note_deferred=False)
            if claim.outcome == "limited" and check is not None:
                conn.execute("UPDATE citizen_responses SET state='held', last_error=? WHERE id=?",
                             (f"rate limit {check.name}: over {check.limit} per {check.window:g} s", response_id))
            elif claim.outcome == "deferred":
                conn.execute("UPDATE citizen_responses SET next_at=? WHERE id=?", (claim.next_at, response_id))
            return claim

        return await self._rate_write(write)

    async def count_sends(self, checks: list[RateCheck], now: float, *, horizon: float, channel: str,
                          tracking_id: str | None) -> Claim:
        """See :class:`gateway.store.ports.RateLimitStore`."""
        return await self._rate_write(
            lambda conn: _decide(conn, checks, now, horizon, channel, tracking_id, note_deferred=True)[0])

    async def _rate_write(self, write: Callable[[sqlite3.Connection], Claim]) -> Claim:
        """``write`` in the state writer's batch, the tables created first until a batch that did has committed."""
        ready = self._rate_schema_ready

        def run(conn: sqlite3.Connection) -> Claim:
            _ensure_schema(conn, ready)
            return write(conn)

        claim = await self.state_writer.write(run)
        self._rate_schema_ready = True  # only once a batch with the schema in it has committed (a full disk rolls it back)
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
    if ready:
        return
    for statement in SCHEMA:  # one by one: executescript would commit the writer's batch
        conn.execute(statement)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='trigger' AND name=?", (COUNTED,)).fetchone() is None:
        # a state file from before the counts (or a new one): they start from the sends it holds, in the same batch
        conn.execute("DELETE FROM rate_counts")
        for statement in TRIGGERS:
            conn.execute(statement)
        conn.execute("INSERT INTO rate_counts(key, n) SELECT key, count(*) FROM rate_sends GROUP BY key")


def _decide(conn: sqlite3.Connection, checks: list[RateCheck], now: float, horizon: float, channel: str,
            tracking_id: str | None, *, note_deferred: bool) -> tuple[Claim, RateCheck | None]:
    """Send, limited or deferred under ``checks``, and the check that said no: a send is counted, a limit
    noted once per window (a deferral too when ``note_deferred``: every check with no room is noted)."""
    over, drop = _over(conn, checks, now, horizon)
    if drop is not None:
        _note_once(conn, drop, now, channel, tracking_id)
        return Claim("limited", drop.name), drop
    if over:
        latest, free = max(over, key=lambda o: o[1])
        if note_deferred:
            for c, _free in over:
                _note_once(conn, c, now, channel, tracking_id)
        return Claim("deferred", latest.name, free), latest
    return Claim("send", counted=_count(conn, checks, now)), None


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
    # what is left under the key after this is the window's sends (a key is one rule's: one window)
    conn.execute("DELETE FROM rate_sends WHERE key=? AND at<=?", (check.key, now - check.window))
    row = conn.execute("SELECT n FROM rate_counts WHERE key=?", (check.key,)).fetchone()
    n = row[0] if row else 0
    if n < check.limit:
        return None
    (at,) = conn.execute("SELECT at FROM rate_sends WHERE key=? ORDER BY at LIMIT 1 OFFSET ?",
                         (check.key, n - check.limit)).fetchone()
    return float(at) + check.window


def _note_once(conn: sqlite3.Connection, check: RateCheck, now: float, channel: str, tracking_id: str | None) -> None:
    """One intake-log event per key and window: a flood of 200 is one line, not 200."""
    conn.execute("DELETE FROM rate_notes WHERE until<=?", (now,))
    if conn.execute("INSERT OR IGNORE INTO rate_notes(key, until) VALUES (?,?)", (check.key, now + check.window)).rowcount:
        detail = f"{check.name}: over {check.limit} per {check.window:g} s"
        conn.execute(EVENT_INSERT, Event(channel, check.event, tracking_id, detail=detail).row(now))
