"""normalizer.fold: the forwarded canonical text and the detectors' skeleton."""

import unicodedata

import pytest

from normalizer.fold import FORMAT_CHARS, canonical, fold


def test_format_chars_are_every_cf_code_point() -> None:
    import re

    cls = re.compile(f"[{FORMAT_CHARS}]")
    every = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert all(cls.match(c) for c in every)


@pytest.mark.parametrize(
    ("given", "skeleton"),
    [
        ("ＡＮＯＮＩＭ", "ANONIM"),
        ("AN\u200dON\u200cIM", "ANONIM"),
        ("АNОNІМ", "ANONIM"),  # Cyrillic А, О, І, М
        ("٠٨١٢-३४५६", "0812-3456"),
        ("ÀNÓNÌM", "ANONIM"),
        ("plain ascii", "plain ascii"),
        ("Москва", "Mockвa"),  # look-alikes only (в is not one): the skeleton is never forwarded
    ],
)
def test_skeleton(given: str, skeleton: str) -> None:
    assert fold(given).text == skeleton


def test_spans_map_back_over_hidden_characters() -> None:
    text = "NIK 3201\u200b2345 ok"
    f = fold(text)
    start = f.text.index("3201")
    assert text[slice(*f.span(start, start + 8))] == "3201\u200b2345"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ＲＴ　０３", "RT 03"),
        ("jal\u200ban\u00ad \u202ekiri\u202c", "jalan kiri"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # an emoji sequence keeps its joiners
        ("a\u200d😀", "a😀"),
        ("flag 🏴\U000e0067\U000e0062\U000e007f", "flag 🏴"),  # tag characters can smuggle ASCII
    ],
)
def test_canonical(given: str, expected: str) -> None:
    assert canonical(given) == expected
