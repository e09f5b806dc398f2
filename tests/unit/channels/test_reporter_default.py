"""The empty ReporterInfo every message shares by default: immutable, and journaled as before."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from channels.message import NO_REPORTER, InboundMessage, ReporterInfo

BASE = {"channel": "sms.kannel", "account": "1708", "external_id": "k-1", "sender": "6281299990001"}


def test_the_shared_default_cannot_be_changed_through_one_message() -> None:
    first, second = InboundMessage(**BASE), InboundMessage(**{**BASE, "external_id": "k-2"})
    assert first.reporter is NO_REPORTER and second.reporter is NO_REPORTER
    with pytest.raises(ValidationError):
        first.reporter.phone = "6281200000000"  # type: ignore[misc]
    assert second.reporter == ReporterInfo() and second.reporter.is_empty()


def test_a_message_gets_its_own_reporter_by_copy() -> None:
    msg = InboundMessage(**BASE)
    named = msg.model_copy(update={"reporter": msg.reporter.model_copy(update={"name": "Siti\x00"})})
    assert named.reporter.name == "Siti\ufffd"
    assert NO_REPORTER.name is None and InboundMessage(**BASE).reporter.is_empty()


@pytest.mark.parametrize("reporter", [None, {"name": "Siti Kanari", "phone": "6281299990001"}, {"email": "a@b.id"}])
def test_the_journal_payload_is_unchanged(reporter: dict[str, str] | None) -> None:
    data = {**BASE, "received_at": "2026-12-02T01:00:00Z", "text": "jalan rusak"}
    if reporter is not None:
        data["reporter"] = reporter
    msg = InboundMessage.model_validate(data)
    payload = json.loads(msg.model_dump_json(exclude_defaults=True))
    # the default is left out of the journal as it was with the factory; a known reporter is kept
    assert payload == {**data, "received_at": "2026-12-02T01:00:00Z"}
    assert InboundMessage.model_validate_json(msg.model_dump_json(exclude_defaults=True)) == msg
