"""Phone numbers in one form: E.164 digits without '+' (``6281234567890``).

Here, in the bottom layer, so the channels that read a number (a letter's reader) and the normaliser
(which folds other scripts' digits first, :func:`normalizer.pii.normalize_phone`) share one rule.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-.()/_]")


def normalize_phone(s: str, *, mobile: bool = False) -> str | None:
    """``0812-3456-7890`` / ``+62 812…`` / ``62812…`` / ``0062 812…`` / ``+62 (0)812…`` → ``6281234567890``.

    Numbers already in international form for another country are kept as their digits; anything
    that is not a plausible phone number gives ``None``. ``mobile``: only an Indonesian mobile number
    (``62 8…``), which may also be written without its trunk 0 (``812…``), as on a letter's form.
    """
    raw = _SEPARATORS.sub("", s or "")
    if raw.startswith("+"):
        digits, international = raw[1:], True
    elif raw.startswith("00"):
        digits, international = raw[2:], True
    else:
        digits, international = raw, False
    if not digits.isascii() or not digits.isdigit():
        return None
    if digits.startswith("62"):
        national = digits[2:].removeprefix("0")  # "+62 (0)812…"
    elif digits.startswith("0") and not international:
        national = digits[1:]
    elif mobile and digits.startswith("8") and not international:
        national = digits
    elif international and not mobile:
        return digits if 8 <= len(digits) <= 15 else None
    else:
        return None
    if mobile:
        return "62" + national if national.startswith("8") and 8 <= len(national) <= 13 else None
    if not national or national[0] == "0" or not 7 <= len(national) <= 13:
        return None
    return "62" + national
