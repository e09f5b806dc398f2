"""Near-duplicate detection between a reporter's recent complaints."""

from dataclasses import dataclass

import pytest

from normalizer.similarity import near_duplicate, similarity

ROAD = "Jalan rusak parah di depan SDN 3 Cibeureum, sdh 3 bln tdk diperbaiki"
WATER = "air pdam tidak mengalir 3 hari di perumahan griya asri blok c"


@dataclass(frozen=True)
class Case:
    label: str
    a: str
    b: str
    duplicate: bool


CASES = [
    Case("same SMS twice", ROAD, ROAD, True),
    Case("resent with a typo and shorthand spelled out", ROAD, "Jalan rusak prah di depan SDN 3 Cibeureum sudah 3 bulan tidak diperbaiki", True),
    Case("case, punctuation and zero padding", "Lampu jalan mati di gang mawar RT 05", "lampu jalan mati di gang Mawar, RT 5!!", True),
    Case("one number changed", WATER, WATER.replace("3 hari", "4 hari"), True),
    Case("very short, identical", "banjir", "banjir", True),
    Case("different complaint, same street", "Lampu jalan mati di gang mawar RT 05", "Sampah menumpuk di gang mawar RT 05 sudah seminggu", False),
    Case("different problem, same landmark", ROAD, "Lampu jalan di depan SDN 3 Cibeureum mati sdh 3 bln", False),
    Case("different utility, same address", WATER, "listrik padam 3 hari di perumahan griya asri blok c", False),
    Case("short one vs much longer follow-up", "Jalan rusak di depan SDN 3", "Jalan rusak di depan SDN 3 tolong segera diperbaiki pak, sudah banyak korban jatuh", False),
    Case("empty vs text", "", ROAD, False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_near_duplicate(case: Case) -> None:
    assert near_duplicate(case.a, case.b) is case.duplicate
    assert near_duplicate(case.b, case.a) is case.duplicate  # symmetric
    assert 0.0 <= similarity(case.a, case.b) <= 1.0
    assert similarity(case.a, case.b) == similarity(case.b, case.a)
