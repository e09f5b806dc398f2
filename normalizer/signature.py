"""Find the closing signature block of a message: a valediction, a name, a title, an address, a phone.

"Salam,\\nBudi S.\\nJl. Melati No. 7" at the end of an anonymous reporter's mail or chat names and
locates them however well the name is masked word by word (``[NAMA] S.`` and the street in clear).
:func:`strip_signature` drops such a block; the normaliser uses it where the message is known to be
anonymous (and for every ``body_public``), since a channel cannot know that (the text may ask for it).

A block is cut only when all of this holds, so the complaint itself is never cut:

- it starts at a line that is a valediction ("Salam", "Hormat saya/kami", "Terima kasih", "Wassalam",
  "Wassalamualaikum", "Regards", "Best regards", "Thanks", "Sincerely", "Cheers", "Ttd"…, alone or
  with at most four short words after it: "Salam, Budi S."), a ``--`` delimiter or a mobile footer
  ("Dikirim dari iPhone saya", "Sent from my Android", "Get Outlook for iOS");
- that line is in the last blank-line-separated block of the text (or the last block is all
  signature lines and the line above it a bare valediction: then only that block goes);
- at most :data:`MAX_LINES` lines follow it, each short and shaped like a signature's: a name or a
  title (one or two words, or most words capitalised), an address (``Jl.``, ``RT``, ``Kel.``…), a
  phone or mail address. A sentence ("tolong segera ditangani") or the complaint's place ("Lokasi:
  Jl. Melati 7", "di depan SDN 3") after "Terima kasih." keeps it all.

The result is always a prefix of the text ending at a line boundary (trailing blank lines dropped).
"""

from __future__ import annotations

import re

__all__ = ["MAX_LINES", "signature_start", "strip_signature"]

MAX_LINES = 6  # lines after the valediction: name, title, organisation, address (two), phone
MAX_LINE_CHARS = 60
MAX_WORDS = 8

_VALEDICTION = re.compile(
    r"^\s*(?:"
    r"salam(?:\s+(?:hangat|hormat|saya|kami|sejahtera))?|hormat\s+(?:saya|kami)|"
    r"terima\s*kasih(?:\s+banyak)?|terimakasih|trims|makasih|matur\s+nuwun|"
    r"wassalam(?:u['’]?\s*alaikum|ualaikum)?|wassalamu['’]?alaikum|ttd\.?|tertanda|"
    r"(?:best|kind|warm|warmest)\s+regards|regards|thanks(?:\s+again)?|thank\s+you|many\s+thanks|"
    r"(?:yours\s+)?sincerely|yours\s+(?:faithfully|truly)|cheers"
    r")(?=$|[\s,.!:;\-–—])(?P<rest>.*)$",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^\s*(?:--\s*|(?:dikirim\s+dari|sent\s+from|get\s+outlook\s+for|dapatkan\s+outlook\s+untuk)\b.{0,80})$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*\.?")
_ADDRESS = re.compile(
    r"\b(?:jl|jln|jalan|gg|gang|rt|rw|no|nomor|blok|kel|kec|kab|kota|desa|dusun|perum|komplek|kompleks|"
    r"street|st|road|rd|ave)\b\.?",
    re.IGNORECASE,
)
# the complaint's place, not the reporter's: "Lokasi: Jl. Melati 7", "di depan SDN 3"
_PLACE = re.compile(
    r"^\s*(?:lokasi|lokasinya|tempat|alamat\s+kejadian|kejadian|di|dekat|depan|sekitar|samping|belakang|"
    r"seberang|pojok|ujung|location|place|near|at|in)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(r"(?:\+?\d[\d\s().-]{6,}\d)|(?:\S+@\S+\.\S+)|(?:^\s*@\w+\s*$)|(?:https?://\S+)")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _signature_line(line: str) -> bool:
    """A line a signature is made of (a name, title, address, phone), not a sentence of the complaint."""
    text = line.strip()
    if not text:
        return False
    if len(text) > MAX_LINE_CHARS or "?" in text or _PLACE.match(text):
        return False
    if _CONTACT.search(text) or _ADDRESS.search(text):
        return True
    words = _WORD.findall(text)
    if len(words) > MAX_WORDS:
        return False
    if len(words) <= 2:
        return not text.endswith(("!", ":"))  # "Budi S.", "Ketua RT", "Salam,"; not "Tolong segera!"
    lettered = [w for w in words if w[0].isalpha()]
    capitalised = sum(1 for w in lettered if w[0].isupper())
    return bool(lettered) and capitalised * 3 >= len(lettered) * 2


def _opening(line: str) -> str | None:
    """What kind of signature block ``line`` opens: a ``footer``, a valediction ``named`` ("Salam, Budi"),
    ``bare`` ("Hormat saya,"), or a short ``phrase`` ("Terima kasih atas perhatiannya."); None if none."""
    if len(line) > 4 * MAX_LINE_CHARS:
        return None  # a paragraph, however it starts (and no regex over a megabyte line)
    if _FOOTER.match(line):
        return "footer"
    m = _VALEDICTION.match(line)
    if m is None or len(line.strip()) > MAX_LINE_CHARS:
        return None
    rest = m.group("rest").strip()
    if not _WORD.search(rest):
        return "bare"
    if rest[0] in ",-–—:;":
        return "named" if _signature_line(rest.lstrip(",-–—:; ")) else None
    return "phrase" if len(_WORD.findall(rest)) <= 4 else None


def signature_start(lines: list[str]) -> int | None:
    """The index of the line a closing signature block starts at, or None (see the module docstring)."""
    end = len(lines)
    while end and _is_blank(lines[end - 1]):
        end -= 1
    start = end
    while start and not _is_blank(lines[start - 1]):
        start -= 1  # the last blank-line-separated block is lines[start:end]
    for i in range(max(start, end - MAX_LINES - 1), end):
        kind = _opening(lines[i])
        if kind is None:
            continue
        tail = lines[i + 1 : end]
        if not tail and kind not in ("named", "footer"):
            continue  # a lone "Terima kasih." names nobody: nothing to cut
        if all(_signature_line(t) for t in tail):
            return i
    return _under_a_valediction(lines, start, end)


def _under_a_valediction(lines: list[str], start: int, end: int) -> int | None:
    """The last block when it is all signature lines set apart under a bare valediction ("Hormat saya,",
    a blank line, "Budi S.", "Jl. Melati No. 7"): the valediction stays, what names them goes."""
    if not 0 < end - start <= MAX_LINES or not all(_signature_line(t) for t in lines[start:end]):
        return None
    above = start - 1
    while above >= 0 and _is_blank(lines[above]):
        above -= 1
    return start if above >= 0 and _opening(lines[above]) == "bare" else None


def strip_signature(text: str) -> str:
    """``text`` without its closing signature block (and the blank lines before it), else unchanged."""
    if not text:
        return text
    lines = text.split("\n")
    cut = signature_start(lines)
    if cut is None:
        return text
    while cut and _is_blank(lines[cut - 1]):
        cut -= 1
    return "\n".join(lines[:cut])
