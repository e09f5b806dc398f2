"""Receipts and replies to send: due rows (opened), their states, the unsure window after a crash."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from gateway.store.records import Event
from gateway.store.sqlite.base import Files
from gateway.store.sqlite.events import EVENT_INSERT


class ReceiptTables(Files):
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

        await self.state_writer.write(write)

    async def mark_unsure_sending(self) -> int:
        """At start-up: receipts claimed as 'sending' by a crashed process may or may not have left."""
        return await self.state_writer.write(
            lambda c: c.execute("UPDATE receipts SET state='unsure' WHERE state='sending'").rowcount
        )

    async def resend_unsure(self) -> int:
        """After the grace period no delivery report confirmed them: send again (at-least-once)."""
        return await self.state_writer.write(
            lambda c: c.execute("UPDATE receipts SET state='pending' WHERE state='unsure'").rowcount
        )

    def receipts_for(self, tracking_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader.rows(
            "SELECT id, kind, channel, state, attempts, provider_id, last_error, created_at, sent_at, "
            "delivered_at, delivery_status FROM receipts WHERE tracking_id=? ORDER BY created_at",
            (tracking_id,),
        )]

