"""The group-commit writer's way for a batch of one bulk key alone (``register_bulk(..., alone=...)``)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from forwarder.groupcommit import GroupCommitWriter

SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE);"


class Calls:
    """The two handlers, counting what each was given."""

    def __init__(self, alone_answers: Any = "insert") -> None:
        self.alone_answers = alone_answers
        self.alone: list[list[str]] = []
        self.usual: list[list[str]] = []

    def usual_handler(self, conn: sqlite3.Connection, rows: list[str]) -> list[str]:
        self.usual.append(rows)
        assert conn.in_transaction  # the usual way: inside the batch's transaction
        for v in rows:
            conn.execute("INSERT OR IGNORE INTO t(v) VALUES (?)", (v,))
        return [f"usual:{v}" for v in rows]

    def alone_handler(self, conn: sqlite3.Connection, rows: list[str]) -> list[str] | None:
        self.alone.append(rows)
        assert not conn.in_transaction  # its statement commits itself
        if self.alone_answers == "raise":
            conn.execute("INSERT INTO nowhere VALUES (1)")  # sqlite3.OperationalError
        try:
            conn.execute("INSERT INTO t(v) VALUES " + ",".join(["(?)"] * len(rows)), rows)
        except sqlite3.IntegrityError:
            return None
        return [f"alone:{v}" for v in rows]


def _writer(tmp_path: Path, calls: Calls) -> GroupCommitWriter:
    w = GroupCommitWriter(tmp_path / "t.db", SCHEMA)
    w.register_bulk("k", calls.usual_handler, alone=calls.alone_handler)
    return w


def _stored(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "t.db") as c:
        return [r[0] for r in c.execute("SELECT v FROM t ORDER BY id")]


def test_a_batch_of_new_rows_is_one_statement_and_each_caller_gets_its_own_results(tmp_path: Path) -> None:
    calls = Calls()
    w = _writer(tmp_path, calls)

    async def go() -> list[list[str]]:
        return await asyncio.gather(*(w.write_bulk("k", [f"{i}a", f"{i}b"]) for i in range(40)))

    got = asyncio.run(go())
    w.close()
    assert got == [[f"alone:{i}a", f"alone:{i}b"] for i in range(40)]
    assert not calls.usual and sum(len(r) for r in calls.alone) == 80
    assert w.commits == len(calls.alone)  # one commit per statement, counted as a batch
    assert sorted(_stored(tmp_path)) == sorted(f"{i}{s}" for i in range(40) for s in "ab")


def test_when_the_statement_writes_nothing_the_batch_takes_the_usual_way(tmp_path: Path) -> None:
    calls = Calls()
    w = _writer(tmp_path, calls)

    async def go() -> tuple[list[str], list[str]]:
        first = await w.write_bulk("k", ["x"])
        again = await w.write_bulk("k", ["y", "x"])  # "x" is taken: the one statement fails whole
        return first, again

    first, again = asyncio.run(go())
    w.close()
    assert first == ["alone:x"] and again == ["usual:y", "usual:x"]
    assert calls.usual == [["y", "x"]]
    assert _stored(tmp_path) == ["x", "y"]


def test_a_failing_statement_fails_every_caller_of_the_batch_and_leaves_nothing(tmp_path: Path) -> None:
    calls = Calls(alone_answers="raise")
    w = _writer(tmp_path, calls)

    async def go() -> list[Any]:
        return await asyncio.gather(*(w.write_bulk("k", [str(i)]) for i in range(5)), return_exceptions=True)

    got = asyncio.run(go())
    after = asyncio.run(_write_one(w))  # the writer goes on afterwards
    w.close()
    assert all(isinstance(g, sqlite3.OperationalError) for g in got)
    assert not calls.usual
    assert after == 1 and _stored(tmp_path) == ["later"]


async def _write_one(w: GroupCommitWriter) -> int:
    return await w.write(lambda c: c.execute("INSERT INTO t(v) VALUES ('later')").rowcount)


def test_a_batch_with_other_writes_never_takes_the_way_alone(tmp_path: Path) -> None:
    calls = Calls()
    w = _writer(tmp_path, calls)
    release = threading.Event()

    async def go() -> list[Any]:
        # a write that holds the writer thread until every caller below is queued: they are one batch
        blocker = asyncio.ensure_future(w.write(lambda c: release.wait(30)))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(w.write_bulk("k", [str(i)])) for i in range(3)]
        rest.append(asyncio.ensure_future(w.write(lambda c: c.execute("INSERT INTO t(v) VALUES ('fn')").rowcount)))
        await asyncio.sleep(0.05)
        release.set()
        return [await blocker, *[await f for f in rest]]

    got = asyncio.run(go())
    w.close()
    assert got[1:] == [["usual:0"], ["usual:1"], ["usual:2"], 1]
    assert calls.alone == [] and calls.usual == [["0", "1", "2"]]
