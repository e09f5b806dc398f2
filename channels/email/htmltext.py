"""HTML-only mails (Outlook, webmail, Lotus) turned into readable plain text.

Block elements become line breaks, list items get a dash, links keep their
address when it differs from the text, and ``<style>``/``<script>``/``<head>``
are dropped. Outlook's quoted thread, which starts at a ``divRplyFwdMsg`` /
``gmail_quote`` / ``<blockquote>`` element, is dropped here already so the
quote stripper need not guess.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCK = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "address",
}  # fmt: skip
_SKIP = {"style", "script", "head", "title", "xml", "o:p"}
# elements that open a quoted thread in webmail/Outlook HTML
_QUOTE_MARKERS = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix")
# Outlook puts the quoted message *after* these, as siblings: everything from here on is the quote
_STOP_MARKERS = ("divrplyfwdmsg", "outlookmessageheader", "appendonsend")
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"}


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.stack: list[str] = []
        self.href: str | None = None
        self.link_text: list[str] = []
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag not in _VOID:
            self.stack.append(tag)
        if self.stopped:
            return
        if self.quote_depth or self.skip_depth:
            if tag not in _VOID:
                self.quote_depth += bool(self.quote_depth)
                self.skip_depth += bool(self.skip_depth)
            return
        marker = (a.get("class", "") + " " + a.get("id", "")).lower()
        if any(m in marker for m in _STOP_MARKERS):
            self.stopped = True
            return
        if (tag == "blockquote" and a.get("type", "").lower() == "cite") or any(m in marker for m in _QUOTE_MARKERS):
            self.quote_depth = 1
            return
        if tag in _SKIP:
            self.skip_depth = 1
            return
        if tag in _BLOCK:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        if tag == "a":
            self.href = a.get("href")
            self.link_text = []
        if tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.stack and tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                self._close_one()
            self._close_one()
        if self.quote_depth or self.skip_depth or self.stopped:
            return
        if tag == "a" and self.href:
            text = "".join(self.link_text).strip()
            href = self.href
            if href.startswith(("http://", "https://")) and href.rstrip("/") not in text:
                self.out.append(f" ({href})")
            self.href = None
        if tag in _BLOCK and tag != "li":
            self.out.append("\n")

    def _close_one(self) -> None:
        if self.quote_depth:
            self.quote_depth -= 1
        elif self.skip_depth:
            self.skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.quote_depth or self.skip_depth or self.stopped:
            return
        text = re.sub(r"[ \t\r\n\f\u00a0]+", " ", data)
        self.out.append(text)
        if self.href is not None:
            self.link_text.append(text)


def html_to_text(html: str) -> str:
    conv = _Converter()
    try:
        conv.feed(html)
        conv.close()
    except Exception:  # broken markup from a hostile sender: fall back to tag removal
        return _strip_tags(html)
    text = "".join(conv.out)
    lines = [ln.strip() for ln in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _strip_tags(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]*>", " ", html))).strip()
