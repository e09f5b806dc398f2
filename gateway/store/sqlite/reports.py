"""The monthly report's reads from ``gateway-state.db``: one :class:`ComplaintFacts` per complaint of the month.

What the numbers mean is decided in :mod:`gateway.store.reports`; this module only reads. A complaint's month
is that of its ``received_at``; since a complaint is made after it was received, ``created_at`` before the
month's start (less a day of slack for a peer's clock) cannot be in it, which keeps the JSON parsing to the rows
that may be.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from gateway.store.reports import RESOLVED_STATUSES, ComplaintFacts, Month, MonthlyReport, build_report
from gateway.store.sqlite.base import Files

SLACK_SECONDS = 86400.0

_COMPLAINTS = (
    "SELECT tracking_id, channel, state, forwarded_at, "
    "json_extract(record, '$.category_suggestion[0].category') AS category, "
    "unixepoch(json_extract(record, '$.received_at')) AS received "
    "FROM complaints WHERE created_at >= ? AND received >= ? AND received < ?"
)


def _plain(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows as plain tuples (a month may hold many; ``sqlite3.Row`` costs more per row)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(sql, params).fetchall()


class ReportTables(Files):
    def monthly_report(self, month: Month, timezone: str) -> MonthlyReport:
        """The report of ``month`` (in ``timezone``) as the gateway knows it now."""
        return build_report(month, timezone, self._month_facts(month, timezone))

    def _month_facts(self, month: Month, timezone: str) -> Iterator[ComplaintFacts]:
        start, end = month.bounds(timezone)
        rows = self.reader.query(lambda conn: _plain(conn, _COMPLAINTS, (start - SLACK_SECONDS, int(start), int(end))))
        feed = self._store_statuses({r[0] for r in rows})
        nothing: dict[str, Any] = {}
        for tid, channel, state, forwarded_at, category, received in rows:
            seen = feed.get(tid, nothing)
            yield ComplaintFacts(channel, category, state, float(received), forwarded_at, seen.get("status"),
                                 seen.get("forwarded_to_agency"), seen.get("resolved"))

    def _store_statuses(self, tracking_ids: set[str]) -> dict[str, dict[str, Any]]:
        """What the central store's updates feed said of these complaints: the latest ``status``, and when each
        of ``forwarded_to_agency`` and ``resolved`` (or ``closed``) was first set. Read from what the update
        poller keeps of every update it reads (``store_statuses``), told to the citizen or not; the time is the
        store's own."""
        out: dict[str, dict[str, Any]] = {}
        for tid, seen in self.store_statuses(sorted(tracking_ids)).items():  # type: ignore[attr-defined]
            first = seen["first"]
            done = [first[s] for s in RESOLVED_STATUSES if s in first]
            out[tid] = {"status": seen["status"], "forwarded_to_agency": first.get("forwarded_to_agency"),
                        "resolved": min(done) if done else None}
        return out
