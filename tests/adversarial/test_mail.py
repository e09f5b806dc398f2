"""Hostile mail: poison bytes fail alone and keep their text, replies go only to the real sender.

Each case is a variation of a class in issue 11 (items 1, 3, 4 and 7), built
here rather than copied: lone surrogates through ``utf-7``/``utf-16`` words and
bodies, nesting deep enough to exhaust the stdlib parser, broken structure, a
parser that raises, display names that smuggle addresses or header lines, and
a PDF reader that hangs (it must cost its attachment, never the mail).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from pathlib import Path

import pytest

import channels.email.mime as mime
from channels.email.complete import MailCompleter, raw_message
from channels.email.mime import Limits
from channels.message import InboundMessage
from gateway.store.blobs import BlobStore

CANARY = "Canary Warga Sembilan"  # must never reach a log line or a review reason
ENVELOPE = "budi.real@example.com"


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def mail(*headers: str, body: bytes = b"", ctype: str | None = None) -> bytes:
    head = "\r\n".join(headers)
    if ctype:
        head += f"\r\nContent-Type: {ctype}"
    return head.encode("utf-8") + b"\r\n\r\n" + body


def fill(
    raw: bytes, blobs: BlobStore, envelope: str | None = ENVELOPE, limits: Limits | None = None, **meta: object
) -> InboundMessage:
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", raw, blobs, envelope, **meta)
    out = MailCompleter(blobs, limits).fill(msg, raw)
    out.model_dump_json()  # the journal and the outcome write must always be able to serialise it
    return out


def no_surrogates(msg: InboundMessage) -> None:
    dumped = msg.model_dump_json()
    assert not any("\ud800" <= ch <= "\udfff" for ch in dumped)
    for value in (msg.sender, msg.subject, *map(str, msg.reply_context.values())):
        assert value is None or not any(ord(ch) < 32 or "\ud800" <= ch <= "\udfff" for ch in value)


def assert_private(msg: InboundMessage, caplog: pytest.LogCaptureFixture) -> None:
    assert all(CANARY.lower() not in r.lower() for r in msg.review_reasons)
    assert CANARY.lower() not in caplog.text.lower()


# ---------------------------------------------------------------- lone surrogates (items 1, 3)


@pytest.mark.parametrize(
    "header",
    [
        "Message-ID: <=?utf-7?q?+2D0-?=@mail.example>",
        "Message-ID: =?utf-7?b?KzJEMC0=?=",  # the same word base64-encoded, unbracketed
        "In-Reply-To: <x=?utf-7?q?+3gA-?=@mail.example>",  # a low surrogate alone
        "References: <a@b> =?utf-16-be?b?2D0=?= <c@d>",
        "Subject: Jalan rusak =?utf-7?q?+2D0-?= parah",
        "Subject: =?utf-16?b?//4A2A==?=",  # UTF-16-LE BOM, then a lone high surrogate
        "From: =?utf-7?q?Bu+2D0-di?= <budi.real@example.com>",
    ],
)
def test_header_words_that_decode_to_surrogates_are_cleaned(
    header: str, blobs: BlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raw = mail("From: Budi <budi.real@example.com>", header, "Subject: Lapor", body=f"{CANARY}\r\nJalan berlubang.\r\n".encode())
    out = fill(raw, blobs)
    no_surrogates(out)
    assert "Jalan berlubang." in out.text
    assert_private(out, caplog)


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("utf-7", b"Lampu mati +2D0- sejak Senin\r\n"),
        ("UTF-7", b"Lampu mati +3gDYPQ- sejak Senin\r\n"),  # low then high: reversed pair
        ("utf-16-le", "Lampu mati sejak Senin".encode("utf-16-le") + b"\x3d\xd8"),
        ("utf-16", b"\xff\xfe" + "Lampu mati sejak Senin".encode("utf-16-le") + b"\x00\xdc"),
    ],
)
def test_bodies_that_decode_to_surrogates_are_kept_clean(charset: str, body: bytes, blobs: BlobStore) -> None:
    raw = mail("From: budi.real@example.com", "Subject: PJU", body=body, ctype=f"text/plain; charset={charset}")
    out = fill(raw, blobs)
    no_surrogates(out)
    assert "Lampu mati" in out.text and "Senin" in out.text


def test_control_characters_never_reach_ids_or_the_subject(blobs: BlobStore) -> None:
    raw = mail(
        "From: budi.real@example.com",
        "Message-ID: <=?utf-8?q?a=00b=1Bc=7F?=@x.example>",
        "Subject: =?utf-8?q?Sampah=0D=0AX-Injected:_1=07?=",
        body=b"Sampah menumpuk\x00 di pasar\x1b[31m.\r\n",
    )
    out = fill(raw, blobs)
    no_surrogates(out)
    assert "\x00" not in out.text and "\x1b" not in out.text
    assert "Sampah menumpuk" in out.text


# ---------------------------------------------------------------- unparseable MIME keeps its text


def nested(depth: int, text: bytes, kind: str = "mixed") -> bytes:
    head = b"From: budi.real@example.com\r\nSubject: Dalam\r\nMIME-Version: 1.0\r\n"
    parts = [head + b"Content-Type: multipart/%s; boundary=\"lvl0\"\r\n\r\n" % kind.encode()]
    for i in range(1, depth):
        parts.append(b"--lvl%d\r\nContent-Type: multipart/%s; boundary=\"lvl%d\"\r\n\r\n" % (i - 1, kind.encode(), i))
    parts.append(b"--lvl%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n" % (depth - 1, text))
    parts.extend(b"--lvl%d--\r\n" % i for i in reversed(range(depth)))
    return b"".join(parts)


@pytest.mark.parametrize(("depth", "kind"), [(400, "mixed"), (1500, "related"), (5000, "alternative")])
def test_deep_nesting_is_refused_before_the_stdlib_recurses(depth: int, kind: str, blobs: BlobStore) -> None:
    raw = nested(depth, b"Got di RT 04 meluap, mohon dikuras.")
    started = time.monotonic()
    out = fill(raw, blobs)
    assert "Got di RT 04 meluap" in out.text
    assert "mime_unparsed" in out.review_reasons
    assert out.subject == "Dalam" and out.sender == "budi.real@example.com"
    assert time.monotonic() - started < 5


def test_moderate_nesting_still_parses_normally(blobs: BlobStore) -> None:
    out = fill(nested(8, b"Trotoar rusak di depan sekolah."), blobs)
    assert "Trotoar rusak" in out.text and "mime_unparsed" not in out.review_reasons


def test_wide_mails_are_not_mistaken_for_deep_ones(blobs: BlobStore) -> None:
    siblings = b"".join(
        b"--outer\r\nContent-Type: multipart/alternative; boundary=\"in%d\"\r\n\r\n"
        b"--in%d\r\nContent-Type: text/plain\r\n\r\nbagian %d\r\n--in%d--\r\n" % (i, i, i, i)
        for i in range(120)
    )
    raw = mail("From: budi.real@example.com", "Subject: Lebar", body=siblings + b"--outer--\r\n",
               ctype='multipart/mixed; boundary="outer"')
    out = fill(raw, blobs, limits=Limits(max_parts=1000))
    assert "bagian 0" in out.text and "bagian 119" in out.text
    assert "mime_unparsed" not in out.review_reasons


def test_a_parser_that_raises_leaves_a_complaint_from_the_text(
    blobs: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> None:
        raise IndexError("stdlib surprise")

    monkeypatch.setattr(mime, "message_from_bytes", explode)
    raw = mail(
        "From: Budi <budi.real@example.com>",
        "Subject: =?utf-8?q?Pungli_di_kelurahan?=",
        body=b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Petugas minta uang =E2=82=AC5 tanpa kuitansi.\r\n--b\r\nContent-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
        ctype='multipart/mixed; boundary="b"',
    )
    out = fill(raw, blobs)
    assert "Petugas minta uang €5 tanpa kuitansi." in out.text
    assert "iVBORw0KGgo" not in out.text
    assert out.subject == "Pungli di kelurahan" and out.sender == "budi.real@example.com"
    assert "mime_unparsed" in out.review_reasons


def test_a_multipart_without_its_boundary_keeps_the_text(blobs: BlobStore) -> None:
    raw = mail(
        "From: budi.real@example.com",
        "Subject: Rusak",
        body=b"--not-the-boundary\r\nContent-Type: text/plain\r\n\r\nJembatan kayu di Dusun II patah.\r\n",
        ctype='multipart/mixed; boundary="declared-but-absent"',
    )
    out = fill(raw, blobs)
    assert "Jembatan kayu di Dusun II patah." in out.text
    assert out.review_reasons  # flagged: a human should look at a mail this broken


def test_base64_garbage_and_binary_bodies_never_raise(blobs: BlobStore) -> None:
    raw = mail(
        "From: budi.real@example.com",
        "Content-Transfer-Encoding: base64",
        body=b"!!!not base64 at all===\x00\xff\xfe" + bytes(range(256)) * 4,
        ctype="text/plain; charset=x-made-up",
    )
    out = fill(raw, blobs)
    no_surrogates(out)


def test_a_signature_avalanche_does_not_recurse(blobs: BlobStore) -> None:
    body = b"\r\n".join([b"--"] * 20_000) + b"\r\nAir PDAM mati tiga hari.\r\n"
    out = fill(mail("From: budi.real@example.com", "Subject: Air", body=body), blobs)
    assert "Air PDAM mati" in out.text


async def test_complete_lets_only_rejected_escape(blobs: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import channels.email.complete as complete

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("classifier bug")

    monkeypatch.setattr(complete, "classify", broken)
    raw = mail("From: budi.real@example.com", "Subject: Ok", body=b"Saluran mampet.\r\n")
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", raw, blobs, ENVELOPE)
    out = await MailCompleter(blobs).complete(msg)
    assert "Saluran mampet." in out.text and "mime_unparsed" in out.review_reasons
    out.model_dump_json()


# ---------------------------------------------------------------- replies go only to the real sender (item 7)

ATTACKS = [
    ("encoded CRLF + Bcc in a q-word", "From: =?utf-8?q?Rina=0D=0ABcc:_spy@attacker.example?= <budi.real@example.com>"),
    ("encoded LF + Cc in a b-word", "From: =?utf-8?b?" + base64.b64encode(b"Rina\nCc: spy@attacker.example").decode()
     + "?= <budi.real@example.com>"),
    ("bare address in a quoted name", 'From: "spy@attacker.example" <budi.real@example.com>'),
    ("address in a comment", "From: budi.real@example.com (spy@attacker.example)"),
    ("two mailboxes", "From: budi.real@example.com, spy@attacker.example"),
    ("group syntax", "From: undisclosed: spy@attacker.example, budi.real@example.com;"),
    ("no domain", "From: Rina <budi.real@>"),
    ("angle addr inside the name", "From: =?utf-8?q?spy@attacker.example_<spy@attacker.example>?= <budi.real@example.com>"),
    ("raw CR smuggled in 8-bit", "From: Rina\rBcc: spy@attacker.example <budi.real@example.com>"),
]


@pytest.mark.parametrize(("label", "from_header"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_a_suspicious_from_is_answered_at_the_envelope_sender(label: str, from_header: str, blobs: BlobStore) -> None:
    out = fill(mail(from_header, "Subject: Lapor", body=b"Jalan rusak.\r\n"), blobs)
    assert out.sender == ENVELOPE
    assert out.reporter.email == ENVELOPE
    assert "suspicious_from" in out.review_reasons
    assert out.suppress_receipt is None
    assert "attacker" not in out.model_dump_json(include={"sender", "reply_context", "reporter"})


@pytest.mark.parametrize(("label", "from_header"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_a_suspicious_from_without_an_envelope_is_not_answered(label: str, from_header: str, blobs: BlobStore) -> None:
    out = fill(mail(from_header, "Subject: Lapor", body=b"Jalan rusak.\r\n"), blobs, envelope=None)
    assert out.suppress_receipt == "suspicious_sender"
    assert "suspicious_from" in out.review_reasons
    assert not out.sender or "attacker" not in out.sender


@pytest.mark.parametrize(
    "reply_to",
    [
        "Reply-To: =?utf-8?q?Rina=0D=0ABcc:_spy@attacker.example?= <budi.real@example.com>",
        "Reply-To: budi.real@example.com, spy@attacker.example",
        'Reply-To: "spy@attacker.example" <other@example.org>',
        "Reply-To: <budi.real@example.com\r\n\tBcc: spy@attacker.example>",
    ],
)
def test_a_suspicious_reply_to_is_never_used(reply_to: str, blobs: BlobStore) -> None:
    out = fill(mail("From: Rina <rina@example.org>", reply_to, "Subject: Lapor", body=b"Banjir.\r\n"), blobs)
    assert out.sender == ENVELOPE
    assert "suspicious_from" in out.review_reasons
    assert "attacker" not in (out.sender or "")


def test_an_envelope_that_is_itself_invalid_suppresses_the_receipt(blobs: BlobStore) -> None:
    raw = mail("From: =?utf-8?q?X=0ACc:_spy@attacker.example?= <a@example.com>", body=b"Banjir.\r\n")
    out = fill(raw, blobs, envelope="spy@attacker.example\r\nBcc: b@example.com")
    assert out.suppress_receipt == "suspicious_sender" and not out.sender


@pytest.mark.parametrize(
    ("from_header", "expected"),
    [
        ("From: Budi Santoso <Budi.Real@Example.com>", "budi.real@example.com"),
        ('From: "Santoso, Budi" <budi.real@example.com>', "budi.real@example.com"),
        ('From: "budi.real@example.com" <budi.real@example.com>', "budi.real@example.com"),
        ("From: =?utf-8?q?Budi_K=C3=B6nig?= <budi.real@example.com>", "budi.real@example.com"),
        ("From: budi.real@example.com", "budi.real@example.com"),
        ("From: =?utf-8?b?5p2O5piO?= <li.ming@example.cn>", "li.ming@example.cn"),
        ("From: =?iso-8859-1?Q?G=FCnther_J_=7C_Contoh_GmbH?=\r\n\t<g.j@example.com>", "g.j@example.com"),  # folded
        ("From: Budi Santoso\r\n <budi.real@example.com>", "budi.real@example.com"),
    ],
)
def test_ordinary_senders_are_not_flagged(from_header: str, expected: str, blobs: BlobStore) -> None:
    out = fill(mail(from_header, "Subject: Lapor", body=b"Jalan rusak.\r\n"), blobs, envelope="bounces@example.net")
    assert out.sender == expected
    assert "suspicious_from" not in out.review_reasons and out.suppress_receipt is None


def test_a_clean_reply_to_still_wins(blobs: BlobStore) -> None:
    raw = mail("From: Budi <budi.real@example.com>", "Reply-To: Kantor <kantor@example.org>", body=b"Banjir.\r\n")
    out = fill(raw, blobs)
    assert out.sender == "kantor@example.org" and "suspicious_from" not in out.review_reasons


# ---------------------------------------------------------------- heavy work (item 4)


def test_is_heavy_is_cheap_and_names_what_we_extract(blobs: BlobStore) -> None:
    completer = MailCompleter(blobs)

    def heavy(raw: bytes) -> bool:
        return completer.is_heavy(raw_message("email.smtp", "a@b.example", raw, blobs, ENVELOPE))

    plain = mail("From: a@b.example", "Subject: x", body=b"We mention Content-Type: application/pdf in the text\r\n")
    assert not heavy(plain)
    assert heavy(mail("From: a@b.example", body=b"x" * (300 * 1024)))
    part = b"--b\r\nContent-Type: %s\r\n%s\r\n\r\nAAAA\r\n--b--\r\n"
    for ctype, extra in [
        (b"application/pdf", b""),
        (b"APPLICATION/PDF; name=surat.pdf", b""),
        (b"image/jpeg", b"Content-Disposition: inline"),
        (b"image/tiff", b""),
        (b"application/octet-stream", b'Content-Disposition: attachment;\r\n filename="SCAN.TIF"'),
        (b"application/octet-stream;\r\n\tname=\"surat.pdf\"", b""),
    ]:
        assert heavy(mail("From: a@b.example", body=part % (ctype, extra), ctype='multipart/mixed; boundary="b"'))
    assert not heavy(
        mail("From: a@b.example", body=part % (b"application/octet-stream", b""), ctype='multipart/mixed; boundary="b"')
    )
    big = raw_message("email.smtp", "a@b.example", b"From: a@b.example\r\n\r\n" + b"y" * (2 * 1024 * 1024), blobs)
    assert big.raw is None and completer.is_heavy(big)
    assert not completer.is_heavy(big.model_copy(update={"metadata": {**big.metadata, "parsed": True}}))


def pdf_mail(name: str = "surat.pdf") -> bytes:
    pdf = base64.encodebytes(b"%PDF-1.4\n% not really a pdf\n%%EOF\n")
    return mail(
        "From: budi.real@example.com",
        "Subject: Surat",
        body=b"--b\r\nContent-Type: text/plain\r\n\r\nTerlampir surat dari RT.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n" % (name.encode(), pdf),
        ctype='multipart/mixed; boundary="b"',
    )


def hanging_pdf_reader(data: bytes, max_pages: int) -> tuple[str, str | None]:
    """A stand-in for a PDF that pins the CPU (module level: it runs in the isolated child)."""
    while True:
        pass


def crashing_pdf_reader(data: bytes, max_pages: int) -> tuple[str, str | None]:
    raise RecursionError("deep object tree")


@pytest.mark.parametrize("reader", [hanging_pdf_reader, crashing_pdf_reader])
def test_a_pdf_over_its_limits_costs_only_its_text(reader: object, blobs: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAPOR_ISOLATE", raising=False)
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", pdf_mail(), blobs, ENVELOPE)
    completer = MailCompleter(blobs, Limits(pdf_seconds=2, pdf_cpu_seconds=2))
    completer.pdf_reader = reader  # type: ignore[assignment]
    started = time.monotonic()
    out = completer.fill(msg, pdf_mail())
    assert time.monotonic() - started < 15
    assert "Terlampir surat dari RT." in out.text
    assert "attachment_unreadable" in out.review_reasons
    assert [a.filename for a in out.attachments] == ["surat.pdf"]


def big_mail(text: bytes) -> bytes:
    photo = base64.encodebytes(bytes(range(256)) * 6000)  # ~2 MiB of base64
    return mail(
        "From: budi.real@example.com",
        "Subject: Foto",
        body=b"--b\r\nContent-Type: text/plain\r\n\r\n%s\r\n--b\r\nContent-Type: image/jpeg\r\n"
        b"Content-Disposition: attachment; filename=\"foto.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"%s--b--\r\n" % (text, photo),
        ctype='multipart/mixed; boundary="b"',
    )


def test_a_big_mail_is_parsed_in_isolation_and_its_attachments_stored_here(
    blobs: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAPOR_ISOLATE", raising=False)
    raw = big_mail(b"Foto jalan berlubang terlampir.")
    out = fill(raw, blobs)
    assert "Foto jalan berlubang terlampir." in out.text
    assert [a.filename for a in out.attachments] == ["foto.jpg"]
    assert blobs.get(out.attachments[0].sha256) == bytes(range(256)) * 6000
    assert out.review_reasons == []


def test_a_big_mail_whose_isolated_parse_fails_keeps_its_text(blobs: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAPOR_ISOLATE", raising=False)
    raw = big_mail(b"Foto jalan berlubang terlampir.")
    out = fill(raw, blobs, limits=Limits(parse_seconds=0.001))
    assert "Foto jalan berlubang terlampir." in out.text
    assert "mime_unparsed" in out.review_reasons


async def test_complete_of_a_pdf_mail_does_not_block_the_loop(blobs: BlobStore) -> None:
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", pdf_mail(), blobs, ENVELOPE)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    out = await MailCompleter(blobs).complete(msg)
    task.cancel()
    assert "Terlampir surat dari RT." in out.text and ticks > 0


def test_both_mail_channels_answer_is_heavy(blobs: BlobStore) -> None:
    from channels.email.imap import ImapPoller
    from channels.email.smtp import SmtpListener
    from tests.unit.channels.email.stores import MemoryCursors

    light = raw_message("email.smtp", "a@b.example", mail("From: a@b.example", body=b"Halo.\r\n"), blobs, ENVELOPE)
    heavy = raw_message("email.smtp", "a@b.example", pdf_mail(), blobs, ENVELOPE)
    listener = SmtpListener("127.0.0.1", 0, ["b.example"], blobs)
    poller = ImapPoller("imap.invalid", 993, "u", "p", blobs, MemoryCursors())
    for channel in (listener, poller):
        assert channel.is_heavy(heavy) and not channel.is_heavy(light)


def test_imap_answers_a_suspicious_from_at_the_return_path(blobs: BlobStore) -> None:
    raw = mail(
        "Return-Path: <budi.real@example.com>",
        "From: =?utf-8?q?Rina=0ATo:_spy@attacker.example?= <rina@example.org>",
        body=b"Pohon tumbang.\r\n",
    )
    msg = raw_message("email.imap", "pengaduan@imap", raw, blobs)
    out = MailCompleter(blobs).fill(msg, raw)
    assert out.sender == ENVELOPE and "suspicious_from" in out.review_reasons
    bad_path = raw.replace(b"<budi.real@example.com>", b"<spy@attacker.example>, <x@y.example>")
    out = MailCompleter(blobs).fill(raw_message("email.imap", "pengaduan@imap", bad_path, blobs), bad_path)
    assert out.sender is None and out.suppress_receipt == "suspicious_sender"
