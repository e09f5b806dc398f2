"""InboundMessage.kind / related: typed, and a payload journaled before they were fields still opens."""

from __future__ import annotations

import json

import pytest

from channels.message import InboundMessage

BASE = {"channel": "email.smtp", "account": "pengaduan@lapor.go.id", "external_id": "<m1@x>"}


@pytest.mark.parametrize(
    ("old_metadata", "kind", "related", "left"),
    [
        ({"kind": "bounce", "bounce_of": "7301442692", "parsed": True}, "bounce", "7301442692", {"parsed": True}),
        ({"kind": "auto_reply", "auto_reply_of": "6159083429"}, "auto_reply", "6159083429", {}),
        ({"kind": "status", "status_of": "abc", "status": "delivered"}, "status", "abc", {"status": "delivered"}),
        ({"kind": "edit", "edit_of": "101", "message_id": 101}, "edit", "101", {"message_id": 101}),
        ({"kind": "malformed", "reason": "entry 2"}, "malformed", None, {"reason": "entry 2"}),
        ({"kind": "complaint", "parsed": True}, "complaint", None, {"parsed": True}),
        ({"parsed": True}, "complaint", None, {"parsed": True}),
    ],
)
def test_an_old_journal_payload_opens_with_its_kind(old_metadata, kind, related, left) -> None:
    msg = InboundMessage.model_validate_json(json.dumps({**BASE, "metadata": old_metadata}))
    assert (msg.kind, msg.related, msg.metadata) == (kind, related, left)


def test_the_typed_fields_round_trip_and_win_over_metadata() -> None:
    msg = InboundMessage(**BASE, kind="bounce", related="7301442692", metadata={"kind": "letter"})
    again = InboundMessage.model_validate_json(msg.model_dump_json())
    assert (again.kind, again.related, again.metadata) == ("bounce", "7301442692", {"kind": "letter"})


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        InboundMessage(**BASE, kind="newsletter")
