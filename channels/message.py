"""The values that travel from a channel into the gateway.

This is the only module of ``channels`` that other stages import. A channel
turns what arrived on its wire into :class:`InboundMessage` values (wrapped in
an :class:`Intake`), or raises :class:`Rejected`; it never writes the journal
and never acknowledges by itself.

Every model here makes its text safe on construction and on ``model_copy``
(:func:`safe_text`, :func:`safe_tree`): lone surrogates and NUL in any string,
nested ones in ``metadata``/``reply_context``/``ocr`` too, become U+FFFD, and
nesting deeper than :data:`MAX_DEPTH` is cut. So whatever a channel builds can
be journaled, serialised and forwarded, and no channel can forget to clean it.

Error tree::

    ChannelError
     ├── Rejected          the peer sent something we refuse (status 4xx, reason)
     ├── PeerUnavailable   the peer we talk to (Kannel, SMTP relay, API) is down
     └── Refused           the peer refuses us for good (a rejected token): the channel is switched off

A start-up check (``channels.base.StartupCheck``) raises :class:`Refused` only for a definite
refusal; any other ChannelError keeps the channel on, degraded, and it is checked again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from types import UnionType
from typing import Any, Literal, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

PrivacySource = Literal["keyword", "form", "channel", "operator"]
# What a channel says an inbound message is; only a complaint becomes one. The others are recorded:
# a delivery status of our reply (SMS DLR, WhatsApp status), a bounce or an auto-reply to a receipt
# mail, an edit of a chat message, a batch entry that could not be read (kept for an operator).
# A "reply" answers an earlier message (``related``: a tracking ID the channel read from our id scheme,
# else the channel's id of the message answered); the router makes it a citizen response on that
# complaint, or a complaint when the reference leads nowhere.
InboundKind = Literal["complaint", "edit", "status", "bounce", "auto_reply", "malformed", "reply"]


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


class Refused(ChannelError):
    """A peer refused our credentials or account for good (401/403, its own "unauthorized" answer).

    Trying again cannot help until an operator changes a setting, so the gateway switches the channel
    off. The text is shown on ``/healthz``: a status and a setting's name, never the token.
    """


# What UTF-8 cannot encode (surrogates, lone or split into two code points) and NUL, which
# SQLite text and C-string consumers truncate at; anything else Python holds in a str encodes.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 32  # nesting kept in metadata; pydantic refuses to (de)serialise past ~200
TOO_DEEP = "\ufffd(nested too deep)"


def safe_text(s: str) -> str:
    """``s`` with lone surrogates and NUL replaced by U+FFFD; the same object when it is fine (the hot path)."""
    if s.isascii():
        return s.replace("\x00", "\ufffd") if "\x00" in s else s
    if _UNSAFE.search(s) is None:
        return s
    # a high+low pair that arrived as two code points becomes the character it stands for
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\x00", "\ufffd")


def _text_is_safe(s: str) -> bool:
    return "\x00" not in s if s.isascii() else _UNSAFE.search(s) is None


def _tree_is_safe(value: dict[Any, Any] | list[Any] | tuple[Any, ...], depth: int) -> bool:
    """No string to clean and no nesting to cut: the common case, checked without building anything."""
    if depth >= MAX_DEPTH:
        return False
    if type(value) is dict:
        for k in value:
            if type(k) is str and not _text_is_safe(k):
                return False
        value = value.values()  # type: ignore[assignment]
    for v in value:
        t = type(v)
        if t is str:
            if not _text_is_safe(v):
                return False
        elif t is dict or t is list or t is tuple:
            if not _tree_is_safe(v, depth + 1):
                return False
        elif isinstance(v, str | dict | list | tuple):  # subclasses: the slow, general path
            return False
    return True


def safe_tree(value: Any, depth: int = 0) -> Any:
    """JSON-like ``value`` with every string (keys too) made safe and nesting cut at MAX_DEPTH.

    Returns ``value`` itself when nothing needed cleaning.
    """
    if isinstance(value, str):
        return safe_text(value)
    if not isinstance(value, dict | list | tuple) or _tree_is_safe(value, depth):
        return value
    if depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {(safe_text(k) if isinstance(k, str) else k): safe_tree(v, depth + 1) for k, v in value.items()}
    return [safe_tree(v, depth + 1) for v in value]


def _may_hold_text(annotation: Any) -> bool:
    """Whether a field of this type can hold a str that is not itself a SafeModel (which cleans its own)."""
    if annotation is str or annotation is Any:
        return True
    origin = get_origin(annotation)
    if origin is None:
        return False
    return origin is dict or any(_may_hold_text(a) for a in get_args(annotation))


def _is_text(annotation: Any) -> bool:
    """``str`` or ``str | None``: such a field holds a str or None once validated."""
    return annotation is str or (get_origin(annotation) in (Union, UnionType)
                                 and set(get_args(annotation)) == {str, type(None)})


@dataclass(frozen=True)
class _Plan:
    """Which fields of a SafeModel class the validator looks at, worked out once per class."""

    texts: tuple[str, ...]
    trees: tuple[str, ...]
    get_texts: Callable[[dict[str, Any]], tuple[Any, ...]]


def _plan_for(cls: type[BaseModel]) -> _Plan:
    names = [n for n, f in cls.model_fields.items() if _may_hold_text(f.annotation)]
    texts = tuple(n for n in names if _is_text(cls.model_fields[n].annotation))
    getter = itemgetter(*texts) if len(texts) > 1 else (lambda d: tuple(d[n] for n in texts))
    return _Plan(texts, tuple(n for n in names if n not in texts), getter)


_PLANS: dict[type, _Plan] = {}


class SafeModel(BaseModel):
    """A model whose string fields (and strings nested in its containers) are always storable."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _PLANS[cls] = _plan_for(cls)

    @model_validator(mode="after")
    def _safe_fields(self) -> Self:
        fields = self.__dict__  # written directly: frozen models too, and no __setattr__ cost
        plan = _PLANS[type(self)]
        try:  # the hot path: every text field at once, in C
            joined = "".join(filter(None, plan.get_texts(fields)))
            dirty = not ("\x00" not in joined if joined.isascii() else _UNSAFE.search(joined) is None)
        except TypeError:  # not a str (model_construct, a subclass): look at each
            dirty = True
        if dirty:
            for name in plan.texts:
                if isinstance(value := fields[name], str):
                    fields[name] = safe_text(value)
        for name in plan.trees:
            value = fields[name]
            if value and (type(value) not in (dict, list) or not _tree_is_safe(value, 0)):
                fields[name] = safe_tree(value)
        return self

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        """Pydantic's copy skips validation; an ``update`` is made safe like a constructed value."""
        copy = super().model_copy(update=update, deep=deep)
        return copy._safe_fields() if update else copy


class Attachment(SafeModel):
    """A file that came with a message; the bytes live content-addressed on disk."""

    model_config = ConfigDict(frozen=True)

    sha256: str
    media_type: str
    size: int
    filename: str | None = None


def safe_filename(name: str | None) -> str | None:
    """Keep only the last path component, without control characters (no path tricks)."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or None


class ReporterInfo(SafeModel):
    """Identity fields a channel may know about the sender (all optional).

    Frozen, so one empty instance is every message's default (:data:`NO_REPORTER`): a default factory
    was called for each message built and again by the journal's ``exclude_defaults`` dump, a
    validated model each time (5 µs of the acknowledging path)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    nik: str | None = None
    phone: str | None = None
    email: str | None = None
    handle: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


NO_REPORTER = ReporterInfo()


class PrivacyHint(BaseModel):
    """Privacy flags a channel found outside the text (email subject tag, form tick, /anonim)."""

    anonymous: bool = False
    confidential: bool = False
    source: PrivacySource = "channel"


class InboundMessage(SafeModel):
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
    reporter: ReporterInfo = NO_REPORTER  # hashable (frozen): pydantic shares it, copies nothing
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
    kind: InboundKind = "complaint"
    # what a status, bounce or auto-reply is about (the provider id or tracking ID of our reply), the
    # chat message an edit changes, or the message a reply answers
    related: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _kind_from_metadata(cls, data: Any) -> Any:
        """Journaled before ``kind`` was a field: ``metadata.kind`` and ``metadata.<kind>_of``.

        Kept for one release, so a journal written by the previous one still opens; then remove.
        """
        if not isinstance(data, dict) or "kind" in data or not isinstance(meta := data.get("metadata"), dict):
            return data
        if meta.get("kind") not in get_args(InboundKind):
            return data
        meta = dict(meta)
        kind = meta.pop("kind")
        related = meta.pop(f"{kind}_of", None) or meta.pop("bounce_of", None)
        return {**data, "metadata": meta, "kind": kind, "related": related}


@dataclass
class Intake:
    """What a channel's parse step returns: messages to journal, then the reply to give.

    A plain dataclass, as it holds nothing to validate (its messages are validated as they are built):
    as a pydantic model it cost 5 µs of every webhook request, an eighth of the Kannel parse."""

    messages: list[InboundMessage] = field(default_factory=list)
    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


def content_of(sender: str | None, subject: str | None, text: str, *more: str) -> str:
    """What a message says (not when or how it came), as one string: the journal keeps a keyed digest of it
    to tell a redelivery from another message that reuses the id."""
    return "\x00".join([sender or "", subject or "", text, *more])


@dataclass(slots=True)
class JournalEntry:
    """A message as a webhook journals it without building it (:class:`channels.base.JournalsEntries`).

    ``data`` is the channel's journal form (a tag, then what the message is made of), opened in the worker;
    ``content`` is :func:`content_of` the message it opens into. Plain, as nothing here is validated yet:
    the message is, when it is built."""

    channel: str
    account: str
    external_id: str
    data: bytes
    content: str
