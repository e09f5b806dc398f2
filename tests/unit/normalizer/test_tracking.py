"""Tracking IDs: generation, citizen input forms, and Damm's typo guarantee."""

from dataclasses import dataclass

import pytest
from stdnum import damm

from normalizer.tracking import check_tracking_id, new_tracking_id

VALID = "8082656733"  # 808265673 + Damm check digit 3


@dataclass(frozen=True)
class Case:
    label: str
    typed: str
    tracking_id: str | None = None
    error: str | None = None


CASES = [
    Case("plain ten digits", VALID, tracking_id=VALID),
    Case("groups with spaces", "808 265 6733", tracking_id=VALID),
    Case("groups with dashes, check digit apart", "808-265-673-3", tracking_id=VALID),
    Case("dots inside", "808.265.6733", tracking_id=VALID),
    Case("surrounding whitespace and a hash", "  #8082656733 \n", tracking_id=VALID),
    Case("full-width digits from a phone keyboard", "８０８２６５６７３３", tracking_id=VALID),
    Case("one digit mistyped", "8082656734", error="bad_check_digit"),
    Case("two neighbours swapped", "8028656733", error="bad_check_digit"),
    Case("nine digits", "808265673", error="wrong_length"),
    Case("eleven digits", "80826567330", error="wrong_length"),
    Case("empty", "", error="wrong_length"),
    Case("letters inside", "80826S6733", error="not_digits"),
    Case("a word instead of an id", "nomor saya", error="not_digits"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_check_tracking_id(case: Case) -> None:
    check = check_tracking_id(case.typed)
    assert check.tracking_id == case.tracking_id
    assert check.error == case.error
    assert check.ok is (case.error is None)
    if case.error:
        assert "10" in check.message_id or "salah ketik" in check.message_id
        assert check.message_en
        assert not case.typed.strip() or case.typed.strip() not in check.message_id  # never echo input
    else:
        assert check.message_id == check.message_en == ""


def test_new_ids_have_the_promised_shape() -> None:
    ids = {new_tracking_id() for _ in range(2000)}
    assert len(ids) == 2000
    for tid in ids:
        assert len(tid) == 10 and tid.isdigit() and tid[0] != "0"
        assert check_tracking_id(tid).tracking_id == tid
    assert len({tid[0] for tid in ids}) == 9  # first digit drawn from 1..9


@pytest.mark.parametrize("draw", range(21))  # the IDs drawn in the test: a collection must be the same twice
def test_every_single_digit_error_and_adjacent_transposition_is_caught(draw: int) -> None:
    tid = VALID if draw == 0 else new_tracking_id()
    assert damm.is_valid(tid)
    for pos in range(10):
        for digit in "0123456789":
            if digit != tid[pos]:
                typo = tid[:pos] + digit + tid[pos + 1 :]
                assert check_tracking_id(typo).error == "bad_check_digit", typo
    for pos in range(9):
        if tid[pos] != tid[pos + 1]:
            swapped = tid[:pos] + tid[pos + 1] + tid[pos] + tid[pos + 2 :]
            assert check_tracking_id(swapped).error == "bad_check_digit", swapped
