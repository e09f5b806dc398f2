"""The monthly report's reads from ``gateway-state.db``: one :class:`ComplaintFacts` per complaint of the month.

What the numbers mean is decided in :mod:`gateway.store.reports`; this module only reads. A complaint's month
is that of its ``received_at``; since a complaint is made after it was received, ``created_at`` before the
month's start (less a day of slack for a peer's clock) cannot be in it, which keeps the JSON parsing to the rows
that may be.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.store.reports import ComplaintFacts, Month, MonthlyReport, build_report
from gateway.store.sqlite.base import Files

SLACK_SECONDS = 86400.0

_COMPLAINTS = (
    "SELECT tracking_id, channel, state, forwarded_at, "
    "json_extract(record, '$.category_suggestion[0].category') AS category, "
    "unixepoch(json_extract(record, '$.received_at')) AS received "
    "FROM complaints WHERE created_at >= ? AND received >= ? AND received < ?"
)


class ReportTables(Files):
    def monthly_report(self, month: Month, timezone: str) -> MonthlyReport:
        """The report of ``month`` (in ``timezone``) as the gateway knows it now."""
        return build_report(month, timezone, self._month_facts(month, timezone))

    def _month_facts(self, month: Month, timezone: str) -> Iterator[ComplaintFacts]:
        start, end = month.bounds(timezone)
        rows = self.reader.rows(_COMPLAINTS, (start - SLACK_SECONDS, int(start), int(end)))
        feed = self._store_statuses({r["tracking_id"] for r in rows})
        for r in rows:
            seen = feed.get(r["tracking_id"], {})
            yield ComplaintFacts(
                channel=r["channel"], category=r["category"], state=r["state"], received_at=float(r["received"]),
                forwarded_at=r["forwarded_at"], store_status=seen.get("status"),
                to_agency_at=seen.get("forwarded_to_agency"), resolved_at=seen.get("resolved"),
            )

    def _store_statuses(self, tracking_ids: set[str]) -> dict[str, dict[str, Any]]:
        """What the central store's updates feed said of these complaints: the latest ``status``, and when each
        of ``forwarded_to_agency`` and ``resolved`` (or ``closed``) was first reported. Empty when the gateway
        keeps no feed (it was never read, or ``central.updates`` is off)."""
        if not tracking_ids or not self._has_table("updates"):
            return {}
        out: dict[str, dict[str, Any]] = {}
        for r in self.reader.rows("SELECT tracking_id, status, at FROM updates WHERE status IS NOT NULL "
                                  "ORDER BY update_id"):
            tid = r["tracking_id"]
            if tid not in tracking_ids:
                continue
            seen = out.setdefault(tid, {})
            seen["status"] = r["status"]
            key = "resolved" if r["status"] in ("resolved", "closed") else r["status"]
            seen.setdefault(key, float(r["at"]))
        return out

    def _has_table(self, name: str) -> bool:
        return self.reader.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)) is not None
