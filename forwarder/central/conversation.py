"""The return path's storage: status moves, the updates feed, agency answers and citizen answers.

Every function here takes the writer's (or a reader's) connection and runs inside one
group-commit savepoint, so a status move, its history row and its update are durable together
or not at all. ``update_id`` is an ``AUTOINCREMENT`` key: SQLite never hands out an id again,
not after a restart and not after the row with the highest id is gone, and the single writer
assigns them in commit order, so a reader that has seen id N never later sees a smaller one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from .bodies import AgencyResponse, CitizenResponse
from .status import FINAL, TransitionError, check_transition

SCHEMA = """
CREATE INDEX IF NOT EXISTS complaints_status ON complaints (status);
CREATE TABLE IF NOT EXISTS updates (
    update_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_id  TEXT NOT NULL REFERENCES complaints (tracking_id),
    kind         TEXT NOT NULL,  -- status | response | request_details | citizen_response
    status       TEXT NOT NULL,  -- the complaint's status after this update
    text         TEXT,
    at           TEXT NOT NULL,
    extra        TEXT            -- JSON: a citizen response's channel, received_at, attachments
);
CREATE INDEX IF NOT EXISTS updates_tid ON updates (tracking_id, update_id);
CREATE TABLE IF NOT EXISTS citizen_keys (
    idem_key     TEXT PRIMARY KEY,
    body_hash    TEXT NOT NULL,
    answer       TEXT NOT NULL   -- the first answer, replayed for the same Idempotency-Key
);
"""

_FEED_COLUMNS = "update_id, tracking_id, kind, status, text, at"


class UnknownComplaint(KeyError):
    """No complaint with this tracking ID."""


def current(conn: sqlite3.Connection, tracking_id: str) -> sqlite3.Row:
    found = conn.execute("SELECT status, entered FROM complaints WHERE tracking_id = ?", (tracking_id,)).fetchone()
    if found is None:
        raise UnknownComplaint(tracking_id)
    return found


def move(
    conn: sqlite3.Connection,
    tracking_id: str,
    row: sqlite3.Row,
    status: str,
    now: str,
    note: str | None,
    *,
    forget: Iterable[str] = (),
) -> None:
    """Set the status, re-anchor its clock (``forget`` drops other anchors) and add a history row."""
    entered = json.loads(row["entered"])
    for name in forget:
        entered.pop(name, None)
    entered[status] = now
    conn.execute(
        "UPDATE complaints SET status = ?, status_since = ?, entered = ? WHERE tracking_id = ?",
        (status, now, json.dumps(entered), tracking_id),
    )
    conn.execute(
        "INSERT INTO status_history (tracking_id, status, at, note) VALUES (?,?,?,?)",
        (tracking_id, status, now, note),
    )


def add_update(
    conn: sqlite3.Connection,
    tracking_id: str,
    kind: str,
    status: str,
    text: str | None,
    now: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one update to the feed; returns the answer ``{update_id, tracking_id, kind, status, at}``."""
    cur = conn.execute(
        "INSERT INTO updates (tracking_id, kind, status, text, at, extra) VALUES (?,?,?,?,?,?)",
        (tracking_id, kind, status, text, now, None if extra is None else json.dumps(extra, ensure_ascii=False)),
    )
    return {"update_id": cur.lastrowid, "tracking_id": tracking_id, "kind": kind, "status": status, "at": now}


def respond(conn: sqlite3.Connection, tracking_id: str, body: AgencyResponse, now: str) -> dict[str, Any]:
    """An agency's answer or request for details; raises UnknownComplaint or TransitionError (409)."""
    row = current(conn, tracking_id)
    was = row["status"]
    if was in FINAL:
        raise TransitionError(was, body.status or was, f"the complaint is {was}; it takes no more answers")
    if body.kind == "request_details":
        # From any open state, and again from needs_details: a new request gives the citizen a new clock.
        move(conn, tracking_id, row, "needs_details", now, "request for details")
        return add_update(conn, tracking_id, body.kind, "needs_details", body.text, now)
    status = body.status or was
    if status != was:
        check_transition(was, status)
        move(conn, tracking_id, row, status, now, "agency response")
    return add_update(conn, tracking_id, body.kind, status, body.text, now)


def citizen_respond(
    conn: sqlite3.Connection, tracking_id: str, key: str, body_hash: str, body: CitizenResponse, now: str
) -> tuple[int, dict[str, Any]]:
    """A citizen's answer once per Idempotency-Key: (201, answer), (200, first answer) or (409, error).

    An answer to a request for details sends the complaint back to ``verifying`` (the archive
    clock stops); one to a ``resolved`` complaint reopens it (``in_progress``; the citizen's 10
    days stop). Any other status stays: the words are kept, even on a complaint closed meanwhile.
    """
    first = conn.execute("SELECT body_hash, answer FROM citizen_keys WHERE idem_key = ?", (key,)).fetchone()
    if first is not None:
        if first["body_hash"] != body_hash:
            return 409, {"error": "Idempotency-Key already used with a different body"}
        return 200, json.loads(first["answer"])
    row = current(conn, tracking_id)
    status = row["status"]
    if status == "needs_details":
        status = "verifying"
        move(conn, tracking_id, row, status, now, "citizen sent details", forget=("needs_details",))
    elif status == "resolved":
        status = "in_progress"
        move(conn, tracking_id, row, status, now, "citizen responded to the answer", forget=("resolved",))
    extra = {
        "channel": body.channel,
        "received_at": body.received_at.isoformat(),
        "attachments": [a.model_dump() for a in body.attachments],
    }
    answer = add_update(conn, tracking_id, "citizen_response", status, body.text, now, extra)
    conn.execute(
        "INSERT INTO citizen_keys (idem_key, body_hash, answer) VALUES (?,?,?)",
        (key, body_hash, json.dumps(answer, separators=(",", ":"))),
    )
    return 201, answer


def feed(conn: sqlite3.Connection, after: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {_FEED_COLUMNS} FROM updates WHERE update_id > ? ORDER BY update_id LIMIT ?", (after, limit)
    ).fetchall()
    return [dict(r) for r in rows]


def responses(conn: sqlite3.Connection, tracking_id: str) -> list[dict[str, Any]]:
    """The conversation of one complaint, status-only updates left out (they are in ``history``)."""
    rows = conn.execute(
        "SELECT update_id, kind, text, at, extra FROM updates WHERE tracking_id = ? AND kind != 'status'"
        " ORDER BY update_id",
        (tracking_id,),
    ).fetchall()
    out = []
    for r in rows:
        by = "citizen" if r["kind"] == "citizen_response" else "agency"
        item: dict[str, Any] = {"update_id": r["update_id"], "kind": r["kind"], "by": by, "text": r["text"],
                                "at": r["at"]}
        if by == "citizen" and r["extra"]:
            item["attachments"] = json.loads(r["extra"]).get("attachments", [])
        out.append(item)
    return out
