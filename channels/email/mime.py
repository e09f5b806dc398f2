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
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message

from channels.base import BlobSink
from channels.email.addresses import Mailbox, parse_mailbox
from channels.email.charsets import clean_line, clean_text, decode_bytes, decode_header_value
from channels.email.htmltext import html_to_text
from channels.email.pdftext import pdf_text
from channels.email.salvage import salvage, too_deep
from channels.email.scans import ScanFile, scan_file
from channels.isolate import IsolationFailed, JobLimits, run_isolated
from channels.message import Attachment, Rejected

__all__ = ["Limits", "ParsedMail", "PdfReader", "parse_detached", "parse_mail", "scan_message_id"]

PdfReader = Callable[[bytes, int], "tuple[str, str | None]"]
UNPARSED = "mime_unparsed"  # review reason: the text was read without a MIME parse
UNREADABLE = "attachment_unreadable"  # review reason: an attachment's text could not be read

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
    max_mime_depth: int = 50  # multipart nesting; checked before the stdlib parser recurses
    isolate_over_bytes: int = 1024 * 1024  # bigger mails are parsed in an isolated child process
    parse_seconds: float = 60.0
    parse_cpu_seconds: int = 60
    pdf_seconds: float = 30.0
    pdf_cpu_seconds: int = 30


@dataclass
class Pending:
    """An attachment found by the parse, stored by the parent (the parse may run in another process)."""

    data: bytes
    media_type: str
    filename: str | None
    pdf: bool
    slot: int | None = None  # index in ``appendix`` its PDF text goes to


@dataclass
class ParsedMail:
    message: Message
    subject: str = ""
    text: str = ""  # body as written, quotes not yet stripped
    from_addr: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    suspicious_sender: bool = False  # From/Reply-To/Sender hides something: do not answer it
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    appendix: list[str] = field(default_factory=list)  # PDF and forwarded text, added after the body
    notes: list[str] = field(default_factory=list)  # problems, safe to log (no content)
    html_only: bool = False
    pending: list[Pending] = field(default_factory=list)
    scans: list[ScanFile] = field(default_factory=list)  # stored attachments that may be page scans (scans.py)


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
    return clean_line(token)[:500] or None


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


def raw_header(msg: Message, name: str) -> str | None:
    """A header's value as it came (folded, RFC 2047 words undecoded; 8-bit bytes read as UTF-8)."""
    lname = name.lower()
    raw = next((v for k, v in msg.raw_items() if k.lower() == lname), None)
    if raw is None:
        return None
    value = str(raw)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"), "utf-8")
    return value


def id_header(msg: Message, name: str, limit: int = 4000) -> str | None:
    """Message-ID, In-Reply-To, References: structured, never RFC 2047-decoded, one clean line."""
    value = raw_header(msg, name)
    return clean_line(value)[:limit] or None if value is not None else None


def _sender_fields(msg: Message, out: ParsedMail) -> None:
    """From and Reply-To parsed strictly (:mod:`channels.email.addresses`)."""
    boxes: dict[str, Mailbox] = {}
    for name in ("from", "reply-to", "sender"):
        try:
            boxes[name] = parse_mailbox(raw_header(msg, name))
        except Exception:
            boxes[name] = Mailbox(suspicious=True)
    out.from_name, out.from_addr = boxes["from"].name, boxes["from"].address
    out.reply_to = boxes["reply-to"].address
    out.suspicious_sender = any(b.suspicious for b in boxes.values())


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    text = decode_bytes(payload, part.get_content_charset())
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text.replace("\r\n", "\n")


class _Walker:
    def __init__(self, limits: Limits, out: ParsedMail) -> None:
        self.limits, self.out = limits, out
        self.parts = 0
        self.broken = False  # a multipart whose parts could not be found

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
                self.broken = True
                return ""
            if ctype == "message/rfc822":
                return self.forwarded(subparts[0] if subparts else None, depth)
            if ctype == "multipart/alternative":
                return self.alternative(subparts, depth)
            texts = [self.body(p, depth) for p in subparts]
            return "\n\n".join(t for t in texts if t.strip())
        if ctype.startswith(("multipart/", "message/rfc822")):
            self.broken = True  # declared a container, but compat32 found no parts in it
            return ""
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
        if len(self.out.pending) >= self.limits.max_attachments:
            self.out.notes.append(f"attachment skipped: more than {self.limits.max_attachments} attachments")
            return
        if len(data) > self.limits.max_attachment_bytes:
            self.out.notes.append(f"attachment skipped: larger than {self.limits.max_attachment_bytes} bytes")
            return
        pdf = media_type == "application/pdf" or (filename or "").lower().endswith(".pdf")
        pending = Pending(data, media_type, filename, pdf)
        if pdf:  # its text goes here, in reading order, once the parent has read it
            pending.slot = len(self.out.appendix)
            self.out.appendix.append("")
        self.out.pending.append(pending)


def _headers_only(msg: Message) -> Message:
    """What the rest of the completion reads of the parsed mail: its top-level headers (small to pickle)."""
    head = Message()
    for name, value in msg.raw_items():
        head[name] = value
    return head


def _read_headers(msg: Message, out: ParsedMail) -> None:
    out.subject = header(msg, "subject")
    _sender_fields(msg, out)
    out.message_id = id_header(msg, "message-id", 1000)
    out.in_reply_to = id_header(msg, "in-reply-to", 1000)
    out.references = id_header(msg, "references")


def _salvaged(raw: bytes, limits: Limits, why: str) -> ParsedMail:
    """The mail read without a MIME parse: headers and text-looking parts (:mod:`channels.email.salvage`)."""
    found = salvage(raw, limits.max_text_chars)
    out = ParsedMail(message=found.headers, notes=[UNPARSED, why])
    _read_headers(found.headers, out)
    out.text = found.text
    return out


def parse_detached(raw: bytes, limits: Limits) -> ParsedMail:
    """Parse a whole mail without touching storage (it may run in an isolated child); never raises on content.

    Attachments come back as :class:`Pending` bytes; ``message`` holds only the headers.
    Nesting deeper than ``limits.max_mime_depth``, a parser exception or a broken
    structure give the best-effort text of :func:`channels.email.salvage.salvage`
    with the review reason ``mime_unparsed``.
    """
    if too_deep(raw, limits.max_mime_depth):
        return _salvaged(raw, limits, f"MIME nested deeper than {limits.max_mime_depth} levels")
    try:
        msg = message_from_bytes(raw, policy=policy.compat32)
        out = ParsedMail(message=msg)
        if msg.defects:
            out.notes.append("malformed MIME: " + ", ".join(sorted({type(d).__name__ for d in msg.defects}))[:200])
        _read_headers(msg, out)
        walker = _Walker(limits, out)
        text = walker.body(msg, 0)
    except Exception as exc:  # the stdlib can still trip on pathological input
        return _salvaged(raw, limits, f"MIME could not be parsed ({type(exc).__name__})")
    if walker.broken:
        found = salvage(raw, limits.max_text_chars).text
        if len(found) > len(text.strip()):
            out.notes += [UNPARSED, "MIME structure broken; text read without it"]
            text = found
    text = clean_text(text)
    if len(text) > limits.max_text_chars:
        out.notes.append(f"text cut at {limits.max_text_chars} characters")
        text = text[: limits.max_text_chars]
    out.text = text.strip()
    out.appendix = [clean_text(a) for a in out.appendix]
    out.message = _headers_only(msg)
    return out


def parse_mail(
    raw: bytes, blobs: BlobSink, limits: Limits | None = None, pdf_reader: PdfReader = pdf_text
) -> ParsedMail:
    """Parse a whole mail, store its attachments and read its PDFs; never raises on bad content.

    A mail over ``limits.isolate_over_bytes`` is parsed in an isolated child
    (:func:`channels.isolate.run_isolated`); each PDF's text is always read in
    one, so a hostile PDF costs its own text (``attachment_unreadable``), never the mail.
    """
    limits = limits or Limits()
    if len(raw) > limits.isolate_over_bytes:
        try:
            out = run_isolated(
                parse_detached, raw, limits, limits=JobLimits(limits.parse_seconds, limits.parse_cpu_seconds)
            )
        except IsolationFailed as exc:
            out = _salvaged(raw, limits, f"MIME parse {exc.reason}")
        except Exception as exc:  # a Rejected from the job, or the pool itself in trouble
            out = _salvaged(raw, limits, f"MIME parse failed ({type(exc).__name__})")
    else:
        out = parse_detached(raw, limits)
    _store(out, blobs, limits, pdf_reader)
    return out


def _store(out: ParsedMail, blobs: BlobSink, limits: Limits, pdf_reader: PdfReader) -> None:
    for p in out.pending:
        try:
            out.attachments.append(blobs.put(p.data, p.media_type, p.filename))
        except Rejected as exc:
            out.notes.append(f"attachment skipped: {exc.reason}")
            continue
        text = None
        if p.pdf and p.slot is not None:
            text = out.appendix[p.slot] = _pdf_appendix(p, limits, pdf_reader, out.notes)
        if (scan := scan_file(out.attachments[-1], p.data, text)) is not None:
            out.scans.append(scan)
    out.pending = []
    out.appendix = [a for a in out.appendix if a]


def _pdf_appendix(p: Pending, limits: Limits, pdf_reader: PdfReader, notes: list[str]) -> str:
    job = JobLimits(limits.pdf_seconds, limits.pdf_cpu_seconds)
    try:
        text, problem = run_isolated(pdf_reader, p.data, limits.pdf_max_pages, limits=job)
    except Rejected as exc:  # IsolationFailed included: over a limit, or crashed
        notes += [n for n in (UNREADABLE, f"PDF attachment {exc.reason}") if n not in notes]
        return ""
    except Exception as exc:  # the pool itself in trouble: the PDF's text is lost, not the mail
        notes += [n for n in (UNREADABLE, f"PDF attachment not read ({type(exc).__name__})") if n not in notes]
        return ""
    if problem == "unreadable PDF":
        notes += [n for n in (UNREADABLE,) if n not in notes]
    elif problem:
        notes.append(f"attachment {problem}")
    text = clean_text(text or "").strip()
    return f"[Lampiran PDF: {p.filename or 'dokumen.pdf'}]\n{text}" if text else ""
