"""Bound what a PDF page's content costs before pdfminer interprets it.

pdfminer inflates a content stream whole (``zlib.decompress``, no limit) and
then tokenises it at ~40,000 tokens a second: a 58 KB Flate stream of
millions of tokens took 108 s. Before a page's text is extracted, its content
streams (and the form XObjects it draws) are inflated here incrementally, up
to a byte cap, and their tokens estimated by counting delimiters. A page over
the budget is not handed to pdfminer; a page whose content inflates past
``bomb_bytes`` is a decompression bomb (no page of a letter comes near). Filters this cannot bound cheaply (LZW,
RunLength, Crypt) are passed as they are: the isolated process the caller runs
in (:mod:`channels.isolate`) is the backstop for those.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1
from pdfminer.psparser import LIT

__all__ = ["ContentBudget", "PageCost", "page_cost"]

DELIMITERS = b" \n\r\t\f/[]()<>{}"
MAX_XOBJECT_DEPTH = 4
FORM = LIT("Form")


@dataclass(frozen=True)
class ContentBudget:
    page_bytes: int = 2 * 1024 * 1024  # decompressed content per page; a dense text page is ~50 KB
    page_tokens: int = 150_000  # ~4 s of pdfminer; a dense text page is ~10,000
    doc_tokens: int = 400_000  # over the pages read
    bomb_bytes: int = 32 * 1024 * 1024  # decompressed content per page past which it is a bomb


@dataclass(frozen=True)
class PageCost:
    bytes: int  # decompressed content, capped just above the budget
    tokens: int  # estimated
    over: bool  # too costly to interpret
    bomb: bool = False  # inflates past ``bomb_bytes``


def _inflate(raw: bytes, cap: int, step: int = 1024 * 1024) -> Iterator[bytes]:
    """Flate-decode in pieces of ``step``, at most ``cap`` + 1 bytes (a bomb is never inflated whole)."""
    d = zlib.decompressobj()
    left, data = cap + 1, raw
    try:
        while left > 0 and not d.eof:
            piece = d.decompress(data, min(step, left))
            if not piece:
                break
            left -= len(piece)
            data = d.unconsumed_tail
            yield piece
    except zlib.error:
        return  # pdfminer keeps what it can of a corrupt stream; so does the count


def _decoded(stream: PDFStream, cap: int) -> Iterator[bytes] | None:
    """The stream's bytes in pieces, up to ``cap`` + 1, or None when a filter is not one we can bound."""
    data = stream.rawdata if stream.rawdata is not None else stream.data
    if data is None:
        return iter(())
    if stream.rawdata is None:  # already decoded by someone
        return iter((data[: cap + 1],))
    if stream.decipher:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    filters = [f for f, _params in stream.get_filters()]
    if not filters:
        return iter((data[: cap + 1],))
    if any(f not in LITERALS_FLATE_DECODE for f in filters):
        return None
    for _ in filters[:-1]:  # Flate of Flate: rare; the inner ones are inflated within the cap too
        data = b"".join(_inflate(data, cap))
    return _inflate(data, cap)


def _streams(page: Any) -> list[PDFStream]:
    """A pdfminer page's content streams and the form XObjects reachable from its resources."""
    out: list[PDFStream] = [s for s in (resolve1(c) for c in page.contents or []) if isinstance(s, PDFStream)]
    seen: set[int] = set()

    def walk(resources: Any, depth: int) -> None:
        resources = resolve1(resources)
        if depth > MAX_XOBJECT_DEPTH or not isinstance(resources, dict):
            return
        xobjects = resolve1(resources.get("XObject"))
        if not isinstance(xobjects, dict):
            return
        for ref in xobjects.values():
            x = resolve1(ref)
            if not isinstance(x, PDFStream) or id(x) in seen or resolve1(x.attrs.get("Subtype")) is not FORM:
                continue
            seen.add(id(x))
            out.append(x)
            walk(x.attrs.get("Resources"), depth + 1)

    walk(page.resources, 0)
    return out


def page_cost(page: Any, budget: ContentBudget) -> PageCost:
    """What interpreting ``page`` (a pdfminer ``PDFPage``) would cost, within the budget's caps."""
    total = tokens = 0
    for stream in _streams(page):
        pieces = _decoded(stream, max(budget.bomb_bytes - total, 0))
        for data in pieces or ():
            total += len(data)
            if total > budget.bomb_bytes:
                return PageCost(total, tokens, True, bomb=True)
            if tokens <= budget.page_tokens:  # past it the count no longer matters, the size still does
                tokens += sum(data.count(c) for c in DELIMITERS)
    return PageCost(total, tokens, total > budget.page_bytes or tokens > budget.page_tokens)
