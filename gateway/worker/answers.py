"""A citizen answers back: which complaint a message answers, whether the sender may, and the response.

A message answers a complaint when it names it (``BALAS <id> <text>``, ``INFO <id> <text>``, our
Message-ID in a mail thread: the channel read the tracking ID) or replies to one of our messages or to
the citizen's own earlier one (``kind == "reply"``, ``related`` the channel's message id, looked up in
the receipts we sent and the journal). Only the reporter's own contact may answer: the keyed
``reporter_ref`` digests of the sender are compared with the complaint's, nothing in clear.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

from channels.message import InboundMessage
from gateway.store.records import ResponseRow
from normalizer.ids import uuid7
from normalizer.keywords import Command
from normalizer.pipeline import Normalizer, contact_key, mask_contact
from normalizer.tracking import check_tracking_id

# the store's final states, and the gateway's own (an operator rejected it: it never reached the store)
CLOSED = frozenset({"closed", "archived"})
LOCAL_CLOSED = frozenset({"rejected"})
MAX_RESPONSE_CHARS = 10_000  # the store's limit; the journal keeps the whole message
MAX_ATTACHMENTS = 50  # the store's limit
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
CUT = "\n[…]"


class AnswerLookups(Protocol):
    def complaint_by_tracking(self, tracking_id: str) -> dict[str, Any] | None: ...

    def complaints_answered_by(self, channel: str, account: str, ref: str) -> list[dict[str, Any]]: ...


@dataclass
class Answered:
    """The complaint a message answers. ``complaint`` None: a tracking ID we never issued."""

    tracking_id: str
    text: str  # the answer, without the command
    complaint: dict[str, Any] | None
    owner: bool
    named: bool  # the citizen named the ticket (a command, our id in a thread): a stranger is held for review


async def find_answer(
    journal: AnswerLookups, normalizer: Normalizer, msg: InboundMessage, command: Command | None
) -> Answered | None:
    """The complaint ``msg`` answers, or None when it answers none (then it is a complaint of its own)."""
    if command is not None and command.verb in ("balas", "info") and command.ok and command.tracking_id:
        local = await asyncio.to_thread(journal.complaint_by_tracking, command.tracking_id)
        return Answered(command.tracking_id, command.text, local, _owns(normalizer, local, msg), True)
    if msg.kind != "reply" or not msg.related:
        return None
    ref = msg.related
    if check_tracking_id(ref).tracking_id == ref:
        local = await asyncio.to_thread(journal.complaint_by_tracking, ref)
        if local is None:  # an id we never issued: a complaint, marked for review by its follow-up hint
            return None
        return Answered(ref, msg.text, local, _owns(normalizer, local, msg), True)
    # a reply to one of our chat messages or to their own earlier message: only the sender's own count
    # (a Telegram message id is unique per chat, not overall)
    found = await asyncio.to_thread(journal.complaints_answered_by, msg.channel, msg.account, ref)
    mine = sorted((c for c in found if _owns(normalizer, c, msg)), key=lambda c: c["created_at"])
    if not mine:
        return None
    return Answered(mine[-1]["tracking_id"], msg.text, mine[-1], True, False)


def _owns(normalizer: Normalizer, complaint: dict[str, Any] | None, msg: InboundMessage) -> bool:
    if msg.metadata.get("sender_not_from"):
        return False  # a mail whose Reply-To or envelope names the reporter and whose From does not
    return bool(complaint and complaint["reporter_ref"]) and complaint["reporter_ref"] in normalizer.refs_of(msg)  # type: ignore[index]


def is_closed(store_status: str | None, local_state: str) -> bool:
    return (store_status or "") in CLOSED or local_state in LOCAL_CLOSED


def response_row(normalizer: Normalizer, msg: InboundMessage, answer: Answered) -> ResponseRow:
    """What the store gets: the text (masked as the normaliser masks an anonymous complaint), when, the
    channel, and the attachments' metadata (their bytes stay in the gateway's blob store)."""
    local = answer.complaint or {}
    anonymous, confidential = bool(local.get("anonymous")), bool(local.get("confidential"))
    text = normalizer.response_text(msg, answer.text, anonymous=anonymous)
    if len(text) > MAX_RESPONSE_CHARS:
        text = text[: MAX_RESPONSE_CHARS - len(CUT)] + CUT
    attachments = [
        {"sha256": a.sha256, "media_type": media_type(a.media_type), "size": a.size,
         "filename": None if anonymous or not a.filename else a.filename[:255]}
        for a in msg.attachments[:MAX_ATTACHMENTS]
    ]  # fmt: skip
    at = msg.received_at if msg.received_at.tzinfo else msg.received_at.replace(tzinfo=UTC)
    payload = {"text": text, "received_at": at.isoformat(), "channel": msg.channel, "attachments": attachments}
    return ResponseRow(uuid7(), local.get("id", ""), answer.tracking_id, msg.channel, payload, anonymous, confidential)


def media_type(value: str) -> str:
    """``type/subtype`` without parameters, as the store takes it."""
    bare = (value or "").partition(";")[0].strip().lower()
    return bare if _MEDIA_TYPE.match(bare) else "application/octet-stream"


def masked_contact(msg: InboundMessage, anonymous: bool) -> str:
    """The sender as the intake log may show it."""
    return mask_contact(contact_key(msg), anonymous)
