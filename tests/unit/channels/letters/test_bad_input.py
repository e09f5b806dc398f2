"""Bad input: each refusal has its own clear reason; blank and noise pages go to review."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFilter

from channels.letters.scan import LettersChannel
from channels.message import Rejected
from gateway.bench.synth import ScanLook, letter_page
from tests.unit.channels.letters.render import blank_page, noise_page, png_bomb, png_bytes, text_pdf, tiff_bytes


def small_png() -> bytes:
    return png_bytes(Image.new("L", (200, 300), 255))


REFUSALS = [
    ("PNG header claiming 50000x50000", lambda: png_bomb(), 413, "decompression bomb"),
    ("PNG just over the pixel limit", lambda: png_bomb(8000, 6000), 413, "pixels"),
    ("corrupt PNG (truncated data)", lambda: small_png()[:-40], 422, "corrupt"),
    ("not an image at all", lambda: b"hello, this is not a scan" * 10, 415, "not an image or PDF"),
    ("PDF cut in half", lambda: text_pdf(["Perihal: uji"])[:300], 422, "PDF"),
    ("password-protected PDF", lambda: text_pdf(["Perihal: rahasia negara"] * 5, "s3cret"), 422, "password"),
    ("TIFF over the page limit", lambda: tiff_bytes([Image.new("L", (50, 50), 255)] * 6), 413, "pages"),
    ("empty file", lambda: b"", 422, "empty"),
]


@pytest.mark.parametrize(("label", "make", "status", "words"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused(channel, label, make, status, words):
    with pytest.raises(Rejected) as err:
        channel.read_file(make(), "x.bin")
    assert err.value.status == status
    assert words in err.value.reason


def test_oversized_file(blobs, tmp_path):
    ch = LettersChannel(blobs, max_file_bytes=1000)
    path = tmp_path / "big.png"
    path.write_bytes(b"\x89PNG" + b"\0" * 5000)
    with pytest.raises(Rejected) as err:
        ch.read_file(path)
    assert err.value.status == 413 and "larger than the limit" in err.value.reason


def test_blank_and_noise_pages_go_to_review(channel, blobs):
    msg = channel.read_file(tiff_bytes([blank_page(), noise_page()]), "aneh.tif")
    assert "page 1: blank" in msg.review_reasons
    assert "page 2: looks like noise, not text" in msg.review_reasons
    assert "no complaint text found" in msg.review_reasons
    assert msg.text == ""
    pngs = [a for a in msg.attachments if a.media_type == "image/png"]
    assert len(pngs) == 2  # the reviewer sees both pages
    assert Image.open(io.BytesIO(blobs.get(pngs[0].sha256))).size == (2480, 3508)


def test_page_of_noise_as_jpeg_goes_to_review(channel):
    buf = io.BytesIO()
    noise_page(seed=9).save(buf, format="JPEG", quality=80)
    msg = channel.read_file(buf.getvalue(), "noise.jpg")
    assert msg.review_reasons and msg.text == ""


def test_reasons_never_hold_identity(channel):
    data = text_pdf(["Nama : Budi Santoso", "NIK : 3273012304850002"] * 3, "pw")
    with pytest.raises(Rejected) as err:
        channel.read_file(data, "Budi Santoso 3273012304850002.pdf")
    assert "Budi" not in str(err.value) and "3273" not in str(err.value)


def test_low_confidence_page_goes_to_review(channel):
    # a badly out-of-focus scan: tesseract answers, but with little confidence
    page = letter_page(look=ScanLook(blur=0, dust=0)).image.filter(ImageFilter.GaussianBlur(5))
    msg = channel.read_file(png_bytes(page), "kabur.png")
    assert any("low OCR confidence" in r or "no readable text" in r for r in msg.review_reasons)
