"""Small stand-ins for the gateway's journal and cursor store, for channel-level email tests.

``SqliteAccept`` is durable (group commit, WAL, synchronous=FULL): when it
returns, the message survives a kill -9. ``MemoryAccept`` just records.
Both are idempotent on (channel, account, external_id) as the journal is.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from channels.base import AcceptResult
from channels.message import InboundMessage
from forwarder.groupcommit import GroupCommitWriter

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL, account TEXT NOT NULL, external_id TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (channel, account, external_id)
);
"""


class SqliteAccept:
    def __init__(self, path: Path) -> None:
        self.writer = GroupCommitWriter(path, SCHEMA)

    async def __call__(self, msg: InboundMessage) -> AcceptResult:
        payload = msg.model_dump_json()

        def insert(conn: sqlite3.Connection) -> AcceptResult:
            cur = conn.execute(
                "INSERT OR IGNORE INTO inbound (channel, account, external_id, body) VALUES (?, ?, ?, ?)",
                (msg.channel, msg.account, msg.external_id, payload),
            )
            if cur.rowcount:
                return AcceptResult(str(cur.lastrowid), False)
            row = conn.execute(
                "SELECT id FROM inbound WHERE channel=? AND account=? AND external_id=?",
                (msg.channel, msg.account, msg.external_id),
            ).fetchone()
            return AcceptResult(str(row[0]), True)

        return await self.writer.write(insert)

    def close(self) -> None:
        self.writer.close()


def stored(path: Path) -> list[InboundMessage]:
    conn = sqlite3.connect(path)
    try:
        return [InboundMessage.model_validate_json(r[0]) for r in conn.execute("SELECT body FROM inbound ORDER BY id")]
    finally:
        conn.close()


class MemoryAccept:
    def __init__(self) -> None:
        self.messages: dict[tuple[str, str, str], InboundMessage] = {}
        self.calls = 0
        self.arrived = asyncio.Event()

    async def __call__(self, msg: InboundMessage) -> AcceptResult:
        self.calls += 1
        key = (msg.channel, msg.account, msg.external_id)
        duplicate = key in self.messages
        self.messages.setdefault(key, msg)
        self.arrived.set()
        return AcceptResult(str(len(self.messages)), duplicate)

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        async def until() -> None:
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until(), timeout)


class MemoryCursors:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value
