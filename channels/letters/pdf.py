"""PDFs from the scanner or from a word processor: the text layer when it is real, else rendered pages.

A page "has real text" when its text layer holds enough letters; scanners
that add an invisible OCR layer of their own are trusted the same way (their
text is usually better than nothing, and a low-quality layer is rare).
Rendering goes through pdfplumber (pypdfium2) at 300 dpi, lowered for pages
so large that 300 dpi would break the pixel limit.
"""

from __future__ import annotations

import io

import numpy as np
import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from channels.letters.images import Limits, SourcePage, check_pixels
from channels.message import Rejected

RENDER_DPI = 300
MIN_RENDER_DPI = 100
MIN_TEXT_LETTERS = 40  # per page, for the text layer to count as real text


def has_real_text(text: str | None) -> bool:
    return bool(text) and sum(ch.isalpha() for ch in text) >= MIN_TEXT_LETTERS


def _is_password_error(exc: BaseException | None) -> bool:
    """pdfplumber wraps pdfminer's errors; look through the chain for a password/encryption one."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, PDFPasswordIncorrect) or any(w in str(exc).lower() for w in ("password", "encrypt")):
            return True
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc, seen = exc.__cause__ or exc.__context__ or inner, seen + 1
    return False


def load_pdf_pages(data: bytes, limits: Limits) -> list[SourcePage]:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many kinds (PdfminerException, PSEOF, ValueError, …)
        if _is_password_error(exc):
            raise Rejected(422, "PDF is password-protected") from exc
        raise Rejected(422, "PDF is corrupt or not a PDF") from exc
    with pdf:
        try:
            n = len(pdf.pages)
        except Exception as exc:
            if _is_password_error(exc):
                raise Rejected(422, "PDF is password-protected") from exc
            raise Rejected(422, "PDF is corrupt (page tree unreadable)") from exc
        if n == 0:
            raise Rejected(422, "PDF has no pages")
        if n > limits.max_pages:
            raise Rejected(413, f"PDF has {n} pages, more than the limit of {limits.max_pages}")
        pages = []
        for page in pdf.pages:
            try:
                text = page.extract_text()
            except Exception as exc:
                raise Rejected(422, "PDF page content is corrupt") from exc
            if has_real_text(text):
                pages.append(SourcePage(None, RENDER_DPI, text))
                continue
            pages.append(render(page, limits))
    return pages


def render(page: pdfplumber.page.Page, limits: Limits) -> SourcePage:
    w_in, h_in = float(page.width) / 72, float(page.height) / 72
    dpi = min(RENDER_DPI, (limits.max_pixels / max(w_in * h_in, 1e-6)) ** 0.5)
    if dpi < MIN_RENDER_DPI:
        check_pixels(round(w_in * MIN_RENDER_DPI), round(h_in * MIN_RENDER_DPI), limits, "PDF page at 100 dpi")
    try:
        img = page.to_image(resolution=dpi).original.convert("L")
    except Exception as exc:
        raise Rejected(422, "PDF page cannot be rendered (corrupt)") from exc
    return SourcePage(np.asarray(img), dpi)
