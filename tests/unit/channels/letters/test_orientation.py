"""A page stays upright unless a 180° turn reads clearly better (issue 11: an upright page OCR'd upside down)."""

from __future__ import annotations

import pytest

import channels.letters.prepare as prep_mod
from channels.letters.scan import LettersChannel
from gateway.bench.ocr import cer
from gateway.bench.synth import LetterSpec, ScanLook, letter_page
from tests.unit.channels.letters.render import png_bytes
from tests.unit.channels.letters.test_letters import MAX_BODY_CER, expected_body

SPEC = LetterSpec()


@pytest.mark.parametrize("fooled", [True, False], ids=["ascender test fooled", "ascender test right"])
@pytest.mark.parametrize("min_confidence", [60.0, 0.0], ids=["default threshold", "upside-down reading passes it"])
def test_clean_upright_page_stays_upright(blobs, monkeypatch, fooled, min_confidence):
    # min_confidence 0: the upside-down reading clears the threshold (as 64.7 cleared 60 in the field), so only
    # the comparison of both ways up can keep the page upright
    channel = LettersChannel(blobs, max_pages=5, min_confidence=min_confidence)
    if fooled:  # what a page of lower-case text rich in descenders does to the ascender test
        monkeypatch.setattr(prep_mod, "looks_upside_down", lambda binary: True)
    msg = channel.read_file(png_bytes(letter_page(SPEC, ScanLook(rotate=0, blur=0, noise=0, dust=0)).image), "surat.png")
    assert cer(expected_body(SPEC), msg.text) <= MAX_BODY_CER, msg.text
    assert msg.ocr["mean_confidence"] > 80
    assert not msg.review_reasons


def test_upside_down_page_the_ascender_test_missed_is_still_turned(channel, monkeypatch):
    monkeypatch.setattr(prep_mod, "looks_upside_down", lambda binary: False)
    page = letter_page(SPEC, ScanLook(quarter_turns=2, seed=11))
    msg = channel.read_file(png_bytes(page.image), "terbalik.png")
    assert cer(expected_body(SPEC), msg.text) <= MAX_BODY_CER, msg.text
