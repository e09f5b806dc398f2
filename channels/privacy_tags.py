"""The privacy tags a citizen types at the start of a text: ``ANONIM`` / ``RAHASIA``, one home for the grammar.

``ANONIM`` / ``RAHASIA`` (any case, also ``#anonim``, ``/anonim``, ``[ANONIM]``, ``(RAHASIA)``,
``/anonim@LaporBot``) count only at the very start of the text, one or both, in either order, separated by
spaces, punctuation or newlines. When in doubt the report is anonymous, so these count too, at the same
place (the start):

- the keyword spelled out with one separator (space, dot, dash, underscore, ``*``, ``·``) between its
  letters: ``R A H A S I A``, ``A.N.O.N.I.M``, ``ano nim``; a citizen who writes a keyword that way means
  it, and no other text starts so;
- a near miss: a word of 5+ letters that, once repeated letters are squeezed (``anonimmm``), is one edit
  (insertion, deletion, substitution, swap of two neighbours) from ``anonim``/``anonym``/``rahasia``
  (``anonmi``, ``annonim``, ``rahsia``), or an English or mixed spelling (``anonymous``, ``anonimus``). No
  Indonesian word is that close; ``Anonimnya`` and ``Rahasiakan`` stay words.

Here in the bottom layer because a channel reads them where it rearranges a text (the mail completer, whose
scanned letter goes before the mail's own words) and the normaliser reads them in every text; the
normaliser passes its disguise-undoing skeleton (``normalizer.fold.fold``) as ``skeleton``, a channel reads
the text as written and leaves a disguised tag to the normaliser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple, Protocol

__all__ = ["LEADING_SEPARATORS", "SCAN_PREFIX", "PrivacyKeywords", "near_keyword", "read_privacy_keywords"]


class PrivacyKeywords(NamedTuple):
    anonymous: bool
    confidential: bool
    remaining_text: str


class Skeleton(Protocol):
    """A view of a text to match on, and the way back to the text's own positions."""

    @property
    def text(self) -> str: ...

    def origin(self, i: int) -> int: ...


class _AsWritten(NamedTuple):
    text: str

    def origin(self, i: int) -> int:
        return i


_KEYWORDS = ("anonim", "anonym", "rahasia")
_SPACER = r"[\s.\-_*\u00b7\u2022]"


def _spelled(word: str) -> str:
    """``word`` with at most one separator between its letters (``r a h a s i a``)."""
    return f"{_SPACER}?".join(word)


_WORDS = "|".join(_spelled(w) for w in _KEYWORDS)
_FLAG = re.compile(
    rf"""[\s\W_]*?                              # leading separators (not consumed past a letter/digit)
        (?:
            \[\s*(?P<b>{_WORDS})\s*\]
          | \(\s*(?P<p>{_WORDS})\s*\)
          | [\#/]?(?P<w>{_WORDS})(?:@\w+)?(?![\w-])
        )""",
    re.IGNORECASE | re.VERBOSE,
)
# A word where a keyword could be, for the near-miss check.
_CANDIDATE = re.compile(
    r"[\s\W_]*?(?:\[\s*|\(\s*|[\#/])?(?P<w>[^\W\d_]{4,12})(?:\s*[\])])?(?:@\w+)?(?![\w-])", re.IGNORECASE
)
_NEAR_SPELLINGS = {"anonymous": "anonim", "anonimous": "anonim", "anonimus": "anonim", "anonymus": "anonim",
                   "anynomous": "anonim", "anonymously": "anonim", "anonimously": "anonim"}  # fmt: skip
LEADING_SEPARATORS = re.compile(r"^[\s:;,.!\-–—|>]+")
SCAN_PREFIX = 1024  # keywords are at the start: the skeleton of this much is enough


_REPEATS = re.compile(r"(.)\1+")


def _squeeze(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one insertion, deletion, substitution or neighbour swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return short[i:] == long_[i + 1 :]


def near_keyword(word: str) -> str | None:
    """The keyword a misspelt word stands for (``anonmi`` → ``anonim``), or ``None``."""
    w = word.casefold()
    if w in _NEAR_SPELLINGS:
        return _NEAR_SPELLINGS[w]
    w = _squeeze(w)
    if len(w) < 5:
        return None
    for keyword in _KEYWORDS:
        if _one_edit(w, keyword):
            return "rahasia" if keyword == "rahasia" else "anonim"
    return None


def read_privacy_keywords(text: str, skeleton: Callable[[str], Skeleton] = _AsWritten) -> PrivacyKeywords:
    """Flags typed at the start of ``text`` and the text without them, matched on ``skeleton(text)``.

    >>> read_privacy_keywords("RAHASIA, anonim: jalan rusak")
    PrivacyKeywords(anonymous=True, confidential=True, remaining_text='jalan rusak')
    """
    text = text or ""
    folded = skeleton(text[:SCAN_PREFIX])
    view = folded.text
    anonymous = confidential = False
    pos = 0
    while True:
        m = _FLAG.match(view, pos)
        if m:
            word = re.sub(_SPACER, "", m["b"] or m["p"] or m["w"]).casefold()
        elif (c := _CANDIDATE.match(view, pos)) and (near := near_keyword(c["w"])):
            m, word = c, near
        else:
            break
        if word == "rahasia":
            confidential = True
        else:
            anonymous = True
        pos = m.end()
    if not pos:
        return PrivacyKeywords(False, False, text)
    rest = text[folded.origin(pos) :] if pos < len(view) else text[len(text[:SCAN_PREFIX]) :]
    return PrivacyKeywords(anonymous, confidential, LEADING_SEPARATORS.sub("", rest))
