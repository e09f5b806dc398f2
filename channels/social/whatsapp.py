"""WhatsApp Cloud API webhook on ``/channels/whatsapp``.

GET is Meta's subscription check (``hub.mode=subscribe``, ``hub.verify_token``,
``hub.challenge`` echoed back). POST carries ``entry[].changes[].value`` with
``messages[]`` (what citizens send) and ``statuses[]`` (what became of our
replies), signed with ``X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, raw body)>``.
Media are only named here (``metadata["media"]``); the bytes are fetched after the
acknowledgement by :class:`channels.social.whatsapp_graph.WhatsappMedia`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.base import RawRequest, hmac_sha256_hex, require_signature
from channels.message import InboundMessage, Intake, Rejected, ReporterInfo

CHANNEL = "social.whatsapp"
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
IGNORED_TYPES = ("reaction", "system", "unsupported", "request_welcome", "ephemeral")


def _when(ts: Any) -> dict[str, datetime]:
    return {"received_at": datetime.fromtimestamp(int(ts), UTC)} if str(ts or "").isdigit() else {}


def _text_of(m: dict[str, Any]) -> str:
    kind = m.get("type")
    part = m.get(kind) or {}
    if kind == "text":
        return part.get("body") or ""
    if kind in MEDIA_TYPES:
        return part.get("caption") or ""
    if kind == "button":
        return part.get("text") or ""
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return reply.get("title") or ""
    if kind == "location":
        return " ".join(p for p in (part.get("name"), part.get("address")) if p)
    return ""


def message_from_wa(m: dict[str, Any], names: dict[str, str], account: str) -> InboundMessage | None:
    """One citizen message; None for reactions and other non-messages."""
    kind = m.get("type") or "unknown"
    if kind in IGNORED_TYPES:
        return None
    wa_id = str(m.get("from") or "")
    if not wa_id or not m.get("id"):
        raise Rejected(400, "WhatsApp message without id or sender")
    metadata: dict[str, Any] = {"wa_type": kind}
    part = m.get(kind) or {}
    if kind in MEDIA_TYPES and part.get("id"):
        metadata["media"] = [{"kind": kind, "id": part["id"], "mime_type": part.get("mime_type"),
                              "sha256": part.get("sha256"), "file_name": part.get("filename")}]
    elif kind == "location":
        metadata["location"] = {"lat": part.get("latitude"), "lon": part.get("longitude")}
    elif kind not in ("text", "button", "interactive"):
        metadata["unsupported_media"] = kind  # contacts, order, …: kept for an operator
    if (m.get("context") or {}).get("id"):
        metadata["in_reply_to"] = m["context"]["id"]  # the wamid of the message they replied to
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=str(m["id"]),
        sender=wa_id,
        text=_text_of(m),
        reporter=ReporterInfo(phone=wa_id, name=names.get(wa_id)),
        reply_context={"to": wa_id, "message_id": m["id"]},
        metadata=metadata,
        **_when(m.get("timestamp")),
    )


def status_from_wa(s: dict[str, Any], account: str) -> InboundMessage:
    """A delivery status of one of our replies: recorded, never a complaint."""
    status = str(s.get("status") or "unknown")
    meta: dict[str, Any] = {"kind": "status", "status_of": s.get("id"), "status": status}
    errors = s.get("errors") or []
    if errors:  # codes and titles only: Meta's texts carry no message content
        meta["errors"] = [{"code": e.get("code"), "title": e.get("title")} for e in errors]
    return InboundMessage(channel=CHANNEL, account=account, external_id=f"{s.get('id')}:{status}",
                          metadata=meta, **_when(s.get("timestamp")))


def parse_payload(payload: Any) -> list[InboundMessage]:
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise Rejected(400, "not a WhatsApp webhook payload (no entry list)")
    out: list[InboundMessage] = []
    for entry in payload["entry"]:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            account = str((value.get("metadata") or {}).get("phone_number_id") or "")
            names = {str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
            for m in value.get("messages") or []:
                if (msg := message_from_wa(m, names, account)) is not None:
                    out.append(msg)
            out += [status_from_wa(s, account) for s in value.get("statuses") or []]
    return out


class WhatsappChannel:
    name = CHANNEL
    path = "/channels/whatsapp"
    methods = ("GET", "POST")

    def __init__(self, verify_token: str, app_secret: str,
                 startup_check: Callable[[], Awaitable[str]] | None = None) -> None:
        self._verify_token = verify_token.encode()
        self._app_secret = app_secret
        self._startup_check = startup_check

    async def check(self) -> str:
        """The access-token check; raising ChannelError makes the gateway drop this webhook."""
        if self._startup_check is None:
            return "whatsapp: webhook on (token not checked)"
        return await self._startup_check()

    def parse(self, raw: RawRequest) -> Intake:
        if raw.method == "GET":
            return self._verify(raw)
        expected = "sha256=" + hmac_sha256_hex(self._app_secret, raw.body)
        require_signature(expected, raw.headers.get("X-Hub-Signature-256"))
        try:
            payload = json.loads(raw.body)
        except ValueError:
            raise Rejected(400, "body is not JSON") from None
        return Intake(messages=parse_payload(payload))

    def _verify(self, raw: RawRequest) -> Intake:
        q = {k: v[0] for k, v in parse_qs(raw.query.decode("latin-1")).items()}
        given = q.get("hub.verify_token", "").encode()
        if q.get("hub.mode") != "subscribe" or not hmac.compare_digest(given, self._verify_token):
            raise Rejected(403, "verification refused")
        challenge = q.get("hub.challenge", "")
        if not challenge or len(challenge) > 256 or not challenge.isprintable():
            raise Rejected(400, "bad hub.challenge")
        return Intake(status=200, body=challenge)
