"""Channel protocols and the helpers every channel family needs.

A boundary is one or two methods over plain values: a webhook channel parses a
:class:`RawRequest` into an :class:`~channels.message.Intake`; a poller calls
``accept`` and acknowledges only once it returns (the message is durable);
a receipt sender turns an :class:`OutboundReceipt` into a provider id.

Abilities only some channels have are small protocols of their own (:class:`OwnBodyLimit`,
:class:`Listener`, :class:`SetsAside`, :class:`SaysHeavy`, :class:`Closable`): the gateway asks
``isinstance(obj, Listener)``, never ``getattr(obj, "started", None)``.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from channels.message import Attachment, InboundMessage, Intake, JournalEntry, Rejected

# re-exported: the channels' signature checks take them from here with the rest
from channels.signing import hmac_sha256_hex as hmac_sha256_hex
from channels.signing import same_secret as same_secret


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
    # receipt | reply | update: an update tells the citizen what the agency answered or did; its reply_context
    # also holds update_id, update_kind, status, tracking_id and the original receipt's id and provider id
    kind: str = "receipt"


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
    """Content-addressed attachment storage (``gateway.store.blobs.BlobStore``)."""

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
    """Optional: verify tokens/peers at start-up (and again while failing); return one line.

    Raise :class:`~channels.message.Refused` when the peer rejects the credentials for good (the
    channel is switched off), any other ChannelError when it fails for now (kept on, checked again).
    """

    async def check(self) -> str: ...


@runtime_checkable
class OwnBodyLimit(Protocol):
    """Optional, for a webhook whose bodies are not texts (a scanned letter): its own cap in bytes,
    instead of ``http.max_body_bytes``."""

    max_body_bytes: int


@runtime_checkable
class JournalsEntries(Protocol):
    """Optional, for a webhook whose call is one message that a few fields make (Kannel's get-url): the
    acknowledging path journals ``entry(raw)`` and answers 200 with an empty body, and the message is built
    in the worker (:func:`channels.journal_forms.open_journaled`). ``entry`` checks all that ``parse`` does
    and raises the same :class:`Rejected`; ``parse`` stays, as ``entry`` and the opening in a row.

    A pydantic message and its JSON were a tenth of the acknowledging path's CPU."""

    def entry(self, raw: RawRequest) -> JournalEntry: ...


@runtime_checkable
class Listener(Protocol):
    """Optional, for a poller that listens on a socket (SMTP): ``started`` is set once it takes
    connections; the intake process opens HTTP (and so /healthz) only after every listener is up."""

    started: asyncio.Event


OnFailed = Callable[[str, str], Awaitable[None]]  # (where the input was put, reason without content)


@runtime_checkable
class SetsAside(Protocol):
    """Optional, for a poller that moves input it cannot read aside (IMAP → Failed, hot folder → failed/):
    the process that runs it sets ``on_failed`` to report each one to the intake log."""

    on_failed: OnFailed | None


@runtime_checkable
class SaysHeavy(Protocol):
    """Optional, for a completer: whether one message's deferred work may take long (OCR, PDFs, large
    mail). Must be cheap (no parse). A completer without it is taken to be heavy for every message."""

    def is_heavy(self, msg: InboundMessage) -> bool: ...


@runtime_checkable
class Closable(Protocol):
    """Optional, for a receipt sender that holds connections: released when the worker stops."""

    async def close(self) -> None: ...


class CursorStore(Protocol):
    """Durable small state for pollers: IMAP UID, X since_id, Telegram offset."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


def require_signature(expected: str, given: str | None) -> None:
    """Constant-time signature check; raises 403 without saying which part was wrong."""
    if not given or not same_secret(expected, given.strip()):
        raise Rejected(403, "bad or missing signature")


_UNIX = re.compile(r"[0-9]{1,12}(\.[0-9]{0,9})?")


def from_unix(value: object) -> datetime | None:
    """A peer's Unix timestamp (int, float or decimal string) as a UTC datetime; None when absent or out of range.

    Callers fall back to the receive time: a wrong clock on the peer's side
    is no reason to refuse the message.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not _UNIX.fullmatch(value):
            return None
        value = float(value) if "." in value else int(value)
    if not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):  # 1e20, nan, years past 9999
        return None


def entry_bytes(entry: object) -> bytes:
    """The JSON bytes of one entry of a batch, for keeping it as it came."""
    try:
        return json.dumps(entry, ensure_ascii=True, sort_keys=True, default=repr).encode()
    except (TypeError, ValueError, RecursionError):  # mixed-type keys, a cycle: keep what can be said
        return repr(entry).encode("utf-8", "backslashreplace")


def malformed(channel: str, account: str, entry: object, reason: str) -> InboundMessage:
    """One entry of a batch that could not be read, kept for an operator instead of refusing the batch.

    ``reason`` must say where, never what (no content, no identity). The
    external id is the entry's digest, so a redelivered batch keeps it once.
    """
    raw = entry_bytes(entry)
    return InboundMessage(channel=channel, account=account, external_id="malformed:" + hashlib.sha256(raw).hexdigest(),
                          kind="malformed", metadata={"reason": reason}, raw=raw)


def failure_reason(where: str, exc: BaseException) -> str:
    """A quarantine reason from an exception: our own Rejected reasons are safe, others by type only."""
    return f"{where}: {exc.reason}" if isinstance(exc, Rejected) else f"{where}: unreadable ({type(exc).__name__})"


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode message bytes by a peer-declared charset; 400 with a reason when they do not decode.

    ``UTF-16BE``/``UCS-2`` is what Kannel hands on for UCS-2 SMS; ``8-BIT`` is
    binary data, kept readable as UTF-8 when it is, byte-for-byte otherwise.
    A byte-order mark decides over the label: ``FF FE`` is UTF-16 little-endian,
    ``FE FF`` big-endian (both dropped), and a UTF-8 BOM is dropped.
    """
    declared = (charset or "UTF-8").strip().strip('"')
    cs = declared.lower()
    if cs == "8-bit":
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    if cs in ("utf-16be", "utf-16le", "utf-16", "ucs-2", "ucs2"):
        if len(data) % 2:
            raise Rejected(400, f"text is not valid {declared} (odd number of bytes)")
        if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            cs, data = ("utf-16-le" if data[:2] == codecs.BOM_UTF16_LE else "utf-16-be"), data[2:]
        elif cs != "utf-16le":
            cs = "utf-16-be"  # UCS-2 without a BOM is big-endian (3GPP TS 23.038)
    elif cs in ("utf-8", "utf8"):
        cs = "utf-8-sig"
    try:
        return data.decode(cs)
    except UnicodeError as exc:  # UnicodeDecodeError, and what idna/punycode raise
        raise Rejected(400, f"text is not valid {_label(declared)}") from exc
    except (LookupError, ValueError, TypeError) as exc:  # unknown, not a text codec, NUL in the name
        raise Rejected(400, f"unknown charset {_label(declared)!r}") from exc


_CHARSET_LABEL = re.compile(r"[A-Za-z0-9._:-]{1,40}")


def _label(declared: str) -> str:
    """The peer's charset name as it may appear in a reason: a short token, or nothing of it."""
    return declared if _CHARSET_LABEL.fullmatch(declared) else "(unreadable charset name)"
