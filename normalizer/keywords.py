"""Keywords citizens type at the start of a message: privacy flags and 1708 commands.

``ANONIM`` / ``RAHASIA`` (any case, also ``#anonim``, ``/anonim``, ``[ANONIM]``,
``(RAHASIA)``, ``/anonim@LaporBot``) count only at the very start of the text,
one or both, in either order, separated by spaces, punctuation or newlines.

Commands: ``CEK <id>`` (also ``cek``, ``/cek``, ``STATUS``) and ``INFO <id> <text>``
(also ``/info``). The tracking ID may be typed with spaces, dots or dashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from normalizer.tracking import TRACKING_ID_LENGTH, TrackingCheck, check_tracking_id

__all__ = ["Command", "CommandError", "PrivacyKeywords", "extract_privacy_keywords", "parse_command"]


class PrivacyKeywords(NamedTuple):
    anonymous: bool
    confidential: bool
    remaining_text: str


_FLAG = re.compile(
    r"""[\s\W_]*?                              # leading separators (not consumed past a letter/digit)
        (?:
            \[\s*(?P<b>anonim|anonym|rahasia)\s*\]
          | \(\s*(?P<p>anonim|anonym|rahasia)\s*\)
          | [\#/]?(?P<w>anonim|anonym|rahasia)(?:@\w+)?(?![\w-])
        )""",
    re.IGNORECASE | re.VERBOSE,
)
_LEADING_SEPARATORS = re.compile(r"^[\s:;,.!\-–—|>]+")


def extract_privacy_keywords(text: str) -> PrivacyKeywords:
    """Flags typed at the start of ``text`` and the text without them.

    >>> extract_privacy_keywords("RAHASIA, anonim: jalan rusak")
    PrivacyKeywords(anonymous=True, confidential=True, remaining_text='jalan rusak')
    """
    anonymous = confidential = False
    pos = 0
    while True:
        m = _FLAG.match(text, pos)
        if not m:
            break
        word = (m["b"] or m["p"] or m["w"]).casefold()
        if word == "rahasia":
            confidential = True
        else:
            anonymous = True
        pos = m.end()
    if not pos:
        return PrivacyKeywords(False, False, text)
    return PrivacyKeywords(anonymous, confidential, _LEADING_SEPARATORS.sub("", text[pos:]))


Verb = Literal["cek", "info"]
CommandError = Literal["missing_id", "wrong_length", "not_digits", "bad_check_digit", "missing_text"]

_COMMAND_MESSAGES: dict[str, tuple[str, str]] = {
    "missing_id": (
        "Untuk cek status, kirim CEK spasi nomor lacak 10 angka dari tanda terima Anda.",
        "To check the status, send CEK followed by the 10-digit tracking number from your receipt.",
    ),
    "missing_text": (
        "Untuk menambah keterangan, kirim INFO spasi nomor lacak spasi keterangan Anda.",
        "To add details, send INFO, the tracking number, then your details.",
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
        if self.error in _COMMAND_MESSAGES:
            return _COMMAND_MESSAGES[self.error]
        check = TrackingCheck(None, self.error)  # the tracking ID's own error kinds
        return check.message_id, check.message_en


_VERBS: dict[str, Verb] = {"cek": "cek", "status": "cek", "info": "info"}
_COMMAND = re.compile(r"\s*/?(?P<verb>cek|status|info)(?:@\w+)?(?=$|[\s:#.,\-]|\d)[\s:#.,\-]*", re.IGNORECASE)
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
    m = _COMMAND.match(text or "")
    if not m:
        return None
    verb = _VERBS[m["verb"].casefold()]
    rest = text[m.end() :].strip()
    if not rest:
        return Command(verb, error="missing_id")

    tid = _TEN_DIGITS.match(rest)
    if tid:
        candidate, after = tid.group(), rest[tid.end() :]
    elif run := _DIGIT_RUN.match(rest):
        candidate, after = run.group().rstrip(" .-"), rest[run.end() :]
        if after[:1].isalpha():  # "12345abc": one garbled token
            token, _, after = rest.partition(" ")
            candidate = token
    elif len(rest.split()) <= _MAX_GARBAGE_WORDS:
        return Command(verb, error="not_digits")
    else:
        return None

    check = check_tracking_id(candidate)
    if not check.ok:
        return Command(verb, error=check.error)
    if verb == "cek":
        return Command("cek", check.tracking_id)
    details = _LEADING_SEPARATORS.sub("", after).strip()
    if not details:
        return Command("info", check.tracking_id, error="missing_text")
    return Command("info", check.tracking_id, details)
