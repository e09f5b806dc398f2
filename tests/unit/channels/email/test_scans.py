"""Faxes and scanned attachments read as letters by the mail completer (the letters reader run in place).

The end-to-end half (the real SMTP listener, Dovecot, the isolated reader, the store and the receipts)
is ``tests/e2e/email/test_fax_e2e.py``.
"""

from __future__ import annotations

import io
import shutil
from typing import Any

import pytest
from PIL import Image

from channels.email.complete import MailCompleter
from channels.email.scans import FaxRules, MailScans, fax_number
from channels.letters.isolated import IsolatedLettersReader, ReaderConfig
from channels.message import InboundMessage
from channels.registry import spec_for
from tests.unit.channels.email import scan_mails as sm
from tests.unit.channels.letters.conftest import MemoryBlobs

needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
RULES = FaxRules(senders=("@faxmail.contoh.net",), subject_patterns=(r"^\s*(?:fax|faks)\b",))


def in_place(fn: Any, *args: Any, limits: Any = None, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def completer(blobs: MemoryBlobs, config: ReaderConfig | None = None) -> MailCompleter:
    reader = IsolatedLettersReader(config or ReaderConfig(), blobs, run=in_place)
    return MailCompleter(blobs, scans=MailScans(reader, RULES))


def complete(raw: bytes, config: ReaderConfig | None = None, blobs: MemoryBlobs | None = None) -> InboundMessage:
    blobs = blobs or MemoryBlobs(50 * 1024 * 1024)
    msg = InboundMessage(channel="email.smtp", account="lapor.localhost", external_id="x", raw=raw)
    return completer(blobs, config).fill(msg, raw)


@pytest.mark.parametrize(("text", "want"), [
    ("You have received a 2 page fax from +62 21 5550 1708, on 03/03/2025.", "622155501708"),
    ("Faks dari 021-5550-1708 (3 halaman)", "622155501708"),
    ("CSID: 6221 5550 1708", "622155501708"),
    ("Fax number: (0274) 512 345", "62274512345"),
    ("Fax from +65 6123 4567", "6561234567"),
    ("Fax from ANONYMOUS, 1 page", None),
    ("You have received a fax", None),
], ids=["service boilerplate", "Indonesian, national form", "CSID", "brackets", "abroad", "no number", "none"])  # fmt: skip
def test_the_number_a_fax_was_sent_from(text: str, want: str | None) -> None:
    assert fax_number(text) == want


def test_fax_services_by_address_domain_and_subject() -> None:
    rules = FaxRules(senders=("fax@efax.example", "@faxmail.contoh.net", "fax.pemda.example"),
                     subject_patterns=(r"^\s*(?:fax|faks)\b",))  # fmt: skip
    assert rules.is_service("FAX@efax.example") and not rules.is_service("other@efax.example")
    assert rules.is_service("noreply@faxmail.contoh.net") and rules.is_service("a@eu.faxmail.contoh.net")
    assert rules.is_service("x@fax.pemda.example") and not rules.is_service("x@notfaxmail.contoh.net")
    assert not rules.is_service(None) and not rules.is_service("faxmail.contoh.net")
    assert rules.subject_says_fax("Fax from +62 21 5550 1708") and not rules.subject_says_fax("Re: faxnya mana?")


@needs_ocr
def test_a_two_page_g4_fax_is_a_letter_answered_by_sms_to_its_number() -> None:
    msg = complete(sm.fax_mail("fax-1@faxmail.contoh.net"))
    assert msg.channel == "email.smtp.fax" and spec_for(msg.channel).family == "letters"
    assert msg.sender is None and msg.suppress_receipt is None  # Auto-Submitted: it is the service's, not the citizen's
    assert "saluran air di depan rumah kami tersumbat sampah" in msg.text  # page 1
    assert "petugas kebersihan segera datang membersihkan saluran" in msg.text  # page 2
    assert "You have received" not in msg.text and "FaxMail" not in msg.text  # the service's words are not the complaint
    assert msg.subject == "Pengaduan Saluran Air Tersumbat"
    r = msg.reporter
    assert (r.name, r.nik, r.phone, r.email) == ("Hendra Wijaya", "3175031208790005", sm.FAX_DIGITS, None)
    assert msg.ocr is not None and msg.ocr["pages"] == 2 and msg.ocr["mean_confidence"] > 80
    assert msg.reply_context["printable"] is True and msg.reply_context["notify"] == ["sms"]
    kinds = [a.media_type for a in msg.attachments]
    assert kinds == ["image/tiff", "image/png", "image/png"]  # the fax, and each cleaned page for the reviewer
    assert msg.review_reasons == [] and msg.metadata["scan"] == {"fax": True, "kind": "letter", "pages": 2}


@needs_ocr
def test_a_photo_of_a_letter_with_a_one_line_body() -> None:
    msg = complete(sm.photo_mail("photo-1@warga-contoh.id"))
    assert msg.channel == "email.smtp.scan" and msg.sender == "rina.marlina@warga-contoh.id"
    letter, _, own = msg.text.partition("[Isi email]")
    assert "Lubang-lubang besar" in letter and own.strip() == sm.ONE_LINE  # the mail's own words beside the letter
    assert msg.subject == "Pengaduan Pungutan Liar di Kantor Kelurahan"
    r = msg.reporter
    assert (r.name, r.nik, r.phone, r.email) == ("Rina Marlina", "3273046002910001", "6281322446688",
                                                 "rina.marlina@warga-contoh.id")  # fmt: skip
    assert msg.review_reasons == [] and msg.metadata["letter_date"] == "2024-11-23"


@needs_ocr
def test_an_image_only_pdf_of_a_form_with_anonim_ticked() -> None:
    msg = complete(sm.form_mail("form-1@kel-rawasari.contoh.id"))
    assert msg.channel == "email.smtp.scan"
    assert msg.privacy is not None and msg.privacy.anonymous and not msg.privacy.confidential
    assert msg.privacy.source == "form"
    assert "Lampu penerangan jalan di depan pasar sudah mati dua minggu." in msg.text
    assert (msg.reporter.name, msg.reporter.nik) == ("SITI RAHMAWATI", "3174054512900003")  # for the vault only
    assert msg.metadata["location"] == "PASAR BARU BLOK C" and msg.metadata["scan"]["kind"] == "form"


def test_a_corrupt_tiff_keeps_the_mails_text_and_says_so() -> None:
    msg = complete(sm.corrupt_fax_mail("fax-2@faxmail.contoh.net"))
    assert msg.channel == "email.smtp.fax" and msg.sender is None
    assert "scan not read: image data is corrupt or truncated" in msg.review_reasons
    assert "You have received a 2 page fax" in msg.text  # nothing else to go on: the reviewer gets the mail's text
    assert msg.reporter.phone == sm.FAX_DIGITS and msg.reply_context["printable"] is True
    assert [a.media_type for a in msg.attachments] == ["image/tiff"]  # the original, for a person to read


def test_a_fax_over_the_page_limit_is_refused_alone_and_held() -> None:
    msg = complete(sm.fax_mail("fax-3@faxmail.contoh.net"), ReaderConfig(max_pages=1))
    assert msg.channel == "email.smtp.fax"
    assert any(r.startswith("scan not read: file has more than 1 pages") for r in msg.review_reasons), msg.review_reasons


def _photo(size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo of a pothole, as far as OCR is concerned: shades and no letters."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


@needs_ocr
def test_a_photo_beside_the_citizens_words_is_a_photo() -> None:
    raw = sm.scan_mail("pothole@warga-contoh.id", "Joko <joko@warga-contoh.id>", "Jalan berlubang",
                       "Jalan di depan pasar berlubang besar, foto terlampir.", [(_photo(), "image/jpeg", "jalan.jpg")])  # fmt: skip
    msg = complete(raw)
    assert msg.channel == "email.smtp" and msg.text == "Jalan di depan pasar berlubang besar, foto terlampir."
    assert [a.media_type for a in msg.attachments] == ["image/jpeg"] and msg.ocr is None


def test_a_long_mail_with_a_scan_attached_stays_a_mail() -> None:
    body = "Saya ingin melaporkan saluran air yang tersumbat di depan rumah. " * 6
    raw = sm.scan_mail("long@warga-contoh.id", "Joko <joko@warga-contoh.id>", "Saluran air", body,
                       [(sm.g4_tiff(sm.fax_pages()[:1]), "image/tiff", "surat.tif")])  # fmt: skip
    msg = complete(raw)
    assert msg.channel == "email.smtp" and msg.ocr is None and msg.text.startswith("Saya ingin melaporkan")


def test_mail_from_a_fax_service_is_never_answered_by_email_even_without_pages() -> None:
    raw = sm.scan_mail("fax-4@faxmail.contoh.net", f"FaxMail <{sm.FAX_SERVICE}>", "Fax failed", "Transmission failed.", [])
    msg = complete(raw)
    assert msg.channel == "email.smtp.fax" and msg.sender is None and "fax without a scanned page" in msg.review_reasons
