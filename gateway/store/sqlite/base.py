"""The two files, their writers and readers, and sealing: what every table group of the adapter shares."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from forwarder.groupcommit import GroupCommitWriter, Reader, connect
from gateway.store.sqlite.schema import INTAKE_SCHEMA, STATE_SCHEMA, add_missing_columns, add_missing_state_columns
from gateway.store.vault import Sealer


class Files:
    """``gateway.db`` (inbound and pollers' cursors: written by the acknowledging process, and by whatever
    journals a letter as a channel does: the worker's hot folder, ``scan``) and ``gateway-state.db`` (the rest:
    the worker, the CLI and the console; the intake only logs a poller's set-aside input there).

    Writers are opened on first write, so a process only ever writes the file it owns.
    """

    def __init__(self, path: Path, sealer: Sealer, batch_max: int = 256) -> None:
        self.path = Path(path)
        self.state_path = self.path.with_name(f"{self.path.stem}-state{self.path.suffix or '.db'}")
        self.sealer = sealer
        self.batch_max = batch_max
        for file, schema in ((self.path, INTAKE_SCHEMA), (self.state_path, STATE_SCHEMA)):
            file.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(file)
            conn.executescript(schema)
            if file == self.path:
                add_missing_columns(conn)
            else:
                add_missing_state_columns(conn)
            conn.close()
        self.intake_reader = Reader(self.path)
        self.reader = Reader(self.state_path)
        self._intake_writer: GroupCommitWriter | None = None
        self._state_writer: GroupCommitWriter | None = None

    @property
    def intake_writer(self) -> GroupCommitWriter:
        if self._intake_writer is None:
            from gateway.store.sqlite.inbound import accept_new_rows, accept_rows

            self._intake_writer = GroupCommitWriter(self.path, batch_max=self.batch_max)
            self._intake_writer.register_bulk("accept", accept_rows, alone=accept_new_rows)
        return self._intake_writer

    @property
    def state_writer(self) -> GroupCommitWriter:
        if self._state_writer is None:
            self._state_writer = GroupCommitWriter(self.state_path, batch_max=self.batch_max)
        return self._state_writer

    def close(self) -> None:
        for w in (self._intake_writer, self._state_writer):
            if w is not None:
                w.close()
        self.intake_reader.close()
        self.reader.close()

    def seal_json(self, obj: Any) -> bytes:
        # "replace": a lone surrogate that got this far must not make a whole outcome unstorable
        return self.sealer.seal(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8", "replace"))

    def open_json(self, blob: bytes) -> Any:
        return json.loads(self.sealer.open(blob))


def due_rows(reader: Reader, select: str, where: str, limit: int, *, alias: str = "") -> list[sqlite3.Row]:
    """The ``limit`` oldest (``created_at``, which ``select`` must name) due rows of an outbox table indexed
    on ``(state, next_at)``, where ``where`` picks the state.

    One ``ORDER BY created_at`` over the due rows sorted the whole backlog at every read: 100,000 rows for
    each 128 taken in a burst. Read in two index walks instead, each stopping at ``limit``: rows never tried
    (``next_at`` 0) in the order they were written, rows tried before in the order they fell due."""
    a = f"{alias}." if alias else ""
    fresh = reader.rows(f"{select} WHERE {where} AND {a}next_at=0 ORDER BY {a}rowid LIMIT ?", (limit,))
    retried = reader.rows(f"{select} WHERE {where} AND {a}next_at>0 AND {a}next_at<=? ORDER BY {a}next_at LIMIT ?",
                          (time.time(), limit))
    return sorted([*fresh, *retried], key=lambda r: r["created_at"])[:limit]


def set_cursor_row(conn: sqlite3.Connection, key: str, value: str, now: float) -> None:
    conn.execute(
        "INSERT INTO cursors(key, value, updated_at) VALUES (?,?,?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
        (key, value, now),
    )

