"""Run an SMTP listener with a durable SQLite accept in its own process (for the kill -9 test).

Usage: python -m tests.unit.channels.email.smtp_proc DB BLOBS PORT DOMAIN; prints "ready" once listening.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from channels.email.smtp import SmtpListener
from gateway.store.blobs import BlobStore
from tests.unit.channels.email.stores import SqliteAccept


async def main(db: str, blob_dir: str, port: int, domain: str) -> None:
    listener = SmtpListener("127.0.0.1", port, [domain], BlobStore(Path(blob_dir)))
    task = asyncio.create_task(listener.run(SqliteAccept(Path(db))))
    await listener.started.wait()
    print("ready", listener.bound_port, flush=True)
    await task


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
