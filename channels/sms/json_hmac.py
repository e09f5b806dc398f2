"""Generic JSON webhook for SMS aggregators, signed with HMAC-SHA256.

``POST /channels/sms/json`` with ``X-Signature: sha256=<hex HMAC of the raw
body>`` and a body ``{"id", "from", "to", "text", "timestamp"?}`` (a list of
such objects is accepted too, for aggregators that batch).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from channels.base import RawRequest, require_signature
from channels.message import InboundMessage, Intake, Rejected
from channels.signing import sha256_signature


class AggregatorSms(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    sender: str = Field(alias="from", min_length=3, max_length=32)
    to: str = Field(min_length=1, max_length=32)
    text: str = Field(max_length=4000)
    timestamp: datetime | None = None


class JsonSmsChannel:
    name = "sms.json"
    path = "/channels/sms/json"
    methods = ("POST",)

    def __init__(self, hmac_key: str) -> None:
        self.hmac_key = hmac_key

    def parse(self, raw: RawRequest) -> Intake:
        given = raw.headers.get("X-Signature", "")
        require_signature(sha256_signature(self.hmac_key, raw.body), given)
        try:
            data: Any = json.loads(raw.body)
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a 5000-digit number, 10⁵ brackets
            raise Rejected(400, "body is not valid JSON") from exc
        items = data if isinstance(data, list) else [data]
        try:
            parsed = [AggregatorSms.model_validate(i) for i in items]
        except ValidationError as exc:
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise Rejected(400, f"invalid message: {where}") from None
        msgs = [
            InboundMessage(
                channel=self.name,
                account=p.to.lstrip("+"),
                external_id=p.id,
                sender=p.sender.lstrip("+"),
                text=p.text,
                received_at=p.timestamp or datetime.now(UTC),
            )
            for p in parsed
        ]
        return Intake(messages=msgs)
