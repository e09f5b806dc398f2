"""Outgoing: a table per receipt sender, a receipt in and the exact request its provider gets out.

Each sender talks to a local fake: Kannel's sendsms (``sms/fake_sendsms.py``), the Telegram Bot API, the
Graph API and X API v2 (``tests/fakes``), an SMTP sink (``tests/peers/smtp_sink.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web

from channels.base import OutboundReceipt
from channels.email.send import EmailReceiptSender
from channels.email.thread_ids import tracking_from_message_ids
from channels.message import PeerUnavailable, Rejected
from channels.sms.sender import KannelSender
from channels.social.telegram_bot import TelegramReceiptSender, make_bot
from channels.social.whatsapp_graph import GraphApi, WhatsappReceiptSender
from channels.social.x import XReceiptSender
from channels.social.x_client import make_client
from tests.unit.channels.harness import OutgoingCase, Sent, run_outgoing
from tests.unit.channels.sms.fake_sendsms import FakeSendsms
from tests.fakes import FakeGraph, FakeTelegram, FakeX
from tests.peers.smtp_sink import SmtpSink

Provider = Callable[[], AbstractAsyncContextManager[tuple[Callable[[OutboundReceipt], Any], Callable[[], Sequence[Sent]], Any]]]

# --- Kannel sendsms ------------------------------------------------------------------------------

NUMBER = "6281234567890"
DLR_URL = "http://127.0.0.1:8080/channels/sms/kannel/dlr"
SMS_LOGIN = {"from": "1708", "username": "lapor", "password": "rahasia-kannel"}


def sms(text: str, **context: Any) -> OutboundReceipt:
    return OutboundReceipt(channel="sms.kannel", account="1708", to=NUMBER, text=text, reply_context=context)


@asynccontextmanager
async def kannel() -> AsyncIterator[Any]:
    async with FakeSendsms() as fake:
        sender = KannelSender(fake.url, "lapor", "rahasia-kannel", "1708", dlr_url=DLR_URL)
        try:
            yield sender.send, lambda: [Sent(r.method, r.path, r.query, r.headers) for r in fake.requests], fake
        finally:
            await sender.close()


def kannel_answers(status: int, text: str) -> Callable[[FakeSendsms], None]:
    return lambda fake: fake.answer_next("/cgi-bin/sendsms", lambda: web.Response(status=status, text=text))


KANNEL = [
    OutgoingCase("GSM-7 text goes as is", sms("Laporan diterima. Nomor 4820193746"), "GET", "/cgi-bin/sendsms",
                 {**SMS_LOGIN, "to": NUMBER, "text": "Laporan diterima. Nomor 4820193746"},
                 returns="0: Accepted for delivery"),
    OutgoingCase("emoji: coding=2 and charset=UTF-8", sms("Terima kasih 🙏"), "GET", "/cgi-bin/sendsms",
                 {**SMS_LOGIN, "to": NUMBER, "text": "Terima kasih 🙏", "coding": "2", "charset": "UTF-8"}),
    OutgoingCase("a receipt id asks for delivery reports to our DLR webhook", sms("Nomor 4820193746", receipt_id="r-17"),
                 "GET", "/cgi-bin/sendsms",
                 {**SMS_LOGIN, "to": NUMBER, "text": "Nomor 4820193746", "dlr-mask": "31",
                  "dlr-url": f"{DLR_URL}?receipt=r-17&status=%d"}, returns="r-17"),
    OutgoingCase("sendsms refuses the login", sms("x"), raises=Rejected, status=403, canaries=(NUMBER,),
                 answer=kannel_answers(403, "Authorization failed for sendsms")),
    OutgoingCase("sendsms overloaded", sms("x"), raises=PeerUnavailable, canaries=(NUMBER,),
                 answer=kannel_answers(503, "Sendsms queue full")),
]

# --- Telegram sendMessage ------------------------------------------------------------------------

TG_TOKEN = FakeTelegram().token


@asynccontextmanager
async def telegram() -> AsyncIterator[Any]:
    async with FakeTelegram() as fake:
        sender = TelegramReceiptSender(make_bot(fake.token, fake.base_url))
        try:
            yield sender.send, lambda: [Sent(r.method, r.path, r.params, r.headers) for r in fake.requests
                                        if r.path.endswith("/sendMessage")], fake
        finally:
            await sender.close()


TELEGRAM = [
    # the provider id carries no chat id: that is the citizen's user id
    OutgoingCase("receipt is a reply in the chat", OutboundReceipt(
        channel="social.telegram", account="7000000001", to="612345678",
        text="Laporan diterima. Nomor pelacakan: 4820193746", reply_context={"chat_id": 612345678, "message_id": 101}),
        "POST", f"/bot{TG_TOKEN}/sendMessage",
        {"chat_id": "612345678", "text": "Laporan diterima. Nomor pelacakan: 4820193746",
         "reply_parameters": {"message_id": 101, "allow_sending_without_reply": True},
         "link_preview_options": {"is_disabled": True}}, returns="tg:5001"),
    OutgoingCase("no message to reply to: a plain message in the chat", OutboundReceipt(
        channel="social.telegram", account="7000000001", to="-1001987654321", text="Nomor 4820193746",
        reply_context={"chat_id": -1001987654321}), "POST", f"/bot{TG_TOKEN}/sendMessage",
        {"chat_id": "-1001987654321", "text": "Nomor 4820193746", "link_preview_options": {"is_disabled": True}}),
]

# --- WhatsApp messages ---------------------------------------------------------------------------

NUMBER_ID = "106540352242922"
WA_ID = "6281299990001"


@asynccontextmanager
async def whatsapp() -> AsyncIterator[Any]:
    async with FakeGraph() as fake:
        sender = WhatsappReceiptSender(GraphApi(fake.access_token, fake.phone_number_id, fake.base_url))
        try:
            yield sender.send, lambda: [Sent(r.method, r.path, r.params, r.headers) for r in fake.requests
                                        if r.path.endswith("/messages")], fake
        finally:
            await sender.close()


WHATSAPP = [
    OutgoingCase("receipt goes to the messages endpoint", OutboundReceipt(
        channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="Laporan diterima. Nomor pelacakan: 4820193746",
        reply_context={"to": WA_ID, "message_id": "wamid.ABC"}), "POST", f"/v21.0/{NUMBER_ID}/messages",
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "text",
         "text": {"preview_url": False, "body": "Laporan diterima. Nomor pelacakan: 4820193746"},
         "context": {"message_id": "wamid.ABC"}},
        headers={"Authorization": f"Bearer {FakeGraph().access_token}"}, returns=lambda wamid: wamid.startswith("wamid.")),
    OutgoingCase("more than 24 h since the citizen wrote: refused", OutboundReceipt(
        channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="x"), raises=Rejected, status=400, canaries=(WA_ID,),
        answer=lambda fake: fake.fail_next_send(400, 131047, f"message mentioning {WA_ID}")),
]

# --- X reply / DM --------------------------------------------------------------------------------

SERVICE = "1500000000000000001"
CITIZEN = "1422222222222222222"


@asynccontextmanager
async def x() -> AsyncIterator[Any]:
    async with FakeX() as fake:
        fake.add_user(CITIZEN, "canary_warga", "Siti Kanari")
        sender = XReceiptSender(make_client(fake.token, fake.base_url), fake.user_id)
        yield sender.send, lambda: [Sent(r.method, r.path, r.params, r.headers) for r in fake.requests
                                    if r.method == "POST"], fake


X = [
    OutgoingCase("public reply is sent as given", OutboundReceipt(
        channel="social.x", account=SERVICE, to=CITIZEN, public=True, text="Laporan Anda tercatat. Nomor pelacakan 4820193746.",
        reply_context={"in_reply_to_tweet_id": "1861000000000000001", "author_id": CITIZEN}), "POST", "/2/tweets",
        {"text": "Laporan Anda tercatat. Nomor pelacakan 4820193746.",
         "reply": {"in_reply_to_tweet_id": "1861000000000000001"}}, returns=str.isdigit),
    OutgoingCase("private receipt goes by DM", OutboundReceipt(
        channel="social.x", account=SERVICE, to=CITIZEN, public=False, text="Nomor pelacakan 4820193746",
        reply_context={"author_id": CITIZEN}), "POST", f"/2/dm_conversations/with/{CITIZEN}/messages",
        {"text": "Nomor pelacakan 4820193746"}),
    OutgoingCase("DMs closed: refused for good", OutboundReceipt(
        channel="social.x", account=SERVICE, to=CITIZEN, text="x"), raises=Rejected, status=403, canaries=(CITIZEN,),
        answer=lambda fake: fake.closed_dms.add(CITIZEN)),
]

# --- SMTP ----------------------------------------------------------------------------------------

FROM = "pengaduan@lapor.pemkot-contoh.go.id"
CITIZEN_MAIL = "warga.canary@contoh.id"
MAIL_HEADERS = ("From", "To", "Subject", "In-Reply-To", "References", "Auto-Submitted", "X-Auto-Response-Suppress",
                "Precedence")


def mail_params(message: EmailMessage) -> dict[str, Any]:
    """The headers a receipt is judged by (not Date, nor the random part of Message-ID) and its plain text."""
    params: dict[str, Any] = {h: str(message[h]) for h in MAIL_HEADERS if message[h] is not None}
    params["text"] = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return params


@asynccontextmanager
async def smtp() -> AsyncIterator[Any]:
    async with SmtpSink() as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM, rate_per_hour=50)
        yield sender.send, lambda: [Sent("SMTP", c.rcpt_tos[0], mail_params(c.message), {"MAIL FROM": c.mail_from})
                                    for c in sink.messages], sink


def mail(**context: Any) -> OutboundReceipt:
    return OutboundReceipt(channel="email.smtp", account="pengaduan@x", to=CITIZEN_MAIL,
                           text="Laporan Anda telah kami terima dengan nomor 4829157367.", reply_context=context)


def fail_with(reply: str) -> Callable[[SmtpSink], None]:
    return lambda sink: setattr(sink, "fail_with", reply)


SMTP = [
    OutgoingCase("a receipt in the citizen's thread", mail(
        tracking_id="4829157367", message_id="<c1@contoh.id>", references="<a0@contoh.id>", subject="Lampu mati"),
        "SMTP", CITIZEN_MAIL,
        {"From": f"Layanan Pengaduan <{FROM}>", "To": CITIZEN_MAIL, "Subject": "Re: Lampu mati",
         "In-Reply-To": "<c1@contoh.id>", "References": "<a0@contoh.id> <c1@contoh.id>", "Auto-Submitted": "auto-replied",
         "X-Auto-Response-Suppress": "All", "Precedence": "auto_reply",
         "text": "Laporan Anda telah kami terima dengan nomor 4829157367.\r\n"},
        headers={"MAIL FROM": FROM}, returns=lambda mid: tracking_from_message_ids(mid) == "4829157367"),
    OutgoingCase("the relay refuses the recipient", mail(), raises=Rejected, status=550, canaries=(CITIZEN_MAIL,),
                 answer=fail_with("550 5.1.1 no such user")),
    OutgoingCase("the relay says later", mail(), raises=PeerUnavailable, canaries=(CITIZEN_MAIL,),
                 answer=fail_with("451 4.3.0 try later")),
]

TABLES: list[tuple[str, Provider, list[OutgoingCase]]] = [
    ("kannel", kannel, KANNEL), ("telegram", telegram, TELEGRAM), ("whatsapp", whatsapp, WHATSAPP), ("x", x, X),
    ("smtp", smtp, SMTP),
]


@pytest.mark.parametrize(("provider", "case"), [pytest.param(p, c, id=f"{name}: {c.label}")
                                                for name, p, table in TABLES for c in table])
async def test_outgoing(provider: Provider, case: OutgoingCase) -> None:
    async with provider() as (send, sent, fake):
        await run_outgoing(case, send, sent, fake)
