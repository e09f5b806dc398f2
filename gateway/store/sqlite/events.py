"""The intake log (events an operator may see) and the counts behind /metrics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from gateway.store.records import Event
from gateway.store.sqlite.base import Files

EVENT_INSERT = (
    "INSERT INTO events(at, channel, tracking_id, state, contact, category, flags, detail) VALUES (?,?,?,?,?,?,?,?)"
)


class EventTables(Files):
    async def log_event(self, event: Event) -> None:
        await self.state_writer.write(lambda c: c.execute(EVENT_INSERT, event.row(time.time())), savepoint=False)

    def events_after(self, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader.rows("SELECT * FROM events WHERE seq>? ORDER BY seq LIMIT ?", (seq, limit))]

    def events_matching(
        self, *, after: int = 0, last: int | None = None, channels: Sequence[str] | None = None,
        states: Sequence[str] = (), tracking_id: str | None = None, since: float | None = None, limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Events after ``after`` in order, only those of ``channels`` (exact names; None: any), ``states``,
        ``tracking_id`` and at or after ``since``; with ``last``, the newest ``last`` of them."""
        where, params = ["seq>?"], [after]
        for column, values in (("channel", channels), ("state", states or None)):
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        if tracking_id is not None:
            where.append("tracking_id=?")
            params.append(tracking_id)
        if since is not None:
            where.append("at>=?")
            params.append(since)
        sql = f"SELECT * FROM events WHERE {' AND '.join(where)}"
        if last is None:
            return [dict(r) for r in self.reader.rows(f"{sql} ORDER BY seq LIMIT ?", (*params, limit))]
        rows = self.reader.rows(f"{sql} ORDER BY seq DESC LIMIT ?", (*params, last))
        return [dict(r) for r in reversed(rows)]

    def event_channels(self) -> list[str]:
        """Every channel name the intake log holds."""
        return [r[0] for r in self.reader.rows("SELECT DISTINCT channel FROM events")]

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

