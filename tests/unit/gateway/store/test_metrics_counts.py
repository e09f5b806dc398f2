"""The counts behind /metrics: right, and read from indexes alone (a scrape never scans a table's rows)."""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
from pathlib import Path

from channels.message import InboundMessage
from gateway.store.records import ComplaintRow, InboundOutcome
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "gateway.db", Sealer(base64.urlsafe_b64encode(os.urandom(32)).decode()))


def test_each_state_count_is_an_index_only_scan(tmp_path: Path) -> None:
    j = _journal(tmp_path)
    conn = sqlite3.connect(j.state_path)
    try:
        for table in ("processed", "complaints", "receipts"):
            plan = " ".join(str(r[3]) for r in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT state, count(*) FROM {table} GROUP BY state"))
            assert "COVERING INDEX" in plan and "TEMP B-TREE" not in plan, (table, plan)
    finally:
        conn.close()


def test_counts_by_state(tmp_path: Path) -> None:
    j = _journal(tmp_path)

    async def go() -> None:
        accepted = await j.accept_many([InboundMessage(channel="sms.kannel", account="1708", external_id=f"k{i}",
                                                       sender="6281200000001", text="x") for i in range(3)])
        row = ComplaintRow(id="c-1", tracking_id="T1", inbound_id=accepted[0].message_id, channel="sms.kannel",
                           record_json='{"body": "x"}', reporter_ref=None, anonymous=False, confidential=False,
                           vault={})
        await j.record_outcomes([InboundOutcome(accepted[0].message_id, "normalized", row),
                                 InboundOutcome(accepted[1].message_id, "retry", attempts=0, failure="x")])

    asyncio.run(go())
    counts = j.counts()
    assert counts["inbound"] == {"accepted": 3}
    assert counts["processed"] == {"normalized": 1, "retry": 1}
    assert sum(counts["complaints"].values()) == 1
