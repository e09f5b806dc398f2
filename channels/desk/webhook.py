"""``POST /channels/desk``: a desk entry from the operator console, signed with the local desk secret.

The body is JSON (:func:`entry_body` makes it), signed ``X-Signature: sha256=<HMAC-SHA256>`` as the
generic SMS webhook is. Attachments are already in the blob store (the console put them there); the
entry names them by sha256. The console chose the ``external_id``, so a POST repeated after a timeout
is one complaint, and the console finds the tracking ID by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from channels.base import RawRequest
from channels.message import Attachment, InboundMessage, Intake, PrivacyHint, Rejected, ReporterInfo, safe_filename
from channels.signing import same_secret, sha256_signature

CHANNELS = ("desk.walkin", "desk.phone", "desk.callcentre")
PATH = "/channels/desk"
MAX_TEXT = 20_000
MAX_FIELD = 300
MAX_ATTACHMENTS = 20
REPORTER_FIELDS = ("name", "phone", "email", "nik", "address")
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def desk_key(desk_secret: str | None, vault_key: str) -> str:
    """The desk secret, or one derived from the vault key (both processes derive the same)."""
    if desk_secret:
        return desk_secret
    return hmac.new(vault_key.encode(), b"lapor-gateway desk channel v1", hashlib.sha256).hexdigest()


def entry_body(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Rejected(400, "a field is not text")
    value = value.strip()
    if len(value) > limit:
        raise Rejected(413, "a field is too long")
    return value or None


class DeskChannel:
    name = "desk"
    path = PATH
    methods = ("POST",)

    def __init__(self, key: str) -> None:
        self.key = key

    def parse(self, raw: RawRequest) -> Intake:
        if not same_secret(sha256_signature(self.key, raw.body), raw.headers.get("X-Signature")):
            raise Rejected(403, "bad or missing signature")
        try:
            data = json.loads(raw.body)
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "body is not JSON") from None
        if not isinstance(data, dict):
            raise Rejected(400, "body is not a JSON object")
        channel = data.get("channel")
        if channel not in CHANNELS:
            raise Rejected(400, "unknown desk channel")
        external_id = data.get("external_id")
        if not isinstance(external_id, str) or not _EXTERNAL_ID.fullmatch(external_id):
            raise Rejected(400, "bad external_id")
        user = _text(data.get("user"), 64) or "desk"
        reporter_in = data.get("reporter") or {}
        if not isinstance(reporter_in, dict):
            raise Rejected(400, "reporter is not an object")
        reporter = ReporterInfo(**{k: _text(reporter_in.get(k), MAX_FIELD) for k in REPORTER_FIELDS})
        attachments = [self._attachment(a) for a in self._list(data.get("attachments"))]
        anonymous, confidential = bool(data.get("anonymous")), bool(data.get("confidential"))
        msg = InboundMessage(
            channel=channel,
            account=user,
            external_id=external_id,
            received_at=datetime.now(UTC),
            subject=_text(data.get("subject"), MAX_FIELD),
            text=_text(data.get("body"), MAX_TEXT) or "",
            attachments=attachments,
            reporter=reporter,
            privacy=PrivacyHint(anonymous=anonymous, confidential=confidential, source="operator")
            if anonymous or confidential else None,
            reply_context={"printable": True, "kind": "desk",
                           "notify": [k for k, v in (("sms", reporter.phone), ("email", reporter.email)) if v]},
            metadata={"entered_by": user},
        )
        return Intake(messages=[msg], status=202, body='{"status": "accepted"}', content_type="application/json")

    @staticmethod
    def _list(value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
            raise Rejected(400, "bad attachments")
        return value

    @staticmethod
    def _attachment(a: Any) -> Attachment:
        if not isinstance(a, dict) or not isinstance(a.get("sha256"), str) or not _SHA256.fullmatch(a["sha256"]):
            raise Rejected(400, "bad attachment")
        size = a.get("size")
        media_type = a.get("media_type")
        if not isinstance(size, int) or size < 0 or not isinstance(media_type, str) or len(media_type) > 100:
            raise Rejected(400, "bad attachment")
        name = a.get("filename")
        return Attachment(sha256=a["sha256"], media_type=media_type, size=size,
                          filename=safe_filename(name) if isinstance(name, str) else None)
