"""Language guess by function words."""

from dataclasses import dataclass

import pytest

from normalizer.language import detect_language


@dataclass(frozen=True)
class Case:
    label: str
    text: str
    expected: str


CASES = [
    Case("formal Indonesian", "Mohon perbaikan jalan yang rusak di depan sekolah kami", "id"),
    Case("SMS shorthand", "jln rusak yg di dpn, sdh 3 bln tdk dibenerin", "id"),
    Case("English", "The street light in front of my house has been broken for two weeks", "en"),
    Case("English, short", "Please fix the road", "en"),
    Case("mixed, Indonesian dominant", "Please help, jalan di depan rumah saya rusak", "id"),
    Case("tie goes to Indonesian", "tolong please", "id"),
    Case("single content word", "banjir", "other"),
    Case("digits and emoji", "12345 🙏", "other"),
    Case("Arabic script", "مرحبا كيف حالك", "other"),
    Case("empty", "", "other"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_detect_language(case: Case) -> None:
    assert detect_language(case.text) == case.expected
