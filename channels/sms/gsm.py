"""GSM 03.38 default alphabet: decides whether a reply fits 7-bit SMS or needs UCS-2."""

from __future__ import annotations

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC)
_EXT = frozenset(GSM7_EXTENDED)


def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC or ch in _EXT for ch in text)


def gsm7_length(text: str) -> int:
    """Septets used: extension characters take two."""
    return sum(2 if ch in _EXT else 1 for ch in text)


def sms_parts(text: str) -> int:
    """How many SMS a text takes (153/67 per part once concatenated)."""
    if is_gsm7(text):
        n = gsm7_length(text)
        return 1 if n <= 160 else -(-n // 153)
    n = len(text.encode("utf-16-be")) // 2
    return 1 if n <= 70 else -(-n // 67)
