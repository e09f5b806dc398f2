"""Fixtures the unit tests share."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer

VAULT_KEY = base64.urlsafe_b64encode(b"j" * 32).decode()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """The real journal (SQLite, identities sealed with a fixed test key) in the test's ``tmp_path``, closed after."""
    j = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    yield j
    j.close()
