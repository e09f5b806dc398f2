"""normalizer.anonymity: a request for anonymity in plain words, with few false positives."""

import pytest

from normalizer.anonymity import asks_for_anonymity

ASKS = [
    "jangan sebut nama saya ya pak", "Tolong rahasiakan identitas saya", "nama saya mohon dirahasiakan",
    "saya minta anonim", "jgn tulis nama sy", "tidak usah sebut nama saya", "saya ingin dianonimkan",
    "laporan anonim: jalan rusak", "please keep my name secret", "I want to stay anonymous",
    "JANGAN SEBUT NАMA SAYA",  # Cyrillic А
]  # fmt: skip
DOES_NOT_ASK = [
    "nama jalan itu Jl. Merdeka", "itu rahasia umum di desa", "sebut saja Mawar", "nama saya Budi",
    "tidak perlu dirahasiakan nama saya", "saya tidak mau anonim", "boleh sebut nama saya",
    "jangan sampai banjir lagi", "data diri lengkap terlampir",
]  # fmt: skip


@pytest.mark.parametrize("text", ASKS)
def test_asks(text: str) -> None:
    assert asks_for_anonymity(text)


@pytest.mark.parametrize("text", DOES_NOT_ASK)
def test_does_not_ask(text: str) -> None:
    assert not asks_for_anonymity(text)
