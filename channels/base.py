"""Channel protocols and the helpers every channel family needs.

A boundary is one or two methods over plain values: a webhook channel parses a
:class:`RawRequest` into an :class:`~channels.message.Intake`; a poller calls
``accept`` and acknowledges only once it returns (the message is durable);
a receipt sender turns an :class:`OutboundReceipt` into a provider id.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from channels.message import Attachment, InboundMessage, Intake, Rejected


@dataclass(frozen=True)
class RawRequest:
    """An HTTP request as the web layer received it, with the body already size-checked."""

    method: str
    path: str
    query: bytes  # raw query string, still percent-encoded
    headers: Mapping[str, str]
    body: bytes
    remote: str | None = None
    scheme: str = "http"
    host: str = ""

    @property
    def url(self) -> str:
        """The full URL the peer called (signature schemes sign it); built only when asked."""
        query = self.query.decode("latin-1")
        return f"{self.scheme}://{self.host}{self.path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class AcceptResult:
    message_id: str
    duplicate: bool


Accept = Callable[[InboundMessage], Awaitable[AcceptResult]]


@dataclass
class OutboundReceipt:
    """A reply to send back on the origin channel."""

    channel: str
    account: str
    to: str
    text: str
    subject: str | None = None
    html: str | None = None
    reply_context: dict[str, Any] = field(default_factory=dict)
    public: bool = False  # a reply everyone can read (X mention)


@runtime_checkable
class WebhookChannel(Protocol):
    name: str  # "sms.kannel": route label, log label, fixture folder
    path: str  # "/channels/sms/kannel"
    methods: tuple[str, ...]

    def parse(self, raw: RawRequest) -> Intake: ...


@runtime_checkable
class ReceiptSender(Protocol):
    """Sends receipts for every channel whose name starts with ``family``."""

    family: str

    async def send(self, receipt: OutboundReceipt) -> str: ...


@runtime_checkable
class Poller(Protocol):
    """A channel that fetches on its own (IMAP, X, Telegram polling, hot folder)."""

    name: str

    async def run(self, accept: Accept) -> None: ...


class BlobSink(Protocol):
    """Content-addressed attachment storage (``gateway.blobs.BlobStore``)."""

    def put(self, data: bytes, media_type: str, filename: str | None = None) -> Attachment: ...

    def get(self, sha256: str) -> bytes: ...


@runtime_checkable
class Completer(Protocol):
    """Optional: work a channel defers until after the acknowledgement.

    SMTP acknowledges the raw bytes and parses MIME later; Telegram downloads
    photos later. The gateway's worker calls ``complete`` on a journaled
    message before normalising it; it may be retried, so it must be idempotent.
    """

    name: str

    async def complete(self, msg: InboundMessage) -> InboundMessage: ...


@runtime_checkable
class StartupCheck(Protocol):
    """Optional: verify tokens/peers at start-up; return one line, raise ChannelError when unusable."""

    async def check(self) -> str: ...


class CursorStore(Protocol):
    """Durable small state for pollers: IMAP UID, X since_id, Telegram offset."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


def retry_delay(base: float, failures: int, cap: float) -> float:
    """A poller's wait after ``failures`` failures in a row: doubling from ``base`` up to ``cap``, ±20 % jitter."""
    return min(cap, base * 2 ** min(max(failures - 1, 0), 16)) * random.uniform(0.8, 1.2)


def hmac_sha256_hex(key: bytes | str, data: bytes) -> str:
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def require_signature(expected: str, given: str | None) -> None:
    """Constant-time signature check; raises 403 without saying which part was wrong."""
    if not given or not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise Rejected(403, "bad or missing signature")


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode message bytes by a peer-declared charset; 400 with a reason when they do not decode.

    ``UTF-16BE``/``UCS-2`` is what Kannel hands on for UCS-2 SMS; ``8-BIT`` is
    binary data, kept readable as UTF-8 when it is, byte-for-byte otherwise.
    """
    declared = (charset or "UTF-8").strip().strip('"')
    cs = declared.lower()
    if cs == "8-bit":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    if cs in ("utf-16be", "utf-16", "ucs-2", "ucs2"):
        if len(data) % 2:
            raise Rejected(400, f"text is not valid {declared} (odd number of bytes)")
        cs = "utf-16-be"
    try:
        return data.decode(cs)
    except LookupError as exc:
        raise Rejected(400, f"unknown charset {declared!r}") from exc
    except UnicodeDecodeError as exc:
        raise Rejected(400, f"text is not valid {declared}") from exc
