"""The clock's consequences: a resolved complaint the citizen left unanswered closes, an incomplete one archives.

- ``resolved`` for longer than ``due.citizen_response_within`` (10 calendar days): ``closed``.
- ``needs_details`` for longer than ``due.archive_incomplete_after`` (10 working days): ``archived``.

Each move adds a status update to the feed (text ``null``: the gateway words it). The store runs
:func:`forwarder.central.store.CentralStore.sweep` periodically; tests call it with a fixed ``now``.
Candidates are found by a reader and checked again in the writer, so a citizen response that
arrived in between wins.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .conversation import add_update, current, move
from .workdays import DEADLINES, WorkdayCalendar


@dataclass(frozen=True)
class Expiry:
    deadline: str  # the name in ``due``
    target: str
    note: str


EXPIRIES: dict[str, Expiry] = {
    "resolved": Expiry("citizen_response_within", "closed", "no citizen response in time"),
    "needs_details": Expiry("archive_incomplete_after", "archived", "details not received in time"),
}
_RULES = {d.name: d for d in DEADLINES}


@dataclass(frozen=True)
class Due:
    """A complaint whose clock ran out: ``anchor`` is when it entered ``status`` (re-checked on write)."""

    tracking_id: str
    status: str
    anchor: str


def find_expired(conn: sqlite3.Connection, now: datetime, calendar: WorkdayCalendar, limit: int) -> list[Due]:
    marks = ",".join("?" * len(EXPIRIES))
    rows = conn.execute(
        f"SELECT tracking_id, status, entered FROM complaints WHERE status IN ({marks}) ORDER BY seq",
        tuple(EXPIRIES),
    )
    out: list[Due] = []
    for row in rows:
        anchor = json.loads(row["entered"]).get(row["status"])
        if anchor is None:
            continue
        rule = _RULES[EXPIRIES[row["status"]].deadline]
        if now > calendar.deadline(rule, datetime.fromisoformat(anchor)):
            out.append(Due(row["tracking_id"], row["status"], anchor))
            if len(out) >= limit:
                break
    return out


def expire(conn: sqlite3.Connection, due: list[Due], now: str) -> list[dict[str, Any]]:
    """Move each still-unchanged complaint on; returns the updates added."""
    added = []
    for d in due:
        row = current(conn, d.tracking_id)
        if row["status"] != d.status or json.loads(row["entered"]).get(d.status) != d.anchor:
            continue  # answered or moved since it was found
        rule = EXPIRIES[d.status]
        move(conn, d.tracking_id, row, rule.target, now, rule.note)
        added.append(add_update(conn, d.tracking_id, "status", rule.target, None, now))
    return added
