"""Strip quoted replies and signatures from a mail's text, keeping what the citizen wrote.

Cuts at the first line that starts a quoted thread: Gmail's ``Pada … menulis:``
/ ``On … wrote:`` (possibly wrapped over two lines), Outlook's
``-----Original Message-----`` / ``-----Pesan Asli-----`` and its header block
(``From:``/``Dari:`` followed by ``Sent:``/``Dikirim:``…), Apple's
``Begin forwarded message`` is *not* cut (a forward is content). A ``-- ``
signature separator and mobile footers (``Dikirim dari iPhone saya``) end the
text too. Lines starting with ``>`` are dropped. If stripping would leave
nothing (a citizen who wrote below the quote, or only quoted), the original
text is kept. A closing block without a delimiter ("Salam,\nBudi S.\nJl. Melati 7") stays:
the normaliser drops it where the report turns out anonymous (:mod:`normalizer.signature`), which the
mail alone cannot tell (the text may ask for it).
"""

from __future__ import annotations

import re

__all__ = ["strip_quotes"]

_ATTRIBUTION = re.compile(
    r"^\s*(pada|on|am|le|el)\b.{0,200}\b(menulis|wrote|schrieb|a écrit|escribió)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(pada|on)\s+\S.*$", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r".*\b(menulis|wrote)\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|pesan asli|pesan awal|forwarded message|pesan yang diteruskan)?\s*-{2,}\s*$"
    r"|^\s*_{10,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|dari|von|de)\s*:\*?\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|dikirim|tanggal|date|to|kepada|subject|perihal|subjek|cc|gesendet|an|betreff)\s*:",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(
    r"^--$"
    r"|^\s*(dikirim dari|sent from|get outlook for|dapatkan outlook untuk)\b.{0,80}$",
    re.IGNORECASE,
)
_FORWARD = re.compile(r"^\s*-{2,}\s*(forwarded message|pesan yang diteruskan)", re.IGNORECASE)


def _cut_index(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        if _FORWARD.match(stripped):
            return None  # a forwarded message is the complaint itself
        if _ATTRIBUTION.match(stripped) or _ORIGINAL.match(stripped) or _SIGNATURE.match(stripped):
            return i
        if _ATTRIBUTION_START.match(stripped) and i + 1 < len(lines) and _ATTRIBUTION_END.match(lines[i + 1]):
            return i
        if _HEADER_FROM.match(stripped) and any(_HEADER_NEXT.match(n) for n in lines[i + 1 : i + 4]):
            return i
    return None


def strip_quotes(text: str) -> str:
    """The new part of a reply: quotes and signature removed, original kept if nothing would remain.

    Iterative (a mail of thousands of ``--`` lines must not recurse once per line).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    previous = text  # the text one level up, kept when nothing readable remains below
    while True:
        cut = _cut_index(lines)
        kept = lines if cut is None else lines[:cut]
        result = "\n".join(ln for ln in kept if not ln.lstrip().startswith(">")).strip()
        current = "\n".join(lines)
        if result:
            return result
        if cut is None:
            return current.strip() or previous.strip()
        # bottom-posting: the citizen wrote below the quote; look at what follows the cut
        previous, lines = current, lines[cut + 1 :]
