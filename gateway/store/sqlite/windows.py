"""When a citizen last wrote on a chat channel: WhatsApp's 24-hour window for free text is counted from it.

Built from the inbound journal itself, so every message counts (a complaint, a reply, ``CEK``), also one
the worker has not decided yet, and nothing else has to keep it in step. The sender is sealed inside the
payload, so the worker indexes the journal on demand: each lookup first reads the rows of the channel
journaled since the last one (never older than the window; each payload opened once, ever) into
``chat_windows`` — the latest time per keyed digest of channel, account and sender, no number at rest —
and then answers from that table.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from channels.journal_forms import open_journaled
from gateway.store.sqlite.base import Files, set_cursor_row

PAGE = 500
CURSOR = "windows:"  # + channel: the last inbound id indexed for it
_LOCK = threading.Lock()  # one indexing walk at a time; the others then find it done


class WindowTables(Files):
    def last_inbound_from(self, channel: str, account: str, sender: str, since: float) -> float | None:
        """The Unix time of ``sender``'s newest message on ``channel``/``account`` after ``since``, or None.

        The time is the earlier of the provider's timestamp and ours: a window is never taken as longer
        than it is.
        """
        with _LOCK:
            self._index_windows(channel, since)
        r = self.reader.one("SELECT last_at FROM chat_windows WHERE key=?", (self._window_key(channel, account, sender),))
        return float(r[0]) if r is not None and r[0] >= since else None

    def _window_key(self, channel: str, account: str, sender: str) -> str:
        return self.sealer.index(f"window\x1f{channel}\x1f{account}\x1f{sender}")

    def _index_windows(self, channel: str, since: float) -> None:
        r = self.reader.one("SELECT value FROM cursors WHERE key=?", (CURSOR + channel,))
        done = int(r[0]) if r is not None and str(r[0]).isdigit() else 0
        at = self.intake_reader.one("SELECT created_at FROM inbound WHERE id=?", (done,)) if done else None
        # indexed up to a row inside the window: go on from there; else skip what the window cannot hold
        after = done if at is not None and at[0] >= since else max(done, self._first_id_since(since) - 1)
        while True:
            rows = self.intake_reader.rows(
                # +channel: walk the ids (the new rows), not the (channel, account, external_id) index
                "SELECT id, account, payload, created_at FROM inbound WHERE id>? AND +channel=? ORDER BY id LIMIT ?",
                (after, channel, PAGE),
            )
            if not rows:
                return
            latest: dict[str, float] = {}
            for row in rows:
                try:
                    msg = open_journaled(self.sealer.open(row["payload"]), row["created_at"])
                except Exception:  # a damaged row says nothing about anyone
                    continue
                if msg.sender and msg.kind != "status":
                    key = self._window_key(channel, row["account"], msg.sender)
                    at = min(msg.received_at.timestamp(), row["created_at"])
                    latest[key] = max(latest.get(key, 0.0), at)
            after = rows[-1]["id"]
            self.state_writer.write_sync(lambda conn, found=latest, last=after: _record(conn, channel, found, last, since))
            if len(rows) < PAGE:
                return

    def _first_id_since(self, since: float) -> int:
        """The first inbound id journaled at or after ``since`` (ids grow with time), by bisection."""
        bounds = self.intake_reader.one("SELECT min(id), max(id) FROM inbound")
        if bounds is None or bounds[0] is None:
            return 1
        lo, hi = int(bounds[0]), int(bounds[1]) + 1
        while lo < hi:
            mid = (lo + hi) // 2
            r = self.intake_reader.one("SELECT id, created_at FROM inbound WHERE id>=? ORDER BY id LIMIT 1", (mid,))
            if r is None or r["created_at"] >= since:
                hi = mid
            else:
                lo = int(r["id"]) + 1
        return lo


def _record(conn: sqlite3.Connection, channel: str, found: dict[str, float], last_id: int, since: float) -> None:
    conn.executemany(
        "INSERT INTO chat_windows(key, last_at) VALUES (?,?) "
        "ON CONFLICT(key) DO UPDATE SET last_at=max(last_at, excluded.last_at)", list(found.items()))
    have = conn.execute("SELECT value FROM cursors WHERE key=?", (CURSOR + channel,)).fetchone()
    before = int(have[0]) if have is not None and str(have[0]).isdigit() else 0
    set_cursor_row(conn, CURSOR + channel, str(max(before, last_id)), time.time())
    conn.execute("DELETE FROM chat_windows WHERE last_at<?", (since - 86400.0,))  # long closed: not kept
