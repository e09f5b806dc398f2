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
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from channels.base import RawRequest, failure_reason, from_unix, malformed, require_signature
from channels.message import InboundMessage, Intake, Rejected, ReporterInfo
from channels.signing import sha256_signature

CHANNEL = "social.whatsapp"
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
IGNORED_TYPES = ("reaction", "system", "unsupported", "request_welcome", "ephemeral")


def _when(ts: Any) -> dict[str, datetime]:
    """``received_at`` from Meta's timestamp; nothing (the receive time) when it is absent or out of range."""
    return {"received_at": when} if (when := from_unix(ts)) is not None else {}


def _str(value: Any) -> str | None:
    """A peer field that must be a string: anything else counts as absent."""
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str | None:
    """Ids and phone numbers: Meta sends strings; plain integers are tolerated, nothing else."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**20:
        return str(value)
    return _str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= 180 else None


def _text_of(m: dict[str, Any]) -> str:
    kind = m.get("type")
    part = _dict(m.get(kind))
    if kind == "text":
        return _str(part.get("body")) or ""
    if kind in MEDIA_TYPES:
        return _str(part.get("caption")) or ""
    if kind == "button":
        return _str(part.get("text")) or ""
    if kind == "interactive":
        reply = _dict(part.get("button_reply")) or _dict(part.get("list_reply"))
        return _str(reply.get("title")) or ""
    if kind == "location":
        return " ".join(p for p in (_str(part.get("name")), _str(part.get("address"))) if p)
    return ""


def message_from_wa(m: dict[str, Any], names: dict[str, str], account: str) -> InboundMessage | None:
    """One citizen message; None for reactions and other non-messages; Rejected when it cannot be read."""
    if not isinstance(m, dict):
        raise Rejected(400, "WhatsApp message is not an object")
    kind = _str(m.get("type")) or "unknown"
    if kind in IGNORED_TYPES:
        return None
    wa_id, wamid = _id(m.get("from")), _id(m.get("id"))
    if not wa_id or not wamid:
        raise Rejected(400, "WhatsApp message without id or sender")
    metadata: dict[str, Any] = {"wa_type": kind}
    part = _dict(m.get(kind))
    if kind in MEDIA_TYPES and (media_id := _id(part.get("id"))):
        metadata["media"] = [{"kind": kind, "id": media_id, "mime_type": _str(part.get("mime_type")),
                              "sha256": _str(part.get("sha256")), "file_name": _str(part.get("filename"))}]
    elif kind == "location":
        metadata["location"] = {"lat": _number(part.get("latitude")), "lon": _number(part.get("longitude"))}
    elif kind not in ("text", "button", "interactive"):
        metadata["unsupported_media"] = kind  # contacts, order, …: kept for an operator
    if in_reply_to := _id(_dict(m.get("context")).get("id")):
        metadata["in_reply_to"] = in_reply_to  # the wamid of the message they replied to
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=wamid,
        sender=wa_id,
        text=_text_of(m),
        reporter=ReporterInfo(phone=wa_id, name=names.get(wa_id)),
        reply_context={"to": wa_id, "message_id": wamid},
        metadata=metadata,
        # a reply to one of our messages (or to their own earlier one): the router finds the complaint
        kind="reply" if in_reply_to else "complaint",
        related=in_reply_to or None,
        **_when(m.get("timestamp")),
    )


def status_from_wa(s: dict[str, Any], account: str) -> InboundMessage:
    """A delivery status of one of our replies: recorded, never a complaint."""
    if not isinstance(s, dict) or not (wamid := _id(s.get("id"))):
        raise Rejected(400, "WhatsApp status without the id of our message")
    status = (_str(s.get("status")) or "unknown")[:40]
    meta: dict[str, Any] = {"status": status}
    errors = s.get("errors") or []
    if errors and isinstance(errors, list):  # codes and titles only: Meta's texts carry no message content
        meta["errors"] = [{"code": e.get("code") if isinstance(e.get("code"), int) else None,
                           "title": _str(e.get("title"))} for e in errors if isinstance(e, dict)]
    return InboundMessage(channel=CHANNEL, account=account, external_id=f"{wamid}:{status}",
                          kind="status", related=wamid, metadata=meta, **_when(s.get("timestamp")))


def _names(value: dict[str, Any]) -> dict[str, str]:
    """wa_id → profile name, from the contacts that are well formed."""
    names: dict[str, str] = {}
    contacts = value.get("contacts")
    for c in contacts if isinstance(contacts, list) else []:
        if isinstance(c, dict) and (wa_id := _id(c.get("wa_id"))) and (name := _str(_dict(c.get("profile")).get("name"))):
            names[wa_id] = name
    return names


def parse_payload(payload: Any) -> list[InboundMessage]:
    """Every message and status of a signed payload; a unit that cannot be read is kept as malformed, alone."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise Rejected(400, "not a WhatsApp webhook payload (no entry list)")
    out: list[InboundMessage] = []
    for e, entry in enumerate(payload["entry"]):
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            out.append(malformed(CHANNEL, "", entry, f"entry[{e}]: not an entry with a changes list"))
            continue
        for c, change in enumerate(changes):
            where = f"entry[{e}].changes[{c}]"
            try:
                out += _read_change(change, where)
            except Exception as exc:  # anything one change makes raise is its own, never the batch's
                out.append(malformed(CHANNEL, "", change, failure_reason(where, exc)))
    return out


def _read_change(change: Any, where: str) -> list[InboundMessage]:
    if not isinstance(change, dict):
        raise Rejected(400, "change is not an object")
    value = change.get("value")
    if change.get("field") != "messages":
        return []
    if not isinstance(value, dict):
        raise Rejected(400, "change without a value object")
    messages, statuses = value.get("messages") or [], value.get("statuses") or []
    if not isinstance(messages, list) or not isinstance(statuses, list):
        raise Rejected(400, "messages or statuses is not a list")
    account = _id(_dict(value.get("metadata")).get("phone_number_id")) or ""
    names = _names(value)
    out: list[InboundMessage] = []
    units = [(f"{where}.messages[{i}]", m, True) for i, m in enumerate(messages)]
    units += [(f"{where}.statuses[{i}]", st, False) for i, st in enumerate(statuses)]
    for unit_where, unit, is_message in units:
        try:
            msg = message_from_wa(unit, names, account) if is_message else status_from_wa(unit, account)
        except Exception as exc:  # one message without "from" must not refuse the others
            msg = malformed(CHANNEL, account, unit, failure_reason(unit_where, exc))
        if msg is not None:
            out.append(msg)
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
        """The access-token check: Refused switches this webhook off; any other ChannelError leaves it on, checked again."""
        if self._startup_check is None:
            return "whatsapp: webhook on (token not checked)"
        return await self._startup_check()

    def parse(self, raw: RawRequest) -> Intake:
        if raw.method == "GET":
            return self._verify(raw)
        expected = sha256_signature(self._app_secret, raw.body)
        require_signature(expected, raw.headers.get("X-Hub-Signature-256"))
        try:
            payload = json.loads(raw.body)
        except (ValueError, RecursionError):
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
