"""Property-based: any mail, however mangled, completes into a message that can be stored and forwarded.

Random and mutated mails (Unicode headers, RFC 2047 words in random charsets
including utf-7 and utf-16 carrying lone surrogates, random nesting deep and
wide, random body charsets and transfer encodings, truncation, byte flips,
binary garbage) go through ``MailCompleter.fill`` and ``complete``. What must
hold: nothing but :class:`Rejected` escapes, the result serialises to JSON,
no surrogate or control character reaches a one-line field, the reply address
is one strictly valid address or none, and a plain text line in the mail is
in the text.
"""

from __future__ import annotations

import asyncio
import base64
import quopri
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.addresses import valid_address
from channels.email.complete import MailCompleter, raw_message
from channels.message import InboundMessage, Rejected
from gateway.store.blobs import BlobStore

CHARSETS = ["utf-7", "UTF-7", "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "iso-8859-1", "cp1252",
            "shift_jis", "gb2312", "koi8-r", "us-ascii", "x-bogus", "", "utf-8\"; x=\""]  # fmt: skip
MARKER = "Laporan warga penanda 4417 jalan rusak"

budget = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> BlobStore:
    return BlobStore(Path(tmp_path_factory.mktemp("mailprops")) / "blobs")


# ---------------------------------------------------------------- strategies

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
unicode_text = st.text(st.one_of(st.characters(), surrogates), max_size=40)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS))
    if draw(st.booleans()):
        payload = draw(st.binary(max_size=30))
    else:
        text = draw(unicode_text)
        codec = charset.lower() if charset.lower() in ("utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-8") else "utf-8"
        payload = text.encode(codec, "surrogatepass")
    if draw(st.booleans()):
        return f"=?{charset}?b?{base64.b64encode(payload).decode()}?="
    q = quopri.encodestring(payload, header=True).decode("ascii").replace("=\n", "")
    return f"=?{charset}?q?{q}?="


header_text = st.lists(st.one_of(encoded_word(), unicode_text, st.sampled_from(["\r\n", ",", "<", ">", "@", ":"])),
                       max_size=5).map(" ".join)  # fmt: skip
address = st.one_of(
    st.just("budi@example.com"),
    st.from_regex(r"[a-z0-9.]{1,10}@[a-z]{1,8}\.(id|com|example)", fullmatch=True),
    header_text,
)


@st.composite
def from_header(draw: st.DrawFn) -> str:
    return f"{draw(header_text)} <{draw(address)}>" if draw(st.booleans()) else draw(address)


def header_block(draw: st.DrawFn) -> list[str]:
    lines = [f"From: {draw(from_header())}"]
    for name in draw(st.lists(st.sampled_from(["Subject", "Message-ID", "In-Reply-To", "References", "Reply-To",
                                                 "Return-Path", "X-Random"]), max_size=5)):  # fmt: skip
        lines.append(f"{name}: {draw(header_text)}")
    return lines


@st.composite
def leaf(draw: st.DrawFn, marker: str | None = None) -> bytes:
    ctype = draw(st.sampled_from(["text/plain", "text/html", "image/png", "application/octet-stream",
                                  "application/pdf", "text/calendar"])) if marker is None else "text/plain"  # fmt: skip
    charset = draw(st.sampled_from(CHARSETS))
    text = draw(unicode_text)
    cte = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-bogus", ""]))
    if marker is not None:  # a plain text line that must come through
        charset, cte, body = "utf-8", draw(st.sampled_from(["7bit", "", "quoted-printable"])), f"{marker}\n{text}"
    else:
        body = text
    if marker is not None or draw(st.booleans()):
        data = body.encode("utf-8", "surrogatepass")
    else:
        data = draw(st.binary(max_size=200))
    if cte == "base64" and draw(st.booleans()):
        data = base64.encodebytes(data)
    elif cte == "quoted-printable":
        data = quopri.encodestring(data)
    disposition = draw(st.sampled_from(["", "Content-Disposition: attachment; filename=\"a.bin\"\r\n",
                                        "Content-Disposition: inline\r\n"])) if marker is None else ""  # fmt: skip
    head = f"Content-Type: {ctype}; charset=\"{charset}\"\r\n{disposition}"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    return head.encode("utf-8", "surrogatepass") + b"\r\n" + data


@st.composite
def tree(draw: st.DrawFn, depth: int = 0, marker: str | None = None) -> bytes:
    if depth >= 4 or draw(st.integers(0, 2)) == 0:
        return draw(leaf(marker))
    kind = draw(st.sampled_from(["mixed", "alternative", "related", "rfc822"]) if marker is None else st.just("mixed"))
    if kind == "rfc822":
        inner = "\r\n".join(header_block(draw)).encode("utf-8", "surrogatepass")
        return b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n" + draw(tree(depth + 1))
    boundary = f"b{depth}{draw(st.integers(0, 999))}"
    children = [draw(tree(depth + 1, marker)), *draw(st.lists(tree(depth + 1), max_size=3))]
    body = b"".join(b"--%s\r\n%s\r\n" % (boundary.encode(), c) for c in children) + b"--%s--\r\n" % boundary.encode()
    return b"Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\npreamble\r\n%s" % (kind.encode(), boundary.encode(), body)


@st.composite
def deep_chain(draw: st.DrawFn, marker: str | None = None) -> bytes:
    depth = draw(st.integers(1, 400))
    kind = draw(st.sampled_from(["mixed", "related", "alternative"]))
    out = [b'Content-Type: multipart/%s; boundary="d0"\r\n\r\n' % kind.encode()]
    out += [b'--d%d\r\nContent-Type: multipart/%s; boundary="d%d"\r\n\r\n' % (i - 1, kind.encode(), i) for i in range(1, depth)]
    out.append(b"--d%d\r\n%s\r\n" % (depth - 1, draw(leaf(marker))))
    if draw(st.booleans()):
        out += [b"--d%d--\r\n" % i for i in reversed(range(depth))]
    return b"".join(out)


@st.composite
def whole_mail(draw: st.DrawFn, marker: str | None = None) -> bytes:
    head = "\r\n".join(header_block(draw)).encode("utf-8", "surrogatepass")
    body = draw(st.one_of(tree(marker=marker), deep_chain(marker)))
    return head + b"\r\n" + body


@st.composite
def mutated_mail(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(whole_mail()))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        if not raw:
            break
        i = draw(st.integers(0, len(raw) - 1))
        if op == "truncate":
            del raw[i:]
        elif op == "flip":
            raw[i] = draw(st.integers(0, 255))
        elif op == "insert":
            raw[i:i] = draw(st.sampled_from([b"\r\n", b"\r\n\r\n", b"--", b"=?utf-7?q?+2D0-?=", b"\x00", b"\xff\xfe",
                                             b"Content-Type: multipart/mixed; boundary=x\r\n"]))  # fmt: skip
        else:
            del raw[i : i + draw(st.integers(1, 50))]
    return bytes(raw)


# ---------------------------------------------------------------- properties


def complete(raw: bytes, blobs: BlobStore, envelope: str | None) -> InboundMessage | None:
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", raw, blobs, envelope)
    try:
        out = MailCompleter(blobs).fill(msg, raw)
    except Rejected:
        return None
    check(out)
    return out


def check(out: InboundMessage) -> None:
    dumped = out.model_dump_json()
    InboundMessage.model_validate_json(dumped)
    assert not any("\ud800" <= ch <= "\udfff" for ch in dumped)
    assert out.sender is None or valid_address(out.sender) == out.sender
    for value in (out.subject, out.sender, out.reporter.name, *map(str, out.reply_context.values())):
        assert value is None or not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value)
    assert out.metadata.get("parsed") is True and out.raw is None


@budget
@given(raw=mutated_mail(), envelope=st.one_of(st.none(), st.just("budi@example.com"), header_text))
def test_any_mangled_mail_completes_or_is_refused(raw: bytes, envelope: str | None, blobs: BlobStore) -> None:
    complete(raw, blobs, envelope)


@budget
@given(raw=st.binary(max_size=3000))
def test_binary_garbage_completes_or_is_refused(raw: bytes, blobs: BlobStore) -> None:
    complete(raw, blobs, "budi@example.com")


@budget
@given(raw=whole_mail(marker=MARKER))
def test_a_plain_text_line_always_comes_through(raw: bytes, blobs: BlobStore) -> None:
    out = complete(raw, blobs, "budi@example.com")
    assert out is not None and out.text
    assert MARKER in out.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_mail())
def test_complete_lets_nothing_but_rejected_escape(raw: bytes, blobs: BlobStore) -> None:
    msg = raw_message("email.imap", "pengaduan@imap", raw, blobs)
    try:
        out = asyncio.run(MailCompleter(blobs).complete(msg))
    except Rejected:
        return
    check(out)


@budget
@given(value=st.one_of(header_text, from_header()))
def test_a_reply_address_is_never_taken_from_a_display_name(value: str, blobs: BlobStore) -> None:
    raw = f"From: {value}\r\nSubject: x\r\n\r\nHalo.\r\n".encode("utf-8", "surrogatepass")
    out = complete(raw, blobs, None)
    assert out is not None
    if out.sender:  # only ever the single address the header names outside any display name
        assert out.sender.count("@") == 1 and "suspicious_from" not in out.review_reasons
