"""The email corpus: each fixture, parsed as the gateway's worker would, against its expected outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from channels.email.complete import MailCompleter, raw_message
from channels.message import InboundMessage
from gateway.store.blobs import BlobStore
from tests.unit.channels.email.conftest import fixture_bytes


@dataclass(frozen=True)
class Case:
    label: str
    fixture: str
    kind: str = "complaint"
    contains: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    subject: str | None = None
    suppress: str | None = None
    follow_up: str | None = None
    related: str | None = None  # bounce_of / auto_reply_of
    anonymous: bool = False
    confidential: bool = False
    attachments: tuple[str, ...] = ()
    external_id: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)


CASES = [
    Case(
        "Gmail reply quoting our receipt is a reply on its ticket, without the quote",
        "reply__gmail_quote",
        contains=("pengendara motor jatuh", "Mohon segera ditindaklanjuti"),
        absent=("menulis:", "Laporan Anda telah kami terima", ">"),
        follow_up="4829157367",
        kind="reply",
        related="4829157367",  # our Message-ID names the ticket: a citizen response when it is theirs and open
        external_id="CAH3kq1yZb5Tq0WcRn4uE7pM@mail.gmail.com",
    ),
    Case(
        "tracking ID in the subject is a follow-up; no Message-ID gives a content hash",
        "reply__subject_tracking",
        contains=("ditambal sebagian",),
        follow_up="4829157367",
    ),
    Case(
        "Outlook HTML-only windows-1252 becomes readable text without the quoted thread",
        "complaint__outlook_html_only",
        contains=("Sudah dua minggu sampah di TPS Pasar Minggu", "Hormat saya"),
        absent=("<div", "font-family", "Jadwal pengangkutan", "Dikirim:", "sesuai jadwal"),
        metadata={"html": True},
    ),
    Case(
        "ISO-8859-1 body (cp1252 bytes) and RFC 2047 subject decode",
        "complaint__latin1_rfc2047",
        subject="Lampu PJU mati di depan Kafé Nusantara ± 1½ bulan",
        contains=("Kafé Nusantara", "1½ bulan", "(± 60°C)", "– sudah lapor RT"),
    ),
    Case(
        "PDF attachment is stored and its text added to the body",
        "complaint__pdf_attachment",
        contains=("Bersama ini kami lampirkan", "Saluran drainase di Gang Mawar tersumbat"),
        attachments=("Surat Pengaduan RT05.pdf",),
    ),
    Case(
        "[ANONIM] subject tag sets the flag and is removed; photo kept; mobile footer stripped",
        "complaint__anonim_photo",
        subject="Pungli di loket pembuatan KTP kecamatan",
        contains=("meminta uang Rp 50.000",),
        absent=("Sent from Yahoo Mail",),
        anonymous=True,
        attachments=("IMG_20250312_120455.jpg",),
    ),
    Case(
        "RAHASIA at the start of the body sets confidential; signature and Outlook original stripped",
        "complaint__rahasia_body",
        contains=("Dana desa tahun 2024",),
        absent=("Staf Administrasi", "Original Message", "Anggaran"),
        confidential=True,
    ),
    Case(
        "forwarded message/rfc822 contributes its text",
        "complaint__forwarded_rfc822",
        contains=("Saya teruskan keluhan ibu saya", "Antrean di Puskesmas Cempaka sampai 4 jam"),
    ),
    Case(
        "out-of-office reply to our receipt is recorded as auto_reply, no receipt",
        "autoreply__out_of_office",
        kind="auto_reply",
        suppress="auto_reply",
        related="7301442692",
    ),
    Case(
        "DSN bounce of our receipt is recorded against that receipt",
        "bounce__dsn_receipt",
        kind="bounce",
        suppress="bounce",
        related="6159083429",
    ),
    Case(
        "mailing-list post stays a complaint but gets no receipt",
        "list__community_post",
        contains=("air PDAM keruh",),
        suppress="mailing_list",
    ),
]


def complete(name: str, blobs: BlobStore) -> InboundMessage:
    raw = fixture_bytes(name)
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", raw, blobs, "envelope@example.net")
    return MailCompleter(blobs).fill(msg, raw)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_corpus(case: Case, blobs: BlobStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    msg = complete(case.fixture, blobs)
    assert msg.kind == case.kind
    assert msg.suppress_receipt == case.suppress
    assert msg.follow_up_hint == case.follow_up
    assert msg.related == case.related
    for phrase in case.contains:
        assert phrase in msg.text
    for phrase in case.absent:
        assert phrase not in msg.text
    if case.subject is not None:
        assert msg.subject == case.subject
    assert bool(msg.privacy and msg.privacy.anonymous) == case.anonymous
    assert bool(msg.privacy and msg.privacy.confidential) == case.confidential
    assert tuple(a.filename for a in msg.attachments) == case.attachments
    for a in msg.attachments:
        assert len(blobs.get(a.sha256)) == a.size
    if case.external_id:
        assert msg.external_id == case.external_id
    for k, v in case.metadata.items():
        assert msg.metadata[k] == v
    if case.kind in ("complaint", "reply"):
        assert msg.sender and "canary" in msg.sender  # the From address, not the envelope
        if not msg.external_id.startswith("sha256:"):
            assert msg.reply_context["message_id"] == f"<{msg.external_id}>"
    assert msg.review_reasons == []
    # privacy canary: nothing identifying or confidential in any log line
    assert "canary" not in caplog.text.lower()


def test_same_mail_twice_has_one_external_id(blobs: BlobStore) -> None:
    a, b = complete("reply__subject_tracking", blobs), complete("reply__subject_tracking", blobs)
    assert a.external_id == b.external_id and a.external_id.startswith("sha256:")


def test_complete_is_idempotent(blobs: BlobStore) -> None:
    raw = fixture_bytes("complaint__pdf_attachment")
    msg = raw_message("email.imap", "pengaduan@imap", raw, blobs)
    completer = MailCompleter(blobs)
    once = completer.fill(msg, raw)
    assert completer.fill(msg, raw) == once


async def test_complete_reads_the_blob(blobs: BlobStore) -> None:
    raw = fixture_bytes("reply__gmail_quote")
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", raw, blobs)
    done = await MailCompleter(blobs).complete(msg)
    assert done.metadata["parsed"] and done.follow_up_hint == "4829157367"
    assert await MailCompleter(blobs).complete(done) is done
