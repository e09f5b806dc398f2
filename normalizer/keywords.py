"""Keywords citizens type at the start of a message: privacy flags and 1708 commands.

``ANONIM`` / ``RAHASIA`` at the very start of the text: the grammar is
:mod:`channels.privacy_tags` (one home: the mail completer reads it too), read
here on the :func:`normalizer.fold.fold` skeleton, so disguises do not hide
them: fullwidth ``ＡＮＯＮＩＭ``, ``ANO<ZWJ>NIM``, Cyrillic ``АNONIM`` and
``#Аnonim`` are the keyword.

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
from typing import Literal

from channels.privacy_tags import LEADING_SEPARATORS, SCAN_PREFIX, PrivacyKeywords, read_privacy_keywords
from normalizer.fold import fold
from normalizer.tracking import TRACKING_ID_LENGTH, TrackingCheck, check_tracking_id

__all__ = ["Command", "CommandError", "PrivacyKeywords", "extract_privacy_keywords", "parse_command"]


def extract_privacy_keywords(text: str) -> PrivacyKeywords:
    """Flags typed at the start of ``text`` and the text without them, disguised ones included.

    >>> extract_privacy_keywords("RAHASIA, anonim: jalan rusak")
    PrivacyKeywords(anonymous=True, confidential=True, remaining_text='jalan rusak')
    """
    return read_privacy_keywords(text, fold)


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
    folded = fold(text[:SCAN_PREFIX])  # the command and its ID are at the start
    view = folded.text
    m = _COMMAND.match(view)
    if not m:
        return None
    verb = _VERBS[m["verb"].casefold()]
    tail = view[m.end() :]
    base = m.end() + len(tail) - len(tail.lstrip())
    rest = tail.strip()
    if not rest and len(text) <= SCAN_PREFIX:
        return Command(verb, error="missing_id")

    tid = _TEN_DIGITS.match(rest)
    if tid:
        candidate, after = tid.group(), base + tid.end()
    elif run := _DIGIT_RUN.match(rest):
        candidate, after = run.group().rstrip(" .-"), base + run.end()
        if rest[run.end() : run.end() + 1].isalpha():  # "12345abc": one garbled token
            token, space, _ = rest.partition(" ")
            candidate, after = token, base + len(token) + len(space)
    elif len(rest.split()) <= _MAX_GARBAGE_WORDS and len(text) <= SCAN_PREFIX:
        return Command(verb, error="not_digits")
    else:
        return None
    after_text = text[folded.origin(after) :] if after < len(view) else text[len(text[:SCAN_PREFIX]) :]

    check = check_tracking_id(candidate)
    if not check.ok:
        return Command(verb, error=check.error)
    if verb == "cek":
        return Command("cek", check.tracking_id)
    details = LEADING_SEPARATORS.sub("", after_text).strip()
    if not details:
        return Command(verb, check.tracking_id, error="missing_text")
    return Command(verb, check.tracking_id, details)
