"""Mail whose substance is a scan: a fax from a fax-to-email service, a photo of a letter, an image-only PDF.

Such a mail is read like a scanned letter: its TIFF, JPEG/PNG or text-less PDF attachments go through
the letters reader (:class:`~channels.letters.isolated.IsolatedLettersReader`: preparation, OCR, fields,
form ticks, confidence, each file in an isolated child), and the complaint becomes the letter's text
with the mail's own short text kept beside it. When it is one:

- a **fax** (its sender is one of ``fax.senders``, or its subject matches ``fax.subject_patterns`` and
  a scan is attached): the service is not the citizen. Its words (boilerplate, the subject) are not
  the complaint, it is never answered by email, and the number it was sent from (``from +62 21 …``)
  becomes the reporter's phone unless the letter is anonymous. The channel is ``<mail channel>.fax``,
  answered as a letter (a printable receipt, SMS/email to a contact the letter gives).
- a **scanned mail** (body empty or short, a scan attached): the citizen wrote from that address and
  is answered there; the channel is ``<mail channel>.scan``. A photo that reads as no text beside a
  mail with text of its own is a photo (a pothole), not a letter: the mail stays a plain email.

Both are held for review like any letter when the reading was unsure (``channels.registry``). The
pages and pixels of all the files of one mail count against the letters' limits together; a file that
cannot be read (a corrupt TIFF, over a limit) keeps the mail's own text and says so for review.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from channels.message import Attachment, InboundMessage, PrivacyHint, Rejected, ReporterInfo

__all__ = ["FaxRules", "MailScans", "ScanFile", "Scanned", "fax_number", "scan_file"]

log = logging.getLogger(__name__)

SCAN_TYPES = {"image/tiff", "image/jpeg", "image/png", "image/bmp", "image/webp"}
DOCUMENT_TYPES = {"image/tiff", "application/pdf"}  # what a fax or a scanner sends: unreadable is never "a photo"
SHORT_TEXT = 280  # characters of the mail's own text up to which a scan attached may be its substance
MIN_SCAN_BYTES = 2048  # smaller images are icons and signature logos, not pages
MIN_LETTER_WORDS = 5  # a photo beside the mail's own text counts as a letter from this many words read
OWN_TEXT_LABEL = "[Isi email]"

_SUFFIX_TYPES = {".tif": "image/tiff", ".tiff": "image/tiff", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".png": "image/png", ".pdf": "application/pdf"}  # fmt: skip
# "from +62 21 555 0123", "dari: 021-5550123", "CSID: 62215550123", "Fax number (021) 5550123"
_NUMBER = re.compile(
    r"(?:\bfrom|\bdari|\bsender|\bpengirim|\bcsid|\bnomor|\bnumber|\bno\.)\s*[:#]?\s*"
    r"(\+?(?:\(\d+\)|\d)[\d.-]*(?:[ ](?:\(\d+\)|\d)[\d.-]*){0,5})",
    re.IGNORECASE,
)


@dataclass
class ScanFile:
    """An attachment that may be a page scan, with its bytes (kept only while the mail is completed)."""

    attachment: Attachment
    data: bytes

    @property
    def media_type(self) -> str:
        return scan_type(self.attachment.media_type, self.attachment.filename) or self.attachment.media_type


def scan_type(media_type: str, filename: str | None) -> str | None:
    """The scan type of an attachment by its declared type, else by its file name's suffix; None if not one."""
    mt = media_type.lower()
    if mt in SCAN_TYPES or mt == "application/pdf":
        return mt
    name = (filename or "").lower()
    return next((t for s, t in _SUFFIX_TYPES.items() if name.endswith(s)), None)


def scan_file(attachment: Attachment, data: bytes, pdf_text: str | None = None) -> ScanFile | None:
    """``attachment`` as a scan candidate: an image big enough to be a page, or a PDF without a text layer."""
    mt = scan_type(attachment.media_type, attachment.filename)
    if mt is None or (len(data) < MIN_SCAN_BYTES and mt != "image/tiff"):
        return None
    if mt == "application/pdf" and (pdf_text or "").strip():
        return None  # its text layer was read already (mime.py): nothing to OCR
    return ScanFile(attachment, data)


def fax_number(*texts: str) -> str | None:
    """The number a fax was sent from, as the service writes it, in E.164 digits (no '+'); None if none."""
    for text in texts:
        for m in _NUMBER.finditer(text or ""):
            raw = m.group(1).strip(" .-")
            digits = re.sub(r"\D", "", raw)
            if raw.startswith("+") or digits.startswith("00"):
                digits = digits.removeprefix("00")
            elif digits.startswith("0"):
                digits = "62" + digits[1:]
            if digits.startswith("620"):
                digits = "62" + digits[3:]
            if 8 <= len(digits) <= 15 and digits[0] != "0":
                return digits
    return None


@dataclass(frozen=True)
class FaxRules:
    senders: tuple[str, ...] = ()
    subject_patterns: tuple[str, ...] = ()

    def is_service(self, address: str | None) -> bool:
        """``address`` is a fax service's: an address of ``senders``, or in one of its ``@domains``."""
        a = (address or "").strip().lower()
        if "@" not in a:
            return False
        domain = a.rpartition("@")[2]
        for entry in self.senders:
            e = entry.strip().lower()
            if "@" in e and not e.startswith("@"):
                if a == e:
                    return True
            elif (d := e.lstrip("@")) and (domain == d or domain.endswith("." + d)):
                return True
        return False

    def subject_says_fax(self, subject: str) -> bool:
        return any(re.search(p, subject or "", re.IGNORECASE) for p in self.subject_patterns)


class LettersReader(Protocol):
    """What of :class:`~channels.letters.isolated.IsolatedLettersReader` the mail needs."""

    def read_file(self, source: bytes, filename: str | None = None, received_at: datetime | None = None) -> InboundMessage: ...
    def within(self, pages: int, pixels: int) -> LettersReader: ...
    @property
    def page_budget(self) -> tuple[int, int]: ...


@dataclass
class Scanned:
    """What the scans of one mail gave: the letters read, and why some could not be."""

    fax: bool
    letters: list[InboundMessage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # review reasons: files not read, limits
    number: str | None = None  # the fax's sending number
    held: bool = True  # False: not a scan after all (a photo beside a text); only ``notes`` apply

    @property
    def anonymous(self) -> bool:
        return any(m.privacy is not None and m.privacy.anonymous for m in self.letters)


@dataclass
class MailScans:
    """Reads a mail's scans through the letters reader; ``fax`` says which mails are faxes."""

    reader: LettersReader
    fax: FaxRules = field(default_factory=FaxRules)

    def read(self, *, own_text: str, subject: str, addresses: list[str | None], files: list[ScanFile],
             received_at: datetime | None) -> Scanned | None:  # fmt: skip
        """None when the mail is not a scan (no scan attached, or a long text of its own)."""
        by_sender = any(self.fax.is_service(a) for a in addresses)
        if not files:
            return Scanned(True, notes=["fax without a scanned page"]) if by_sender else None
        fax = by_sender or self.fax.subject_says_fax(subject)
        own = "" if fax else own_text.strip()
        if len(own) > SHORT_TEXT:
            return None
        out = Scanned(fax, number=fax_number(subject, own_text) if fax else None)
        pages, pixels = self.reader.page_budget
        for f in files:
            name = f.attachment.filename or "lampiran"
            if pages <= 0 or pixels <= 0:
                out.notes.append(f"scan {name} not read: the mail's pages are over the letters' limit")
                continue
            try:
                letter = self.reader.within(pages, pixels).read_file(f.data, f.attachment.filename, received_at)
            except Rejected as exc:  # IsolationFailed included: over a time, CPU or memory limit
                if fax or not own or f.media_type in DOCUMENT_TYPES:
                    out.notes.append(f"scan not read: {exc.reason}")
                else:
                    out.notes.append("attachment_unreadable")
                continue
            except Exception as exc:  # the pool itself in trouble: this file's text is lost, not the mail
                log.warning("scan of a mail attachment not read (%s)", type(exc).__name__)
                out.notes.append(f"scan not read ({type(exc).__name__})")
                continue
            pages -= int(letter.metadata.get("pages") or 1)
            pixels -= int(letter.metadata.get("pixels") or 0)
            is_form = letter.reply_context.get("kind") == "form"
            if not fax and own and not is_form and len(letter.text.split()) < MIN_LETTER_WORDS:
                continue  # a photo beside the citizen's own words
            out.letters.append(letter)
        out.held = fax or bool(out.letters) or any(n.startswith("scan") for n in out.notes)
        return out


def merge(update: dict[str, Any], msg: InboundMessage, scanned: Scanned, fax_rules: FaxRules) -> dict[str, Any]:
    """The completed mail's fields (``update``, as :class:`MailCompleter` builds them) read as a letter."""
    if not scanned.held:
        update["review_reasons"] = [*update["review_reasons"], *(n for n in scanned.notes
                                                                  if n not in update["review_reasons"])]  # fmt: skip
        return update
    letters = scanned.letters
    # a fax's own words are its service's boilerplate: kept only when no page could be read, for review
    own = "" if scanned.fax and letters else (update.get("text") or "").strip()
    letter_text = "\n\n".join(m.text.strip() for m in letters if m.text.strip())
    text = "\n\n".join(t for t in (letter_text, f"{OWN_TEXT_LABEL}\n{own}" if own and letter_text else own) if t)
    first = letters[0] if letters else None
    base: ReporterInfo = update["reporter"]
    reporter = _reporter(base if not scanned.fax else ReporterInfo(), letters, fax_rules)
    if scanned.fax and not reporter.phone and scanned.number and not scanned.anonymous:
        reporter = reporter.model_copy(update={"phone": scanned.number})
    kind = "form" if any(m.reply_context.get("kind") == "form" for m in letters) else "letter"
    metadata = dict(update["metadata"], scan={"fax": scanned.fax, "kind": kind,
                                             "pages": sum(int(m.metadata.get("pages") or 0) for m in letters)})  # fmt: skip
    for m in letters[:1]:
        metadata.update({k: m.metadata[k] for k in ("letter_date", "location", "ticks") if k in m.metadata})
    known = {a.sha256 for a in update["attachments"]}
    pages = [a for m in letters for a in m.attachments if a.sha256 not in known]
    review = list(update["review_reasons"])
    review += [r for m in letters for r in m.review_reasons if r not in review]
    review += [n for n in scanned.notes if n not in review]
    out = dict(update, channel=f"{msg.channel}.{'fax' if scanned.fax else 'scan'}", text=text,
               attachments=[*update["attachments"], *pages], reporter=reporter, metadata=metadata,
               review_reasons=review, privacy=_privacy(update.get("privacy"), letters), ocr=_ocr(letters))  # fmt: skip
    subject = first.subject if first and first.subject else None
    if scanned.fax:
        # the service's address and words are not the citizen's: answered as a letter, never by email to it
        out.update(sender=None, subject=subject, suppress_receipt=None, follow_up_hint=None,
                   reply_context={"printable": True, "kind": "fax", "filename": None,
                                  "notify": [k for k, v in (("sms", reporter.phone), ("email", reporter.email)) if v]})  # fmt: skip
    elif subject:
        out["subject"] = subject
    return out


def _reporter(base: ReporterInfo, letters: list[InboundMessage], fax_rules: FaxRules) -> ReporterInfo:
    """The letter's fields over what the mail says (its From name); a fax service's address never kept."""
    fields: dict[str, Any] = {}
    for m in reversed(letters):
        fields.update({k: v for k, v in m.reporter.model_dump().items() if v})
    merged = base.model_copy(update=fields)
    if fax_rules.is_service(merged.email):
        merged = merged.model_copy(update={"email": None})
    return merged


def _privacy(mail: PrivacyHint | None, letters: list[InboundMessage]) -> PrivacyHint | None:
    hints = [h for h in (mail, *(m.privacy for m in letters)) if h is not None]
    if not hints:
        return None
    source = "form" if any(h.source == "form" for h in hints) else hints[0].source
    return PrivacyHint(anonymous=any(h.anonymous for h in hints), confidential=any(h.confidential for h in hints),
                       source=source)  # fmt: skip


def _ocr(letters: list[InboundMessage]) -> dict[str, Any] | None:
    read = [m.ocr for m in letters if m.ocr]
    if not read:
        return None
    pages = [max(int(o.get("pages") or 1), 1) for o in read]
    conf = sum(float(o.get("mean_confidence") or 0.0) * p for o, p in zip(read, pages, strict=True)) / sum(pages)
    return {"engine": read[0].get("engine"), "mean_confidence": round(conf, 1), "pages": sum(pages)}


def from_settings(settings: Any, blobs: Any) -> MailScans:
    """The letters reader of ``letters.*`` (isolated, same limits as letters) and the rules of ``fax.*``."""
    from channels.letters.lazy import LazyLettersReader

    rules = FaxRules(tuple(settings.fax.senders), tuple(settings.fax.subject_patterns))
    return MailScans(LazyLettersReader(settings.letters, blobs), rules)
