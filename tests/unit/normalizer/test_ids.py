"""UUIDv7: RFC 9562 layout, time, and order."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from normalizer.ids import uuid7, uuid7_ms


@dataclass(frozen=True)
class Case:
    label: str
    check: Callable[[uuid.UUID], bool]


CASES = [
    Case("version 7", lambda u: u.version == 7),
    Case("RFC 9562 variant", lambda u: u.variant == uuid.RFC_4122),
    Case("canonical string form", lambda u: str(u) == str(uuid.UUID(str(u))) and len(str(u)) == 36),
    Case("timestamp is now (ms)", lambda u: abs(uuid7_ms(str(u)) - time.time_ns() // 1_000_000) < 60_000),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_uuid7_layout(case: Case) -> None:
    assert case.check(uuid.UUID(uuid7()))


def test_uuid7_strictly_increasing_even_within_one_millisecond() -> None:
    values = [uuid7() for _ in range(20_000)]  # many share a millisecond
    assert len(set(values)) == len(values)
    assert values == sorted(values)
    assert [uuid.UUID(v).int for v in values] == sorted(uuid.UUID(v).int for v in values)
