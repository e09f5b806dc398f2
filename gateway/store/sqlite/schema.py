"""The two SQLite files' tables: ``gateway.db`` (what citizens sent) and ``gateway-state.db`` (the rest)."""

from __future__ import annotations

import sqlite3

# The intake file: what citizens sent, written only by the process that acknowledges
# (so its group commit never waits on the worker's transactions), read by the worker.
INTAKE_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  account TEXT NOT NULL,
  external_id TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at REAL NOT NULL,
  digest TEXT,
  conflict INTEGER NOT NULL DEFAULT 0,
  UNIQUE (channel, account, external_id)
);
CREATE TABLE IF NOT EXISTS cursors (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at REAL NOT NULL
);
"""

# The state file: what the worker made of it, written only by the worker (and the CLI).
STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
  inbound_id INTEGER PRIMARY KEY,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  error TEXT,
  updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS processed_retry ON processed(next_at) WHERE state='retry';
-- /metrics counts processed rows by state from this index alone (a table scan and a sort without it)
CREATE INDEX IF NOT EXISTS processed_state ON processed(state);
CREATE TABLE IF NOT EXISTS complaints (
  id TEXT PRIMARY KEY,
  tracking_id TEXT NOT NULL UNIQUE,
  inbound_id INTEGER NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  record TEXT NOT NULL,
  reporter_ref TEXT,
  anonymous INTEGER NOT NULL,
  confidential INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  last_error TEXT,
  central_answer TEXT,
  created_at REAL NOT NULL,
  forwarded_at REAL,
  review_reason TEXT
);
CREATE INDEX IF NOT EXISTS complaints_outbox ON complaints(state, next_at);
CREATE INDEX IF NOT EXISTS complaints_reporter ON complaints(reporter_ref, created_at);
CREATE TABLE IF NOT EXISTS vault (
  complaint_id TEXT PRIMARY KEY REFERENCES complaints(id),
  sealed BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  dedup_key TEXT NOT NULL UNIQUE,
  complaint_id TEXT,
  tracking_id TEXT,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL,
  target BLOB NOT NULL,
  body BLOB NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  provider_id TEXT,
  last_error TEXT,
  created_at REAL NOT NULL,
  sent_at REAL,
  delivered_at REAL,
  delivery_status TEXT,
  failing_since REAL
);
CREATE INDEX IF NOT EXISTS receipts_due ON receipts(state, next_at);
CREATE INDEX IF NOT EXISTS receipts_tracking ON receipts(tracking_id);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  channel TEXT NOT NULL,
  tracking_id TEXT,
  state TEXT NOT NULL,
  contact TEXT,
  category TEXT,
  flags TEXT,
  detail TEXT
);
CREATE TABLE IF NOT EXISTS cursors (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at REAL NOT NULL
);
"""


# Citizen responses (gateway/store/sqlite/responses.py): answers on a complaint, waiting for the store.
RESPONSES_SCHEMA = """
CREATE TABLE IF NOT EXISTS citizen_responses (
  id TEXT PRIMARY KEY,
  inbound_id INTEGER NOT NULL UNIQUE,
  complaint_id TEXT NOT NULL,
  tracking_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  payload BLOB NOT NULL,
  anonymous INTEGER NOT NULL DEFAULT 0,
  confidential INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at REAL NOT NULL DEFAULT 0,
  last_error TEXT,
  central_answer TEXT,
  created_at REAL NOT NULL,
  forwarded_at REAL
);
CREATE INDEX IF NOT EXISTS citizen_responses_due ON citizen_responses(state, next_at);
CREATE INDEX IF NOT EXISTS citizen_responses_tracking ON citizen_responses(tracking_id);
CREATE INDEX IF NOT EXISTS receipts_provider ON receipts(provider_id) WHERE provider_id IS NOT NULL;
"""
STATE_SCHEMA += RESPONSES_SCHEMA

# When each chat citizen last wrote (gateway/store/sqlite/windows.py: WhatsApp's 24-hour window), keyed by
# the vault's index of channel, account and sender: no number at rest; built from the inbound journal.
WINDOWS_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_windows (
  key TEXT PRIMARY KEY,
  last_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_windows_age ON chat_windows(last_at);
"""
STATE_SCHEMA += WINDOWS_SCHEMA

# What the central store's feed said of each complaint (gateway/store/sqlite/updates.py), told or not: per status
# when the store first set it and the latest update that set it. The monthly report reads it.
STORE_STATUSES_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_statuses (
  complaint_id TEXT NOT NULL,
  status TEXT NOT NULL,
  first_at REAL NOT NULL,
  last_at REAL NOT NULL,
  update_id INTEGER NOT NULL,
  PRIMARY KEY (complaint_id, status)
);
"""
STATE_SCHEMA += STORE_STATUSES_SCHEMA



def add_missing_columns(conn: sqlite3.Connection) -> None:
    """A journal made before the reuse check gets its columns (rows without a digest never conflict)."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(inbound)")}
    for column, decl in (("digest", "TEXT"), ("conflict", "INTEGER NOT NULL DEFAULT 0")):
        if column not in have:
            conn.execute(f"ALTER TABLE inbound ADD COLUMN {column} {decl}")


def add_missing_state_columns(conn: sqlite3.Connection) -> None:
    """A state file made before receipts were retried for hours gets ``failing_since`` (NULL: never failed)."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(receipts)")}
    if "failing_since" not in have:
        conn.execute("ALTER TABLE receipts ADD COLUMN failing_since REAL")
    # ... and one made before a review decision kept its reason gets ``review_reason`` (NULL: none given)
    if "review_reason" not in {r[1] for r in conn.execute("PRAGMA table_info(complaints)")}:
        conn.execute("ALTER TABLE complaints ADD COLUMN review_reason TEXT")

