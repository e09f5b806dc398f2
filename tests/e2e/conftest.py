"""Fixtures the end-to-end families share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e_helpers import ThreadedSmtpSink, threaded_smtp_sink


@pytest.fixture
def sink() -> Iterator[ThreadedSmtpSink]:
    """The SMTP relay a test's gateway sends its email receipts and updates to (``sink.env()``)."""
    with threaded_smtp_sink() as s:
        yield s
