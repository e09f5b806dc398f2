"""channels.retry.Backoff: full jitter below the doubled wait, or a poller's ± spread around it, capped."""

from __future__ import annotations

from channels.retry import Backoff


def test_full_jitter_stays_under_the_doubled_wait_and_the_cap() -> None:
    b = Backoff(1.0, 10.0)
    assert all(0 <= b.delay(2) <= 4.0 for _ in range(200))
    assert all(0 <= b.delay(50) <= 10.0 for _ in range(200))


def test_a_pollers_spread_keeps_it_near_its_schedule() -> None:
    b = Backoff(5.0, 300.0, spread=0.2)
    assert all(4.0 <= b.delay(0) <= 6.0 for _ in range(200))  # the first failure: base ± 20 %
    assert all(240.0 <= b.delay(10) <= 360.0 for _ in range(200))  # capped, then spread
