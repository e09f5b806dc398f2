"""Property-based tests for every webhook parser: hostile, correctly signed input gets a refusal or a storable intake.

For any input, ``channel.parse(raw)`` either raises ``Rejected`` with a 4xx
status, or returns an ``Intake`` whose every message serialises to JSON and
reads back. Nothing else may escape (a 500 is a bug). Strategies are Unicode
heavy (lone surrogates, NUL, BOMs, format characters), with huge numbers,
wrong types and nesting.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import RawRequest, hmac_sha256_hex
from channels.message import InboundMessage, Intake, Rejected
from channels.sms.json_hmac import JsonSmsChannel
from channels.sms.kannel import KannelAuth, KannelChannel, KannelDlrChannel
from channels.sms.twilio import TwilioChannel, twilio_signature
from channels.social.telegram import SECRET_HEADER, TelegramChannel, read_batch
from channels.social.whatsapp import WhatsappChannel

BUDGET = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KANNEL = KannelChannel(KannelAuth(None, []), id_key=b"gateway-secret")
DLR = KannelDlrChannel(KannelAuth(None, []))
JSON_KEY, TWILIO_TOKEN, TG_SECRET, WA_SECRET = "agg-key", "tw-token", "tg-secret", "wa-secret"
JSON_SMS = JsonSmsChannel(JSON_KEY)
TWILIO = TwilioChannel(TWILIO_TOKEN)
TELEGRAM = TelegramChannel("7000000001", TG_SECRET)
WHATSAPP = WhatsappChannel("verify", WA_SECRET)

# --- strategies -------------------------------------------------------------------------
SPECIALS = ["\ud800", "\udfff", "\ud83d", "\ude00", "\x00", "\ufeff", "\u200d", "\u202e", "\r\n", "\x1b[31m",
            "ＡＮＯＮＩＭ", "😭", "\U0010ffff", "[/]", "%00", "\\u0000"]
hostile_text = st.lists(
    st.one_of(st.text(max_size=8), st.text(st.characters(categories=["Cs"]), max_size=3), st.sampled_from(SPECIALS)),
    max_size=8,
).map("".join)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([10**20, -1, 0, 2**63, 2**64 + 1]),
    st.floats(allow_nan=True, allow_infinity=True), st.just(1e20), st.just(-1e300),
)
scalars = st.one_of(st.none(), st.booleans(), huge_numbers, hostile_text)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=16,
)
number_strings = st.one_of(huge_numbers.map(str), hostile_text, st.sampled_from(["99999999999999999999", "1e20",
                                                                               "-5", "²³", "١٢٣", "nan", ""]))


def field_or_junk(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes anything at all (a wrong type)."""
    return st.one_of(good, good, json_values)


def dumps(value: Any) -> bytes:
    """JSON as a peer might send it: lone surrogates as escapes, NaN as Python writes it."""
    return json.dumps(value, ensure_ascii=True).encode()


def check(channel: Any, raw: RawRequest) -> Intake | None:
    """The property itself: a 4xx refusal, or messages that are storable and read back."""
    try:
        intake = channel.parse(raw)
    except Rejected as exc:
        assert 400 <= exc.status < 500, exc.status
        return None
    for msg in intake.messages:
        again = InboundMessage.model_validate_json(msg.model_dump_json())
        assert again.external_id == msg.external_id
        if msg.kind == "malformed":
            assert msg.text == "" and msg.sender is None and msg.external_id.startswith("malformed:")
    return intake


# --- SMS --------------------------------------------------------------------------------
KANNEL_KEYS = ["from", "to", "text", "ts", "unixtime", "id", "foreign_id", "smsc", "coding", "charset", "udh",
               "receipt", "status", "type", "secret"]
kannel_params = st.dictionaries(st.one_of(st.sampled_from(KANNEL_KEYS), st.text(max_size=4)),
                                st.one_of(st.binary(max_size=40), number_strings.map(lambda s: s.encode("utf-8", "surrogatepass"))),
                                max_size=10)


def kannel_query(params: dict[str, bytes]) -> bytes:
    return "&".join(f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v)}"
                    for k, v in params.items()).encode()


@BUDGET
@given(params=kannel_params, method=st.sampled_from(["GET", "POST"]), body=st.binary(max_size=60),
       content_type=st.sampled_from(["text/plain", "text/plain; charset=UTF-16BE", "text/plain; charset=utf-16le",
                                     'text/plain; charset="x\x00"', "text/plain; charset=utf-7", "text/plain; charset=rot13"]),
       header_from=hostile_text)
def test_kannel_mo(params: dict[str, bytes], method: str, body: bytes, content_type: str, header_from: str) -> None:
    headers = {"Content-Type": content_type, "X-Kannel-From": header_from, "X-Kannel-To": "1708"}
    check(KANNEL, RawRequest(method, KANNEL.path, kannel_query(params), headers, body, remote="127.0.0.1"))


@BUDGET
@given(params=kannel_params)
def test_kannel_dlr(params: dict[str, bytes]) -> None:
    check(DLR, RawRequest("GET", DLR.path, kannel_query(params), {}, b"", remote="127.0.0.1"))


aggregator_item = st.fixed_dictionaries({}, optional={
    "id": field_or_junk(hostile_text), "from": field_or_junk(hostile_text), "to": field_or_junk(hostile_text),
    "text": field_or_junk(hostile_text), "timestamp": field_or_junk(number_strings),
})


@BUDGET
@given(body=st.one_of(aggregator_item, st.lists(st.one_of(aggregator_item, json_values), max_size=4), json_values))
def test_json_aggregator_signed(body: Any) -> None:
    raw = dumps(body)
    sig = "sha256=" + hmac_sha256_hex(JSON_KEY, raw)
    check(JSON_SMS, RawRequest("POST", JSON_SMS.path, b"", {"X-Signature": sig}, raw))


@BUDGET
@given(form=st.dictionaries(st.one_of(st.sampled_from(["From", "To", "Body", "MessageSid", "NumSegments"]), hostile_text),
                            hostile_text, max_size=6),
       host=st.one_of(st.just("gw.example.go.id"), hostile_text))
def test_twilio_signed(form: dict[str, str], host: str) -> None:
    body = urlencode({k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass") for k, v in form.items()})
    raw = RawRequest("POST", TWILIO.path, b"", {}, body.encode(), scheme="https", host=host)
    params = parse_qsl(body, keep_blank_values=True)
    signed = RawRequest(raw.method, raw.path, raw.query, {"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, raw.url, params)},
                        raw.body, scheme=raw.scheme, host=raw.host)
    check(TWILIO, signed)


# --- Telegram ---------------------------------------------------------------------------
tg_user = st.fixed_dictionaries({"id": field_or_junk(st.integers(1, 10**12)), "is_bot": field_or_junk(st.booleans())},
                                optional={"first_name": field_or_junk(hostile_text), "last_name": field_or_junk(hostile_text),
                                          "username": field_or_junk(hostile_text)})
tg_message = st.fixed_dictionaries(
    {"message_id": field_or_junk(st.integers(1, 10**9)), "date": field_or_junk(huge_numbers),
     "chat": st.fixed_dictionaries({"id": field_or_junk(st.integers()), "type": field_or_junk(st.sampled_from(["private", "group"]))})},
    optional={"from": field_or_junk(tg_user), "text": field_or_junk(hostile_text), "caption": field_or_junk(hostile_text),
              "edit_date": field_or_junk(huge_numbers),
              "photo": field_or_junk(st.lists(st.fixed_dictionaries({"file_id": hostile_text, "file_unique_id": hostile_text,
                                                                     "width": field_or_junk(st.integers(0, 9999)),
                                                                     "height": field_or_junk(st.integers(0, 9999))}), max_size=2)),
              "location": field_or_junk(st.fixed_dictionaries({"latitude": huge_numbers, "longitude": huge_numbers}))},
)
tg_update = st.fixed_dictionaries({"update_id": field_or_junk(st.integers(0, 2**40))},
                                  optional={"message": field_or_junk(tg_message), "edited_message": field_or_junk(tg_message)})


@BUDGET
@given(update=st.one_of(tg_update, json_values), header=st.one_of(st.just(TG_SECRET), hostile_text))
def test_telegram_webhook(update: Any, header: str) -> None:
    check(TELEGRAM, RawRequest("POST", TELEGRAM.path, b"", {SECRET_HEADER: header}, dumps(update)))


@BUDGET
@given(batch=st.lists(st.one_of(tg_update, tg_update, json_values), max_size=5))
def test_telegram_polling_batch_keeps_every_update(batch: list[Any]) -> None:
    messages, _ = read_batch(json.loads(dumps(batch)), "7000000001")
    for msg in messages:
        InboundMessage.model_validate_json(msg.model_dump_json())


# --- WhatsApp ---------------------------------------------------------------------------
wa_message = st.fixed_dictionaries({}, optional={
    "from": field_or_junk(st.sampled_from(["6281299990001", "628111"])), "id": field_or_junk(hostile_text),
    "timestamp": field_or_junk(number_strings), "type": field_or_junk(st.sampled_from(["text", "image", "location", "button",
                                                                                      "interactive", "reaction", "contacts"])),
    "text": field_or_junk(st.fixed_dictionaries({"body": field_or_junk(hostile_text)})),
    "image": field_or_junk(st.fixed_dictionaries({"id": field_or_junk(hostile_text), "caption": field_or_junk(hostile_text)})),
    "location": field_or_junk(st.fixed_dictionaries({"latitude": huge_numbers, "longitude": huge_numbers})),
    "context": field_or_junk(st.fixed_dictionaries({"id": field_or_junk(hostile_text)})),
})
wa_status = st.fixed_dictionaries({}, optional={"id": field_or_junk(hostile_text), "status": field_or_junk(hostile_text),
                                                "timestamp": field_or_junk(number_strings), "errors": json_values})
wa_value = st.fixed_dictionaries({}, optional={
    "metadata": field_or_junk(st.fixed_dictionaries({"phone_number_id": field_or_junk(st.just("106540352242922"))})),
    "contacts": field_or_junk(st.lists(st.fixed_dictionaries({"wa_id": field_or_junk(hostile_text),
                                                              "profile": field_or_junk(st.fixed_dictionaries({"name": hostile_text}))}))),
    "messages": field_or_junk(st.lists(field_or_junk(wa_message), max_size=3)),
    "statuses": field_or_junk(st.lists(field_or_junk(wa_status), max_size=2)),
})
wa_change = st.fixed_dictionaries({"field": field_or_junk(st.just("messages")), "value": field_or_junk(wa_value)})
wa_entry = st.fixed_dictionaries({"changes": field_or_junk(st.lists(field_or_junk(wa_change), max_size=3))})
wa_payload = st.fixed_dictionaries({"entry": field_or_junk(st.lists(field_or_junk(wa_entry), max_size=3))})


@BUDGET
@given(payload=st.one_of(wa_payload, wa_payload, json_values))
def test_whatsapp_signed(payload: Any) -> None:
    body = dumps(payload)
    sig = "sha256=" + hmac_sha256_hex(WA_SECRET, body)
    check(WHATSAPP, RawRequest("POST", WHATSAPP.path, b"", {"X-Hub-Signature-256": sig}, body))


@BUDGET
@given(query=hostile_text)
def test_whatsapp_verification(query: str) -> None:
    check(WHATSAPP, RawRequest("GET", WHATSAPP.path, query.encode("utf-8", "surrogatepass"), {}, b""))


# --- the model itself -------------------------------------------------------------------
@BUDGET
@given(text=hostile_text, sender=hostile_text, meta=st.dictionaries(hostile_text, json_values, max_size=4),
       name=hostile_text, filename=hostile_text)
def test_every_inbound_message_serialises(text: str, sender: str, meta: dict[str, Any], name: str, filename: str) -> None:
    msg = InboundMessage(channel="sms.kannel", account=text, external_id=text or "x", sender=sender, text=text,
                         subject=text, metadata=meta, reply_context={"to": sender, "n": [meta]},
                         reporter={"name": name}, attachments=[{"sha256": "0" * 64, "media_type": "text/plain", "size": 1,
                                                                 "filename": filename}])
    copied = msg.model_copy(update={"text": text + "\ud800", "metadata": {"x": [sender]}})
    for m in (msg, copied):
        again = InboundMessage.model_validate_json(m.model_dump_json())
        assert "\x00" not in again.text
