"""Telegram webhook: one table of captured updates (``fixtures/telegram``), the harness adds the checks every webhook gets."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from channels.message import Intake, Rejected
from channels.social.telegram import SECRET_HEADER, TelegramChannel, bot_id_from_token
from tests.unit.channels.harness import Case, Check, Envelope, Signature, Table, cases
from tests.unit.channels.social.helpers import CANARIES, fixture_bytes, raw_post

SECRET = "s3cret-webhook-token_1"
ACCOUNT = bot_id_from_token("7000000001:AAFakeTokenForTestsOnly_abcdefghijk")
CHANNEL = TelegramChannel(ACCOUNT, SECRET)


def replied_in_chat(*files: str) -> Callable[[Intake], None]:
    """The files named for later, and the reply going to the chat the message came from."""

    def check(intake: Intake) -> None:
        for msg in intake.messages:
            assert [f["file_id"] for f in msg.metadata.get("files", [])] == list(files)
            assert msg.reply_context["chat_id"] == int(msg.sender or 0)

    return check


def from_the_member(user_id: int | None) -> Callable[[Intake], None]:
    """Who wrote, kept beside the chat in a group (its members share the chat); a private chat is the user."""

    def check(intake: Intake) -> None:
        replied_in_chat()(intake)
        for msg in intake.messages:
            assert msg.reply_context.get("from_id") == user_id
            assert "from_id" not in msg.metadata and str(user_id) not in str(msg.metadata)

    return check


# every citizen update: the private chat of @canary_warga; /anonim and /rahasia are the normaliser's keyword step
Update = partial(Case, account=ACCOUNT, sender="612345678", reporter={"handle": "@canary_warga"}, privacy=None,
                 suppress=False, check=from_the_member(None))

TABLE = Table(CHANNEL, [
    Update("plain text", "message__text", text="jln rusak dpn pasar kramat, sdh 3 bln tdk diperbaiki",
           external_id="730100001", metadata={"chat_type": "private", "message_id": 101}),
    Update("/start passes through as text", "message__command_start", text="/start"),
    Update("/cek passes through as text", "message__cek", text="/cek 4820193746"),
    Update("/rahasia keyword stays at the start of the text", "message__rahasia",
           text="/rahasia pungli di kantor kelurahan, NIK saya 3201010101900001"),
    Update("photo with caption: largest size named", "message__photo_caption", text="Lampu jalan mati di Jl. Melati",
           check=replied_in_chat("AgACAgUAAxkBAAIBsmZ_large")),
    Update("photo without caption", "message__photo_only", text="", check=replied_in_chat("AgACAgUAAxkBAAIBs2Z_only")),
    Update("document with caption", "message__document", text="surat pengantar ditolak",
           check=replied_in_chat("BQACAgUAAxkBAAIBtGZ_doc")),
    Update("location shared", "message__location", text="",
           metadata={"location": {"lat": -6.200012, "lon": 106.816635}}),
    Update("voice note kept for an operator", "message__voice", text="", metadata={"unsupported_media": "voice"}),
    Update("group chat: reply must be public-safe", "message__group", sender="-1001987654321",
           text="@lapor1708_bot got sampah menumpuk di RW 05", metadata={"reply_visibility": "public"},
           check=from_the_member(612345678)),
    Update("message from a bot: taken, never answered", "message__from_bot", sender="-1001987654321",
           reporter={"handle": "@echo_bot"}, suppress=True, check=from_the_member(5550001)),
    Update("edited message recorded as an edit", "edited_message__text", external_id="730100012",
           kind="edit", related="101"),
    Update("reply to our message: the router finds its ticket by our provider id", "message__reply_to_ours",
           text="lampunya masih mati sampai sekarang", kind="reply", related="tg:102",
           metadata={"in_reply_to_message_id": 102}),
    Update("reply to their own message: a message of its own", "message__reply_to_own",
           text="tambahan: tiangnya juga miring", metadata={"in_reply_to_message_id": 101}),
    Update("bot blocked by the user: nothing to store", "my_chat_member__blocked", count=0),
    Update("reporter name and the contact they shared", "message__contact",
           reporter={"name": "Siti Kanari", "phone": "6281299990001"}),
    Case("malformed: not json", "update__not_json", rejected=400),
    Case("malformed: a list", "update__a_list", rejected=400),
    Case("malformed: no update_id", "update__no_update_id", rejected=400),
    Case("malformed: broken message", "message__broken", rejected=400),
], signature=Signature(header=SECRET_HEADER), canaries=CANARIES,
   envelope=Envelope(CHANNEL.path, {"Content-Type": "application/json", SECRET_HEADER: SECRET}))


@cases(TABLE)
def test_telegram_webhook(check: Check, caplog: pytest.LogCaptureFixture) -> None:
    check.run(caplog)


def post(name: str, secret: str | None = SECRET) -> Any:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return CHANNEL.parse(raw_post(CHANNEL.path, fixture_bytes("telegram", name), headers))


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"], ids=["missing", "empty", "wrong", "longer"])
def test_bad_or_missing_secret_is_403(secret: str | None) -> None:
    with pytest.raises(Rejected) as err:
        post("message__text", secret)
    assert err.value.status == 403
    assert "Kanari" not in err.value.reason


def test_a_webhook_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        TelegramChannel(ACCOUNT, "")
