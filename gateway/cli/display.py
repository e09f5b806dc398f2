"""Message-derived text made safe to show an operator (``log``, ``show``, ``review``, ``scan``).

Anything that came from a sender (a contact, a file name, a reason quoting a header, a record
field) can carry terminal escape sequences (ESC, CSI, CR, BS, BEL, the C1 controls), bidi
overrides that reorder what the operator reads, or rich markup such as ``[/]`` that makes the
console raise. Every CLI output of such data goes through this module:

- :func:`safe_text` maps a value to a string with no control, surrogate or bidi-control code
  point left: C0 controls and DEL become their visible Unicode "control pictures" (ESC → ``␛``),
  the others a visible ``\\uXXXX``. The text stays readable; nothing is dropped silently.
- :func:`safe_cell` wraps it as a :class:`rich.text.Text`, so rich never parses it as markup
  or emoji codes.
- :func:`safe_json` is ``json.dumps`` whose output carries no such code point either (they are
  written as JSON ``\\uXXXX`` escapes, so the output still parses to the same values).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from rich.text import Text

# Bidi embeddings, overrides, isolates and marks: they reorder or hide what follows on the line.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Categories never shown raw: controls, surrogates, line/paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_PICTURE_BASE = 0x2400  # U+2400 SYMBOL FOR NULL .. U+241F SYMBOL FOR UNIT SEPARATOR
_DEL_PICTURE = "\u2421"  # ␡


def needs_escape(ch: str) -> bool:
    """True for a code point that must not reach a terminal raw."""
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in _ESCAPED_CATEGORIES


def _visible(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x20:
        return chr(_PICTURE_BASE + cp)
    if cp == 0x7F:
        return _DEL_PICTURE
    return f"\\u{cp:04x}"


def safe_text(value: object, *, newlines: bool = False) -> str:
    """``value`` as text an operator's terminal shows as it is (``None`` → ``""``).

    With ``newlines`` a line feed is kept (multi-line cells); otherwise it is shown as ``␊``.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not any(needs_escape(ch) for ch in text):
        return text
    return "".join(
        ch if (newlines and ch == "\n") or not needs_escape(ch) else _visible(ch) for ch in text
    )


def safe_cell(value: object, style: str = "", *, newlines: bool = False) -> Text:
    """:func:`safe_text` as a rich ``Text``: printed literally, never parsed as markup."""
    return Text(safe_text(value, newlines=newlines), style=style)


def safe_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, ...)`` with every unsafe code point written as ``\\uXXXX``.

    Outside strings JSON is ASCII, so these code points can only sit inside string literals,
    where the escape means the same character: the output parses back to ``value``.
    """
    kwargs.setdefault("ensure_ascii", False)
    out = json.dumps(value, **kwargs)
    if not any(needs_escape(ch) for ch in out if ch != "\n"):
        return out
    # every escaped code point is in the BMP, so one \\uXXXX is its JSON spelling
    return "".join(ch if ch == "\n" or not needs_escape(ch) else f"\\u{ord(ch):04x}" for ch in out)
