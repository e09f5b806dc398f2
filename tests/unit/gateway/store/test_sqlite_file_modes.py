"""Every SQLite file and its -wal/-shm is 0600: SQLite gives a new -wal/-shm the database's mode, so a database
made under the umask (0644) and chmod-ed afterwards left console.db-wal and -shm readable by anyone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from forwarder.groupcommit import connect
from gateway.store.sqlite.console import ConsoleTables


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}


def test_a_new_database_and_its_wal_and_shm_are_0600_under_a_loose_umask(tmp_path: Path):
    old = os.umask(0o022)
    try:
        conn = connect(tmp_path / "x.db")
        conn.execute("CREATE TABLE t(a)")
        conn.execute("INSERT INTO t VALUES (1)")
        modes = _modes(tmp_path)
        assert {"x.db", "x.db-wal", "x.db-shm"} <= set(modes)
        assert set(modes.values()) == {0o600}, modes
        conn.close()
    finally:
        os.umask(old)


def test_the_console_store_files_are_0600(tmp_path: Path):
    old = os.umask(0o022)
    try:
        store = ConsoleTables(tmp_path / "console.db")
        store._conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        modes = _modes(tmp_path)
        assert {"console.db", "console.db-shm"} <= set(modes) and set(modes.values()) == {0o600}, modes
        store.close()
    finally:
        os.umask(old)


def test_files_an_older_gateway_left_readable_are_made_0600_on_open(tmp_path: Path):
    db = tmp_path / "gateway-state.db"
    conn = connect(db)
    conn.execute("CREATE TABLE t(a)")
    for name in ("gateway-state.db", "gateway-state.db-wal", "gateway-state.db-shm"):
        os.chmod(tmp_path / name, 0o644)
    reader = connect(db, readonly=True)
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    assert set(_modes(tmp_path).values()) == {0o600}, _modes(tmp_path)
    reader.close()
    conn.close()
