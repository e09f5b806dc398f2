"""Tracking IDs: what the citizen sees and types back (``CEK 1234567890``).

A tracking ID is 9 random digits (first one non-zero, drawn from the kernel CSPRNG, so
IDs are not enumerable) followed by a Damm check digit. Damm catches every
single-digit error and every adjacent transposition, so a mistyped ID is
answered "check the number" instead of silently looking up someone else's
complaint. The Damm table comes from python-stdnum.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from stdnum import damm

from normalizer.randomness import random_below

__all__ = ["TRACKING_ID_LENGTH", "TrackingCheck", "TrackingError", "check_tracking_id", "new_tracking_id"]

TRACKING_ID_LENGTH = 10
TrackingError = Literal["wrong_length", "not_digits", "bad_check_digit"]

# What citizens put between digit groups: spaces, dashes, dots, underscores, slashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015._/]+")

_MESSAGES: dict[TrackingError, tuple[str, str]] = {
    "wrong_length": (
        "Nomor tiket terdiri dari 10 angka. Mohon periksa kembali nomor pada tanda terima Anda.",
        "A ticket number has 10 digits. Please check the number on your receipt.",
    ),
    "not_digits": (
        "Nomor tiket hanya berisi angka (10 angka). Mohon periksa kembali.",
        "A ticket number contains only digits (10 of them). Please check it.",
    ),
    "bad_check_digit": (
        "Nomor tiket tidak valid, mungkin ada angka yang salah ketik. Mohon periksa kembali.",
        "This ticket number is not valid; a digit may be mistyped. Please check it.",
    ),
}


@dataclass(frozen=True, slots=True)
class TrackingCheck:
    """Result of :func:`check_tracking_id`: the normalized ID, or an error kind and citizen-facing messages."""

    tracking_id: str | None
    error: TrackingError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message_id(self) -> str:
        """Short Indonesian explanation for the citizen ('' when ok)."""
        return _MESSAGES[self.error][0] if self.error else ""

    @property
    def message_en(self) -> str:
        """Short English explanation for the citizen ('' when ok)."""
        return _MESSAGES[self.error][1] if self.error else ""


def new_tracking_id() -> str:
    """A fresh 10-digit tracking ID: 9 random digits (first non-zero) + Damm check digit."""
    body = str(random_below(9 * 10**8) + 10**8)
    return body + damm.calc_check_digit(body)


def check_tracking_id(s: str) -> TrackingCheck:
    """Normalize what a citizen typed ("123 456 7890", "123-456-789-0") and validate it."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", s or "")).removeprefix("#")
    if not compact.isascii() or not compact.isdigit():
        return TrackingCheck(None, "wrong_length" if not compact else "not_digits")
    if len(compact) != TRACKING_ID_LENGTH:
        return TrackingCheck(None, "wrong_length")
    if not damm.is_valid(compact):
        return TrackingCheck(None, "bad_check_digit")
    return TrackingCheck(compact)
