"""Undo disguises before anything looks for keywords or personal data.

Two views of a text, for two jobs:

:func:`canonical` is what a forwarded body becomes: lone surrogates become
U+FFFD (so it can always be encoded), format characters (Unicode category Cf:
ZWSP, ZWJ, ZWNJ, LRM/RLM, LRO/RLO/PDF and the isolates, BOM, word joiner, soft
hyphen, tag characters, …) and the invisible Hangul fillers are removed, and
the rest is NFKC-normalised (fullwidth ``ＡＮＯＮＩＭ`` → ``ANONIM``, ``０８１２`` →
``0812``). One exception: a ZWJ *between two emoji* stays, so ``👨‍👩‍👧`` keeps
its meaning; there it can hide no letter or digit.

:func:`fold` is what detectors read, a *skeleton* that is never forwarded:
every format character, invisible filler and combining mark dropped, and
then, character by character, anything that reads as an ASCII letter or digit
made one: compatibility forms (NFKC of one character, e.g. fullwidth and
mathematical letters), Latin letters with accents (their base letter), Latin
look-alikes from other scripts (Cyrillic ``А``, Greek ``Ο``, Armenian ``օ``,
Cherokee ``Ꭺ``, small capitals ``ᴀ``: the table :data:`LOOKALIKES`), and the
decimal digits of every script (Arabic-Indic ``٠٨١٢``, Devanagari ``०८``,
Thai, …). Case is kept. The :class:`Folded` result maps each of its positions
back to the original string, so a hit found in the skeleton is masked in the
text as written, hidden characters inside the hit included.

Both are pure, never raise on any ``str`` (surrogates included), and are free
for ASCII text (the common case): it is returned as it is.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["FORMAT_CHARS", "LOOKALIKES", "Folded", "canonical", "fold"]

# Every Unicode Cf code point (Unicode 14, plus the Egyptian controls up to U+1343F
# that Unicode 15 added), as a regex class body; tests/normalizer/test_fold.py checks it.
FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# Letters that render as nothing: Hangul fillers; also dropped from bodies.
_FILLERS = "\u115f\u1160\u3164\uffa0"
_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_SURROGATE = re.compile("[\ud800-\udfff]")
# Format characters and fillers, except a ZWJ with an emoji (or VS16 / skin tone) before and an emoji after.
_INVISIBLE = re.compile(
    f"[{FORMAT_CHARS.replace(chr(0x200B) + '-' + chr(0x200F), chr(0x200B) + chr(0x200C) + chr(0x200E) + chr(0x200F))}"
    f"{_FILLERS}]|(?<![{_EMOJI}\ufe0f])\u200d|\u200d(?![{_EMOJI}])"
)
_ANY_INVISIBLE = re.compile(f"[{FORMAT_CHARS}{_FILLERS}]")

# Latin look-alikes from other scripts (after NFKC and accent stripping), by what they look like.
_LOOKALIKE_PAIRS = (
    ("АВЕКМНОРСТХУЅІЈԚԜҮҺӀЬ", "ABEKMHOPCTXYSIJQWYhIb"),  # Cyrillic capitals
    ("аеорсухѕіјԁԛԝһүӏькмтп", "aeopcyxsijdqwhylbkmtn"),  # Cyrillic small
    ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹͿ", "ABEZHIKMNOPTYXCJ"),  # Greek capitals
    ("αεικνορτυχϲϳ", "aeikvoptuxcj"),  # Greek small
    ("ՏՕՍօսոհցզ", "SOUounhgq"),  # Armenian
    ("ᎪᏴᏟᎬᎻᎫᏦᎷᏢᏚᎢᏔᏃᎠᏀᏞᏒᏙ", "ABCEHJKMPSTWZDGLRV"),  # Cherokee
    ("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢıɑɡɩʋ", "abcdefghijklmnoprstuvwyziagiu"),  # small capitals, other Latin forms
)
LOOKALIKES: dict[str, str] = {src: dst for pair in _LOOKALIKE_PAIRS for src, dst in zip(*pair, strict=True)}
_DROP = "\ufdd0"  # a noncharacter: what the fold table gives for characters the skeleton drops


class _FoldTable(dict[int, str]):
    """``str.translate`` table computed lazily, one code point at a time (then cached)."""

    def __missing__(self, cp: int) -> str:
        value = self[cp] = _fold_char(chr(cp))
        return value


def _fold_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Mn", "Me") or ch in _FILLERS or ch == _DROP:
        return _DROP
    if cat == "Cs":
        return ch
    if cat == "Nd":
        return str(unicodedata.decimal(ch))
    compat = unicodedata.normalize("NFKC", ch)
    if len(compat) != 1:
        return ch
    base = unicodedata.normalize("NFD", compat)[0]
    if base.isascii() and (base.isalnum() or compat.isascii()):
        return base
    if unicodedata.category(compat) == "Nd":
        return str(unicodedata.decimal(compat))
    return LOOKALIKES.get(base, ch)


_TABLE = _FoldTable()
_KEPT_RUN = re.compile(f"[^{_DROP}]+")


@dataclass(frozen=True, slots=True)
class Folded:
    """The skeleton of a text and the way back to the original's positions."""

    text: str
    # Where each kept run starts, in the skeleton and in the original; empty: positions are the same.
    _runs: tuple[int, ...] = ()
    _origins: tuple[int, ...] = ()
    _length: int = 0

    def origin(self, i: int) -> int:
        """The original position of skeleton position ``i`` (``len(text)`` maps to the original's end)."""
        if not self._runs:
            return i
        if i >= len(self.text):
            return self._length
        k = bisect.bisect_right(self._runs, i) - 1
        return self._origins[k] + (i - self._runs[k])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering skeleton ``[start, end)``: dropped characters inside it included."""
        if end <= start:
            return self.origin(start), self.origin(start)
        return self.origin(start), self.origin(end - 1) + 1


def fold(s: str) -> Folded:
    """The detectors' skeleton of ``s`` (see the module docstring)."""
    if s.isascii():
        return Folded(s)
    t = s.translate(_TABLE)
    if _DROP not in t:
        return Folded(t)
    parts, runs, origins, pos = [], [], [], 0
    for m in _KEPT_RUN.finditer(t):
        runs.append(pos)
        origins.append(m.start())
        parts.append(m.group())
        pos += m.end() - m.start()
    if not runs:
        return Folded("", (0,), (len(s),), len(s))
    return Folded("".join(parts), tuple(runs), tuple(origins), len(s))


def canonical(s: str) -> str:
    """``s`` as it may be forwarded: encodable, no hidden characters, NFKC (see the module docstring)."""
    if s.isascii():
        return s
    s = _SURROGATE.sub("\ufffd", s)
    for _ in range(3):  # NFKC can leave a ZWJ without its emoji neighbour; stable after one more round
        s = unicodedata.normalize("NFKC", _INVISIBLE.sub("", s))
        if not _INVISIBLE.search(s):
            break
    return s


def has_invisible(s: str) -> bool:
    """Whether ``s`` holds any format character or invisible filler (an emoji ZWJ counts)."""
    return bool(_ANY_INVISIBLE.search(s))
