"""Hostile webhook input, case by case: nothing stops, stalls or unmasks the gateway at the channel boundary.

Each case varies a class from issue 11: out-of-range numbers (400 or the
receive time, never 500), batches with one malformed unit (the rest kept, the
bad one quarantined without its content in the reason), text that cannot be
encoded (made safe on the model), byte-order marks, the unauthenticated Kannel
webhook, and Kannel's fallback id (keyed, not brute-forceable).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

import pytest

from channels.base import RawRequest, decode_text, hmac_sha256_hex
from channels.message import MAX_DEPTH, TOO_DEEP, InboundMessage, Rejected, ReporterInfo
from channels.sms.json_hmac import JsonSmsChannel
from channels.sms.kannel import KannelAuth, KannelChannel, KannelDlrChannel
from channels.sms.twilio import TwilioChannel
from channels.social.telegram import SECRET_HEADER, TelegramChannel, read_batch
from channels.social.whatsapp import WhatsappChannel
from channels.social.x import XMentionsPoller
from tests.unit.channels.email.stores import MemoryCursors

PHONE = "6285711112222"  # the canary: must never appear in a reason
LOCAL = "127.0.0.1"


def kannel(query: dict[str, str | bytes], remote: str | None = LOCAL, channel: Any = None, **kw: Any) -> RawRequest:
    q = "&".join(f"{k}={quote_from_bytes(v if isinstance(v, bytes) else v.encode())}" for k, v in query.items())
    return RawRequest("GET", KannelChannel.path, q.encode(), kw.pop("headers", {}), b"", remote=remote, **kw)


def base_sms(**extra: str | bytes) -> dict[str, str | bytes]:
    return {"from": PHONE, "to": "1708", "id": "k-1", "text": "Got mampet di gang 4", **extra}


def now_ish(when: datetime) -> bool:
    return abs(datetime.now(UTC) - when) < timedelta(minutes=1)


def storable(msg: InboundMessage) -> InboundMessage:
    return InboundMessage.model_validate_json(msg.model_dump_json())


# --- out-of-range numbers -----------------------------------------------------------------
@pytest.mark.parametrize("unixtime", ["123456789012345678901234", "99999999999999", "1" * 5000, "٣٣٣", "⁷⁷", "-3", "1e30"])
def test_kannel_unixtime_out_of_range_is_the_receive_time(unixtime: str) -> None:
    (msg,) = KannelChannel(KannelAuth(None, [])).parse(kannel(base_sms(unixtime=unixtime, ts="9999-99-99 99:99:99"))).messages
    assert now_ish(msg.received_at)


def test_kannel_coding_and_dlr_type_are_only_labels() -> None:
    (msg,) = KannelChannel(KannelAuth(None, [])).parse(kannel(base_sms(coding="1" * 400))).messages
    assert storable(msg).metadata["coding"] == "1" * 400
    dlr = KannelDlrChannel(KannelAuth(None, []))
    (status,) = dlr.parse(kannel({"receipt": "r1", "status": "18446744073709551617", "type": "-1e99"})).messages
    assert status.metadata["status"] == "code 18446744073709551617"


def telegram_update(**message: Any) -> bytes:
    base = {"message_id": 7, "date": 1732512000, "chat": {"id": 612340001, "type": "private"},
            "from": {"id": 612340001, "is_bot": False, "first_name": "Kanari"}, "text": "lampu taman mati"}
    return json.dumps({"update_id": 41, "message": {**base, **message}}).encode()


TELEGRAM = TelegramChannel("7000000001", "tg-secret")


def tg_post(body: bytes, secret: str = "tg-secret") -> RawRequest:
    return RawRequest("POST", TELEGRAM.path, b"", {SECRET_HEADER: secret}, body)


@pytest.mark.parametrize("date", [3e21, 10**25, -(10**19), "1732512000", None])
def test_telegram_date_out_of_range_is_the_receive_time(date: Any) -> None:
    (msg,) = TELEGRAM.parse(tg_post(telegram_update(date=date))).messages
    assert now_ish(msg.received_at) and msg.text == "lampu taman mati"


@pytest.mark.parametrize("body", [
    json.dumps({"update_id": "41", "message": {}}).encode(),
    json.dumps({"update_id": 4.5}).encode(),
    json.dumps({"update_id": 10**40}).encode(),
    telegram_update(photo=[{"file_id": "a", "file_unique_id": "b", "width": "wide", "height": None}]),
    telegram_update(**{"from": {"id": 1, "is_bot": False, "first_name": 12345}}),
    b"[" * 50_000 + b"]" * 50_000,
], ids=["id as string", "id as float", "huge id", "photo of strings", "name as number", "deep nesting"])
def test_telegram_wrong_types_are_400(body: bytes) -> None:
    with pytest.raises(Rejected) as err:
        TELEGRAM.parse(tg_post(body))
    assert err.value.status == 400 and "Kanari" not in err.value.reason


def test_telegram_secret_with_non_ascii_bytes_is_403_not_a_crash() -> None:
    for header in ("tg-secret\udcff", "тг-секрет", "\x00"):
        with pytest.raises(Rejected) as err:
            TELEGRAM.parse(tg_post(telegram_update(), header))
        assert err.value.status == 403


JSON_SMS = JsonSmsChannel("agg-key")


def json_sms(raw: bytes) -> RawRequest:
    return RawRequest("POST", JSON_SMS.path, b"", {"X-Signature": "sha256=" + hmac_sha256_hex("agg-key", raw)}, raw)


@pytest.mark.parametrize("raw", [
    b'{"id": "a1", "from": "6285711112222", "to": "1708", "text": "x", "timestamp": 1e20}',
    b'{"id": "a1", "from": "6285711112222", "to": "1708", "text": "x", "timestamp": "+99999-01-01"}',
    b'{"id": 12345678901234567890123, "from": "6285711112222", "to": "1708", "text": "x"}',
    b'{"id": "a1", "from": "6285711112222", "to": "1708", "text": ' + b"9" * 6000 + b"}",
    b"{" * 3 + b'"a":' * 1 + b"[" * 100_000,
], ids=["timestamp 1e20", "year 99999", "id as a number", "6000-digit number", "deep"])
def test_json_aggregator_out_of_range_is_400(raw: bytes) -> None:
    with pytest.raises(Rejected) as err:
        JSON_SMS.parse(json_sms(raw))
    assert err.value.status == 400 and PHONE not in err.value.reason


def test_twilio_signature_header_with_non_ascii_is_403() -> None:
    body = urlencode({"From": "+" + PHONE, "To": "+621708", "Body": "x", "MessageSid": "SM1"}).encode()
    with pytest.raises(Rejected) as err:
        TwilioChannel("tw").parse(RawRequest("POST", "/channels/sms/twilio", b"", {"X-Twilio-Signature": "ü\udc80"}, body,
                                             host="gw\udcff.example"))
    assert err.value.status == 403


# --- a batch with one bad unit --------------------------------------------------------------
WA_SECRET = "wa-secret"
WHATSAPP = WhatsappChannel("verify", WA_SECRET)


def wa_message(i: int, **over: Any) -> dict[str, Any]:
    return {"from": PHONE, "id": f"wamid.m{i}", "timestamp": "1732512000", "type": "text",
            "text": {"body": f"sampah menumpuk {i}"}, **over}


def wa_change(messages: list[Any], **value: Any) -> dict[str, Any]:
    return {"field": "messages", "value": {"metadata": {"phone_number_id": "106540352242922"},
                                           "contacts": [{"wa_id": PHONE, "profile": {"name": "Kanari"}}],
                                           "messages": messages, **value}}


def wa_post(payload: Any) -> list[InboundMessage]:
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac_sha256_hex(WA_SECRET, body)
    return WHATSAPP.parse(RawRequest("POST", WHATSAPP.path, b"", {"X-Hub-Signature-256": sig}, body)).messages


def split(msgs: list[InboundMessage]) -> tuple[list[InboundMessage], list[InboundMessage]]:
    bad = [m for m in msgs if m.kind == "malformed"]
    return [m for m in msgs if m not in bad], bad


def assert_quarantined(msg: InboundMessage, unit: Any) -> None:
    raw = msg.raw or b""
    assert json.loads(raw) == unit
    assert msg.external_id == "malformed:" + hashlib.sha256(raw).hexdigest()
    assert msg.text == "" and msg.sender is None and msg.reporter == ReporterInfo()
    for secret in (PHONE, "Kanari", "sampah"):
        assert secret not in msg.metadata["reason"]
    storable(msg)


@pytest.mark.parametrize("junk", ["y", 17, None, [], {"changes": "none"}], ids=repr)
def test_whatsapp_junk_entry_is_kept_alone(junk: Any) -> None:
    good, bad = split(wa_post({"entry": [junk, {"changes": [wa_change([wa_message(1)])]}]}))
    assert [m.external_id for m in good] == ["wamid.m1"]
    (q,) = bad
    assert_quarantined(q, junk)
    assert q.metadata["reason"].startswith("entry[0]")


def test_whatsapp_message_without_sender_does_not_refuse_its_batch() -> None:
    nameless = {k: v for k, v in wa_message(2).items() if k != "from"}
    good, bad = split(wa_post({"entry": [{"changes": [wa_change([wa_message(1), nameless, wa_message(3)])]}]}))
    assert [m.external_id for m in good] == ["wamid.m1", "wamid.m3"]
    (q,) = bad
    assert_quarantined(q, nameless)
    assert q.account == "106540352242922" and "messages[1]" in q.metadata["reason"]


@pytest.mark.parametrize("unit", [
    "not a change", ["a", "list"], {"field": "messages", "value": "x"},
    {"field": "messages", "value": {"messages": {"from": PHONE}}},
], ids=["string", "list", "value not an object", "messages not a list"])
def test_whatsapp_bad_change_is_kept_alone(unit: Any) -> None:
    good, bad = split(wa_post({"entry": [{"changes": [unit, wa_change([wa_message(1)])]}]}))
    assert [m.external_id for m in good] == ["wamid.m1"]
    assert_quarantined(bad[0], unit)


@pytest.mark.parametrize("over", [
    {"from": {"nested": PHONE}}, {"id": ["wamid.x"]}, {"type": ["text"]}, {"text": "not an object"},
    {"timestamp": "9" * 30}, {"timestamp": 1e300}, {"context": "x"}, {"image": {"id": 5}},
], ids=repr)
def test_whatsapp_wrong_types_in_one_message(over: dict[str, Any]) -> None:
    msgs = wa_post({"entry": [{"changes": [wa_change([wa_message(1), wa_message(2, **over)])]}]})
    good, _ = split(msgs)
    assert "wamid.m1" in [m.external_id for m in good] and len(msgs) == 2
    for m in msgs:
        storable(m)
    for m in good:
        assert now_ish(m.received_at) or m.received_at.year == 2024


def test_whatsapp_status_with_wrong_types_is_kept_alone() -> None:
    statuses = [{"id": "wamid.s1", "status": "read", "timestamp": "1e99"}, {"id": {"x": 1}, "status": 5}]
    good, bad = split(wa_post({"entry": [{"changes": [wa_change([], statuses=statuses)]}]}))
    assert [m.external_id for m in good] == ["wamid.s1:read"] and now_ish(good[0].received_at)
    assert_quarantined(bad[0], statuses[1])


def test_whatsapp_unsigned_or_not_json_is_still_refused() -> None:
    with pytest.raises(Rejected) as err:
        WHATSAPP.parse(RawRequest("POST", WHATSAPP.path, b"", {"X-Hub-Signature-256": "sha256=00"}, b'{"entry": []}'))
    assert err.value.status == 403
    body = b"[" * 100_000
    sig = "sha256=" + hmac_sha256_hex(WA_SECRET, body)
    with pytest.raises(Rejected) as err:
        WHATSAPP.parse(RawRequest("POST", WHATSAPP.path, b"", {"X-Hub-Signature-256": sig}, body))
    assert err.value.status == 400


def test_telegram_polling_batch_with_one_broken_update() -> None:
    ok = json.loads(telegram_update())
    broken = {"update_id": 42, "message": {"message_id": "x", "date": {"y": 1}, "chat": "none", "text": "Kanari"}}
    no_id = {"message": {"text": "Kanari"}}
    later = {**ok, "update_id": 43}
    msgs, offset = read_batch([ok, broken, no_id, later], "7000000001")
    good, bad = split(msgs)
    assert [m.external_id for m in good] == ["41", "43"] and offset == 44
    for q, unit in zip(bad, (broken, no_id), strict=True):
        assert_quarantined(q, unit)


class FakeMentions:
    """Enough of a tweepy Client for one page of mentions, some of them not what X documents."""

    def __init__(self, data: list[Any]) -> None:
        self.data = data

    def get_users_mentions(self, **_: Any) -> dict[str, Any]:
        return {"data": self.data, "includes": {"users": [{"id": "55", "username": "kanari", "name": "Kanari"}, "junk"]}}


def test_x_mentions_with_bad_ids_and_dates_are_kept_alone() -> None:
    data = [{"id": "101", "author_id": "55", "text": "@lapor jalan rusak", "created_at": "2026-02-30T99:00:00Z"},
            {"id": "not-a-number", "author_id": "55", "text": "Kanari"},
            {"id": "102", "author_id": {"x": 1}, "text": 5, "referenced_tweets": "x"},
            {"id": "103", "author_id": "55", "text": "@lapor lampu mati", "created_at": "2026-01-05T01:02:03Z"}]
    got: list[InboundMessage] = []

    async def accept(msg: InboundMessage) -> None:
        got.append(msg)

    cursors = MemoryCursors()
    poller = XMentionsPoller(FakeMentions(data), "99", cursors)  # type: ignore[arg-type]
    asyncio.run(poller.poll_mentions(accept))
    good, bad = split(got)
    assert [m.external_id for m in good] == ["101", "103"] and now_ish(good[0].received_at)
    assert len(bad) == 2 and cursors.values["since_id"] == "103"
    for m in got:
        storable(m)
        assert "Kanari" not in str(m.metadata)


# --- text made safe ---------------------------------------------------------------------------
def test_kannel_text_decoding_to_lone_surrogates_is_stored_safely() -> None:
    # UTF-7 and unicode_escape happily produce lone surrogates; the model replaces them
    for charset, data in (("utf-7", b"+2AA-ok"), ("unicode_escape", b"\\ud800 ok \\x00")):
        (msg,) = KannelChannel(KannelAuth(None, [])).parse(kannel(base_sms(text=data, charset=charset))).messages
        assert "\ufffd" in msg.text and "ok" in msg.text and "\x00" not in msg.text
        storable(msg)


def test_header_sender_with_surrogate_escapes() -> None:
    raw = RawRequest("POST", KannelChannel.path, b"to=1708", {"X-Kannel-From": "62857\udcff\udcfe", "Content-Type": "text/plain"},
                     b"tolong", remote=LOCAL)
    (msg,) = KannelChannel(KannelAuth(None, [])).parse(raw).messages
    assert msg.sender == "62857\ufffd\ufffd" and msg.external_id.startswith("sha256:")
    storable(msg)


def test_every_string_field_and_nested_value_is_made_safe() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(400):
        node["d"] = {}
        node = node["d"]
    msg = InboundMessage(channel="social.x", account="a\ud800", external_id="e\udfff", sender="s\x00", subject="\ud83d",
                         text="x\ud83d\ude00y", follow_up_hint="\udc00", suppress_receipt="\ud800",
                         review_reasons=["r\ud800"], reporter={"name": "n\ud800", "email": "e\x00@x"},
                         attachments=[{"sha256": "0" * 64, "media_type": "image/png", "size": 1, "filename": "\ud800.png"}],
                         reply_context={"k\ud800": ("t\ud800", 1)}, metadata={"deep": deep, "l": [["\ud800"]]},
                         ocr={"lines": ["\x00"]})
    again = storable(msg)
    assert again.text == "x😀y"  # a pair split in two code points is joined, not lost
    assert (again.account, again.external_id, again.sender, again.reporter.name) == ("a\ufffd", "e\ufffd", "s\ufffd", "n\ufffd")
    assert again.attachments[0].filename == "\ufffd.png" and again.review_reasons == ["r\ufffd"]
    node = again.metadata["deep"]
    for _ in range(MAX_DEPTH - 1):  # metadata is level 0, "deep" level 1
        node = node["d"]
    assert node == TOO_DEEP
    copied = msg.model_copy(update={"text": "\ud800", "metadata": {"x": "\x00"}, "reporter": msg.reporter.model_copy(
        update={"handle": "@\udcff"})})
    assert storable(copied).reporter.handle == "@\ufffd" and copied.text == "\ufffd"


def test_clean_values_are_kept_as_they_are() -> None:
    meta = {"smsc": "fakemo", "n": [1, 2.5, None, True], "nested": {"é": "ü"}}
    msg = InboundMessage(channel="sms.kannel", account="1708", external_id="x", text="Banjir 😭 café", metadata=meta)
    assert msg.metadata == meta and msg.text == "Banjir 😭 café"


# --- byte order ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "charset", "text"), [
    (b"\xff\xfe" + "Pohon tumbang".encode("utf-16-le"), "UTF-16BE", "Pohon tumbang"),
    (b"\xff\xfe" + "Air 🌊".encode("utf-16-le"), "UCS-2", "Air 🌊"),
    (b"\xfe\xff" + "Air 🌊".encode("utf-16-be"), "UTF-16", "Air 🌊"),
    ("Air 🌊".encode("utf-16-be"), "UTF-16", "Air 🌊"),
    (b"\xef\xbb\xbfSelokan", "UTF-8", "Selokan"),
    (b"\xef\xbb\xbfSelokan", None, "Selokan"),
    (b"\xef\xbb\xbfSelokan", "8-BIT", "Selokan"),
])
def test_bom_decides(data: bytes, charset: str | None, text: str) -> None:
    assert decode_text(data, charset) == text


def test_kannel_ucs2_with_little_endian_bom() -> None:
    body = b"\xff\xfe" + "Jembatan putus".encode("utf-16-le")
    (msg,) = KannelChannel(KannelAuth(None, [])).parse(kannel(base_sms(text=body, coding="2", charset="UTF-16BE"))).messages
    assert msg.text == "Jembatan putus"


def test_charset_reason_never_echoes_what_was_sent() -> None:
    with pytest.raises(Rejected) as err:
        decode_text(b"abc", PHONE + " \x1b[2J")
    assert PHONE not in err.value.reason


# --- the unauthenticated Kannel webhook ----------------------------------------------------------
@pytest.mark.parametrize(("remote", "allowed", "secret", "status"), [
    ("203.0.113.9", [], None, 403), ("10.1.2.3", [], None, 403), (None, [], None, 403), ("", [], None, 403),
    ("not an address", [], None, 403), ("127.0.0.1", [], None, 200), ("127.8.9.10", [], None, 200), ("::1", [], None, 200),
    ("::ffff:127.0.0.1", [], None, 200), ("10.1.2.3", ["10.0.0.0/8"], None, 200), ("10.1.2.3", ["10.1.2.4"], None, 403),
    ("127.0.0.1", ["10.0.0.0/8"], None, 403), ("203.0.113.9", [], "s3", 200),
])
def test_kannel_callers(remote: str | None, allowed: list[str], secret: str | None, status: int) -> None:
    auth = KannelAuth(secret, allowed)
    query = base_sms(secret=secret) if secret else base_sms()
    for channel in (KannelChannel(auth), KannelDlrChannel(auth)):
        q = query if isinstance(channel, KannelChannel) else {"receipt": "r", "status": "1", **({"secret": secret} if secret else {})}
        if status == 403:
            with pytest.raises(Rejected) as err:
                channel.parse(kannel(q, remote=remote))
            assert err.value.status == 403
        else:
            assert channel.parse(kannel(q, remote=remote)).messages


# --- Kannel's fallback id ---------------------------------------------------------------------------
def test_kannel_fallback_id_is_keyed_and_stable() -> None:
    query = {k: v for k, v in base_sms(ts="2026-11-23 05:00:48").items() if k != "id"}
    keyed = KannelChannel(KannelAuth(None, []), id_key=b"gateway secret")
    first = keyed.parse(kannel(query)).messages[0].external_id
    assert first == keyed.parse(kannel(query)).messages[0].external_id  # a retry is the same message
    assert first != KannelChannel(KannelAuth(None, []), id_key=b"other").parse(kannel(query)).messages[0].external_id
    plain = hashlib.sha256(b"\0".join([PHONE.encode(), b"1708", b"2026-11-23 05:00:48", b"Got mampet di gang 4"])).hexdigest()
    assert plain not in first and first.startswith("hmac:")
    # without a key (no privacy.reporter_hmac_key) the old digest stays, for idempotency across restarts
    assert KannelChannel(KannelAuth(None, [])).parse(kannel(query)).messages[0].external_id == "sha256:" + plain
