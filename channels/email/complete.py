"""The deferred half of email intake: raw bytes (already journaled) → a filled InboundMessage.

SMTP and IMAP acknowledge as soon as the raw mail is durable
(:func:`raw_message`); the gateway's worker then calls
:meth:`MailCompleter.complete`, which parses MIME off the event loop, strips
quotes and signatures, reads privacy tags, links follow-ups and classifies
loops. It is idempotent: the same raw bytes give the same result, and an
already completed message is returned unchanged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any

from channels.base import BlobSink
from channels.email.addresses import parse_mailbox, valid_address
from channels.email.charsets import clean_text
from channels.email.heavy import HEAVY_BYTES, declares_extracted_part
from channels.email.loops import classify
from channels.email.mime import UNPARSED, Limits, ParsedMail, PdfReader, parse_mail, raw_header, scan_message_id
from channels.email.pdftext import pdf_text
from channels.email.quotes import strip_quotes
from channels.email.salvage import salvage
from channels.email.scans import MailScans, merge
from channels.email.thread_ids import references_chain, tracking_from_message_ids, tracking_from_subject
from channels.message import InboundMessage, PrivacyHint, Rejected
from channels.privacy_tags import read_privacy_keywords

log = logging.getLogger(__name__)

SENDER_NOT_FROM = "sender_not_from"  # metadata: the sender (Reply-To, the envelope) is not the From address
SUSPICIOUS_FROM = "suspicious_from"  # review reason: From/Reply-To hides another address or a header line

__all__ = ["MailCompleter", "raw_message", "read_privacy_tags"]

# A subject tag counts anywhere in it, in brackets only ("Re: [ANONIM] Pungli"): a mail client puts its "Re:"
# first, and a bare word in a subject is the subject. The body's tags are the citizen's text's own grammar.
_SUBJECT_TAG = re.compile(r"\[\s*(ANONIM|RAHASIA)\s*\]", re.IGNORECASE)


INLINE_MAX = 1024 * 1024  # larger mails go to the blob store


def raw_message(
    channel: str, account: str, raw: bytes, blobs: BlobSink, sender: str | None = None, **metadata: object
) -> InboundMessage:
    """The cheap, parse-free message journaled before the ack.

    A mail up to ``INLINE_MAX`` travels inside the journaled message (sealed and
    made durable by the journal's group commit); a bigger one is stored as a
    blob first and referenced by hash. ``external_id`` is the Message-ID (cheap
    header scan), else ``sha256:<hex of the bytes>``.
    """
    mid = scan_message_id(raw)
    if len(raw) <= INLINE_MAX:
        digest = hashlib.sha256(raw).hexdigest()
        inline, extra = raw, {}
    else:
        blob = blobs.put(raw, "message/rfc822")
        digest, inline, extra = blob.sha256, None, {"raw_sha256": blob.sha256}
    return InboundMessage(
        channel=channel,
        account=account,
        external_id=mid or f"sha256:{digest}",
        sender=sender,
        raw=inline,
        metadata={**extra, "raw_size": len(raw), **metadata},
    )


def read_privacy_tags(subject: str, body: str) -> tuple[str, str, PrivacyHint | None]:
    """Subject and body without ``[ANONIM]``/``[RAHASIA]`` tags, and the flags they set (the body's read by
    :func:`channels.privacy_tags.read_privacy_keywords`, as the normaliser reads every text)."""
    tags = {t.upper() for t in _SUBJECT_TAG.findall(subject)}
    # read here, not left to the normaliser, because a scanned letter's text goes before the mail's own words
    in_body = read_privacy_keywords(body)
    if in_body.anonymous or in_body.confidential:
        body = in_body.remaining_text
    anonymous, confidential = "ANONIM" in tags or in_body.anonymous, "RAHASIA" in tags or in_body.confidential
    subject = " ".join(_SUBJECT_TAG.sub(" ", subject).split())
    if not (anonymous or confidential):
        return subject, body, None
    return subject, body, PrivacyHint(anonymous=anonymous, confidential=confidential, source="keyword")


class MailCompleter:
    """Fills SMTP/IMAP messages from their raw bytes; shared by both email channels."""

    name = "email"

    def __init__(self, blobs: BlobSink, limits: Limits | None = None, scans: MailScans | None = None) -> None:
        self.blobs = blobs
        self.limits = limits or Limits()
        self.scans = scans  # reads faxes and scanned attachments as letters (none: attachments only kept)
        self.pdf_reader: PdfReader = pdf_text  # module level: it runs in an isolated child

    def is_heavy(self, msg: InboundMessage) -> bool:
        """Whether completing ``msg`` may take long (big, or a PDF/image part): the worker runs it in its slow lane.

        Cheap: a size check and a bounded byte scan of Content-Type/Disposition lines, no MIME parse.
        """
        if msg.metadata.get("parsed"):
            return False
        if msg.raw is None:
            return "raw_sha256" in msg.metadata
        return len(msg.raw) > HEAVY_BYTES or declares_extracted_part(msg.raw)

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        if msg.metadata.get("parsed"):
            return msg
        if msg.raw is not None:
            raw = msg.raw
        elif "raw_sha256" in msg.metadata:
            try:
                raw = await asyncio.to_thread(self.blobs.get, msg.metadata["raw_sha256"])
            except (OSError, ValueError):
                return msg.model_copy(update={"review_reasons": [*msg.review_reasons, "raw mail missing from blob store"]})
        else:
            return msg
        return await asyncio.to_thread(self.fill, msg, raw)

    def fill(self, msg: InboundMessage, raw: bytes) -> InboundMessage:
        """Synchronous core of :meth:`complete` (CPU-bound; run in a thread).

        Never raises but :class:`Rejected`: whatever goes wrong in the full
        completion, the mail is still taken from its best-effort text
        (review reason ``mime_unparsed``).
        """
        try:
            return self._fill(msg, raw)
        except Rejected:
            raise
        except Exception as exc:
            log.warning("mail completion failed (%s); keeping its best-effort text", type(exc).__name__)
        try:
            return self._fallback(msg, raw)
        except Exception as exc:
            log.error("mail could not be read at all (%s)", type(exc).__name__)
            raise Rejected(422, "mail could not be read") from exc

    def _fill(self, msg: InboundMessage, raw: bytes) -> InboundMessage:
        p = parse_mail(raw, self.blobs, self.limits, self.pdf_reader)
        null_sender = bool(msg.metadata.get("null_sender")) or _empty_return_path(p)
        envelope = _envelope(msg, p, null_sender)
        subject, body_raw, privacy = read_privacy_tags(p.subject, p.text)
        verdict = classify(p.message, raw, p.from_addr or envelope, null_sender, subject)
        body = strip_quotes(body_raw) if verdict.kind == "complaint" else body_raw.strip()
        if p.appendix:
            body = "\n\n".join([body, *p.appendix]).strip()
        review = list(msg.review_reasons)
        review += [n for n in p.notes if n not in review]
        suppress = verdict.suppress
        if p.suspicious_sender:
            # never an address out of a display name: the envelope sender, or no receipt at all
            sender = None if null_sender else envelope
            suppress = suppress or (None if sender else "suspicious_sender")
            review += [SUSPICIOUS_FROM] if SUSPICIOUS_FROM not in review else []
            from_name = None
        else:
            reply_to = p.reply_to if verdict.suppress != "mailing_list" else None
            sender = reply_to or p.from_addr or envelope or None
            from_name = p.from_name
        thread = tracking_from_message_ids(p.in_reply_to, p.references)
        follow_up = thread or tracking_from_subject(subject)
        # a reply in a thread: to our receipt or an update (our Message-ID names the ticket), or to the
        # citizen's own earlier mail (its Message-ID, found again by the router)
        answered = thread or answered_message_id(p.in_reply_to, p.references)
        kind = "reply" if verdict.kind == "complaint" and answered else verdict.kind
        metadata = dict(msg.metadata, parsed=True)
        if sender and sender != p.from_addr:
            # the answers go to Reply-To (or the envelope sender when From is unusable), but nothing vouches
            # that it wrote (DMARC checks From only): such a mail does not answer for a reporter
            metadata[SENDER_NOT_FROM] = True
        if p.html_only:
            metadata["html"] = True
        if verdict.message_id:  # which of our mails bounced or was auto-answered: its receipt row is marked
            metadata["about_message_id"] = verdict.message_id
        if verdict.kind == "complaint" and not body and not p.attachments:
            review.append("empty mail")
        reply_context = {
            "message_id": p.message_id,
            "references": references_chain(p.references, p.message_id),
            "subject": subject,
        }
        update = {
            "sender": sender,
            "subject": subject or None,
            "text": body,
            "attachments": p.attachments,
            "reporter": msg.reporter.model_copy(update=_clean({"name": from_name, "email": sender})),
            "privacy": privacy,
            "follow_up_hint": follow_up if verdict.kind == "complaint" else None,
            "reply_context": reply_context,
            "metadata": metadata,
            "kind": kind,
            "related": answered if kind == "reply" else verdict.related if kind in ("bounce", "auto_reply") else None,
            "suppress_receipt": suppress,
            "review_reasons": review,
            "raw": None,  # parsed: the wire bytes are not needed any more
        }
        if self.scans is not None and verdict.kind == "complaint":
            own = strip_quotes(body_raw)
            scanned = self.scans.read(own_text=own, subject=subject, addresses=[p.from_addr, envelope, p.reply_to],
                                      files=p.scans, received_at=msg.received_at)  # fmt: skip
            if scanned is not None:
                update = merge(update, msg, scanned, self.scans.fax)
        return msg.model_copy(update=_clean(update))

    def _fallback(self, msg: InboundMessage, raw: bytes) -> InboundMessage:
        """The last resort: text by a flat scan, no threading, no loop detection, no receipt."""
        found = salvage(raw, self.limits.max_text_chars)
        review = [*msg.review_reasons, *(n for n in (UNPARSED, "mail completion failed") if n not in msg.review_reasons)]
        return msg.model_copy(
            update=_clean(
                {
                    "sender": valid_address(msg.sender),
                    "text": found.text,
                    "metadata": dict(msg.metadata, parsed=True),
                    "kind": "complaint",
                    "suppress_receipt": "unparsed",  # not known not to be a bounce or an auto-reply
                    "review_reasons": review,
                    "raw": None,
                }
            )
        )


def answered_message_id(in_reply_to: str | None, references: str | None) -> str | None:
    """The Message-ID a mail answers, bare as the journal keeps it (In-Reply-To, else the last reference)."""
    for value, pick in ((in_reply_to, 0), (references, -1)):
        ids = re.findall(r"<([^<>\s]{1,500})>", value or "")
        if ids:
            return ids[pick]
    return None


def _clean(value: Any) -> Any:
    """Every string in ``value`` safe to serialise (lone surrogates and controls replaced); structure kept."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _envelope(msg: InboundMessage, p: ParsedMail, null_sender: bool) -> str | None:
    """The envelope sender, strictly valid: SMTP's MAIL FROM, or for IMAP the Return-Path its MTA wrote."""
    if msg.sender is not None or null_sender:
        return valid_address(msg.sender)
    return parse_mailbox(raw_header(p.message, "return-path")).address


def _empty_return_path(p: ParsedMail) -> bool:
    value = p.message.get("return-path")
    return value is not None and str(value).strip() in ("<>", "")
