"""Telegram webhook: one table of captured updates, plus the checks every webhook gets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from channels.message import Rejected
from channels.social.telegram import SECRET_HEADER, TelegramChannel, bot_id_from_token
from tests.channels.social.helpers import fixture_bytes, raw_post

SECRET = "s3cret-webhook-token_1"
ACCOUNT = bot_id_from_token("7000000001:AAFakeTokenForTestsOnly_abcdefghijk")
CHANNEL = TelegramChannel(ACCOUNT, SECRET)


@dataclass
class Case:
    label: str
    fixture: str
    text: str | None = None
    external_id: str | None = None
    sender: str | None = "612345678"
    handle: str | None = "@canary_warga"
    metadata: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    suppress: bool = False
    kind: str = "complaint"
    related: str | None = None
    ignored: bool = False


CASES = [
    Case("plain text", "message__text", text="jln rusak dpn pasar kramat, sdh 3 bln tdk diperbaiki",
         external_id="730100001", metadata={"chat_type": "private", "message_id": 101}),
    Case("/start passes through as text", "message__command_start", text="/start"),
    Case("/cek passes through as text", "message__cek", text="/cek 4820193746"),
    Case("/rahasia keyword stays at the start of the text", "message__rahasia",
         text="/rahasia pungli di kantor kelurahan, NIK saya 3201010101900001"),
    Case("photo with caption: largest size named", "message__photo_caption", text="Lampu jalan mati di Jl. Melati",
         files=["AgACAgUAAxkBAAIBsmZ_large"]),
    Case("photo without caption", "message__photo_only", text="", files=["AgACAgUAAxkBAAIBs2Z_only"]),
    Case("document with caption", "message__document", text="surat pengantar ditolak", files=["BQACAgUAAxkBAAIBtGZ_doc"]),
    Case("location shared", "message__location", text="", metadata={"location": {"lat": -6.200012, "lon": 106.816635}}),
    Case("voice note kept for an operator", "message__voice", text="", metadata={"unsupported_media": "voice"}),
    Case("group chat: reply must be public-safe", "message__group", sender="-1001987654321",
         text="@lapor1708_bot got sampah menumpuk di RW 05", metadata={"reply_visibility": "public"}),
    Case("message from a bot: taken, never answered", "message__from_bot", sender="-1001987654321", handle="@echo_bot",
         suppress=True),
    Case("edited message recorded as an edit", "edited_message__text", external_id="730100012",
         kind="edit", related="101"),
    Case("bot blocked by the user: nothing to store", "my_chat_member__blocked", ignored=True),
]


def post(name: str, secret: str | None = SECRET) -> Any:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return CHANNEL.parse(raw_post(CHANNEL.path, fixture_bytes("telegram", name), headers))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_telegram_update(case: Case) -> None:
    intake = post(case.fixture)
    assert intake.status == 200
    if case.ignored:
        assert intake.messages == []
        return
    [msg] = intake.messages
    assert msg.channel == "social.telegram" and msg.account == ACCOUNT
    if case.text is not None:
        assert msg.text == case.text
    if case.external_id:
        assert msg.external_id == case.external_id
    assert msg.sender == case.sender
    assert msg.reporter.handle == case.handle
    assert msg.metadata.items() >= case.metadata.items()
    assert (msg.kind, msg.related) == (case.kind, case.related)
    assert [f["file_id"] for f in msg.metadata.get("files", [])] == case.files
    assert bool(msg.suppress_receipt) == case.suppress
    assert msg.reply_context["chat_id"] == int(case.sender or 0)
    assert msg.privacy is None  # /anonim and /rahasia are the normaliser's keyword step


def test_reporter_name_and_contact() -> None:
    [msg] = post("message__contact").messages
    assert msg.reporter.name == "Siti Kanari"
    assert msg.reporter.phone == "6281299990001"


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"], ids=["missing", "empty", "wrong", "longer"])
def test_bad_or_missing_secret_is_403(secret: str | None) -> None:
    with pytest.raises(Rejected) as err:
        post("message__text", secret)
    assert err.value.status == 403
    assert "Kanari" not in err.value.reason


def test_replayed_update_has_the_same_external_id() -> None:
    first, again = post("message__text").messages[0], post("message__text").messages[0]
    assert (first.channel, first.account, first.external_id) == (again.channel, again.account, again.external_id)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"message": {}}', json.dumps({"update_id": 5, "message": {"x": 1}}).encode()],
                         ids=["not json", "a list", "no update_id", "broken message"])
def test_malformed_is_400(body: bytes) -> None:
    with pytest.raises(Rejected) as err:
        CHANNEL.parse(raw_post(CHANNEL.path, body, {SECRET_HEADER: SECRET}))
    assert err.value.status == 400


def test_a_webhook_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        TelegramChannel(ACCOUNT, "")
