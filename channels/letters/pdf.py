"""PDFs from the scanner or from a word processor: the text layer when it is real, else rendered pages.

A page "has real text" when its text layer holds enough letters; scanners
that add an invisible OCR layer of their own are trusted the same way (their
text is usually better than nothing, and a low-quality layer is rare).
Rendering goes through pdfplumber (pypdfium2) at 300 dpi, lowered for pages
so large that 300 dpi would break the pixel limit.

Hostile PDFs: a page's text is extracted only when its content fits the
:class:`~channels.letters.pdfguard.ContentBudget` (a page over it is rendered
and OCR'd instead: pdfium is fast where pdfminer is not); the pixels of the
pages to render are added up from their page boxes at the render dpi and
checked against the total-pixel limit before the first is rendered.
"""

from __future__ import annotations

import io

import numpy as np
import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from channels.letters.images import Limits, SourcePage, check_pixels, check_total_pixels
from channels.letters.pdfguard import ContentBudget, page_cost
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


def _open(data: bytes) -> pdfplumber.PDF:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many kinds (PdfminerException, PSEOF, ValueError, …)
        if _is_password_error(exc):
            raise Rejected(422, "PDF is password-protected") from exc
        raise Rejected(422, "PDF is corrupt or not a PDF") from exc
    return pdf


def _page_count(pdf: pdfplumber.PDF, limits: Limits) -> int:
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
    return n


def probe_pdf(data: bytes, limits: Limits) -> int:
    """The page count after the page-tree checks, no content read (sizes the isolated job's time limit)."""
    with _open(data) as pdf:
        return _page_count(pdf, limits)


def load_pdf_pages(data: bytes, limits: Limits, budget: ContentBudget | None = None) -> list[SourcePage]:
    budget = budget or ContentBudget()
    with _open(data) as pdf:
        _page_count(pdf, limits)
        texts: list[str | None] = []
        tokens = 0
        for page in pdf.pages:
            try:
                cost = page_cost(page.page_obj, budget)
                if cost.bomb:
                    raise Rejected(413, f"PDF page {page.page_number} content inflates past {budget.bomb_bytes} bytes "
                                        "(a decompression bomb)")  # fmt: skip
                if cost.over or tokens + cost.tokens > budget.doc_tokens:
                    texts.append(None)  # too costly for pdfminer: rendered and OCR'd instead
                    continue
                tokens += cost.tokens
                texts.append(page.extract_text())
            except Rejected:
                raise
            except Exception as exc:
                raise Rejected(422, "PDF page content is corrupt") from exc
        to_render = [(p, render_dpi(p, limits)) for p, t in zip(pdf.pages, texts, strict=True) if not has_real_text(t)]
        check_total_pixels(sum(round(w * d) * round(h * d) for _, (w, h, d) in to_render), limits)
        rendered = iter([render(p, dpi) for p, (_, _, dpi) in to_render])
        return [SourcePage(None, RENDER_DPI, t) if has_real_text(t) else next(rendered) for t in texts]


def render_dpi(page: pdfplumber.page.Page, limits: Limits) -> tuple[float, float, float]:
    """(width in, height in, dpi) from the page box: 300 dpi, lowered to fit the per-page pixel limit."""
    try:
        w_in, h_in = abs(float(page.width)) / 72, abs(float(page.height)) / 72
    except Exception as exc:
        raise Rejected(422, "PDF page box is corrupt") from exc
    dpi = min(RENDER_DPI, (limits.max_pixels / max(w_in * h_in, 1e-6)) ** 0.5)
    if dpi < MIN_RENDER_DPI:
        check_pixels(round(w_in * MIN_RENDER_DPI), round(h_in * MIN_RENDER_DPI), limits, "PDF page at 100 dpi")
    return w_in, h_in, dpi


def render(page: pdfplumber.page.Page, dpi: float) -> SourcePage:
    try:
        img = page.to_image(resolution=dpi).original.convert("L")
    except Exception as exc:
        raise Rejected(422, "PDF page cannot be rendered (corrupt)") from exc
    return SourcePage(np.asarray(img), dpi)
