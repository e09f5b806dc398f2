"""The return path's tables: the central store's update cursor and the update notices, as receipt rows.

An update for a citizen is a row of ``receipts`` (kind ``update``), so the receipt worker sends it like any
receipt (claimed before sending, retried, settled by delivery reports). The rows of one page of the store's
feed and the cursor past that page are one transaction: a crash leaves the page either wholly queued with
the cursor past it, or not queued and read again (exactly once; the dedup keys make a replay a no-op too).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
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

    def store_statuses(self, tracking_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What the store's feed said of these complaints (those it said anything of): ``status`` the latest,
        ``at`` when the store set it, ``first`` each status's first time."""
        tids = list(dict.fromkeys(tracking_ids))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(tids), 500):
            chunk = tids[start : start + 500]
            for r in self.reader.rows(
                "SELECT c.tracking_id, s.status, s.first_at, s.last_at FROM store_statuses s "
                f"JOIN complaints c ON c.id=s.complaint_id WHERE c.tracking_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY s.update_id", chunk,
            ):
                seen = out.setdefault(r[0], {"first": {}})
                seen["status"], seen["at"] = r[1], float(r[3])
                seen["first"][r[1]] = float(r[2])
        return out

    async def record_updates(
        self, queued: list[tuple[ReceiptRow, Event]], events: list[Event], cursor: int, *,
        statuses: Sequence[tuple[str, str, float, int]] = (),
    ) -> int:
        """Insert the update rows (a row whose dedup key exists is left alone, and its event not written),
        the other events, the store's statuses (of complaints we know; a replayed update changes nothing),
        and move the cursor to ``cursor`` (never back), in one transaction. Answers how many rows were new."""
        sealed = [(r, e, self.seal_json(r.target), self.seal_json(r.body)) for r, e in queued]
        said = list(statuses)

        def write(conn: sqlite3.Connection) -> int:
            now = time.time()
            new = 0
            conn.executemany(
                "INSERT INTO store_statuses(complaint_id, status, first_at, last_at, update_id) "
                "SELECT id, ?, ?, ?, ? FROM complaints WHERE tracking_id=? "
                "ON CONFLICT(complaint_id, status) DO UPDATE SET last_at=excluded.last_at, "
                "update_id=excluded.update_id WHERE excluded.update_id > store_statuses.update_id",
                [(status, at, at, uid, tid) for tid, status, at, uid in said],
            )
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
