"""Text layer of PDF attachments (a letter scanned to PDF by an office, a form filled in).

Hostile PDFs are bounded here as far as pdfminer allows: the page count, the
characters kept, and each page's content cost (decompressed bytes and tokens,
measured by :func:`channels.letters.pdfguard.page_cost` before pdfminer
inflates and interprets it). A page over the budget is skipped with a problem
named; the rest of the document is still read. Callers run this through
:func:`channels.isolate.run_isolated` for what cannot be bounded up front.
"""

from __future__ import annotations

import io
import logging

__all__ = ["pdf_text"]

log = logging.getLogger(__name__)


def pdf_text(data: bytes, max_pages: int = 30, max_chars: int = 50_000) -> tuple[str, str | None]:
    """``(text, problem)``: the PDF's text layer, and a short reason when it could not all be read.

    Pages beyond ``max_pages`` are not read (a clear problem, the rest kept);
    a page whose content is too large or too many tokens to interpret is
    skipped (a problem naming its number); a broken PDF gives
    ``("", "unreadable PDF")``. Scans without a text layer give empty text;
    OCR is the letters channel's job.
    """
    import pdfplumber  # heavy import, only when a PDF arrives

    from channels.letters.pdfguard import ContentBudget, page_cost

    budget = ContentBudget()
    problems: list[str] = []
    out: list[str] = []
    tokens = 0
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = pdf.pages
            if len(pages) > max_pages:
                problems.append(f"PDF has {len(pages)} pages; only the first {max_pages} were read")
            for number, page in enumerate(pages[:max_pages], start=1):
                cost = page_cost(page.page_obj, budget)
                if cost.bomb:
                    problems.append(f"PDF page {number} content is a decompression bomb; skipped")
                    continue
                if cost.over or tokens + cost.tokens > budget.doc_tokens:
                    problems.append(f"PDF page {number} content too large to read; skipped")
                    continue
                tokens += cost.tokens
                out.append(page.extract_text() or "")
                if sum(map(len, out)) > max_chars:
                    problems.append(f"PDF text cut at {max_chars} characters")
                    break
    except Exception as exc:  # pdfminer raises many kinds on hostile input
        log.info("pdf text extraction failed: %s", type(exc).__name__)
        return "", "unreadable PDF"
    return "\n".join(t.strip() for t in out if t.strip())[:max_chars], "; ".join(problems[:3]) or None
