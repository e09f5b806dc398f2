"""``console.db``: the operator console's users, sessions, login failures, desk entries and audit log.

A file of its own in ``data.dir``: the console process and ``lapor-gateway user`` write it, nobody else.
Few writes (a sign-in, a page view touching its session), so plain transactions, no group commit.
The audit table is append-only: triggers refuse UPDATE and DELETE, so not even a bug here rewrites it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from forwarder.groupcommit import connect

CONSOLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  must_change INTEGER NOT NULL DEFAULT 0,
  totp_secret TEXT,
  totp_confirmed INTEGER NOT NULL DEFAULT 0,
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  last_login REAL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name),
  stage TEXT NOT NULL,
  created_at REAL NOT NULL,
  seen_at REAL NOT NULL,
  lang TEXT NOT NULL DEFAULT 'id'
);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT NOT NULL,
  at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);
CREATE TABLE IF NOT EXISTS desk_entries (
  external_id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  channel TEXT NOT NULL,
  at REAL NOT NULL,
  tracking_id TEXT
);
CREATE INDEX IF NOT EXISTS desk_entries_user ON desk_entries(user, at);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  user TEXT NOT NULL,
  action TEXT NOT NULL,
  tracking_id TEXT,
  reason TEXT,
  remote TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class ConsoleTables:
    """The SQLite adapter of :class:`gateway.store.ports.ConsoleStore`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        self._conn.executescript(CONSOLE_SCHEMA)
        self.path.chmod(0o600)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                n = self._conn.execute(sql, params).rowcount
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return n

    # --- users ---------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, *, totp_secret: str | None = None,
                 must_change: bool = False) -> bool:
        """False when the name is taken."""
        try:
            self._write("INSERT INTO users(name, role, password_hash, must_change, totp_secret, created_at) "
                        "VALUES (?,?,?,?,?,?)", (name, role, password_hash, int(must_change), totp_secret, time.time()))
        except sqlite3.IntegrityError:
            return False
        return True

    def user(self, name: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM users WHERE name=?", (name,))

    def users(self) -> list[dict[str, Any]]:
        return self._rows("SELECT name, role, must_change, totp_confirmed, disabled, created_at, last_login "
                          "FROM users ORDER BY name")

    def user_count(self) -> int:
        row = self._one("SELECT count(*) AS n FROM users")
        return int(row["n"]) if row else 0

    def set_password(self, name: str, password_hash: str, *, must_change: bool = False) -> bool:
        return self._write("UPDATE users SET password_hash=?, must_change=? WHERE name=?",
                           (password_hash, int(must_change), name)) == 1

    def set_disabled(self, name: str, disabled: bool) -> bool:
        n = self._write("UPDATE users SET disabled=? WHERE name=?", (int(disabled), name))
        if disabled:
            self._write("DELETE FROM sessions WHERE user=?", (name,))
        return n == 1

    def set_totp(self, name: str, secret: str | None, *, confirmed: bool) -> bool:
        return self._write("UPDATE users SET totp_secret=?, totp_confirmed=? WHERE name=?",
                           (secret, int(confirmed), name)) == 1

    def reset_totp(self, name: str, secret: str) -> bool:
        """A lost authenticator: a fresh secret, unconfirmed (the user enrols again at the next sign-in), and
        every session of the user ended (a lost phone may be a stolen one)."""
        n = self._write("UPDATE users SET totp_secret=?, totp_confirmed=0 WHERE name=?", (secret, name))
        self._write("DELETE FROM sessions WHERE user=?", (name,))
        return n == 1

    def use_totp_step(self, name: str, step: int) -> bool:
        """Mark a TOTP time step used; False when it (or a later one) was used already (no replay)."""
        return self._write("UPDATE users SET totp_last_step=? WHERE name=? AND totp_last_step<?",
                           (step, name, step)) == 1

    def logged_in(self, name: str, at: float) -> None:
        self._write("UPDATE users SET last_login=? WHERE name=?", (at, name))

    # --- sessions ------------------------------------------------------------------------
    def create_session(self, token_hash: str, user: str, stage: str, at: float, lang: str = "id") -> None:
        self._write("INSERT INTO sessions(token_hash, user, stage, created_at, seen_at, lang) VALUES (?,?,?,?,?,?)",
                    (token_hash, user, stage, at, at, lang))

    def session(self, token_hash: str) -> dict[str, Any] | None:
        return self._one("SELECT s.*, u.role, u.disabled FROM sessions s JOIN users u ON u.name=s.user "
                         "WHERE s.token_hash=?", (token_hash,))

    def touch_session(self, token_hash: str, at: float) -> None:
        self._write("UPDATE sessions SET seen_at=? WHERE token_hash=?", (at, token_hash))

    def set_session_stage(self, token_hash: str, stage: str) -> None:
        self._write("UPDATE sessions SET stage=? WHERE token_hash=?", (stage, token_hash))

    def set_session_lang(self, token_hash: str, lang: str) -> None:
        self._write("UPDATE sessions SET lang=? WHERE token_hash=?", (lang, token_hash))

    def end_session(self, token_hash: str) -> None:
        self._write("DELETE FROM sessions WHERE token_hash=?", (token_hash,))

    def end_sessions_before(self, created_before: float, seen_before: float) -> None:
        self._write("DELETE FROM sessions WHERE created_at<? OR seen_at<?", (created_before, seen_before))

    # --- login failures ------------------------------------------------------------------
    def add_failure(self, key: str, at: float) -> None:
        self._write("INSERT INTO login_failures(key, at) VALUES (?,?)", (key, at))

    def failures_since(self, key: str, since: float) -> list[float]:
        return [r["at"] for r in self._rows("SELECT at FROM login_failures WHERE key=? AND at>=? ORDER BY at",
                                            (key, since))]

    def clear_failures(self, key: str) -> None:
        self._write("DELETE FROM login_failures WHERE key=?", (key,))

    # --- desk entries --------------------------------------------------------------------
    def add_desk_entry(self, external_id: str, user: str, channel: str, at: float) -> None:
        self._write("INSERT OR IGNORE INTO desk_entries(external_id, user, channel, at) VALUES (?,?,?,?)",
                    (external_id, user, channel, at))

    def set_desk_tracking(self, external_id: str, tracking_id: str) -> None:
        self._write("UPDATE desk_entries SET tracking_id=? WHERE external_id=?", (tracking_id, external_id))

    def desk_entry(self, external_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM desk_entries WHERE external_id=?", (external_id,))

    def desk_entries_by(self, user: str, limit: int = 100) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM desk_entries WHERE user=? ORDER BY at DESC LIMIT ?", (user, limit))

    def entered_by(self, tracking_id: str) -> str | None:
        row = self._one("SELECT user FROM desk_entries WHERE tracking_id=?", (tracking_id,))
        return row["user"] if row else None

    # --- audit ---------------------------------------------------------------------------
    def audit(self, user: str, action: str, *, tracking_id: str | None = None, reason: str | None = None,
              remote: str | None = None, at: float | None = None) -> None:
        self._write("INSERT INTO audit(at, user, action, tracking_id, reason, remote) VALUES (?,?,?,?,?,?)",
                    (at or time.time(), user, action, tracking_id, reason, remote))

    def audit_entries(self, *, before: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        if before is None:
            return self._rows("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", (limit,))
        return self._rows("SELECT * FROM audit WHERE seq<? ORDER BY seq DESC LIMIT ?", (before, limit))


def open_console_store(data_dir: Path) -> ConsoleTables:
    return ConsoleTables(Path(data_dir) / "console.db")
