"""Best-effort reading of a mail the MIME parser must not or could not read.

Two jobs, both one linear pass over the bytes and no recursion:

* :func:`too_deep` — nesting checked *before* the stdlib parser recurses into
  it (a boundary stack: a declaration pushes, a delimiter of an outer
  boundary pops back to it, so wide mails are not mistaken for deep ones).
* :func:`salvage` — the header block as a headers-only ``Message`` and the
  text-looking parts found by a flat scan over delimiter lines (any declared
  boundary), decoded leniently (base64, quoted-printable, charset with
  replacement). Attachments are skipped; the raw mail stays in the journal.
"""

from __future__ import annotations

import binascii
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message

from channels.email.charsets import clean_text, decode_bytes
from channels.email.htmltext import html_to_text

__all__ = ["Salvaged", "header_message", "salvage", "too_deep"]

MAX_HEADER_BYTES = 256 * 1024
MAX_HEADERS = 500
MAX_BOUNDARIES = 10_000
_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.IGNORECASE)
_RFC822 = re.compile(rb"^content-type:[ \t]*message/rfc822", re.IGNORECASE | re.MULTILINE)
_HEADER_LINE = re.compile(rb"^([!-9;-~]{1,100}):[ \t]?(.*)$")
_CTYPE = re.compile(rb"^[ \t]*([!-~]{1,100}?/[!-~]{1,100}?)[ \t]*(?:;|$)")
_CHARSET = re.compile(rb"""charset\s*=\s*"?([^"\s;]{1,64})""", re.IGNORECASE)
_NOT_B64 = re.compile(rb"[^A-Za-z0-9+/]")


def _delimiter(line: bytes) -> tuple[bytes, bool] | None:
    """``(boundary, closing)`` when ``line`` looks like a MIME delimiter line."""
    if not line.startswith(b"--"):
        return None
    token = line[2:].rstrip()
    if token.endswith(b"--") and len(token) > 2:
        return token[:-2], True
    return (token, False) if token else None


def too_deep(raw: bytes, max_depth: int) -> bool:
    """True when multipart or message/rfc822 nesting in ``raw`` goes past ``max_depth``."""
    if len(_RFC822.findall(raw, 0, len(raw))) > max_depth:
        return True
    stack: list[bytes] = []
    for line in raw.splitlines():
        m = _BOUNDARY.search(line) if b"=" in line else None
        if m:
            stack.append(m.group(1) or m.group(2))
            if len(stack) > max_depth:
                return True
            continue
        d = _delimiter(line)
        if d and d[0] in stack:
            pos = len(stack) - 1 - stack[::-1].index(d[0])
            del stack[pos + (0 if d[1] else 1) :]
    return False


@dataclass
class Salvaged:
    headers: Message
    text: str = ""
    texts: list[str] = field(default_factory=list)


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    first = raw[:1000].lstrip(b"\r\n").split(b"\n", 1)[0]
    if not _HEADER_LINE.match(first.rstrip(b"\r")):
        return b"", raw  # no header block at all: all of it is body
    head = raw[:MAX_HEADER_BYTES]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    if not ends:
        return head, raw[len(head) :]
    end = min(ends)
    sep = 4 if head[end : end + 4] == b"\r\n\r\n" else 2
    return raw[:end], raw[end + sep :]


def _header_lines(head: bytes) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + b" " + line.strip())
            continue
        m = _HEADER_LINE.match(line)
        if m and len(out) < MAX_HEADERS:
            out.append((m.group(1).decode("ascii"), m.group(2).strip()))
    return out


def header_message(head: bytes) -> Message:
    """A headers-only compat32 ``Message`` built by hand (no parser involved), as the parser would store it."""
    msg = Message()
    for name, value in _header_lines(head):
        msg[name] = value.decode("ascii", "surrogateescape")
    return msg


@dataclass
class _Part:
    ctype: bytes = b"text/plain"
    encoding: bytes = b""
    charset: str | None = None
    attachment: bool = False
    lines: list[bytes] = field(default_factory=list)

    @classmethod
    def from_headers(cls, lines: list[tuple[str, bytes]]) -> _Part:
        part = cls()
        for name, value in lines:
            key = name.lower()
            if key == "content-type":
                m = _CTYPE.match(value)
                part.ctype = m.group(1).lower() if m else b"application/octet-stream"
                cs = _CHARSET.search(value)
                part.charset = cs.group(1).decode("ascii", "replace") if cs else None
            elif key == "content-transfer-encoding":
                part.encoding = value.strip().lower()
            elif key == "content-disposition":
                part.attachment = value.strip().lower().startswith(b"attachment")
        return part

    def text(self) -> str:
        if self.attachment or self.ctype not in (b"text/plain", b"text/html"):
            return ""
        data = b"\n".join(self.lines)
        try:
            if self.encoding == b"base64":
                clean = _NOT_B64.sub(b"", data)
                data = binascii.a2b_base64(clean[: len(clean) // 4 * 4])
            elif self.encoding == b"quoted-printable":
                data = quopri.decodestring(data)
        except (binascii.Error, ValueError):
            return ""
        text = decode_bytes(data, self.charset)
        return html_to_text(text) if self.ctype == b"text/html" else text


def salvage(raw: bytes, max_chars: int = 100_000) -> Salvaged:
    """The header block and the readable text of ``raw`` without a MIME parse; never raises on content."""
    head, body = _split_head(raw)
    out = Salvaged(headers=header_message(head))
    top = _Part.from_headers(_header_lines(head))
    lines = body.splitlines()
    declared = {m.group(1) or m.group(2) for m in _BOUNDARY.finditer(raw[:MAX_HEADER_BYTES * 40])}
    if len(declared) > MAX_BOUNDARIES:
        declared = set()
    uses_declared = any((d := _delimiter(ln)) and d[0] in declared for ln in lines)

    def is_delimiter(i: int) -> bool:
        d = _delimiter(lines[i])
        if not d:
            return False
        if uses_declared:
            return d[0] in declared
        nxt = lines[i + 1] if i + 1 < len(lines) else b""
        return bool(_HEADER_LINE.match(nxt)) and not d[0].startswith(b"-")

    size = 0
    part, in_headers, part_headers = top, False, []
    for i, line in enumerate(lines):
        if size > max_chars:
            break
        if is_delimiter(i):
            size += len(_flush(part, out))
            part, in_headers, part_headers = _Part(), True, []
            continue
        if in_headers:
            if line.strip():
                if line[:1] in (b" ", b"\t") and part_headers:
                    part_headers[-1] = (part_headers[-1][0], part_headers[-1][1] + b" " + line.strip())
                elif (m := _HEADER_LINE.match(line)) and len(part_headers) < MAX_HEADERS:
                    part_headers.append((m.group(1).decode("ascii"), m.group(2).strip()))
                continue
            part = _Part.from_headers(part_headers)
            # a forwarded message: its own header block follows
            in_headers, part_headers = part.ctype == b"message/rfc822", []
            continue
        part.lines.append(line)
    _flush(part, out)
    out.text = clean_text("\n\n".join(out.texts)).strip()[:max_chars]
    return out


def _flush(part: _Part, out: Salvaged) -> str:
    text = part.text().strip()
    if text:
        out.texts.append(text)
    return text
