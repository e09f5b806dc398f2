"""The values that travel from a channel into the gateway.

This is the only module of ``channels`` that other stages import. A channel
turns what arrived on its wire into :class:`InboundMessage` values (wrapped in
an :class:`Intake`), or raises :class:`Rejected`; it never writes the journal
and never acknowledges by itself.

Error tree::

    ChannelError
     ├── Rejected          the peer sent something we refuse (status 4xx, reason)
     └── PeerUnavailable   the peer we talk to (Kannel, SMTP relay, API) is down
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PrivacySource = Literal["keyword", "form", "channel", "operator"]


class ChannelError(Exception):
    """Base of the channel errors."""


class Rejected(ChannelError):
    """Input refused; ``status`` is the HTTP-like status, ``reason`` is safe to show.

    The reason must never contain message text or the sender's identity.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class PeerUnavailable(ChannelError):
    """A peer we send to (Kannel, an SMTP relay, an API) cannot be reached now."""


class Attachment(BaseModel):
    """A file that came with a message; the bytes live content-addressed on disk."""

    model_config = ConfigDict(frozen=True)

    sha256: str
    media_type: str
    size: int
    filename: str | None = None


class ReporterInfo(BaseModel):
    """Identity fields a channel may know about the sender (all optional)."""

    name: str | None = None
    nik: str | None = None
    phone: str | None = None
    email: str | None = None
    handle: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class PrivacyHint(BaseModel):
    """Privacy flags a channel found outside the text (email subject tag, form tick, /anonim)."""

    anonymous: bool = False
    confidential: bool = False
    source: PrivacySource = "channel"


class InboundMessage(BaseModel):
    """One message as it arrived, before any normalisation.

    ``sender`` is the reply address on the origin channel (E.164 phone without
    '+', email address, chat id, handle); it is identity and is treated as such.
    ``reply_context`` carries what the channel needs to answer in the same
    thread (email Message-ID, chat id, tweet id); ``follow_up_hint`` is a
    tracking ID or a thread reference the channel already resolved. ``raw``
    holds the wire bytes a :class:`~channels.base.Completer` parses after the
    acknowledgement (a mail): journaled sealed with the message, so it is
    durable by the same group commit, without a file and an fsync of its own.
    """

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    channel: str
    account: str
    external_id: str
    sender: str | None = None
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    text: str = ""
    attachments: list[Attachment] = Field(default_factory=list)
    reporter: ReporterInfo = Field(default_factory=ReporterInfo)
    privacy: PrivacyHint | None = None
    follow_up_hint: str | None = None
    reply_context: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Channel-level reasons this message must not be answered automatically
    # (auto-reply, bounce, mailing list); the complaint is still taken.
    suppress_receipt: str | None = None
    # Set by channels that already know the message needs a human (low OCR confidence).
    review_reasons: list[str] = Field(default_factory=list)
    ocr: dict[str, Any] | None = None
    raw: bytes | None = None


class Intake(BaseModel):
    """What a channel's parse step returns: messages to journal, then the reply to give."""

    messages: list[InboundMessage] = Field(default_factory=list)
    status: int = 200
    body: str = ""
    content_type: str = "text/plain"
