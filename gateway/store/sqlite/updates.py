"""The return path's tables: the central store's update cursor and the update notices, as receipt rows.

An update for a citizen is a row of ``receipts`` (kind ``update``), so the receipt worker sends it like any
receipt (claimed before sending, retried, settled by delivery reports). The rows of one page of the store's
feed and the cursor past that page are one transaction: a crash leaves the page either wholly queued with
the cursor past it, or not queued and read again (exactly once; the dedup keys make a replay a no-op too).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from gateway.store.records import Event, ReceiptRow
from gateway.store.sqlite.base import Files, set_cursor_row
from gateway.store.sqlite.events import EVENT_INSERT
from normalizer.ids import uuid7

UPDATES_CURSOR = "central:updates"  # the last update_id of the store's feed that is queued (or skipped)


class UpdateTables(Files):
    def updates_cursor(self) -> int:
        r = self.reader.one("SELECT value FROM cursors WHERE key=?", (UPDATES_CURSOR,))
        try:
            return int(r[0]) if r else 0
        except (TypeError, ValueError):
            return 0

    def receipts_to_reuse(self, complaint_id: str) -> list[dict[str, Any]]:
        """A complaint's own receipts (kind ``receipt``), their targets opened: where its citizen heard from us."""
        rows = self.reader.rows(
            "SELECT id, channel, target, state, provider_id, created_at FROM receipts "
            "WHERE complaint_id=? AND kind='receipt' ORDER BY created_at, id",
            (complaint_id,),
        )
        return [dict(r) | {"target": self.open_json(r["target"])} for r in rows]

    def updates_for(self, tracking_id: str) -> list[dict[str, Any]]:
        """The update notices of a complaint in order: what each said (its body opened; its address stays
        sealed), the update it tells, its channel and delivery state."""
        rows = self.reader.rows(
            "SELECT id, channel, body, state, attempts, provider_id, last_error, created_at, sent_at, delivered_at, "
            "delivery_status FROM receipts WHERE tracking_id=? AND kind='update' ORDER BY created_at, id",
            (tracking_id,),
        )
        out = []
        for r in rows:
            row = dict(r)
            body = self.open_json(row.pop("body"))
            update = body.get("update") or {}
            out.append(row | {
                "update_id": update.get("update_id"), "update_kind": update.get("kind"),
                "status": update.get("status"), "text": str(body.get("text") or "")})
        return out

    async def record_updates(
        self, queued: list[tuple[ReceiptRow, Event]], events: list[Event], cursor: int
    ) -> int:
        """Insert the update rows (a row whose dedup key exists is left alone, and its event not written),
        the other events, and move the cursor to ``cursor`` (never back), in one transaction. Answers how
        many rows were new."""
        sealed = [(r, e, self.seal_json(r.target), self.seal_json(r.body)) for r, e in queued]

        def write(conn: sqlite3.Connection) -> int:
            now = time.time()
            new = 0
            for r, event, target, body in sealed:
                added = conn.execute(
                    "INSERT INTO receipts(id, dedup_key, complaint_id, tracking_id, kind, channel, target, body, state, "
                    "created_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(dedup_key) DO NOTHING",
                    (uuid7(), r.dedup_key, r.complaint_id, r.tracking_id, r.kind, r.channel, target, body, r.state, now),
                ).rowcount
                if added:
                    new += 1
                    conn.execute(EVENT_INSERT, event.row(now))
            for event in events:
                conn.execute(EVENT_INSERT, event.row(now))
            have = conn.execute("SELECT value FROM cursors WHERE key=?", (UPDATES_CURSOR,)).fetchone()
            try:
                before = int(have[0]) if have else 0
            except (TypeError, ValueError):
                before = 0
            set_cursor_row(conn, UPDATES_CURSOR, str(max(before, cursor)), now)
            return new

        return await self.state_writer.write(write)
