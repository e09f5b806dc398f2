"""``POST /channels/desk``: signed entries from the console become one message each; anything else is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import RawRequest
from channels.desk.webhook import DeskChannel, desk_key, entry_body
from channels.message import Rejected
from channels.signing import sha256_signature

KEY = desk_key(None, "dmF1bHQta2V5LWZvci10ZXN0cy0zMi1ieXRlcy0hISE=")


def request(body: bytes, key: str = KEY, signature: str | None = None) -> RawRequest:
    sig = signature if signature is not None else sha256_signature(key, body)
    return RawRequest("POST", "/channels/desk", b"", {"X-Signature": sig, "Content-Type": "application/json"}, body)


def entry(**over: Any) -> dict[str, Any]:
    return {"channel": "desk.phone", "external_id": "abcdefgh12345678", "user": "rina", "subject": "Jalan",
            "body": "Jalan rusak", "anonymous": True, "confidential": False,
            "reporter": {"name": "Budi", "phone": "081234567890"}, "attachments": [
                {"sha256": "a" * 64, "media_type": "image/png", "size": 10, "filename": "../../etc/foto.png"}]} | over


def test_a_signed_entry_is_one_message_with_the_operators_flags() -> None:
    channel = DeskChannel(KEY)
    intake = channel.parse(request(entry_body(entry())))
    assert intake.status == 202
    (msg,) = intake.messages
    assert (msg.channel, msg.account, msg.external_id) == ("desk.phone", "rina", "abcdefgh12345678")
    assert msg.text == "Jalan rusak" and msg.reporter.phone == "081234567890"
    assert msg.privacy is not None and msg.privacy.anonymous and msg.privacy.source == "operator"
    assert msg.attachments[0].filename == "foto.png"
    assert msg.reply_context["printable"] and msg.reply_context["notify"] == ["sms"]


def test_the_key_derives_the_same_in_every_process_and_a_set_secret_wins() -> None:
    assert desk_key(None, "k") == desk_key(None, "k") != desk_key(None, "other")
    assert desk_key("set", "k") == "set"


@pytest.mark.parametrize(("body", "sig", "status"), [
    (entry_body(entry()), "sha256=" + "0" * 64, 403),
    (entry_body(entry()), "", 403),
    (b"not json", None, 400),
    (b"[1, 2]", None, 400),
    (entry_body(entry(channel="sms.kannel")), None, 400),
    (entry_body(entry(external_id="../x")), None, 400),
    (entry_body(entry(body=["x"])), None, 400),
    (entry_body(entry(body="x" * 20_001)), None, 413),
    (entry_body(entry(reporter="Budi")), None, 400),
    (entry_body(entry(attachments=[{"sha256": "../../x", "media_type": "a", "size": 1}])), None, 400),
    (entry_body(entry(attachments=[{"sha256": "a" * 64, "media_type": "a", "size": -1}])), None, 400),
    (entry_body(entry(attachments=[{}] * 21)), None, 400),
])
def test_bad_entries_are_refused(body: bytes, sig: str | None, status: int) -> None:
    with pytest.raises(Rejected) as exc:
        DeskChannel(KEY).parse(request(body, signature=sig))
    assert exc.value.status == status


def test_an_entry_signed_with_another_key_is_refused() -> None:
    body = entry_body(entry())
    with pytest.raises(Rejected) as exc:
        DeskChannel(KEY).parse(request(body, key="another key"))
    assert exc.value.status == 403


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                     max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["channel", "external_id", "user", "subject", "body", "anonymous",
                                        "confidential", "reporter", "attachments", "other"]), JSONISH))
def test_any_signed_json_is_a_message_or_a_refusal(fields: dict[str, Any]) -> None:
    body = json.dumps(fields).encode()
    try:
        intake = DeskChannel(KEY).parse(request(body))
    except Rejected as exc:
        assert 400 <= exc.status < 500
    else:
        assert len(intake.messages) == 1 and intake.messages[0].channel.startswith("desk.")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_signed_bytes_are_a_message_or_a_refusal(body: bytes) -> None:
    try:
        DeskChannel(KEY).parse(request(body))
    except Rejected as exc:
        assert exc.status in (400, 413)
