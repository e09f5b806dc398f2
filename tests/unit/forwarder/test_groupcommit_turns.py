"""Writers of one file take turns through its ``-writer.lock``: a batch waits while another writer holds it,
and is written the moment the lock is let go (what the worker and the delivery process rely on)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import stat
from pathlib import Path

from forwarder.groupcommit import GroupCommitWriter

SCHEMA = "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"


async def test_a_batch_waits_for_the_other_writers_turn(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    w = GroupCommitWriter(path, SCHEMA)
    other = os.open(f"{path}-writer.lock", os.O_RDWR)  # another process's writer, holding its turn
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        pending = asyncio.ensure_future(w.write(lambda c: c.execute("INSERT INTO t(v) VALUES ('a')").lastrowid))
        await asyncio.sleep(0.3)
        assert not pending.done()  # not written while the other writer holds the turn
        fcntl.flock(other, fcntl.LOCK_UN)
        assert await asyncio.wait_for(pending, 10) == 1
    finally:
        os.close(other)
        w.close()


async def test_two_writers_of_one_file_both_get_every_write_through(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    a, b = GroupCommitWriter(path, SCHEMA), GroupCommitWriter(path, SCHEMA)
    try:
        await asyncio.gather(*(w.write(lambda c, i=i: c.execute("INSERT INTO t(v) VALUES (?)", (str(i),)))
                               for i in range(200) for w in (a, b)))
        n = await asyncio.to_thread(a.write_sync, lambda c: c.execute("SELECT COUNT(*) FROM t").fetchone()[0])
        assert n == 400
    finally:
        a.close()
        b.close()


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    w = GroupCommitWriter(tmp_path / "state.db", SCHEMA)
    w.close()
    assert stat.S_IMODE(os.stat(tmp_path / "state.db-writer.lock").st_mode) == 0o600
