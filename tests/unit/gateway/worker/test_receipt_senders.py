"""Which sender answers a channel: its own family's, else the registry's fallback (sms.twilio → Kannel)."""

from __future__ import annotations

from typing import Any

import pytest

from channels.registry import spec_for
from channels.sms.sender import KannelSender
from channels.sms.twilio_sender import TwilioSender
from gateway.settings import Settings
from gateway.wiring import Channels, sms_channels
from gateway.worker.receipts import ReceiptWorker

KANNEL = KannelSender("http://127.0.0.1:13013/cgi-bin/sendsms", None, None, "1708")
TWILIO = TwilioSender("AC" + "0" * 32, "token")


def worker(*senders: Any) -> ReceiptWorker:
    return ReceiptWorker(None, list(senders))  # type: ignore[arg-type]  # sender_for reads no storage


@pytest.mark.parametrize(("senders", "channel", "expected"), [
    ((KANNEL, TWILIO), "sms.twilio", TWILIO),  # configured: the citizen is answered from the number they wrote to
    ((TWILIO, KANNEL), "sms.twilio", TWILIO),
    ((KANNEL,), "sms.twilio", KANNEL),  # not configured: through Kannel, as before
    ((KANNEL, TWILIO), "sms.kannel", KANNEL),  # Kannel's citizens are never answered through Twilio
    ((KANNEL, TWILIO), "sms.letters", KANNEL),
    ((TWILIO,), "sms.kannel", None),
    ((), "sms.twilio", None),
])
def test_sender_for(senders: tuple[Any, ...], channel: str, expected: Any) -> None:
    assert worker(*senders).sender_for(channel) is expected


def test_kannel_delivery_reports_still_settle_twilio_receipts_sent_through_kannel() -> None:
    assert spec_for("sms.twilio").delivery_family == spec_for("sms.kannel.dlr").delivery_family == "sms"
    assert spec_for("sms.twilio").answered_by("sms") and spec_for("sms.twilio").answered_by("sms.twilio")
    assert not spec_for("sms.kannel").answered_by("sms.twilio") and not spec_for("sms.kannel").answered_by("")


@pytest.mark.parametrize(("sms", "twilio_on"), [
    ({}, False),
    ({"twilio_auth_token": "webhook-token"}, False),  # the webhook alone: answered through Kannel
    ({"twilio": {"account_sid": "AC1"}}, False),  # no token at all
    ({"twilio": {"account_sid": "AC1"}, "twilio_auth_token": "webhook-token"}, True),  # the webhook's token
    ({"twilio": {"account_sid": "AC1", "auth_token": "own", "from": "LAPOR", "api_base_url": "http://127.0.0.1:9"}},
     True),
])
def test_twilio_sender_from_settings(sms: dict[str, Any], twilio_on: bool) -> None:
    found = Channels()
    sms_channels(Settings(sms=sms), found)
    twilio = [s for s in found.senders if isinstance(s, TwilioSender)]
    assert bool(twilio) is twilio_on
    assert any(isinstance(s, KannelSender) for s in found.senders)  # Kannel answers every other SMS
    if twilio and "api_base_url" in sms.get("twilio", {}):
        assert twilio[0].url == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"
        assert twilio[0].sender == "LAPOR"
