"""``LettersChannel``: one scanned file (letter or complaint-box form) → one InboundMessage.

CPU-bound and synchronous on purpose. It reads hostile bytes in the process
that calls it: the gateway runs it through
:class:`~channels.letters.isolated.IsolatedLettersReader` (a resource-limited
child process); the CLI and the tests call it in place. Pages are prepared and OCR'd in parallel threads (tesseract runs as a
subprocess and OpenCV releases the GIL), up to the core count.

Per page: a PDF text layer is taken as is; an image is prepared
(:mod:`prepare`); a blank page or a page of noise is not sent to tesseract and
is flagged for review; a page with the form's registration marks is read as a
form; anything else is OCR'd as a letter, retried upside down once when the
confidence is poor. The cleaned page images are stored as attachments so a
reviewer sees what the machine saw.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from channels.base import BlobSink
from channels.citizen_time import citizen_date
from channels.letters import form
from channels.letters.errors import read_source
from channels.letters.fields import EMAIL, extract_letter_fields, normalize_nik, normalize_phone, paragraphs, parse_date
from channels.letters.images import Limits, SourcePage, load_pages
from channels.letters.ocr import ENGINE, OcrResult, OcrTimeout, read_words
from channels.letters.prepare import Prepared, prepare
from channels.message import Attachment, InboundMessage, PrivacyHint, Rejected, ReporterInfo, safe_filename

CHANNEL = "letters.scan"
MIN_WORDS = 3
FLIP_MARGIN = 10.0  # mean OCR confidence points a 180° turn must win by to be kept


@dataclass
class PageResult:
    number: int
    text: str = ""
    confidence: float | None = None  # None: not OCR'd (text layer, blank, noise)
    words: int = 0
    reasons: list[str] = field(default_factory=list)
    image: np.ndarray | None = None  # cleaned page for the reviewer
    form: form.FormReading | None = None
    text_layer: bool = False


def png_1bit(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).convert("1", dither=Image.Dither.NONE).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


class LettersChannel:
    name = CHANNEL

    def __init__(
        self,
        blobs: BlobSink,
        *,
        max_file_bytes: int = 50 * 1024 * 1024,
        max_pages: int = 30,
        max_pixels: int = 60_000_000,
        max_total_pixels: int = Limits.max_total_pixels,
        min_confidence: float = 60.0,
        workers: int | None = None,
    ) -> None:
        self.blobs = blobs
        self.limits = Limits(max_file_bytes, max_pages, max_pixels, max_total_pixels)
        self.min_confidence = min_confidence
        self.workers = workers or os.cpu_count() or 1

    @property
    def max_file_bytes(self) -> int:
        """The file size limit (the hot folder refuses larger files before reading them)."""
        return self.limits.max_file_bytes

    @classmethod
    def from_settings(cls, letters: Any, blobs: BlobSink) -> LettersChannel:
        """Build from ``gateway.settings.LettersSettings`` (or anything with the same attributes: the
        isolated reader's ``ReaderConfig``)."""
        return cls(
            blobs,
            max_file_bytes=letters.max_file_bytes,
            max_pages=letters.max_pages,
            max_pixels=letters.max_pixels,
            max_total_pixels=letters.max_total_pixels,
            min_confidence=letters.min_confidence,
        )

    # -- the entry point ---------------------------------------------------------------

    def read_file(
        self, source: str | Path | bytes, filename: str | None = None, received_at: datetime | None = None
    ) -> InboundMessage:
        """Read one scanned file; raises Rejected (413/415/422) for files that cannot be taken."""
        data, filename = read_source(source, filename, self.limits.max_file_bytes)
        filename = safe_filename(filename)
        sha = hashlib.sha256(data).hexdigest()
        media_type, results = self.read_pages(data)
        if any(p.form is not None and p.form.ticks.get("anonymous") for p in results):
            filename = None  # staff name scans after the sender: no file name next to an anonymous complaint
        attachments = self._store(data, media_type, filename, results)
        return self._message(sha, media_type, filename, results, attachments, received_at)

    # -- pages ---------------------------------------------------------------------------

    def read_pages(self, data: bytes) -> tuple[str, list[PageResult]]:
        """Load, prepare and OCR every page (in parallel); also what the benchmark times."""
        media_type, pages = load_pages(data, self.limits)
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(pages)))) as pool:
            return media_type, list(pool.map(self._read_page, range(1, len(pages) + 1), pages))

    def _read_page(self, number: int, page: SourcePage) -> PageResult:
        res = PageResult(number)
        if page.text is not None:
            res.text, res.text_layer, res.words = page.text, True, len(page.text.split())
            return res
        assert page.gray is not None
        prep = prepare(page.gray, page.dpi)
        res.image = prep.image
        if prep.blank:
            res.reasons.append(f"page {number}: blank")
            return res
        if prep.noise:
            res.reasons.append(f"page {number}: looks like noise, not text")
            return res
        marks = form.find_marks(prep.image)
        try:
            if marks is not None:
                res.form = form.read_form(prep.image, marks)
                ocr = res.form.ocr
            else:
                ocr = self._ocr_letter(prep)
                res.text = ocr.text
        except OcrTimeout:
            res.reasons.append(f"page {number}: OCR timed out")
            return res
        res.confidence, res.words = ocr.mean_confidence, len(ocr.words)
        if res.words < MIN_WORDS and res.form is None:
            res.reasons.append(f"page {number}: no readable text")
        elif res.words and res.confidence < self.min_confidence:
            res.reasons.append(f"page {number}: low OCR confidence ({res.confidence:.0f} < {self.min_confidence:.0f})")
        return res

    def _ocr_letter(self, prep: Prepared) -> OcrResult:
        """OCR the page the way up it reads clearly best, upright unless the other way wins by ``FLIP_MARGIN``.

        The ascender test (prepare.py) can be fooled both ways: tables and
        capitals look upright when they are not, lower-case text rich in
        descenders looks upside down when it is upright. A page it turned is
        read both ways and the turn kept only when it reads clearly better; a
        page it left, when it reads poorly, is tried turned with the same margin.
        """
        img, scale = prep.for_ocr()
        dpi = round(300 * scale)
        ocr = read_words(img, dpi=dpi)
        if prep.flipped or ocr.mean_confidence < self.min_confidence:
            other = read_words(cv2.rotate(img, cv2.ROTATE_180), dpi=dpi)
            # ``img`` is the page as prepared; the original way up is the other one when prepare turned it
            upright, turned = (other, ocr) if prep.flipped else (ocr, other)
            keep_turned = turned.mean_confidence > upright.mean_confidence + FLIP_MARGIN and len(turned.words) >= MIN_WORDS
            if keep_turned != prep.flipped:
                prep.image = cv2.rotate(prep.image, cv2.ROTATE_180)
                prep.flipped = keep_turned
            return turned if keep_turned else upright
        return ocr

    # -- output --------------------------------------------------------------------------

    def _store(self, data: bytes, media_type: str, filename: str | None, results: list[PageResult]) -> list[Attachment]:
        """The original file (when the blob store takes its size) and each cleaned page image."""
        out = []
        # an original over the blob limit is still read; the page images are what review needs
        with contextlib.suppress(Rejected):
            out.append(self.blobs.put(data, media_type, filename))
        stem = (filename or "scan").rsplit(".", 1)[0]
        for r in results:
            if r.image is not None:
                out.append(self.blobs.put(png_1bit(r.image), "image/png", f"{stem}-page{r.number}.png"))
        return out

    def _message(
        self,
        sha: str,
        media_type: str,
        filename: str | None,
        results: list[PageResult],
        attachments: list[Attachment],
        received_at: datetime | None,
    ) -> InboundMessage:
        reasons = [r for p in results for r in p.reasons]
        forms = [p.form for p in results if p.form is not None]
        extra_text = "\n\n".join(p.text for p in results if p.form is None and p.text.strip())
        metadata: dict[str, Any] = {"media_type": media_type, "pages": len(results), "filename": filename,
                                    "pixels": sum(p.image.size for p in results if p.image is not None)}
        if forms:
            msg_fields = self._from_form(forms[0], extra_text, metadata)
        else:
            msg_fields = self._from_letter(extra_text, metadata)
        if not msg_fields["text"].strip():
            reasons.append("no complaint text found")
        ocr_pages = [p for p in results if p.confidence is not None]
        if ocr_pages:
            weights = [max(p.words, 1) for p in ocr_pages]
            conf = float(np.average([p.confidence for p in ocr_pages], weights=weights))
            ocr = {"engine": ENGINE, "mean_confidence": round(conf, 1), "pages": len(results)}
        elif any(p.text_layer for p in results):
            ocr = {"engine": "pdf-text-layer", "mean_confidence": 100.0, "pages": len(results)}
        else:
            ocr = {"engine": ENGINE, "mean_confidence": 0.0, "pages": len(results)}
        reporter: ReporterInfo = msg_fields.pop("reporter")
        notify = [k for k, v in (("sms", reporter.phone), ("email", reporter.email)) if v]
        reply_context = {
            "printable": True,
            "kind": "form" if forms else "letter",
            "filename": filename,
            "notify": notify,  # contacts present; the gateway skips them when the complaint is anonymous
        }
        return InboundMessage(
            channel=CHANNEL,
            account="box" if forms else "counter",
            external_id=sha,
            received_at=received_at or datetime.now(UTC),
            attachments=attachments,
            reporter=reporter,
            review_reasons=reasons,
            ocr=ocr,
            reply_context=reply_context,
            metadata=metadata,
            **msg_fields,
        )

    @staticmethod
    def _from_letter(text: str, metadata: dict[str, Any]) -> dict[str, Any]:
        f = extract_letter_fields(text)
        if f.letter_date:
            metadata["letter_date"] = f.letter_date.isoformat()
        reporter = ReporterInfo(name=f.name, nik=f.nik, phone=f.phone, email=f.email, address=f.address)
        return {"subject": f.subject, "text": f.body, "reporter": reporter, "privacy": None}

    @staticmethod
    def _from_form(reading: form.FormReading, extra_text: str, metadata: dict[str, Any]) -> dict[str, Any]:
        v = reading.fields
        contact = v.get("contact", "")
        em = EMAIL.search(contact)
        reporter = ReporterInfo(
            name=v.get("name") or None,
            nik=normalize_nik(v.get("nik", "")),
            phone=None if em else normalize_phone(contact),
            email=em.group(0).lower() if em else None,
            address=v.get("address") or None,
        )
        if v.get("location"):
            metadata["location"] = v["location"]
        # the record has no date of its own: the form's Tanggal travels as its subject (as a letter's Perihal does)
        written = " ".join(v.get("date", "").split())
        subject = None
        if d := parse_date(written):
            metadata["letter_date"] = d.isoformat()
        if written:
            subject = f"Formulir pengaduan tanggal {citizen_date(d) if d else written}"
        metadata["ticks"] = {k: round(x, 3) for k, x in reading.densities.items()}
        body = "\n\n".join(t for t in (form_body(v.get("body", "")), extra_text) if t)
        privacy = PrivacyHint(
            anonymous=reading.ticks["anonymous"], confidential=reading.ticks["confidential"], source="form"
        )
        return {"subject": subject, "text": body, "reporter": reporter, "privacy": privacy}


def form_body(text: str) -> str:
    """Handwritten lines wrap anywhere before the box edge: join them all into paragraphs."""
    return paragraphs(text.splitlines(), wrapped_only=False)
