"""The Twilio SMS webhook (``X-Twilio-Signature`` over the URL and the form): a table over ``fixtures/twilio/*.http``."""

from __future__ import annotations

import pytest

from channels.sms.twilio import TwilioChannel
from tests.unit.channels.harness import Case, Check, Signature, Table, cases

NUMBER = "6281234567890"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

TABLE = Table(TwilioChannel("twilio-token"), [
    Case("Twilio form, signed", "mo__signed", text="Lampu jalan mati", sender=NUMBER, external_id="SM123",
         account="621708", body=TWIML, content_type="text/xml", metadata={"num_segments": "1"}),
    Case("Twilio form, signed with another token", "mo__other_token", rejected=403, reason="signature"),
], signature=Signature(header="X-Twilio-Signature"), canaries=(NUMBER,))


@cases(TABLE)
def test_twilio(check: Check, caplog: pytest.LogCaptureFixture) -> None:
    check.run(caplog)
