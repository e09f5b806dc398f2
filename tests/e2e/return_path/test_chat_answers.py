"""Citizens answer back in their chat (issue 15), through ``lapor-gateway run`` and the local Telegram and
WhatsApp fakes: a reply to our message (Telegram ``reply_to_message``, WhatsApp ``context.id``) or
``/balas <id> <text>`` is a citizen response in the store; the same reply from another chat is not."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.return_path.conftest import citizen_responses
from tests.e2e.social.conftest import SocialFakes, post_telegram, post_whatsapp, tg_update, wa_message, wa_payload
from tests.e2e_helpers import tracking_ids_in, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = [pytest.mark.peer]

TG_OWNER, TG_OTHER = 5200001, 5200002
TG_GROUP, TG_MEMBER = -1005200009, 5200003
WA_OWNER = "6281288800001"


@pytest.fixture(scope="module")
def gw(social_fakes: SocialFakes, module_gateway: Callable[[dict[str, str]], GatewayProcess]) -> GatewayProcess:
    return module_gateway({**social_fakes.telegram_env(), **social_fakes.whatsapp_env()})


def citizen_texts(gw: GatewayProcess, tid: str) -> list[str]:
    return [r["text"] for r in citizen_responses(gw, tid)]


def receipt_provider_id(gw: GatewayProcess, tid: str) -> str:
    def sent() -> str | None:
        out = json.loads(gw.cli("show", tid, "--json").stdout)
        return next((r["provider_id"] for r in out["receipts"] if r["kind"] == "receipt" and r["provider_id"]), None)

    return wait_until(sent, 30, what="the receipt's provider id")


def tg_chat(fakes: SocialFakes, chat: int) -> list[dict[str, Any]]:
    return [m for m in list(fakes.tg.sent_messages) if str(m.get("chat_id")) == str(chat)]


def test_telegram_reply_to_our_receipt_and_balas(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    assert post_telegram(gw, tg_update("Got mampet di Jl. Anggrek 7, air masuk rumah", user_id=TG_OWNER,
                                       username=None))[0] == 200
    (receipt,) = wait_until(lambda: tg_chat(social_fakes, TG_OWNER), 30, what="the Telegram receipt")
    [tid] = tracking_ids_in(receipt["text"])
    wait_until(lambda: gw.central_get(f"/v1/complaints/{tid}"), 30, what="the complaint in the store")
    ours = int(receipt_provider_id(gw, tid).removeprefix("tg:"))
    bot = {"id": social_fakes.tg.bot_id, "is_bot": True, "first_name": "LAPOR 1708"}

    reply = tg_update("airnya sudah setinggi lutut", user_id=TG_OWNER, username=None,
                      reply_to_message={"message_id": ours, "from": bot, "chat": {"id": TG_OWNER, "type": "private"},
                                        "date": receipt.get("date", 0) or 1, "text": receipt["text"]})
    assert post_telegram(gw, reply)[0] == 200
    wait_until(lambda: citizen_texts(gw, tid) == ["airnya sudah setinggi lutut"], 30, what="the reply in the store")
    ack = wait_until(lambda: [m for m in tg_chat(social_fakes, TG_OWNER) if "Tanggapan Anda" in m["text"]], 30,
                     what="the acknowledgement in the chat")
    assert tid in ack[0]["text"]

    assert post_telegram(gw, tg_update(f"/balas {tid} sekarang sudah surut", user_id=TG_OWNER, username=None))[0] == 200
    wait_until(lambda: len(citizen_texts(gw, tid)) == 2, 30, what="the /balas in the store")
    assert citizen_texts(gw, tid)[1] == "sekarang sudah surut"

    # another chat's message with the same id is not ours to answer: a complaint of its own
    other = tg_update("lampu di gang saya juga mati total sejak kemarin", user_id=TG_OTHER, username=None,
                      reply_to_message={"message_id": ours, "from": bot, "chat": {"id": TG_OTHER, "type": "private"},
                                        "date": 1, "text": "x"})
    assert post_telegram(gw, other)[0] == 200
    (theirs,) = wait_until(lambda: tg_chat(social_fakes, TG_OTHER), 30, what="the other chat's receipt")
    assert tid not in theirs["text"] and len(citizen_texts(gw, tid)) == 2


def test_in_a_telegram_group_only_the_member_who_filed_answers(gw: GatewayProcess,
                                                               social_fakes: SocialFakes) -> None:
    """Every member of a group writes from its chat: another member's /balas is held, the reporter's counts."""
    group = {"chat_id": TG_GROUP, "chat_type": "supergroup"}
    filed = tg_update("Got di RW 05 tersumbat sampah, air meluap ke jalan", user_id=TG_OWNER, username=None, **group)
    assert post_telegram(gw, filed)[0] == 200
    tid = wait_record(gw, str(filed["update_id"]))["tracking_id"]
    stranger = tg_update(f"/balas {tid} sudah beres, tutup saja", user_id=TG_MEMBER, username=None, **group)
    assert post_telegram(gw, stranger)[0] == 200
    owner = tg_update(f"/balas {tid} belum beres, masih meluap", user_id=TG_OWNER, username=None, **group)
    assert post_telegram(gw, owner)[0] == 200
    # the worker takes them in order: when the reporter's is in the store, the member's was decided
    wait_until(lambda: citizen_texts(gw, tid), 30, what="the reporter's /balas in the store")
    assert citizen_texts(gw, tid) == ["belum beres, masih meluap"]


def test_whatsapp_reply_to_our_receipt(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    wa = social_fakes.wa
    message = wa_message(WA_OWNER, body="Sampah menumpuk di TPS Jl. Melati, bau sekali")
    assert post_whatsapp(gw, wa_payload(wa.phone_number_id, messages=[message]), wa.app_secret)[0] == 200
    (receipt,) = wait_until(lambda: [m for m in list(wa.sent_messages) if m.get("to") == WA_OWNER], 30,
                            what="the WhatsApp receipt")
    [tid] = tracking_ids_in(receipt["text"]["body"])
    wait_until(lambda: gw.central_get(f"/v1/complaints/{tid}"), 30, what="the complaint in the store")
    ours = receipt_provider_id(gw, tid)
    reply = wa_message(WA_OWNER, body="belum diangkut sampai sore ini") | {"context": {"from": "15550783881",
                                                                                        "id": ours}}
    assert post_whatsapp(gw, wa_payload(wa.phone_number_id, messages=[reply]), wa.app_secret)[0] == 200
    wait_until(lambda: citizen_texts(gw, tid) == ["belum diangkut sampai sore ini"], 30, what="the reply in the store")
