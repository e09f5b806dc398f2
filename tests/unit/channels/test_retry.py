"""channels.retry.Backoff: full jitter below the doubled wait, or a poller's ± spread around it, capped."""

from __future__ import annotations

import asyncio

import pytest

from channels.retry import Backoff, Wakeup


def test_full_jitter_stays_under_the_doubled_wait_and_the_cap() -> None:
    b = Backoff(1.0, 10.0)
    assert all(0 <= b.delay(2) <= 4.0 for _ in range(200))
    assert all(0 <= b.delay(50) <= 10.0 for _ in range(200))


def test_a_pollers_spread_keeps_it_near_its_schedule() -> None:
    b = Backoff(5.0, 300.0, spread=0.2)
    assert all(4.0 <= b.delay(0) <= 6.0 for _ in range(200))  # the first failure: base ± 20 %
    assert all(240.0 <= b.delay(10) <= 360.0 for _ in range(200))  # capped, then spread


async def test_a_stop_that_comes_with_a_wake_up_still_stops_the_sleeper() -> None:
    """A worker told to stop in the very loop turn its wake-up came in must stop: Python 3.11's ``wait_for``
    returned the event's result there and dropped the cancellation, and the outbox ran on for good (a
    forwarder that never stopped, seen as a 300 s hang of its test)."""
    wake = Wakeup(idle_seconds=30)
    sleeper = asyncio.create_task(wake.wait())
    await asyncio.sleep(0)  # asleep on the event
    wake.set()
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper


async def test_a_wake_up_while_nobody_waits_is_kept_for_the_next_wait() -> None:
    wake = Wakeup(idle_seconds=30)
    wake.set()
    await asyncio.wait_for(wake.wait(), 1)  # returns at once, not after 30 s
