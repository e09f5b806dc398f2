"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.sqlite.journal import Journal
from tests.unit.journals import open_journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """The real journal (:func:`tests.unit.journals.open_journal`) in the test's ``tmp_path``, closed after."""
    j = open_journal(tmp_path)
    yield j
    j.close()
