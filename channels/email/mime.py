"""Raw RFC 5322 bytes → the parts of a complaint mail: headers, readable text, attachments.

Uses the stdlib parser with ``compat32`` (lenient and about twice as fast as
``policy.default``) and decodes every header and text part ourselves
(:mod:`channels.email.charsets`), so broken mail never raises: problems become
``notes`` (review reasons without any message content) and the rest is kept.

Body choice: in ``multipart/alternative`` the plain part wins unless it is
empty, then the HTML part is converted (:mod:`channels.email.htmltext`).
Other non-text parts become attachments, stored content-addressed through the
:class:`~channels.base.BlobSink`, within count and size limits. PDF text is
appended to the body; a forwarded ``message/rfc822`` contributes its text and
its attachments (nesting limited).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parseaddr

from channels.base import BlobSink
from channels.email.charsets import decode_bytes, decode_header_value
from channels.email.htmltext import html_to_text
from channels.email.pdftext import pdf_text
from channels.message import Attachment, Rejected

__all__ = ["Limits", "ParsedMail", "parse_mail", "scan_message_id"]

_SKIP_TYPES = {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"}
_MID_HEADER = re.compile(rb"^message-id:[ \t]*((?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Limits:
    max_attachments: int = 10
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 3  # nested message/rfc822
    max_text_chars: int = 100_000
    pdf_max_pages: int = 30


@dataclass
class ParsedMail:
    message: Message
    subject: str = ""
    text: str = ""  # body as written, quotes not yet stripped
    from_addr: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    appendix: list[str] = field(default_factory=list)  # PDF and forwarded text, added after the body
    notes: list[str] = field(default_factory=list)  # problems, safe to log (no content)
    html_only: bool = False


def scan_message_id(raw: bytes, head_bytes: int = 65536) -> str | None:
    """Message-ID from the header block by a cheap byte scan (the SMTP hot path must not parse MIME)."""
    head = raw[:head_bytes]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    m = _MID_HEADER.search(head[:end])
    if not m:
        return None
    value = b" ".join(m.group(1).split()).decode("latin-1")
    bracketed = re.search(r"<([^<>\s]+)>", value)
    token = bracketed.group(1) if bracketed else value.strip()
    return token[:500] or None


def header(msg: Message, name: str) -> str:
    """A header's decoded text ('' when absent or undecodable)."""
    # raw_items(): compat32 would turn raw 8-bit (SMTPUTF8) headers into Header objects full of U+FFFD
    lname = name.lower()
    raw = next((v for k, v in msg.raw_items() if k.lower() == lname), None)
    if raw is None:
        return ""
    value = str(raw)
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes in a header
        return decode_header_value(value.encode("ascii", "surrogateescape"))
    return decode_header_value(value)


def _first_address(value: str) -> tuple[str | None, str | None]:
    pairs = [(n, a) for n, a in getaddresses([value]) if "@" in a]
    if not pairs:
        name, addr = parseaddr(value)
        return (name or None, addr if "@" in addr else None)
    name, addr = pairs[0]
    return (name or None), addr.strip().strip("<>'\"").lower() or None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    text = decode_bytes(payload, part.get_content_charset())
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text.replace("\r\n", "\n")


class _Walker:
    def __init__(self, blobs: BlobSink, limits: Limits, out: ParsedMail) -> None:
        self.blobs, self.limits, self.out = blobs, limits, out
        self.parts = 0

    def body(self, part: Message, depth: int) -> str:
        """Readable text of ``part``; collects attachments on the way."""
        self.parts += 1
        if self.parts > self.limits.max_parts:
            if self.parts == self.limits.max_parts + 1:
                self.out.notes.append(f"more than {self.limits.max_parts} MIME parts; the rest ignored")
            return ""
        ctype = part.get_content_type()
        if part.is_multipart():
            subparts = part.get_payload()
            if not isinstance(subparts, list):
                return ""
            if ctype == "message/rfc822":
                return self.forwarded(subparts[0] if subparts else None, depth)
            if ctype == "multipart/alternative":
                return self.alternative(subparts, depth)
            texts = [self.body(p, depth) for p in subparts]
            return "\n\n".join(t for t in texts if t.strip())
        disposition = (part.get_content_disposition() or "").lower()
        if ctype in _SKIP_TYPES:
            return ""
        if ctype in ("text/plain", "text/html") and disposition != "attachment":
            if ctype == "text/html":
                self.out.html_only = True
            return _part_text(part)
        self.attachment(part)
        return ""

    def alternative(self, subparts: list[Message], depth: int) -> str:
        plain = [p for p in subparts if p.get_content_type() == "text/plain"]
        rich = [p for p in subparts if p.get_content_type() != "text/plain"]
        for p in plain:
            if (text := _part_text(p)).strip():
                self.parts += 1
                # photos pasted inline live only in the rich alternative (multipart/related): keep them
                html_only = self.out.html_only
                for r in rich:
                    if r.is_multipart():
                        self.body(r, depth)
                self.out.html_only = html_only
                return text
        # the richest alternative is last (RFC 2046 5.1.4); it may be multipart/related with images
        return self.body(rich[-1], depth) if rich else ""

    def forwarded(self, inner: Message | None, depth: int) -> str:
        if inner is None:
            return ""
        if depth >= self.limits.max_depth:
            self.out.notes.append("forwarded messages nested too deep; inner ones ignored")
            return ""
        subject = header(inner, "subject")
        text = self.body(inner, depth + 1).strip()
        if text:
            self.out.appendix.append(f"[Pesan diteruskan: {subject}]\n{text}" if subject else text)
        return ""

    def attachment(self, part: Message) -> None:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            return
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        filename = decode_header_value(filename) if filename else None
        media_type = part.get_content_type()
        if len(self.out.attachments) >= self.limits.max_attachments:
            self.out.notes.append(f"attachment skipped: more than {self.limits.max_attachments} attachments")
            return
        if len(data) > self.limits.max_attachment_bytes:
            self.out.notes.append(f"attachment skipped: larger than {self.limits.max_attachment_bytes} bytes")
            return
        try:
            self.out.attachments.append(self.blobs.put(data, media_type, filename))
        except Rejected as exc:
            self.out.notes.append(f"attachment skipped: {exc.reason}")
            return
        if media_type == "application/pdf" or (filename or "").lower().endswith(".pdf"):
            text, problem = pdf_text(data, self.limits.pdf_max_pages)
            if problem:
                self.out.notes.append(f"attachment {problem}")
            if text:
                self.out.appendix.append(f"[Lampiran PDF: {filename or 'dokumen.pdf'}]\n{text}")


def parse_mail(raw: bytes, blobs: BlobSink, limits: Limits | None = None) -> ParsedMail:
    """Parse a whole mail; never raises on bad content (problems land in ``notes``)."""
    limits = limits or Limits()
    msg = message_from_bytes(raw, policy=policy.compat32)
    out = ParsedMail(message=msg)
    if msg.defects:
        out.notes.append("malformed MIME: " + ", ".join(sorted({type(d).__name__ for d in msg.defects}))[:200])
    out.subject = header(msg, "subject")
    out.from_name, out.from_addr = _first_address(header(msg, "from"))
    _, out.reply_to = _first_address(header(msg, "reply-to"))
    mid = header(msg, "message-id").strip()
    out.message_id = mid or None
    out.in_reply_to = header(msg, "in-reply-to") or None
    out.references = header(msg, "references") or None
    try:
        text = _Walker(blobs, limits, out).body(msg, 0)
    except Exception as exc:  # the stdlib can still trip on pathological nesting
        out.notes.append(f"MIME body could not be read ({type(exc).__name__})")
        text = ""
    if len(text) > limits.max_text_chars:
        out.notes.append(f"text cut at {limits.max_text_chars} characters")
        text = text[: limits.max_text_chars]
    out.text = text.strip()
    return out
