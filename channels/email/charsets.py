"""Decoding mail text whatever its label says.

Mail clients mislabel: Windows-1252 sent as ISO-8859-1 (curly quotes, €),
UTF-8 sent as US-ASCII, unknown or misspelt charset names. We follow the
WHATWG rule (latin-1 means windows-1252), try UTF-8 when the label fails, and
never raise: the last resort keeps every byte readable with replacements.
"""

from __future__ import annotations

import codecs
import re
from email.header import decode_header, make_header

__all__ = ["clean_line", "clean_text", "decode_bytes", "decode_header_value"]

# lone surrogates (utf-7 and utf-16 words decode to them) cannot be encoded as UTF-8: journal and JSON refuse them
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 and C1 controls except tab and newline, and DEL: nothing a citizen types, everything a terminal obeys
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))  # fmt: skip
_WIDE = ("utf-16", "utf-32", "utf-7")  # strict UTF-8 would "succeed" on their ASCII range: no fallback for them

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


def clean_text(text: str) -> str:
    """``text`` safe to store and show: lone surrogates become U+FFFD, control characters (not tab/newline) go."""
    text = _SURROGATES.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def clean_line(text: str) -> str:
    """A one-line value (header, id, address): as :func:`clean_text`, and every line break or control a space."""
    return " ".join(_LINE_CONTROLS.sub(" ", _SURROGATES.sub("\ufffd", text)).split())


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in its declared ``charset``, with sensible fallbacks; never raises, never a surrogate.

    A byte-order mark decides over the label (a UTF-16 body with a little-endian BOM is little-endian).
    """
    declared = _codec(charset)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _SURROGATES.sub("\ufffd", data[len(bom) :].decode(codec, errors="replace"))
    if declared and declared.startswith(_WIDE):
        return _SURROGATES.sub("\ufffd", _decode_quietly(data, declared))
    tried: list[str] = []
    for cs in (declared, "utf-8", "cp1252"):
        if cs is None or cs in tried:
            continue
        tried.append(cs)
        try:
            return _SURROGATES.sub("\ufffd", data.decode(cs))
        except UnicodeDecodeError:
            continue
        except Exception:  # a codec that breaks on hostile bytes in its own way
            continue
    return _SURROGATES.sub("\ufffd", _decode_quietly(data, declared or "utf-8"))


def _decode_quietly(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec, errors="replace")
    except Exception:
        return data.decode("utf-8", errors="replace")


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
    return clean_line(text)
