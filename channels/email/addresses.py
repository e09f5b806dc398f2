"""Who a receipt may go to: one strictly valid address, never one found in a display name.

The stdlib's lenient ``getaddresses`` happily takes an address out of a
display name once RFC 2047 words are decoded first
(``=?utf-8?q?Budi=0D=0ABcc:_x@evil?= <budi@…>`` → ``x@evil``). So the raw
header is split into mailboxes *before* anything is decoded, the address part
is checked against a strict addr-spec pattern, and the display name is decoded
on its own and only inspected: a name that carries a line break, a control
character or another address, a header with several mailboxes, or an invalid
address makes the header *suspicious*; the caller then answers at the envelope
sender or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header
from email.utils import getaddresses

from channels.email.charsets import clean_line, decode_bytes

__all__ = ["Mailbox", "parse_mailbox", "valid_address"]

MAX_HEADER = 2000  # a From longer than this is not a person's address
# dot-atom local part (atext, plus UTF-8 letters for SMTPUTF8) @ a dotted host name; no quoted strings, no literals
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u00a1-\uffff-]"
_LABEL = r"[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]{0,61}[A-Za-z0-9\u00a1-\uffff])?"
_ADDR = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})+")
_ANY_ADDR = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_BAD = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")  # a tab is whitespace (folding)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_WORD = re.compile(r"=\?[^?\s]{1,64}\?[bBqQ]\?[^?\s]{0,1500}\?=")
_MASK = re.compile("\x01(\\d+)\x01")
# only A-Z are folded: str.lower() and casefold() also make KELVIN SIGN "k" and casefold() makes "ß" "ss",
# so a look-alike mailbox or domain (IDNA2008 keeps straße.id apart from strasse.id) would be the reporter's
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Mailbox:
    """The outcome for one address header: ``address`` is usable for a reply only when not ``suspicious``."""

    address: str | None = None
    name: str | None = None
    suspicious: bool = False


def valid_address(value: str | None) -> str | None:
    """``value`` as an (ASCII) lower-cased address when it is exactly one syntactically valid addr-spec, else None."""
    if not value or len(value) > 254 or _BAD.search(value):
        return None
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not _ADDR.fullmatch(value) or len(value.partition("@")[0]) > 64:
        return None
    return value.translate(ASCII_LOWER)


def parse_mailbox(raw: str | None) -> Mailbox:
    """Parse a raw (undecoded) From/Reply-To/Sender value; an absent header gives an empty, unsuspicious Mailbox."""
    if raw is None or not raw.strip():
        return Mailbox()
    value = _FOLD.sub("", raw)
    if len(value) > MAX_HEADER or _BAD.search(value):
        return Mailbox(suspicious=True)  # a raw CR/LF or control left after unfolding
    # encoded words may hide ':' ',' '@' '<': split mailboxes with each word as an opaque atom
    words = _WORD.findall(value)
    masked = _WORD.sub(lambda m: f"\x01{words.index(m.group(0))}\x01", value)
    try:
        pairs = [(n, a) for n, a in getaddresses([masked]) if a or n]
    except Exception:
        return Mailbox(suspicious=True)
    if len(pairs) != 1 or "\x01" in pairs[0][1]:
        return Mailbox(suspicious=True)
    raw_name = _MASK.sub(lambda m: words[int(m.group(1))], pairs[0][0])
    raw_addr = pairs[0][1]
    address = valid_address(raw_addr)
    name = decode_name(raw_name) if raw_name else ""
    others = {a.translate(ASCII_LOWER).strip(".") for a in _ANY_ADDR.findall(f"{value} {name}")} - {address}
    suspicious = address is None or bool(others) or bool(_BAD.search(name))
    return Mailbox(address=address, name=clean_line(name) or None, suspicious=suspicious)


def decode_name(raw_name: str) -> str:
    """A display name decoded without collapsing what it hides (line breaks, controls); never raises."""
    try:
        return "".join(decode_bytes(c, cs) if isinstance(c, bytes) else c for c, cs in decode_header(raw_name))
    except Exception:
        return raw_name
