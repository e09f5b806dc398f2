"""Outgoing: a table per receipt sender, a receipt in and the exact request its provider gets out.

Each sender talks to a local fake: Kannel's sendsms (``sms/fake_sendsms.py``), the Telegram Bot API, the
Graph API and X API v2 (``tests/fakes``), an SMTP sink (``tests/peers/smtp_sink.py``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web

from channels.base import OutboundReceipt
from channels.email.send import EmailReceiptSender
from channels.email.thread_ids import receipt_message_id, tracking_from_message_ids
from channels.message import PeerUnavailable, Rejected
from channels.sms.sender import KannelSender
from channels.sms.twilio_sender import TwilioSender
from channels.social.telegram_bot import GROUP_UPDATE, TelegramReceiptSender, make_bot
from channels.social.whatsapp_graph import GraphApi, WhatsappReceiptSender
from channels.social.x import XReceiptSender
from channels.social.x_client import make_client
from tests.fakes import FakeGraph, FakeTelegram, FakeX
from tests.peers.smtp_sink import SmtpSink
from tests.unit.channels.harness import OutgoingCase, Sent, run_outgoing
from tests.unit.channels.sms.fake_sendsms import FakeSendsms
from tests.unit.channels.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, expected_auth

Provider = Callable[[], AbstractAsyncContextManager[tuple[Callable[[OutboundReceipt], Any], Callable[[], Sequence[Sent]], Any]]]


@asynccontextmanager
async def provider_on(fake_cm: AbstractAsyncContextManager[Any], make_sender: Callable[[Any], Any],
                      sent: Callable[[Any], Sequence[Sent]]) -> AsyncIterator[Any]:
    """A fake provider up and a sender on it: (its send, what the fake got, the fake); the sender closed after."""
    async with fake_cm as fake:
        sender = make_sender(fake)
        try:
            yield sender.send, lambda: sent(fake), fake
        finally:
            await sender.close()


def posted_to(endpoint: str = "") -> Callable[[Any], list[Sent]]:
    """What a fake got on paths ending in ``endpoint``, as Sent rows."""
    return lambda fake: [Sent(r.method, r.path, r.params, r.headers) for r in fake.requests
                         if r.path.endswith(endpoint)]


# --- Kannel sendsms ------------------------------------------------------------------------------

NUMBER = "6281234567890"
DLR_URL = "http://127.0.0.1:8080/channels/sms/kannel/dlr"
SMS_LOGIN = {"from": "1708", "username": "lapor", "password": "rahasia-kannel"}


def sms(text: str, **context: Any) -> OutboundReceipt:
    return OutboundReceipt(channel="sms.kannel", account="1708", to=NUMBER, text=text, reply_context=context)


def kannel() -> AbstractAsyncContextManager[Any]:
    return provider_on(FakeSendsms(), lambda f: KannelSender(f.url, "lapor", "rahasia-kannel", "1708", dlr_url=DLR_URL),
                       lambda f: [Sent(r.method, r.path, r.query, r.headers) for r in f.requests])


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

# --- Twilio Messages API -------------------------------------------------------------------------

TWILIO_NUMBER = "14155550100"  # the Twilio number the citizen wrote to (the message's account, digits as parsed)
TWILIO_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def twilio_sms(text: str) -> OutboundReceipt:
    return OutboundReceipt(channel="sms.twilio", account=TWILIO_NUMBER, to=NUMBER, text=text,
                           reply_context={"receipt_id": "r-21"})


def twilio(sender: str | None = None, token: str = AUTH_TOKEN) -> Provider:
    return lambda: provider_on(FakeTwilio(), lambda f: TwilioSender(ACCOUNT_SID, token, sender, api_base_url=f.root),
                               posted_to())


def twilio_answers(status: int, body: dict[str, Any] | None = None) -> Callable[[FakeTwilio], None]:
    def answer() -> web.Response:
        return web.json_response(body, status=status) if body is not None else web.Response(status=status, text="")

    return lambda fake: fake.answer_next("/Messages.json", answer)


# Twilio refuses a bad number naming it in its message: only the code may reach our error
BAD_NUMBER = {"code": 21211, "message": f"The 'To' number +{NUMBER} is not a valid phone number.",
              "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}

TWILIO = [
    ("default-from", twilio(), OutgoingCase(
        "To and From in E.164, from the number the citizen wrote to; basic auth with the account",
        twilio_sms("Laporan diterima. Nomor 4820193746"), "POST", TWILIO_PATH,
        {"To": f"+{NUMBER}", "From": f"+{TWILIO_NUMBER}", "Body": "Laporan diterima. Nomor 4820193746"},
        headers={"Authorization": expected_auth()}, returns=lambda sid: sid.startswith("SM") and len(sid) == 34)),
    ("sender-id", twilio("LAPOR"), OutgoingCase(
        "a configured alphanumeric sender id goes as it is; emoji need nothing extra", twilio_sms("Terima kasih 🙏"),
        "POST", TWILIO_PATH, {"To": f"+{NUMBER}", "From": "LAPOR", "Body": "Terima kasih 🙏"})),
    ("wrong-token", twilio(token="not-the-token"), OutgoingCase(
        "Twilio refuses the credentials: 401, the whole path", twilio_sms("x"), raises=Rejected, status=401,
        canaries=(NUMBER, "not-the-token"))),
    ("bad-number", twilio(), OutgoingCase(
        "a number Twilio cannot text: 400 with Twilio's code, never its message (it names the number)",
        twilio_sms("x"), raises=Rejected, status=400, canaries=(NUMBER,), answer=twilio_answers(400, BAD_NUMBER))),
    ("too-many", twilio(), OutgoingCase(
        "429: tried again later", twilio_sms("x"), raises=PeerUnavailable, canaries=(NUMBER,),
        answer=twilio_answers(429, {"code": 20429, "message": "Too Many Requests", "status": 429}))),
    ("outage", twilio(), OutgoingCase(
        "503 from Twilio: tried again later", twilio_sms("x"), raises=PeerUnavailable, canaries=(NUMBER,),
        answer=twilio_answers(503))),
    ("no-sid", twilio(), OutgoingCase(
        "201 without a message sid (a proxy's page): not taken as sent", twilio_sms("x"), raises=PeerUnavailable,
        answer=lambda fake: fake.answer_next("/Messages.json", lambda: web.Response(status=201, text="<html/>")))),
]

# --- Telegram sendMessage ------------------------------------------------------------------------

TG_TOKEN = FakeTelegram().token


def telegram() -> AbstractAsyncContextManager[Any]:
    return provider_on(FakeTelegram(), lambda f: TelegramReceiptSender(make_bot(f.token, f.base_url)),
                       posted_to("/sendMessage"))


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


def whatsapp() -> AbstractAsyncContextManager[Any]:
    def sender(f: FakeGraph) -> WhatsappReceiptSender:
        return WhatsappReceiptSender(GraphApi(f.access_token, f.phone_number_id, f.base_url))

    return provider_on(FakeGraph(), sender, posted_to("/messages"))


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
    # unfolded: a long References line is folded after its name (RFC 5322 2.2.3), which says nothing
    params: dict[str, Any] = {h: " ".join(str(message[h]).split()) for h in MAIL_HEADERS if message[h] is not None}
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

# --- updates (issue 15: the return path) ----------------------------------------------------------
# An update row reuses the complaint receipt's reply context and adds the update's fields beside it.

TID = "4829157367"
UPDATE = {"update_id": 7, "update_kind": "response", "status": "in_progress", "status_text": "sedang ditindaklanjuti",
          "tracking_id": TID, "receipt_id": "r-update-7"}
ANSWER = "Tiket 4829157367: instansi menjawab: lampu diganti minggu ini."
OUR_RECEIPT = receipt_message_id(TID, "<c1@contoh.id>", FROM.rpartition("@")[2])


def update(channel: str, address: str, /, text: str = ANSWER, account: str = "", public: bool = False,
           **context: Any) -> OutboundReceipt:
    return OutboundReceipt(channel=channel, account=account, to=address, text=text, kind="update", public=public,
                           reply_context=UPDATE | context)


def mail_update(**context: Any) -> OutboundReceipt:
    return update("email.smtp", CITIZEN_MAIL, account="pengaduan@x", **context)


def new_id(mid: str) -> bool:
    """An update's own Message-ID: ours, about the ticket, not the receipt's."""
    return tracking_from_message_ids(mid) == TID and mid != OUR_RECEIPT


UPDATE_HEADERS = {"From": f"Layanan Pengaduan <{FROM}>", "To": CITIZEN_MAIL, "Auto-Submitted": "auto-generated",
                  "X-Auto-Response-Suppress": "All", "text": ANSWER + "\r\n"}

SMTP_UPDATES = [
    OutgoingCase("an update in the citizen's thread: In-Reply-To their mail, References also our receipt", mail_update(
        message_id="<c1@contoh.id>", references="<a0@contoh.id> <c1@contoh.id>", subject="Lampu mati"),
        "SMTP", CITIZEN_MAIL, UPDATE_HEADERS | {
            "Subject": f"Re: [LAPOR {TID}] Lampu mati", "In-Reply-To": "<c1@contoh.id>",
            "References": f"<a0@contoh.id> <c1@contoh.id> {OUR_RECEIPT}"}, returns=new_id),
    OutgoingCase("the receipt's recorded Message-ID is the one referenced", mail_update(
        message_id="<c1@contoh.id>", references="<c1@contoh.id>", subject="Re: Lampu mati",
        original_provider_id=f"<lapor.{TID}.recorded_9@lapor.pemkot-contoh.go.id>"),
        "SMTP", CITIZEN_MAIL, UPDATE_HEADERS | {
            "Subject": f"Re: [LAPOR {TID}] Lampu mati",
            "In-Reply-To": "<c1@contoh.id>",
            "References": f"<c1@contoh.id> <lapor.{TID}.recorded_9@lapor.pemkot-contoh.go.id>"}, returns=new_id),
    OutgoingCase("a letter's email contact (no citizen mail): the update answers our receipt", mail_update(),
        "SMTP", CITIZEN_MAIL, UPDATE_HEADERS | {
            "Subject": f"Re: [LAPOR {TID}] Tanggapan atas laporan Anda",
            "In-Reply-To": receipt_message_id(TID, None, FROM.rpartition("@")[2]),
            "References": receipt_message_id(TID, None, FROM.rpartition("@")[2])},
        returns=lambda mid: tracking_from_message_ids(mid) == TID),
]

TELEGRAM_UPDATES = [
    OutgoingCase("an update goes to the complaint's chat, as a reply to the citizen's message", update(
        "social.telegram", "612345678", account="7000000001", chat_id=612345678, message_id=101),
        "POST", f"/bot{TG_TOKEN}/sendMessage",
        {"chat_id": "612345678", "text": ANSWER,
         "reply_parameters": {"message_id": 101, "allow_sending_without_reply": True},
         "link_preview_options": {"is_disabled": True}}, returns=lambda pid: pid.startswith("tg:")),
    OutgoingCase("an update for a complaint made in a group names only the ticket there", update(
        "social.telegram", "-1001987654321", account="7000000001", chat_id=-1001987654321, message_id=55),
        "POST", f"/bot{TG_TOKEN}/sendMessage",
        {"chat_id": "-1001987654321", "text": GROUP_UPDATE.format(tracking_id=TID),
         "reply_parameters": {"message_id": 55, "allow_sending_without_reply": True},
         "link_preview_options": {"is_disabled": True}}),
]

X_UPDATES = [
    OutgoingCase("an update for a mention goes by DM, even marked public", update(
        "social.x", CITIZEN, account=SERVICE, public=True, in_reply_to_tweet_id="1861000000000000001",
        author_id=CITIZEN), "POST", f"/2/dm_conversations/with/{CITIZEN}/messages", {"text": ANSWER}),
    OutgoingCase("an update for a DM complaint goes to its participant", update(
        "social.x", CITIZEN, account=SERVICE, participant_id=CITIZEN, dm_conversation_id="c-1"),
        "POST", f"/2/dm_conversations/with/{CITIZEN}/messages", {"text": ANSWER}),
]

NOW = time.time()
FRESH, OLD = NOW - 3600, NOW - 30 * 3600
TEMPLATE_NAME = "lapor_update"


def whatsapp_with(template: str | None = None, last: float | None = None, language: str = "id") -> Provider:
    async def last_inbound(account: str, wa_id: str) -> float | None:
        assert (account, wa_id) == (NUMBER_ID, WA_ID)
        return last

    return lambda: provider_on(
        FakeGraph(), lambda f: WhatsappReceiptSender(GraphApi(f.access_token, f.phone_number_id, f.base_url),
                                                     update_template=template, template_language=language,
                                                     last_inbound=last_inbound),
        posted_to("/messages"))


def wa_update(**context: Any) -> OutboundReceipt:
    return update("social.whatsapp", WA_ID, account=NUMBER_ID, **({"to": WA_ID, "message_id": "wamid.ABC"} | context))


WA_TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "text",
           "text": {"preview_url": False, "body": ANSWER}, "context": {"message_id": "wamid.ABC"}}


def wa_template(status: str, language: str = "id") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "template",
            "template": {"name": TEMPLATE_NAME, "language": {"code": language}, "components": [
                {"type": "body", "parameters": [{"type": "text", "text": TID}, {"type": "text", "text": status}]}]}}


WA_PATH = f"/v21.0/{NUMBER_ID}/messages"
WHATSAPP_UPDATES: list[tuple[str, Provider, OutgoingCase]] = [
    ("fresh", whatsapp_with(TEMPLATE_NAME, FRESH), OutgoingCase(
        "the citizen wrote an hour ago: free text in the chat", wa_update(), "POST", WA_PATH, WA_TEXT)),
    ("fresh-in-context", whatsapp_with(TEMPLATE_NAME, None), OutgoingCase(
        "the row says the citizen wrote an hour ago: free text", wa_update(last_inbound_at=FRESH), "POST", WA_PATH,
        WA_TEXT)),
    ("later-reply", whatsapp_with(TEMPLATE_NAME, FRESH), OutgoingCase(
        "the row's time is old but the citizen wrote again since: free text", wa_update(last_inbound_at=OLD),
        "POST", WA_PATH, WA_TEXT)),
    ("old", whatsapp_with(TEMPLATE_NAME, OLD), OutgoingCase(
        "30 hours since the citizen wrote: the template with the tracking ID and a short status", wa_update(),
        "POST", WA_PATH, wa_template("sedang ditindaklanjuti"), returns=lambda wamid: wamid.startswith("wamid."))),
    ("unknown", whatsapp_with(TEMPLATE_NAME, None), OutgoingCase(
        "no time known: the template (free text would be refused)", wa_update(status_text=None, status="resolved"),
        "POST", WA_PATH, wa_template("selesai"))),
    ("english", whatsapp_with(TEMPLATE_NAME, OLD, "en"), OutgoingCase(
        "an English template gets English status words", wa_update(status_text=None, status="resolved"),
        "POST", WA_PATH, wa_template("resolved", "en"))),
    ("window-edge", whatsapp_with(TEMPLATE_NAME, NOW - 23.95 * 3600), OutgoingCase(
        "23 h 57 min ago: too close to the window's end for free text", wa_update(), "POST", WA_PATH,
        wa_template("sedang ditindaklanjuti"))),
    ("undeliverable", whatsapp_with(None, OLD), OutgoingCase(
        "outside the window, no template, no SMS: undeliverable, with the reason", wa_update(),
        raises=Rejected, status=422, canaries=(WA_ID, ANSWER))),
    ("rejection-old", whatsapp_with(TEMPLATE_NAME, OLD), OutgoingCase(
        "a rejection notice 30 hours on: the template too (Meta refuses free text), its status in words",
        replace(wa_update(status_text=None, status="rejected"), kind="rejection"), "POST", WA_PATH,
        wa_template("tidak dapat diproses"))),
    ("rejection-fresh", whatsapp_with(TEMPLATE_NAME, FRESH), OutgoingCase(
        "a rejection notice inside the window: its text in the chat",
        replace(wa_update(status="rejected"), kind="rejection"), "POST", WA_PATH, WA_TEXT)),
    ("confidential-template", whatsapp_with(TEMPLATE_NAME, OLD), OutgoingCase(
        "the template carries the ticket and status only, never the answer", wa_update(
            status_text="sedang\nditindak    lanjuti\t" + "x" * 100), "POST", WA_PATH,
        wa_template("sedang ditindak lanjuti " + "x" * 36))),
]

TABLES: list[tuple[str, Provider, list[OutgoingCase]]] = [
    *((f"twilio {name}", provider, [case]) for name, provider, case in TWILIO),
    ("kannel", kannel, KANNEL), ("telegram", telegram, TELEGRAM), ("whatsapp", whatsapp, WHATSAPP), ("x", x, X),
    ("smtp", smtp, SMTP), ("smtp update", smtp, SMTP_UPDATES), ("telegram update", telegram, TELEGRAM_UPDATES),
    ("x update", x, X_UPDATES),
    *((f"whatsapp update {name}", provider, [case]) for name, provider, case in WHATSAPP_UPDATES),
]


@pytest.mark.parametrize(("provider", "case"), [pytest.param(p, c, id=f"{name}: {c.label}")
                                                for name, p, table in TABLES for c in table])
async def test_outgoing(provider: Provider, case: OutgoingCase) -> None:
    async with provider() as (send, sent, fake):
        await run_outgoing(case, send, sent, fake)


# --- updates beyond one request ------------------------------------------------------------------


async def test_update_mails_thread_under_the_receipt_each_with_its_own_message_id() -> None:
    """Receipt, two updates and one update sent again, as the citizen's mail program sees them (parsed bytes)."""
    from email import message_from_bytes, policy

    citizen = {"message_id": "<c1@contoh.id>", "references": "<c1@contoh.id>", "subject": "Lampu mati"}
    async with SmtpSink() as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM, rate_per_hour=1)
        receipt_id = await sender.send(mail(tracking_id=TID, **citizen))
        first = mail_update(**citizen)
        ids = [await sender.send(first), await sender.send(mail_update(**citizen | {"update_id": 8,
                                                                                    "receipt_id": "r-update-8"}))]
        again = await sender.send(first)  # a crash between send and record: the same row once more
        got = [message_from_bytes(c.raw, policy=policy.default) for c in await sink.wait_for(4)]
    receipt, *updates = got
    assert receipt["Message-ID"] == receipt_id == OUR_RECEIPT  # derived, so the update could name it
    assert [u["Message-ID"] for u in updates] == [*ids, again] and again == ids[0] and len(set(ids)) == 2
    for u in updates:
        assert u["In-Reply-To"] == "<c1@contoh.id>"
        assert u["References"].split() == ["<c1@contoh.id>", receipt_id]
        assert u["Subject"] == f"Re: [LAPOR {TID}] Lampu mati"
        assert u["Auto-Submitted"] == "auto-generated" and u["Precedence"] is None
    # the receipts' hourly cap (1 here) held none of the updates back


async def test_whatsapp_window_closed_at_meta_goes_as_template() -> None:
    """Our clock said the window was open, Meta says 131047: the same update goes as the template."""
    async with whatsapp_with(TEMPLATE_NAME, FRESH)() as (send, sent, fake):
        fake.fail_next_send(400, 131047, "Re-engagement message")
        wamid = await send(wa_update())
        assert wamid.startswith("wamid.")
        assert [dict(s.params) for s in sent()] == [WA_TEXT, wa_template("sedang ditindaklanjuti")]


async def test_whatsapp_outside_window_without_template_goes_by_sms() -> None:
    async with FakeSendsms() as kannel_fake, whatsapp_with(None, OLD)() as (send, sent, _fake):
        sms_sender = KannelSender(kannel_fake.url, "lapor", "rahasia-kannel", "1708", dlr_url=DLR_URL)
        try:
            send.__self__.sms = sms_sender
            provider_id = await send(wa_update())
        finally:
            await sms_sender.close()
        assert provider_id.startswith("sms:") and sent() == []
        (request,) = kannel_fake.requests
        assert request.path == "/cgi-bin/sendsms"
        assert dict(request.query) == {**SMS_LOGIN, "to": "+" + WA_ID, "text": ANSWER}  # no DLR: not an SMS row


async def test_whatsapp_receipt_is_never_held_by_the_window() -> None:
    """The window rule is for updates: a receipt answers a message that just came."""
    async with whatsapp_with(None, OLD)() as (send, sent, _fake):
        await send(OutboundReceipt(channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="Nomor 4820193746",
                                   reply_context={"to": WA_ID}))
        assert [s.params["type"] for s in sent()] == ["text"]
