"""SMS webhooks as tables of cases: Kannel GET/POST, the JSON aggregator and the Twilio form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest

from channels.base import RawRequest, hmac_sha256_hex
from channels.message import Rejected
from channels.sms.json_hmac import JsonSmsChannel
from channels.sms.kannel import KannelAuth, KannelChannel, KannelDlrChannel
from channels.sms.twilio import TwilioChannel, twilio_signature

KANNEL = KannelChannel(KannelAuth(None, []))
KANNEL_SECRET = KannelChannel(KannelAuth("s3cret", ["127.0.0.1"]))
JSON_KEY = "aggregator-key"
TWILIO_TOKEN = "twilio-token"
TWILIO_URL = "https://gw.example.go.id/channels/sms/twilio"


def kannel_get(text: bytes, charset: str = "UTF-8", coding: str = "0", **extra: str) -> RawRequest:
    params = {"from": "6281234567890", "to": "1708", "ts": "2026-11-23 05:00:48", "unixtime": "1795410048",
              "id": "4deef49a-2f01-4132-8c3a-17796e836e71", "smsc": "fakemo", "coding": coding, "charset": charset,
              "udh": "", **extra}
    q = urlencode(params) + "&text=" + "".join(f"%{b:02X}" for b in text)
    return RawRequest("GET", KannelChannel.path, q.encode(), {}, b"", remote="127.0.0.1")


def json_post(body: dict | list, key: str = JSON_KEY) -> RawRequest:
    raw = json.dumps(body).encode()
    return RawRequest("POST", JsonSmsChannel.path, b"", {"X-Signature": "sha256=" + hmac_sha256_hex(key, raw)}, raw)


def twilio_post(form: dict[str, str], token: str = TWILIO_TOKEN) -> RawRequest:
    body = urlencode(form).encode()
    sig = twilio_signature(token, TWILIO_URL, list(form.items()))
    return RawRequest("POST", "/channels/sms/twilio", b"", {"X-Twilio-Signature": sig}, body, scheme="https",
                      host="gw.example.go.id")


@dataclass
class Case:
    label: str
    channel: object
    request: RawRequest
    text: str | None = None
    sender: str = "6281234567890"
    external_id: str | None = None
    rejected: int | None = None
    reason: str = ""
    extra: dict[str, object] = field(default_factory=dict)


TWILIO_FORM = {"From": "+6281234567890", "To": "+621708", "Body": "Lampu jalan mati", "MessageSid": "SM123"}

CASES = [
    Case("GSM-7 text via get-url", KANNEL, kannel_get(b"Jalan rusak di depan SDN 3"), "Jalan rusak di depan SDN 3",
         external_id="4deef49a-2f01-4132-8c3a-17796e836e71"),
    Case("UCS-2 arrives as UTF-16BE", KANNEL, kannel_get("Banjir 😭 café".encode("utf-16-be"), "UTF-16BE", "2"),
         "Banjir 😭 café"),
    Case("raw UTF-8 in a 7-bit message", KANNEL, kannel_get("Sampah — pasar".encode()), "Sampah — pasar"),
    Case("8-bit binary that is UTF-8", KANNEL, kannel_get("tolong ñ".encode(), "8-BIT", "1"), "tolong ñ"),
    Case("empty text is accepted (answered with a request for details)", KANNEL, kannel_get(b""), ""),
    Case("odd UTF-16 bytes", KANNEL, kannel_get(b"\x00A\x00", "UTF-16BE", "2"), rejected=400, reason="UTF-16BE"),
    Case("invalid UTF-8", KANNEL, kannel_get(b"\xff\xfe\xfd"), rejected=400, reason="UTF-8"),
    Case("unknown charset", KANNEL, kannel_get(b"abc", "KLINGON"), rejected=400, reason="charset"),
    Case("no sender", KANNEL, RawRequest("GET", "/", b"to=1708&text=abc", {}, b"", remote="127.0.0.1"), rejected=400, reason="from"),
    Case("no text", KANNEL, RawRequest("GET", "/", b"from=628123&to=1708", {}, b"", remote="127.0.0.1"), rejected=400, reason="text"),
    Case("POST body with charset in Content-Type", KANNEL,
         RawRequest("POST", "/", b"from=6281234567890&to=1708&id=p1", {"Content-Type": 'text/plain; charset="UTF-16BE"'},
                    "Lampu mati 🙏".encode("utf-16-be"), remote="127.0.0.1"), "Lampu mati 🙏", external_id="p1"),
    Case("shared secret missing", KANNEL_SECRET, kannel_get(b"abc"), rejected=403, reason="secret"),
    Case("shared secret right", KANNEL_SECRET, kannel_get(b"abc", secret="s3cret"), "abc"),
    Case("JSON aggregator, signed", JsonSmsChannel(JSON_KEY),
         json_post({"id": "agg-1", "from": "+6281234567890", "to": "1708", "text": "Pungli di samsat"}),
         "Pungli di samsat", external_id="agg-1"),
    Case("JSON aggregator, bad signature", JsonSmsChannel(JSON_KEY),
         json_post({"id": "agg-1", "from": "6281234567890", "to": "1708", "text": "x"}, key="wrong"),
         rejected=403, reason="signature"),
    Case("JSON aggregator, missing field", JsonSmsChannel(JSON_KEY), json_post({"id": "agg-2", "to": "1708", "text": "x"}),
         rejected=400, reason="from"),
    Case("Twilio form, signed", TwilioChannel(TWILIO_TOKEN), twilio_post(TWILIO_FORM), "Lampu jalan mati",
         external_id="SM123"),
    Case("Twilio form, signed with another token", TwilioChannel(TWILIO_TOKEN), twilio_post(TWILIO_FORM, "other"),
         rejected=403, reason="signature"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_sms_webhook(case: Case) -> None:
    if case.rejected:
        with pytest.raises(Rejected) as err:
            case.channel.parse(case.request)  # type: ignore[attr-defined]
        assert err.value.status == case.rejected
        assert case.reason in err.value.reason
        assert "6281234567890" not in err.value.reason  # never echo identity
        return
    intake = case.channel.parse(case.request)  # type: ignore[attr-defined]
    (msg,) = intake.messages
    assert msg.text == case.text
    assert msg.sender == case.sender
    if case.external_id:
        assert msg.external_id == case.external_id
    assert intake.status == 200


def test_same_request_twice_gives_the_same_external_id() -> None:
    for case in CASES:
        if case.rejected:
            continue
        first = case.channel.parse(case.request).messages[0]  # type: ignore[attr-defined]
        again = case.channel.parse(case.request).messages[0]  # type: ignore[attr-defined]
        assert (first.channel, first.account, first.external_id) == (again.channel, again.account, again.external_id)


def test_kannel_reply_body_is_empty() -> None:
    assert KANNEL.parse(kannel_get(b"abc")).body == ""


def test_dlr_becomes_a_status_record() -> None:
    dlr = KannelDlrChannel(KannelAuth(None, []))
    (msg,) = dlr.parse(RawRequest("GET", dlr.path, b"receipt=abc&status=1", {}, b"", remote="127.0.0.1")).messages
    assert (msg.kind, msg.related) == ("status", "abc")
    assert msg.metadata == {"status": "delivered"}
