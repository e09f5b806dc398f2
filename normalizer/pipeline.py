"""InboundMessage → Complaint: the one place the normaliser's pieces are put together.

Knows nothing about wires: channel-specific facts arrive as fields of the
InboundMessage (privacy hint, reporter fields, follow-up hint, OCR figures).

Body and subject are made :func:`~normalizer.fold.canonical` first (NFKC, no
hidden characters), so what is forwarded is what the detectors read. An
anonymous record carries nothing derived from the identity that could be
reversed or brute-forced: the channel's id (a WhatsApp wamid embeds the
number; Kannel's fallback id hashes phone and text) becomes an HMAC under the
gateway's key (:meth:`Normalizer.anonymous_external_id`), the reporter is
absent, file names are dropped, and body, subject and location text are
masked for personal data of any shape and for this reporter's own name,
handle, address and numbers (:mod:`normalizer.identity`), their closing
signature block dropped (:mod:`normalizer.signature`: "Salam, Budi S., Jl.
Melati 7"; the vault keeps the original body). ``body_public`` is masked that
way for every report, signature dropped too; a named report's ``body`` keeps
its signature, which the agency may use to reach them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from channels.message import InboundMessage, ReporterInfo
from channels.registry import spec_for
from normalizer.anonymity import asks_for_anonymity
from normalizer.category import suggest_categories
from normalizer.fold import canonical
from normalizer.identity import IdentityMasker, mask_self_named
from normalizer.keywords import extract_privacy_keywords
from normalizer.language import detect_language
from normalizer.pii import mask_pii, normalize_email, normalize_phone
from normalizer.record import CategorySuggestion, Complaint, Location, OcrInfo, Privacy
from normalizer.signature import strip_signature
from normalizer.similarity import near_duplicate
from normalizer.text import clean_text, collapse_duplicated_concatenation, is_substantive


class TextRead(NamedTuple):
    """A message's text as the normaliser reads it, once: cleaned, its leading privacy tags taken off."""

    body: str
    anonymous: bool
    confidential: bool


def read_text(raw: str) -> TextRead:
    """Clean ``raw`` (duplicated SMSC concatenation undone, canonical, :func:`clean_text`) and read the
    ``ANONIM``/``RAHASIA`` tags at its start. The router matches commands on ``body`` and hands this to
    :meth:`Normalizer.build`, so the tags are parsed once per message."""
    anonymous, confidential, body = extract_privacy_keywords(clean_text(canonical(collapse_duplicated_concatenation(raw))))
    return TextRead(body.strip(), anonymous, confidential)


@dataclass
class Normalized:
    complaint: Complaint
    identity: dict[str, Any]  # everything identifying, for the sealed vault only
    contact_masked: str  # what the intake log may show


def contact_key(msg: InboundMessage) -> str | None:
    """The normalised contact a reporter_ref is derived from; the same phone on SMS and WhatsApp matches."""
    return _contact_key(msg.channel, msg.sender, msg.reporter, member_of(msg))


def member_of(msg: InboundMessage) -> str | None:
    """Who wrote in a shared chat (a Telegram group's ``from.id``), when that is not the chat itself.

    Every member of a group writes from the same chat: the chat alone would let any of them answer
    for, or ask ``CEK`` on, another member's complaint. In a private chat the chat is the user (None).
    """
    member = msg.reply_context.get("from_id") if msg.reply_context else None
    if member is None or str(member) == msg.sender:
        return None
    return str(member)


def _contact_key(channel: str, sender: str | None, r: ReporterInfo, member: str | None = None) -> str | None:
    sender_is = spec_for(channel).sender_is
    if sender_is == "phone" and sender:
        phone = normalize_phone(sender)
        return f"phone:{phone or sender}"
    if sender_is == "email" and sender:
        return f"email:{normalize_email(sender) or sender.lower()}"
    if r.phone and (p := normalize_phone(r.phone)):
        return f"phone:{p}"
    if r.email and (e := normalize_email(r.email)):
        return f"email:{e}"
    if r.nik:
        return f"nik:{r.nik}"
    if sender and member:
        return f"{channel}:{sender}/{member}"  # one member of a shared chat, not the chat
    if sender:
        return f"{channel}:{sender}"
    return None


def mask_contact(contact: str | None, anonymous: bool) -> str:
    """A contact as the intake log shows it: never whole, and nothing at all for the anonymous."""
    if anonymous:
        return "anonim"
    if not contact:
        return "-"
    kind, _, value = contact.partition(":")
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "phone":
        return value[:4] + "*" * max(len(value) - 7, 3) + value[-3:]
    return f"{kind}:" + (value[:2] + "***" if len(value) > 4 else "***")


class Contact(NamedTuple):
    """A sender's :func:`contact_key` and its two reporter refs (named, anonymous)."""

    key: str | None
    ref: str | None
    anonymous_ref: str | None


class Normalizer:
    def __init__(self, reporter_key: str, duplicate_window_s: float = 24 * 3600) -> None:
        self._key = reporter_key.encode()
        self.duplicate_window_s = duplicate_window_s
        # the worker asks a message's refs 4-6 times (the batch's sender reads, the complaint's, the
        # record's, a command's check): worked out once per sender, for the last few hundred senders
        self._contact = functools.lru_cache(maxsize=512)(self._work_out_contact)

    def contact(self, msg: InboundMessage) -> Contact:
        # what contact_key reads, and nothing else: the reporter is frozen, so hashable
        return self._contact(msg.channel, msg.sender, msg.reporter, member_of(msg))

    def _work_out_contact(self, channel: str, sender: str | None, reporter: ReporterInfo,
                          member: str | None = None) -> Contact:
        key = _contact_key(channel, sender, reporter, member)
        if key is None:
            return Contact(None, None, None)
        return Contact(key, self._hmac(key), self._hmac("anonymous|" + key))

    def _hmac(self, key: str) -> str:
        return hmac.new(self._key, key.encode(), hashlib.sha256).hexdigest()

    def reporter_ref(self, msg: InboundMessage, *, anonymous: bool = False) -> str | None:
        """HMAC of the contact. Anonymous reports get a ref of their own domain: the store may group
        one citizen's anonymous reports, but cannot link them to the same citizen's named ones."""
        c = self.contact(msg)
        return c.anonymous_ref if anonymous else c.ref

    def refs_of(self, msg: InboundMessage) -> set[str]:
        """Both refs a contact may have filed under (for 'only the reporter may ask')."""
        c = self.contact(msg)
        return {r for r in (c.ref, c.anonymous_ref) if r}

    def build(
        self,
        msg: InboundMessage,
        *,
        complaint_id: str,
        tracking_id: str,
        text: str | None = None,
        follow_up_of: str | None = None,
        recent: Callable[[str], list[tuple[str, str]]] | None = None,
        read: TextRead | None = None,
    ) -> Normalized:
        """Make the complaint; ``text`` overrides the message text (e.g. after an ``INFO <id>`` prefix).

        ``read`` is :func:`read_text` of the message text when the caller already read it (the router,
        for commands); an override ``text`` is read here. ``recent(reporter_ref)`` gives the same
        reporter's recent (tracking ID, body) pairs, for near-duplicate links.
        """
        if text is not None or read is None:
            read = read_text(msg.text if text is None else text)
        body, anonymous, confidential = read
        subject = clean_text(canonical(msg.subject)) if msg.subject else None
        if subject:  # a tag the channel did not see ("［ＡＮＯＮＩＭ］" in a mail subject)
            in_subject = extract_privacy_keywords(subject)
            anonymous, confidential = anonymous or in_subject.anonymous, confidential or in_subject.confidential
        if not anonymous and (asks_for_anonymity(body) or (subject is not None and asks_for_anonymity(subject))):
            anonymous = True  # "jangan sebut nama saya": when in doubt, anonymous
        source = "keyword" if (anonymous or confidential) else None
        if msg.privacy is not None and (msg.privacy.anonymous or msg.privacy.confidential):
            anonymous = anonymous or msg.privacy.anonymous
            confidential = confidential or msg.privacy.confidential
            source = source or msg.privacy.source

        identity = self._identity(msg)
        masker = _masker(identity["reporter"])
        attachments = msg.attachments
        location = _location(msg)
        if anonymous:
            # a NIK or phone number in the text identifies as surely as the sender does, and so
            # does a file name ("scan KTP Budi.jpg"): the agency gets them masked, the originals
            # stay in the sealed vault
            identity["original_body"] = body
            body = _mask(masker, strip_signature(body))  # "Salam,\nBudi S.\nJl. Melati 7" names and locates
            subject = _mask(masker, subject) if subject else None
            if location is not None and location.text:
                location = location.model_copy(update={"text": _mask(masker, location.text)})
            attachments = [a.model_copy(update={"filename": None}) for a in attachments]
        contact, named_ref, anonymous_ref = self.contact(msg)
        ref = anonymous_ref if anonymous else named_ref
        review = list(msg.review_reasons)
        if not is_substantive(body) and not msg.attachments:
            review.append("no_substance")
        earlier = recent(ref) if (recent and ref) else []
        duplicates = [tid for tid, other in earlier if tid != follow_up_of and near_duplicate(body, other)]
        analysed = f"{subject or ''}\n{body}".strip()
        complaint = Complaint(
            id=complaint_id,
            tracking_id=tracking_id,
            channel=msg.channel,
            account=msg.account,
            external_id=self.anonymous_external_id(msg) if anonymous else msg.external_id,
            received_at=msg.received_at,
            reporter=None if anonymous else (ReporterInfo(**identity["reporter"]) if identity["reporter"] else None),
            reporter_ref=ref,
            privacy=Privacy(anonymous=anonymous, confidential=confidential, source=source),
            subject=subject,
            body=body,
            body_public=None if confidential else _mask(masker, strip_signature(body)),
            language=detect_language(analysed),
            category_suggestion=[
                CategorySuggestion(category=c, confidence=round(p, 3)) for c, p in suggest_categories(analysed)
            ],
            location=location,
            attachments=attachments,
            follow_up_of=follow_up_of or msg.follow_up_hint,
            possible_duplicate_of=duplicates,
            ocr=OcrInfo(**msg.ocr) if msg.ocr else None,
            needs_review=review,
        )
        return Normalized(complaint, identity, mask_contact(contact, anonymous))

    def response_text(self, msg: InboundMessage, text: str, *, anonymous: bool) -> str:
        """A citizen's answer on their complaint as the store gets it: the body's cleaning, and for an
        anonymous complaint the same masking of personal data and of this sender's identity."""
        body = clean_text(canonical(collapse_duplicated_concatenation(text or ""))).strip()
        if not anonymous:
            return body
        return _mask(_masker(self._identity(msg)["reporter"]), strip_signature(body))

    def anonymous_external_id(self, msg: InboundMessage) -> str:
        """The id an anonymous record is forwarded under: stable (the store stays idempotent on it) and
        keyed, so neither the number a wamid embeds nor a hash over phone and text can be read back."""
        material = f"external_id|{msg.channel}|{msg.account}|{msg.external_id}"
        return "anon:" + hmac.new(self._key, material.encode(), hashlib.sha256).hexdigest()

    def _identity(self, msg: InboundMessage) -> dict[str, Any]:
        r, sender_is = msg.reporter, spec_for(msg.channel).sender_is  # frozen: the changes go to a dict
        known: dict[str, Any] = {}
        if sender_is == "phone" and msg.sender and not r.phone:
            known["phone"] = normalize_phone(msg.sender) or msg.sender
        if sender_is == "email" and msg.sender and not r.email:
            known["email"] = normalize_email(msg.sender) or msg.sender
        if phone := known.get("phone", r.phone):
            known["phone"] = normalize_phone(phone) or phone
        reporter = {k: v for k, v in (r.model_dump() | known).items() if v}
        return {"sender": msg.sender, "reporter": reporter, "reply_context": msg.reply_context}


def _mask(masker: IdentityMasker, text: str) -> str:
    """Personal data of any shape, a name the text introduces, and this reporter's own identity, masked."""
    return masker.mask(mask_self_named(mask_pii(text)))


def _masker(reporter: dict[str, Any]) -> IdentityMasker:
    return IdentityMasker(
        names=[reporter.get("name")],
        handles=[reporter.get("handle")],
        addresses=[reporter.get("address")],
        phones=[reporter.get("phone")],
        niks=[reporter.get("nik")],
    )


def _location(msg: InboundMessage) -> Location | None:
    loc = msg.metadata.get("location")
    if not loc:
        return None
    if isinstance(loc, dict):
        return Location(**{k: loc.get(k) for k in ("text", "lat", "lon")})
    return Location(text=str(loc))
