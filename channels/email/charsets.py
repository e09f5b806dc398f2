"""Decoding mail text whatever its label says.

Mail clients mislabel: Windows-1252 sent as ISO-8859-1 (curly quotes, €),
UTF-8 sent as US-ASCII, unknown or misspelt charset names. We follow the
WHATWG rule (latin-1 means windows-1252), try UTF-8 when the label fails, and
never raise: the last resort keeps every byte readable with replacements.
"""

from __future__ import annotations

import codecs
from email.header import decode_header, make_header

__all__ = ["decode_bytes", "decode_header_value"]

_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "iso8859-1": "cp1252",
    "us-ascii": "utf-8",  # 8-bit bytes under an ASCII label are nearly always UTF-8
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "utf8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in its declared ``charset``, with sensible fallbacks; never raises."""
    tried: list[str] = []
    for cs in (_codec(charset), "utf-8", "cp1252"):
        if cs is None or cs in tried:
            continue
        tried.append(cs)
        try:
            return data.decode(cs)
        except UnicodeDecodeError:
            continue
    return data.decode(_codec(charset) or "utf-8", errors="replace")


def decode_header_value(value: str | bytes | None) -> str:
    """An RFC 2047 header value as text, tolerant of raw 8-bit bytes and bad encoded words."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = decode_bytes(value, "utf-8")
    try:
        parts = decode_header(value)
        out = []
        for chunk, cs in parts:
            out.append(decode_bytes(chunk, cs) if isinstance(chunk, bytes) else chunk)
        text = "".join(out)
    except Exception:
        try:
            text = str(make_header(decode_header(value)))
        except Exception:
            text = value
    return " ".join(text.split())
