"""Receipts and replies to send: due rows (opened), their states, the unsure window after a crash, the
health of each receipt path and re-queueing failed receipts."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from channels.registry import spec_for
from gateway.store.records import Event
from gateway.store.sqlite.base import Files, due_rows, set_cursor_row
from gateway.store.sqlite.events import EVENT_INSERT

PATH_KEY = "receipt_path:"  # + family, in the state file's cursors: the last attempts on that path

# A reply about a ticket (a CEK answer) waits while that ticket's own receipt has not gone out yet: the
# citizen hears "received, ticket N" before "ticket N: status ...".
_DUE_SELECT = "SELECT id, kind, channel, tracking_id, target, body, attempts, failing_since, created_at FROM receipts r"
_DUE_WHERE = (
    "r.state='pending' AND NOT (r.kind!='receipt' AND r.tracking_id IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM receipts p WHERE p.tracking_id=r.tracking_id AND p.kind='receipt' "
    "AND p.state IN ('pending','sending','unsure') AND p.created_at<=r.created_at))"
)


def _path_value(conn: sqlite3.Connection, family: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM cursors WHERE key=?", (PATH_KEY + family,)).fetchone()
    try:
        value = json.loads(row[0]) if row else None
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


class ReceiptTables(Files):
    def due_receipts(self, limit: int) -> list[dict[str, Any]]:
        rows = due_rows(self.reader, _DUE_SELECT, _DUE_WHERE, limit, alias="r")
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
        failing: bool = False,
    ) -> None:
        """``failing``: this attempt failed for a reason that may pass (the peer down); the first one is
        remembered (``failing_since``), which is what the retry limit counts from."""

        def write(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute(
                "UPDATE receipts SET state=?, provider_id=COALESCE(?, provider_id), last_error=?, next_at=?, "
                "attempts=attempts+(CASE WHEN ?='pending' OR ? THEN 1 ELSE 0 END), "
                "failing_since=CASE WHEN ? THEN COALESCE(failing_since, ?) ELSE failing_since END, "
                "sent_at=CASE WHEN ?='sent' THEN ? ELSE sent_at END WHERE id=?",
                (state, provider_id, error, next_at, state, failing, failing, now, state, now, receipt_id),
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

    def receipt_texts_for(self, tracking_id: str) -> dict[str, str]:
        """What each receipt and reply of a complaint says (opened; its address stays sealed), by receipt id."""
        rows = self.reader.rows("SELECT id, body FROM receipts WHERE tracking_id=?", (tracking_id,))
        return {r["id"]: str(self.open_json(r["body"]).get("text") or "") for r in rows}

    def receipts_for(self, tracking_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader.rows(
            "SELECT id, kind, channel, state, attempts, provider_id, last_error, created_at, sent_at, "
            "delivered_at, delivery_status, failing_since FROM receipts WHERE tracking_id=? ORDER BY created_at",
            (tracking_id,),
        )]

    # --- receipt paths (one per sender family) -------------------------------------------------
    async def set_receipt_path(self, family: str, up: bool, since: float, reason: str | None = None) -> int:
        """Record the last attempts on a path; when it comes back, its failing receipts are due at once
        (answer: how many). A path still down keeps its first failure's time, across restarts (a restarted
        worker writes "down" again on its first attempt)."""

        def write(conn: sqlite3.Connection) -> int:
            first = since
            if not up:
                was = _path_value(conn, family)
                if was is not None and was.get("up") is False and isinstance(was.get("since"), int | float):
                    first = min(float(was["since"]), since)
            value = json.dumps({"up": up, "since": first, "reason": reason})
            set_cursor_row(conn, PATH_KEY + family, value, time.time())
            if not up:
                return 0
            rows = conn.execute("SELECT id, channel FROM receipts WHERE state='pending' AND failing_since IS NOT NULL "
                                "AND next_at>?", (time.time(),)).fetchall()
            ids = [r[0] for r in rows if spec_for(r[1]).answered_by(family)]
            conn.executemany("UPDATE receipts SET next_at=0 WHERE id=?", [(i,) for i in ids])
            return len(ids)

        return await self.state_writer.write(write)

    def receipt_paths(self) -> dict[str, dict[str, Any]]:
        """Each path's last known state (``up``, ``since``, ``reason``, ``updated``: when written), its
        receipts ``waiting`` to go and those ``failed`` on it (given up while the peer was down)."""
        out: dict[str, dict[str, Any]] = {}
        for key, value, updated in self.reader.rows("SELECT key, value, updated_at FROM cursors WHERE key LIKE ?",
                                                    (PATH_KEY + "%",)):
            try:
                out[key.removeprefix(PATH_KEY)] = dict(json.loads(value)) | {"waiting": 0, "failed": 0, "updated": updated}
            except (ValueError, TypeError):
                continue
        for channel, waiting, failed in self.reader.rows(
            "SELECT channel, sum(state IN ('pending','sending','unsure')), sum(state='failed') FROM receipts "
            "WHERE state IN ('pending','sending','unsure') OR (state='failed' AND failing_since IS NOT NULL) "
            "GROUP BY channel"
        ):
            spec = spec_for(channel)
            family = spec.family if spec.family in out else spec.fallback_family  # sms.twilio via Kannel: "sms"
            if family in out:
                out[family]["waiting"] += waiting
                out[family]["failed"] += failed
        return out

    def failed_receipts(self, limit: int = 500) -> list[dict[str, Any]]:
        """Receipts and replies that failed, newest first (their addresses stay sealed)."""
        return [dict(r) for r in self.reader.rows(
            "SELECT id, tracking_id, kind, channel, attempts, last_error, created_at FROM receipts "
            "WHERE state='failed' ORDER BY created_at DESC LIMIT ?", (limit,))]

    # --- queued again from the CLI -------------------------------------------------------------
    def retry_failed_receipts_sync(self, tracking_ids: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """Failed receipts and replies (of these tickets, or all) are pending again, tried afresh: the
        rows queued as (tracking ID, kind, channel)."""
        ids = list(tracking_ids or [])

        def write(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
            where = "state='failed'"
            if ids:
                where += f" AND tracking_id IN ({','.join('?' * len(ids))})"
            rows = conn.execute(
                f"UPDATE receipts SET state='pending', attempts=0, next_at=0, failing_since=NULL WHERE {where} "
                "RETURNING tracking_id, kind, channel", ids,
            ).fetchall()
            now = time.time()
            for tid, kind, channel in rows:
                conn.execute(EVENT_INSERT, Event(channel, "retry_receipt", tid, detail=kind).row(now))
            return [(r[0] or "", r[1], r[2]) for r in rows]

        return self.state_writer.write_sync(write)

    def known_tracking_ids(self, tracking_ids: Iterable[str]) -> set[str]:
        """Those of these IDs the gateway issued (a complaint) or answered about (a receipt or reply)."""
        ids = list(tracking_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = self.reader.rows(f"SELECT tracking_id FROM complaints WHERE tracking_id IN ({marks}) UNION "
                                f"SELECT tracking_id FROM receipts WHERE tracking_id IN ({marks})", ids + ids)
        return {r[0] for r in rows}
