"""Kannel smsbox get-url/post-url webhook (MO) and its delivery reports.

Kannel's get-url is set to pass ``from to text ts unixtime id smsc coding
charset udh`` in the query; ``text`` is url-encoded *bytes* in ``charset``
(UTF-16BE for UCS-2). With ``post-url`` the text is the body and the charset is
in Content-Type. The reply body is always empty: receipts go out via sendsms.

On the acknowledging path the webhook does not build the message: :meth:`KannelChannel.entry` checks the
call and reads its ids and text, and the journal keeps the fields the message is made of
(:data:`JOURNAL_FORM`); the worker makes the message from them with :func:`message_from_form`. ``parse``
is the two in a row, so whatever reads the call reads the message the worker will see.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime
from urllib.parse import unquote_to_bytes

from channels.base import RawRequest, decode_text, from_unix
from channels.message import InboundMessage, Intake, JournalEntry, Rejected, content_of, safe_text
from channels.packed import pack, unpack

DLR_STATUS = {"1": "delivered", "2": "failed", "4": "buffered", "8": "accepted", "16": "rejected"}


def query_bytes(raw: RawRequest) -> dict[str, bytes]:
    """Query parameters as raw bytes, first value wins (what ``parse_qs`` gives, at a third of the cost).

    ``+`` is a space wherever it stands, so it is replaced in the whole query at once; percent-escapes
    are decoded per key and value (after the split: ``%26`` is an ``&`` of the value), and only when the
    query has one: Kannel's get-url often has none, and two calls per parameter were half of the parse.
    """
    query = raw.query.replace(b"+", b" ")
    escaped = b"%" in query
    out: dict[str, bytes] = {}
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        if escaped:
            key, value = unquote_to_bytes(key), unquote_to_bytes(value)
        name = key.decode("latin-1")
        if name and name not in out:
            out[name] = value
    return out


def _param(params: dict[str, bytes], name: str) -> str | None:
    return _text_param(params.get(name))


def _text_param(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


def _charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip().strip('"')
    return None


def _received_at(unixtime: str | None, ts: str | None, received: datetime) -> datetime:
    """Kannel's ``unixtime`` (or ``ts``) when it is a real time; ``received`` (ours) otherwise, never an error."""
    if (when := from_unix(unixtime)) is not None:
        return when
    if ts and len(ts) <= 40:
        try:
            return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            pass
    return received


LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(sources: list[str]) -> tuple[Network, ...]:
    """``allowed_sources`` entries: addresses or CIDR networks (a typo fails at start-up, not per request)."""
    return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in sources)


def _address(remote: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return mapped or addr


class KannelAuth:
    """Optional shared secret (``?secret=``) and allowed peer addresses for Kannel's calls.

    Without a secret, an unauthenticated webhook is only for the Kannel on this
    host: callers must be loopback unless ``allowed_sources`` names others.
    """

    def __init__(self, shared_secret: str | None, allowed_sources: list[str]) -> None:
        self.secret = shared_secret
        self.allowed = _networks(allowed_sources) or (() if shared_secret else LOOPBACK)
        self._seen: dict[str | None, bool] = {}  # remote → allowed; ipaddress costs ~10 µs a call

    def source_allowed(self, remote: str | None) -> bool:
        if (known := self._seen.get(remote)) is not None:
            return known
        addr = _address(remote)
        ok = addr is not None and any(addr in net for net in self.allowed)
        if len(self._seen) >= 1024:  # a scan from many addresses: forget, never grow
            self._seen.clear()
        self._seen[remote] = ok
        return ok

    def check(self, raw: RawRequest, params: dict[str, bytes]) -> None:
        if self.allowed and not self.source_allowed(raw.remote):
            raise Rejected(403, "source address not allowed")
        if self.secret:
            given = params.get("secret", b"")
            if not hmac.compare_digest(given, self.secret.encode()):
                raise Rejected(403, "bad or missing secret")


class KannelChannel:
    name = "sms.kannel"
    path = "/channels/sms/kannel"
    methods = ("GET", "POST")

    def __init__(self, auth: KannelAuth, id_key: bytes | str | None = None) -> None:
        self.auth = auth
        self.id_key = id_key.encode() if isinstance(id_key, str) else id_key

    def fallback_id(self, sender: str, receiver: str, ts: bytes, data: bytes) -> str:
        """The external id of a message Kannel gave no id: stable across restarts (idempotency).

        Keyed with the gateway's secret when there is one, so it cannot be
        brute-forced back to the sender's number; the plain digest otherwise.
        """
        parts = b"\0".join([sender.encode("utf-8", "surrogatepass"), receiver.encode("utf-8", "surrogatepass"), ts, data])
        if self.id_key:
            return "hmac:" + hmac.new(self.id_key, parts, hashlib.sha256).hexdigest()
        return "sha256:" + hashlib.sha256(parts).hexdigest()

    def entry(self, raw: RawRequest) -> JournalEntry:
        """The call checked and read as far as the acknowledgement needs: who may call, the fields a message
        cannot go without, its text decoded (a 400 now, not in the worker) and its ids; ``data`` is
        :data:`JOURNAL_FORM`, what :func:`message_from_form` makes the message of."""
        params = query_bytes(raw)
        self.auth.check(raw, params)
        sender = _param(params, "from") or raw.headers.get("X-Kannel-From")
        if not sender:
            raise Rejected(400, "missing parameter: from")
        receiver = _param(params, "to") or raw.headers.get("X-Kannel-To")
        if not receiver:
            raise Rejected(400, "missing parameter: to")
        if raw.method == "POST" and "text" not in params:
            data, charset = raw.body, _charset_of(raw.headers.get("Content-Type"))
        elif "text" in params:
            data, charset = params["text"], _param(params, "charset")
        else:
            raise Rejected(400, "missing parameter: text")
        coding = _param(params, "coding") or raw.headers.get("X-Kannel-Coding") or "0"
        if coding == "2" and not charset:
            charset = "UTF-16BE"
        text = decode_text(data, charset)
        ext = _param(params, "id") or _param(params, "foreign_id")
        if not ext:
            ext = self.fallback_id(sender, receiver, params.get("ts", b""), data)
        form = pack([_utf8(sender), _utf8(receiver), _utf8(ext), data, _utf8(charset), _utf8(coding),
                     params.get("unixtime"), params.get("ts"), params.get("smsc")])
        # keyed as the message will be: its fields are made safe (NUL, lone surrogates) as it is built
        return JournalEntry(self.name, safe_text(receiver), safe_text(ext), JOURNAL_FORM + form,
                            content_of(safe_text(sender.lstrip("+")), None, safe_text(text)))

    def parse(self, raw: RawRequest) -> Intake:
        entry = self.entry(raw)
        return Intake(messages=[message_from_form(entry.data[len(JOURNAL_FORM):], datetime.now(UTC))])


JOURNAL_FORM = b"\0sms.kannel/1\0"  # never the start of a message's JSON ("{")
_FIELDS = 9


def _utf8(value: str | None) -> bytes | None:
    return None if value is None else value.encode("utf-8", "surrogatepass")


def _str(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "surrogatepass")


def message_from_form(form: bytes, received: datetime) -> InboundMessage:
    """The message of a journaled call (what follows :data:`JOURNAL_FORM`); ``received``: when we took it,
    its time when Kannel gave none. The text decoded as :meth:`KannelChannel.entry` decoded it."""
    sender, receiver, ext, data, charset, coding, unixtime, ts, smsc = unpack(form, _FIELDS)
    return InboundMessage(
        channel=KannelChannel.name,
        account=_str(receiver),
        external_id=_str(ext),
        sender=(_str(sender) or "").lstrip("+"),
        received_at=_received_at(_text_param(unixtime), _text_param(ts), received),
        text=decode_text(data or b"", _str(charset)),
        metadata={"smsc": _text_param(smsc), "coding": _str(coding)},
    )


class KannelDlrChannel:
    """Delivery reports for our receipts: ``dlr-url`` points here with ``receipt=<id>&status=%d``."""

    name = "sms.kannel.dlr"
    path = "/channels/sms/kannel/dlr"
    methods = ("GET",)

    def __init__(self, auth: KannelAuth) -> None:
        self.auth = auth

    def parse(self, raw: RawRequest) -> Intake:
        params = query_bytes(raw)
        self.auth.check(raw, params)
        receipt = _param(params, "receipt")
        status = _param(params, "status")
        if not receipt or not status:
            raise Rejected(400, "missing parameter: receipt or status")
        msg = InboundMessage(
            channel=self.name,
            account="dlr",
            external_id=f"{receipt}:{status}",
            kind="status",
            related=receipt,
            metadata={"status": DLR_STATUS.get(status, f"code {status}")},
        )
        return Intake(messages=[msg])
