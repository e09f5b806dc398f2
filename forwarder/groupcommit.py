"""Durable SQLite writes with group commit.

One writer thread owns the only write connection (WAL, ``synchronous=FULL``).
Callers submit a function of the connection and await its result; the thread
takes everything queued, runs each function inside its own SAVEPOINT, commits
the batch once (one fsync) and only then resolves the callers' futures. A
function that raises rolls back only its own savepoint.

Writers of one file in several processes take turns through an ``flock`` on
``<file>-writer.lock`` around each batch: the kernel wakes the next one the moment
the lock is let go, where SQLite's own busy handler sleeps 1, 2, 5, 10… ms between
tries (a writer waited a third of its time in ``BEGIN IMMEDIATE``). SQLite's lock
still guards the file; a writer that does not take the ``flock`` (an older one)
only waits as before.

This module imports nothing from the project so that both the gateway's journal
and the reference central store (``forwarder.central``) can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_STOP = object()


PRIVATE = 0o600  # every SQLite file of a data folder, and its -wal and -shm: complaints and identities


def private_files(path: Path | str) -> None:
    """The database ``path`` and its -wal/-shm made 0600 (those that exist; another owner's are left)."""
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(OSError):
            if os.stat(name).st_mode & 0o777 != PRIVATE:
                os.chmod(name, PRIVATE)


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A WAL connection. The file is made 0600 before SQLite opens it: SQLite gives a new -wal and -shm the
    database's own mode, so a database created 0644 (the umask) and chmod-ed later left them readable."""
    if not readonly:
        # O_EXCL: only a file that does not exist yet is opened here. Closing a descriptor of a database this
        # process already has open would drop every POSIX lock SQLite holds on it (locks are per process),
        # and another process's reads of the WAL then go wrong (the worker stopped seeing new messages).
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE))
    private_files(path)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    private_files(path)  # a -wal/-shm made earlier, under another mode
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


class GroupCommitWriter:
    """Serialises writes through one thread and commits them in batches."""

    def __init__(self, path: Path | str, schema: str = "", batch_max: int = 256) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_max = batch_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._conn = connect(self.path)
        if schema:
            self._conn.executescript(schema)
        self._turns = os.open(f"{self.path}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE)
        # Checkpoints copy the WAL into the database and fsync it: done by the committing thread
        # (the default, every 1000 pages) they stall every caller waiting on that batch. A
        # separate connection checkpoints instead (PASSIVE never blocks the writer).
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name=f"checkpoint:{self.path.name}",
                                              daemon=True)
        self._thread = threading.Thread(target=self._run, name=f"group-commit:{self.path.name}", daemon=True)
        self._closed = False
        self._stopped = threading.Event()
        self._bulk: dict[str, Callable[[sqlite3.Connection, list[Any]], list[Any]]] = {}
        self._alone: dict[str, Callable[[sqlite3.Connection, list[Any]], list[Any] | None]] = {}
        self.commits = 0
        self.writes = 0
        self._thread.start()
        self._checkpointer.start()

    def _checkpoint_loop(self, interval: float = 1.0) -> None:
        conn = connect(self.path)
        try:
            while not self._stopped.wait(interval):
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    async def write(self, fn: Callable[[sqlite3.Connection], T], *, savepoint: bool = True) -> T:
        """Run ``fn(conn)`` in the writer; return once its batch is durable.

        Each function runs in its own SAVEPOINT so that one that raises undoes only
        itself; ``savepoint=False`` skips that for a function of a single statement
        (statements are atomic anyway), which matters on the hot intake path.
        """
        if self._closed:
            raise RuntimeError("journal is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, loop, fut, savepoint))
        return await fut

    def register_bulk(self, key: str, handler: Callable[[sqlite3.Connection, list[Any]], list[Any]],
                      *, alone: Callable[[sqlite3.Connection, list[Any]], list[Any] | None] | None = None) -> None:
        """A handler that writes many callers' rows at once (``executemany``): one call per batch.

        ``alone``, when given, is tried first for a batch that holds nothing but this key's rows: it runs
        outside a transaction, so its one statement commits itself, and returns the results, or None when
        that statement wrote nothing and the batch must take the usual way (``handler`` in a transaction).
        It exists for the acknowledging path: every statement lets go of the GIL twice and takes it back
        behind the event loop (up to a switch interval each time); BEGIN, SAVEPOINT, the INSERT, RELEASE
        and COMMIT were a dozen such waits per batch, one is two.
        """
        self._bulk[key] = handler
        if alone is not None:
            self._alone[key] = alone

    async def write_bulk(self, key: str, rows: list[Any]) -> list[Any]:
        """Hand ``rows`` to the bulk handler ``key``; get back one result per row once durable."""
        if self._closed:
            raise RuntimeError("journal is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[Any]] = loop.create_future()
        self._queue.put((_Bulk(key, rows), loop, fut, True))
        return await fut

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking variant for code that runs outside an event loop (CLI)."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def settle(_loop: Any, _fut: Any, ok: bool, value: Any) -> None:
            box["ok"], box["value"] = ok, value
            done.set()

        self._queue.put((fn, None, settle, True))
        done.wait()
        if not box["ok"]:
            raise box["value"]
        return box["value"]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout=30)
        self._stopped.set()
        self._checkpointer.join(timeout=30)
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()
        os.close(self._turns)

    def _run_bulk(self, conn: sqlite3.Connection, items: list[Any]) -> list[tuple[Any, Any, bool, Any]]:
        """Each bulk key's rows from every caller in the batch go to its handler in one call."""
        results: list[tuple[Any, Any, bool, Any]] = []
        by_key: dict[str, list[Any]] = {}
        for item in items:
            by_key.setdefault(item[0].key, []).append(item)
        for key, group in by_key.items():
            conn.execute("SAVEPOINT bulk")
            try:
                values = self._bulk[key](conn, _all_rows(group))
            except BaseException as exc:
                conn.execute("ROLLBACK TO bulk")
                conn.execute("RELEASE bulk")
                results += [(loop, fut, False, exc) for _b, loop, fut, _sp in group]
                continue
            conn.execute("RELEASE bulk")
            results += _per_caller(group, values)
        return results

    def _run_alone(self, conn: sqlite3.Connection, batch: list[Any]) -> list[tuple[Any, Any, bool, Any]] | None:
        """A batch of one bulk key's rows only, through its ``alone`` handler; None: take the usual way."""
        first = batch[0][0]
        handler = self._alone.get(first.key) if isinstance(first, _Bulk) else None
        if handler is None or any(not isinstance(b[0], _Bulk) or b[0].key != first.key for b in batch):
            return None
        try:
            values = handler(conn, _all_rows(batch))
        except BaseException as exc:  # its one statement failed as a whole: nothing is durable
            if conn.in_transaction:  # a handler that began one and failed before it ended
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            return [(loop, fut, False, exc) for _b, loop, fut, _sp in batch]
        if values is None:
            return None
        self.commits += 1
        self.writes += len(batch)
        return _per_caller(batch, values)

    def _run(self) -> None:
        conn = self._conn
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self.batch_max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            fcntl.flock(self._turns, fcntl.LOCK_EX)  # this writer's turn among the file's writers
            try:
                results = self._commit(conn, batch)
            finally:
                fcntl.flock(self._turns, fcntl.LOCK_UN)
            _settle_all(results)
            if stop:
                return

    def _commit(self, conn: sqlite3.Connection, batch: list[Any]) -> list[tuple[Any, Any, bool, Any]]:
        """The batch written and committed; each caller's result (or exception) to settle."""
        alone = self._run_alone(conn, batch)
        if alone is not None:
            return alone
        results: list[tuple[Any, Any, bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            results += self._run_bulk(conn, [b for b in batch if isinstance(b[0], _Bulk)])
            for fn, loop, fut, savepoint in batch:
                if isinstance(fn, _Bulk):
                    continue
                if savepoint:
                    conn.execute("SAVEPOINT op")
                try:
                    value = fn(conn)
                except BaseException as exc:
                    if savepoint:
                        conn.execute("ROLLBACK TO op")
                        conn.execute("RELEASE op")
                    results.append((loop, fut, False, exc))
                else:
                    if savepoint:
                        conn.execute("RELEASE op")
                    results.append((loop, fut, True, value))
            conn.execute("COMMIT")
            self.commits += 1
            self.writes += len(batch)
        except BaseException as exc:  # the commit itself failed: nobody is durable
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            results = [(loop, fut, False, exc) for _fn, loop, fut, _sp in batch]
        return results


@dataclass
class _Bulk:
    key: str
    rows: list[Any]


def _all_rows(group: list[Any]) -> list[Any]:
    """Every caller's rows of a bulk key, in the order of the callers."""
    return [row for bulk, _loop, _fut, _sp in group for row in bulk.rows]


def _per_caller(group: list[Any], values: list[Any]) -> list[tuple[Any, Any, bool, Any]]:
    """A bulk handler's results (one per row of :func:`_all_rows`) handed back to the caller of each row."""
    results, i = [], 0
    for bulk, loop, fut, _sp in group:
        results.append((loop, fut, True, values[i : i + len(bulk.rows)]))
        i += len(bulk.rows)
    return results


def _settle_all(results: list[tuple[Any, Any, bool, Any]]) -> None:
    by_loop: dict[Any, list[tuple[Any, bool, Any]]] = {}
    for loop, fut, ok, value in results:
        if loop is None:
            fut(None, None, ok, value)
        else:
            by_loop.setdefault(loop, []).append((fut, ok, value))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # loop already closed: the callers are gone
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for fut, ok, value in items:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


class Reader:
    """A pool-less read helper: one read-only connection per thread, used via ``asyncio.to_thread``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = connect(self.path, readonly=True)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def query(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return fn(self.conn())

    def rows(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, params).fetchall()

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn().execute(sql, params).fetchone()

    async def aquery(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self.query, fn)

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                with contextlib.suppress(sqlite3.Error):
                    c.close()
            self._all.clear()
