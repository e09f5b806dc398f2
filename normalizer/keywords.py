"""Keywords citizens type at the start of a message: privacy flags and 1708 commands.

``ANONIM`` / ``RAHASIA`` (any case, also ``#anonim``, ``/anonim``, ``[ANONIM]``,
``(RAHASIA)``, ``/anonim@LaporBot``) count only at the very start of the text,
one or both, in either order, separated by spaces, punctuation or newlines.

Disguises do not hide them: both are read on the :func:`normalizer.fold.fold`
skeleton, so fullwidth ``ＡＮＯＮＩＭ``, ``ANO<ZWJ>NIM``, Cyrillic ``АNONIM`` and
``#Аnonim`` are the keyword. When in doubt the report is anonymous, so these
count too, at the same place (the start):

- the keyword spelled out with one separator (space, dot, dash, underscore,
  ``*``, ``·``) between its letters: ``R A H A S I A``, ``A.N.O.N.I.M``, ``ano nim``;
  a citizen who writes a keyword that way means it, and no other text starts so;
- a near miss: a word of 5+ letters that, once repeated letters are squeezed
  (``anonimmm``), is one edit (insertion, deletion, substitution, swap of two
  neighbours) from ``anonim``/``anonym``/``rahasia`` (``anonmi``, ``annonim``,
  ``rahsia``), or an English or mixed spelling (``anonymous``, ``anonimus``). No
  Indonesian word is that close; ``Anonimnya`` and ``Rahasiakan`` stay words.

A request for anonymity in plain words anywhere in the text ("jangan sebut nama
saya") is :func:`normalizer.anonymity.asks_for_anonymity`'s job: it does not
strip anything, so it lives beside this.

Commands: ``CEK <id>`` (also ``cek``, ``/cek``, ``STATUS``), ``INFO <id> <text>``
(also ``/info``) and ``BALAS <id> <text>`` (also ``/balas``: the citizen answers their open
complaint; the router decides whether it is a response or a follow-up). The tracking ID may be typed with spaces, dots or dashes, and
in any script's digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from normalizer.fold import fold
from normalizer.tracking import TRACKING_ID_LENGTH, TrackingCheck, check_tracking_id

__all__ = ["Command", "CommandError", "PrivacyKeywords", "extract_privacy_keywords", "parse_command"]


class PrivacyKeywords(NamedTuple):
    anonymous: bool
    confidential: bool
    remaining_text: str


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
_LEADING_SEPARATORS = re.compile(r"^[\s:;,.!\-–—|>]+")
_SCAN_PREFIX = 1024  # keywords are at the start: the skeleton of this much is enough


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


def extract_privacy_keywords(text: str) -> PrivacyKeywords:
    """Flags typed at the start of ``text`` and the text without them.

    >>> extract_privacy_keywords("RAHASIA, anonim: jalan rusak")
    PrivacyKeywords(anonymous=True, confidential=True, remaining_text='jalan rusak')
    """
    text = text or ""
    folded = fold(text[:_SCAN_PREFIX])
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
    rest = text[folded.origin(pos) :] if pos < len(view) else text[len(text[:_SCAN_PREFIX]) :]
    return PrivacyKeywords(anonymous, confidential, _LEADING_SEPARATORS.sub("", rest))


Verb = Literal["cek", "info", "balas"]
CommandError = Literal["missing_id", "wrong_length", "not_digits", "bad_check_digit", "missing_text"]

_COMMAND_MESSAGES: dict[str, tuple[str, str]] = {
    "missing_id": (
        "Untuk cek status, kirim CEK spasi nomor tiket 10 angka dari tanda terima Anda.",
        "To check the status, send CEK followed by the 10-digit ticket number from your receipt.",
    ),
    "missing_text": (
        "Untuk menambah keterangan, kirim INFO spasi nomor tiket spasi keterangan Anda.",
        "To add details, send INFO, the ticket number, then your details.",
    ),
    "balas_missing_id": (
        "Untuk menanggapi, kirim BALAS spasi nomor tiket 10 angka spasi tanggapan Anda.",
        "To answer, send BALAS followed by the 10-digit ticket number and your answer.",
    ),
    "balas_missing_text": (
        "Untuk menanggapi, kirim BALAS spasi nomor tiket spasi tanggapan Anda.",
        "To answer, send BALAS, the ticket number, then your answer.",
    ),
}


@dataclass(frozen=True, slots=True)
class Command:
    """A 1708 command. ``error`` set means the gateway should answer with ``message_id``/``message_en``."""

    verb: Verb
    tracking_id: str | None = None
    text: str = ""
    error: CommandError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message_id(self) -> str:
        return self._messages()[0]

    @property
    def message_en(self) -> str:
        return self._messages()[1]

    def _messages(self) -> tuple[str, str]:
        if self.error is None:
            return "", ""
        if self.verb == "balas" and f"balas_{self.error}" in _COMMAND_MESSAGES:
            return _COMMAND_MESSAGES[f"balas_{self.error}"]
        if self.error in _COMMAND_MESSAGES:
            return _COMMAND_MESSAGES[self.error]
        check = TrackingCheck(None, self.error)  # the tracking ID's own error kinds
        return check.message_id, check.message_en


_VERBS: dict[str, Verb] = {"cek": "cek", "status": "cek", "info": "info", "balas": "balas"}
_COMMAND = re.compile(r"\s*/?(?P<verb>cek|status|info|balas)(?:@\w+)?(?=$|[\s:#.,\-]|\d)[\s:#.,\-]*", re.IGNORECASE)
# Exactly ten digits, single separators allowed between them, not followed by another digit.
_TEN_DIGITS = re.compile(rf"\d(?:[ .\-]?\d){{{TRACKING_ID_LENGTH - 1}}}(?![ .\-]?\d)")
_DIGIT_RUN = re.compile(r"\d[\d .\-]*")
_MAX_GARBAGE_WORDS = 2


def parse_command(text: str) -> Command | None:
    """The command at the start of ``text``, or ``None`` when the text is not a command.

    ``CEK`` alone gives ``error="missing_id"``; an ID that is too short, long, not
    digits or fails the check digit gives that error. A text that merely starts
    with the word ("Cek dulu jalan di depan rumah saya…") is a complaint: ``None``.
    """
    text = text or ""
    folded = fold(text[:_SCAN_PREFIX])  # the command and its ID are at the start
    view = folded.text
    m = _COMMAND.match(view)
    if not m:
        return None
    verb = _VERBS[m["verb"].casefold()]
    tail = view[m.end() :]
    base = m.end() + len(tail) - len(tail.lstrip())
    rest = tail.strip()
    if not rest and len(text) <= _SCAN_PREFIX:
        return Command(verb, error="missing_id")

    tid = _TEN_DIGITS.match(rest)
    if tid:
        candidate, after = tid.group(), base + tid.end()
    elif run := _DIGIT_RUN.match(rest):
        candidate, after = run.group().rstrip(" .-"), base + run.end()
        if rest[run.end() : run.end() + 1].isalpha():  # "12345abc": one garbled token
            token, space, _ = rest.partition(" ")
            candidate, after = token, base + len(token) + len(space)
    elif len(rest.split()) <= _MAX_GARBAGE_WORDS and len(text) <= _SCAN_PREFIX:
        return Command(verb, error="not_digits")
    else:
        return None
    after_text = text[folded.origin(after) :] if after < len(view) else text[len(text[:_SCAN_PREFIX]) :]

    check = check_tracking_id(candidate)
    if not check.ok:
        return Command(verb, error=check.error)
    if verb == "cek":
        return Command("cek", check.tracking_id)
    details = _LEADING_SEPARATORS.sub("", after_text).strip()
    if not details:
        return Command(verb, check.tracking_id, error="missing_text")
    return Command(verb, check.tracking_id, details)
