"""Text layer of PDF attachments (a letter scanned to PDF by an office, a form filled in)."""

from __future__ import annotations

import io
import logging

__all__ = ["pdf_text"]

log = logging.getLogger(__name__)


def pdf_text(data: bytes, max_pages: int = 30, max_chars: int = 50_000) -> tuple[str, str | None]:
    """``(text, problem)``: the PDF's text layer, and a short reason when it could not all be read.

    Pages beyond ``max_pages`` are not read (a clear problem, the rest kept);
    a broken PDF gives ``("", "unreadable PDF")``. Scans without a text layer
    give empty text; OCR is the letters channel's job.
    """
    import pdfplumber  # heavy import, only when a PDF arrives

    problem: str | None = None
    out: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = pdf.pages
            if len(pages) > max_pages:
                problem = f"PDF has {len(pages)} pages; only the first {max_pages} were read"
            for page in pages[:max_pages]:
                out.append(page.extract_text() or "")
                if sum(map(len, out)) > max_chars:
                    problem = problem or f"PDF text cut at {max_chars} characters"
                    break
    except Exception as exc:  # pdfminer raises many kinds on hostile input
        log.info("pdf text extraction failed: %s", type(exc).__name__)
        return "", "unreadable PDF"
    return "\n".join(t.strip() for t in out if t.strip())[:max_chars], problem
