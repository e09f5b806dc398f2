"""Twilio-compatible SMS webhook: form POST validated with ``X-Twilio-Signature``.

The signature is base64(HMAC-SHA1(auth token, URL + every POST parameter name
and value, sorted by name)) as Twilio documents it. The reply is an empty
TwiML document: receipts go out through the SMS sender, not the reply.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

from channels.base import RawRequest, same_secret
from channels.message import InboundMessage, Intake, Rejected


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(params))
    # surrogatepass: a surrogate-escaped Host header gives bytes that simply do not match
    mac = hmac.new(auth_token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class TwilioChannel:
    name = "sms.twilio"
    path = "/channels/sms/twilio"
    methods = ("POST",)

    def __init__(self, auth_token: str, public_url: str | None = None) -> None:
        self.auth_token = auth_token
        self.public_url = public_url

    def parse(self, raw: RawRequest) -> Intake:
        try:
            params = parse_qsl(raw.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise Rejected(400, "form body is not UTF-8") from exc
        expected = twilio_signature(self.auth_token, self.public_url or raw.url, params)
        if not same_secret(expected, raw.headers.get("X-Twilio-Signature")):
            raise Rejected(403, "bad or missing signature")
        form = dict(params)
        for required in ("From", "To", "MessageSid"):
            if not form.get(required):
                raise Rejected(400, f"missing parameter: {required}")
        if "Body" not in form:
            raise Rejected(400, "missing parameter: Body")
        msg = InboundMessage(
            channel=self.name,
            account=form["To"].lstrip("+"),
            external_id=form["MessageSid"],
            sender=form["From"].lstrip("+"),
            text=form["Body"],
            metadata={"num_segments": form.get("NumSegments")},
        )
        return Intake(
            messages=[msg], body='<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml"
        )
