"""The real journal for unit tests: SQLite in a test's folder, identities sealed with a fixed test key (the same
each time, so a test can close it and open it again, as a restarted gateway does)."""

from __future__ import annotations

import base64
from pathlib import Path

from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer

VAULT_KEY = base64.urlsafe_b64encode(b"j" * 32).decode()


def open_journal(folder: Path) -> Journal:
    return Journal(folder / "gateway.db", Sealer(VAULT_KEY))
