"""Scanned letters through the real pipeline (tesseract ind+eng): fields, and CER against the ground truth.

CER threshold: the body read back may differ from the truth by at most 2 % of
its characters (whitespace collapsed) on every scan look below, including the
dirty scanner glass (1500 specks) where plain tesseract reaches ~6 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channels.letters.fields import paragraphs
from gateway.bench.ocr import cer
from gateway.bench.synth import LetterSpec, ScanLook, letter_page
from tests.unit.channels.letters.render import image_pdf, png_bytes, text_pdf, tiff_bytes

MAX_BODY_CER = 0.02
SPEC = LetterSpec(email="budi.santoso@example.id")


@dataclass(frozen=True)
class Case:
    label: str
    look: ScanLook


CASES = [
    Case("clean page", ScanLook(rotate=0, blur=0, noise=0, dust=0)),
    Case("rotated 1 degree, noise, specks", ScanLook(rotate=1.0)),
    Case("rotated -3 degrees", ScanLook(rotate=-3.0, seed=7)),
    Case("upside down", ScanLook(quarter_turns=2, seed=11)),
    Case("fed sideways", ScanLook(quarter_turns=1, rotate=2.0, seed=12)),
    Case("dirty scanner glass, 1500 specks", ScanLook(dust=1500, seed=13)),
    Case("black scanner border", ScanLook(border=60, seed=14)),
]


def expected_body(spec: LetterSpec) -> str:
    return paragraphs(list(spec.body))


def assert_letter_fields(msg, spec: LetterSpec) -> None:
    assert msg.channel == "letters.scan" and msg.account == "counter"
    assert msg.subject == spec.subject
    assert msg.reporter.name == spec.name
    assert msg.reporter.nik == spec.nik
    assert msg.reporter.phone == "6281234567890"
    assert msg.reporter.email == spec.email
    assert msg.reporter.address == spec.address
    assert msg.metadata["letter_date"] == "2024-11-23"
    assert cer(expected_body(spec), msg.text) <= MAX_BODY_CER, msg.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_scanned_letter(channel, blobs, case: Case):
    page = letter_page(SPEC, case.look)
    data = png_bytes(page.image)
    msg = channel.read_file(data, "surat.png")
    assert_letter_fields(msg, SPEC)
    assert msg.review_reasons == []
    assert msg.ocr["engine"] == "tesseract ind+eng" and msg.ocr["pages"] == 1
    assert msg.ocr["mean_confidence"] >= 80
    assert msg.privacy is None  # a letter has no ticks; keywords are the normalizer's business
    assert "sms" in msg.reply_context["notify"] and msg.reply_context["printable"] is True
    # the original and the cleaned page are kept for a reviewer
    kinds = sorted(a.media_type for a in msg.attachments)
    assert kinds == ["image/png", "image/png"]
    assert all(a.sha256 in blobs.data for a in msg.attachments)


def test_external_id_is_the_files_sha256(channel):
    import hashlib

    data = png_bytes(letter_page(SPEC, ScanLook(dust=0)).image)
    msg = channel.read_file(data, "a.png")
    assert msg.external_id == hashlib.sha256(data).hexdigest()


def test_pdf_with_text_layer_is_not_ocrd(channel):
    msg = channel.read_file(text_pdf(SPEC.lines()), "surat.pdf")
    assert msg.ocr == {"engine": "pdf-text-layer", "mean_confidence": 100.0, "pages": 1}
    assert_letter_fields(msg, SPEC)


def test_image_only_pdf_is_rendered_and_ocrd(channel):
    msg = channel.read_file(image_pdf([letter_page(SPEC, ScanLook(rotate=-1.5)).image]), "scan.pdf")
    assert msg.ocr["engine"] == "tesseract ind+eng"
    assert_letter_fields(msg, SPEC)


def test_multi_page_tiff_joins_the_pages(channel):
    spec = LetterSpec(body=SPEC.body[:4])
    first = letter_page(spec, ScanLook(dust=0)).image
    second = letter_page(LetterSpec(), ScanLook(dust=0, seed=2)).image
    msg = channel.read_file(tiff_bytes([first, second]), "two.tif")
    assert msg.ocr["pages"] == 2
    assert msg.reporter.nik == spec.nik
    assert "Lubang-lubang besar" in msg.text
