"""The block-drawn random bits behind uuid7 and tracking IDs: in range, every value reachable, and a
forked child never repeats its parent's bits."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer import randomness
from normalizer.ids import uuid7
from normalizer.randomness import random_below, random_bits
from normalizer.tracking import check_tracking_id, new_tracking_id


@given(st.integers(min_value=1, max_value=2**80))
def test_below_stays_below(n: int) -> None:
    assert 0 <= random_below(n) < n


@given(st.integers(min_value=0, max_value=200))
def test_bits_fit(k: int) -> None:
    assert 0 <= random_bits(k) < 2**k or k == 0


def test_small_ranges_reach_every_value() -> None:
    assert {random_below(3) for _ in range(300)} == {0, 1, 2}
    assert {random_bits(1) for _ in range(200)} == {0, 1}


def test_a_bound_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError):
        random_below(0)


def test_a_block_boundary_gives_fresh_bytes() -> None:
    draws = [random_bits(73) for _ in range(2 * randomness._BLOCK // 10 + 5)]  # crosses a refill
    assert len(set(draws)) == len(draws)


def test_ids_stay_valid_and_distinct() -> None:
    ids = [new_tracking_id() for _ in range(2000)]
    assert all(check_tracking_id(t).ok for t in ids) and len(set(ids)) > 1990
    uuids = [uuid7() for _ in range(2000)]
    assert uuids == sorted(uuids) and len(set(uuids)) == 2000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_draws_other_bits_than_its_parent() -> None:
    random_bits(8)  # the parent holds a partly used block the child inherits
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next draws, to the parent
        os.close(read)
        os.write(write, b"".join(random_bits(64).to_bytes(8, "big") for _ in range(8)))
        os._exit(0)
    os.close(write)
    child = b""
    while chunk := os.read(read, 64):
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(random_bits(64).to_bytes(8, "big") for _ in range(8))
    assert len(child) == 64 and child != parent
