"""The intake log (events an operator may see) and the counts behind /metrics."""

from __future__ import annotations

import time
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

