"""The reads of many reporters' history in one statement give what one reporter's read at a time gave.

The real SQLite adapter on a temporary file; a plain model of the two reads to compare with.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gateway.store.sqlite.complaints as complaints
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer

VAULT_KEY = base64.urlsafe_b64encode(b"h" * 32).decode()
REFS = ["r1", "r2", "r3", "r4", None]
STATES = ["normalized", "forwarded", "awaiting_details", "review"]

_row = st.tuples(st.sampled_from(REFS), st.sampled_from(STATES), st.integers(0, 60), st.booleans())


@pytest.fixture
def journal(tmp_path: Path) -> Any:
    j = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    yield j
    j.close()


def put(j: Journal, rows: list[tuple[str | None, str, int, bool]]) -> list[dict[str, Any]]:
    """Complaints with distinct creation times (a tie's order is the database's to choose)."""
    made = [{"id": f"c{i}", "tracking_id": f"T{i}", "inbound_id": i, "reporter_ref": ref, "state": state,
             "created_at": minute * 100 + i / 1000, "anonymous": int(anon), "confidential": 0, "body": f"body {i}"}
            for i, (ref, state, minute, anon) in enumerate(rows)]

    def write(conn: Any) -> None:
        conn.execute("DELETE FROM complaints")
        conn.executemany(
            "INSERT INTO complaints(id, tracking_id, inbound_id, channel, record, reporter_ref, anonymous, "
            "confidential, state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(c["id"], c["tracking_id"], c["inbound_id"], "sms.kannel", json.dumps({"body": c["body"]}),
              c["reporter_ref"], c["anonymous"], 0, c["state"], c["created_at"]) for c in made])

    j.state_writer.write_sync(write)
    return made


def model_recent(made: list[dict[str, Any]], ref: str, since: float, keep: int) -> list[tuple[str, str]]:
    mine = sorted((c for c in made if c["reporter_ref"] == ref and c["created_at"] >= since),
                  key=lambda c: -c["created_at"])
    return [(c["tracking_id"], c["body"]) for c in mine[:keep]]


def model_waiting(made: list[dict[str, Any]], ref: str, since: float) -> str | None:
    mine = [c for c in made if c["reporter_ref"] == ref and c["state"] == "awaiting_details"
            and c["created_at"] >= since]
    return max(mine, key=lambda c: c["created_at"])["tracking_id"] if mine else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=40), asked=st.lists(st.sampled_from([*REFS[:4], "nobody"]), max_size=5),
       since_minute=st.integers(0, 60), keep=st.integers(1, 4), per_statement=st.integers(1, 3))
def test_many_reporters_at_once_read_as_each_alone(
    journal: Journal, monkeypatch: pytest.MonkeyPatch, rows: list[Any], asked: list[str], since_minute: int,
    keep: int, per_statement: int,
) -> None:
    monkeypatch.setattr(complaints, "RECENT_PER_REPORTER", keep)
    monkeypatch.setattr(complaints, "MAX_REFS", per_statement)  # several statements, their results joined
    made = put(journal, rows)
    since = since_minute * 100.0
    recent = journal.recent_by_reporters(asked, since)
    assert recent == {ref: model_recent(made, ref, since, keep) for ref in asked}
    waiting = journal.awaiting_details_by_reporter(asked, since)
    assert {ref: w["tracking_id"] for ref, w in waiting.items()} == {
        ref: t for ref in asked if (t := model_waiting(made, ref, since)) is not None}
    for w in waiting.values():
        assert set(w) == {"id", "tracking_id", "anonymous", "confidential", "created_at"}


def test_a_reporter_with_a_flood_of_complaints_reads_only_the_newest(journal: Journal) -> None:
    made = put(journal, [("r1", "forwarded", m, False) for m in range(50)])
    (recent,) = journal.recent_by_reporters(["r1"], 0.0).values()
    assert len(recent) == complaints.RECENT_PER_REPORTER == 20
    assert recent[0] == (made[-1]["tracking_id"], made[-1]["body"])  # newest first


def test_no_reporters_reads_nothing(journal: Journal) -> None:
    put(journal, [("r1", "awaiting_details", 1, False)])
    assert journal.recent_by_reporters([], 0.0) == {}
    assert journal.awaiting_details_by_reporter(["", "r9"], 0.0) == {}
