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
import re

from channels.base import BlobSink
from channels.email.loops import classify
from channels.email.mime import Limits, ParsedMail, parse_mail, scan_message_id
from channels.email.quotes import strip_quotes
from channels.email.threading import references_chain, tracking_from_message_ids, tracking_from_subject
from channels.message import InboundMessage, PrivacyHint

__all__ = ["MailCompleter", "raw_message", "read_privacy_tags"]

_SUBJECT_TAG = re.compile(r"\[\s*(ANONIM|RAHASIA)\s*\]", re.IGNORECASE)
# at the start of the body: [ANONIM], [rahasia], or the bare upper-case words as on SMS
_BODY_TAGS = re.compile(r"\A(?:\s*(?:\[\s*(?:anonim|rahasia)\s*\]|(?-i:ANONIM|RAHASIA)\b)[\s,.:;-]*)+", re.IGNORECASE)


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
    """Subject and body without ``[ANONIM]``/``[RAHASIA]`` tags, and the flags they set."""
    tags = {t.upper() for t in _SUBJECT_TAG.findall(subject)}
    m = _BODY_TAGS.match(body)
    if m:
        tags |= {t.upper() for t in re.findall(r"anonim|rahasia", m.group(0), re.IGNORECASE)}
        body = body[m.end() :]
    subject = " ".join(_SUBJECT_TAG.sub(" ", subject).split())
    if not tags:
        return subject, body, None
    return subject, body, PrivacyHint(anonymous="ANONIM" in tags, confidential="RAHASIA" in tags, source="keyword")


class MailCompleter:
    """Fills SMTP/IMAP messages from their raw bytes; shared by both email channels."""

    name = "email"

    def __init__(self, blobs: BlobSink, limits: Limits | None = None) -> None:
        self.blobs = blobs
        self.limits = limits or Limits()

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
        """Synchronous core of :meth:`complete` (CPU-bound; run in a thread)."""
        p = parse_mail(raw, self.blobs, self.limits)
        envelope = msg.sender  # SMTP: MAIL FROM; IMAP: unknown until now
        null_sender = bool(msg.metadata.get("null_sender")) or _empty_return_path(p)
        subject, body_raw, privacy = read_privacy_tags(p.subject, p.text)
        verdict = classify(p.message, raw, p.from_addr or envelope, null_sender, subject)
        body = strip_quotes(body_raw) if verdict.kind == "complaint" else body_raw.strip()
        if p.appendix:
            body = "\n\n".join([body, *p.appendix]).strip()
        reply_to = p.reply_to if verdict.suppress != "mailing_list" else None
        sender = reply_to or p.from_addr or envelope or None
        follow_up = tracking_from_message_ids(p.in_reply_to, p.references) or tracking_from_subject(subject)
        metadata = dict(msg.metadata, parsed=True, kind=verdict.kind)
        if verdict.kind == "bounce":
            metadata["bounce_of"] = verdict.related
        elif verdict.kind == "auto_reply":
            metadata["auto_reply_of"] = verdict.related
        if p.html_only:
            metadata["html"] = True
        review = list(msg.review_reasons)
        review += [n for n in p.notes if n not in review]
        if verdict.kind == "complaint" and not body and not p.attachments:
            review.append("empty mail")
        reply_context = {
            "message_id": p.message_id,
            "references": references_chain(p.references, p.message_id),
            "subject": subject,
        }
        return msg.model_copy(
            update={
                "sender": sender,
                "subject": subject or None,
                "text": body,
                "attachments": p.attachments,
                "reporter": msg.reporter.model_copy(update={"name": p.from_name, "email": sender}),
                "privacy": privacy,
                "follow_up_hint": follow_up if verdict.kind == "complaint" else None,
                "reply_context": reply_context,
                "metadata": metadata,
                "suppress_receipt": verdict.suppress,
                "review_reasons": review,
                "raw": None,  # parsed: the wire bytes are not needed any more
            }
        )


def _empty_return_path(p: ParsedMail) -> bool:
    value = p.message.get("return-path")
    return value is not None and str(value).strip() in ("<>", "")
