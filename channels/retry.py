"""How our loops wait: after failures (:class:`Backoff`) and between polls (:class:`Wakeup`).

It sits in the bottom layer so the pollers (``channels/``), the forwarder and the worker share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Doubling waits from ``base`` up to ``cap``.

    ``spread`` None is full jitter, uniform in [0, wait]: many senders retrying one peer spread out
    (the forwarder, receipts, restarts). A fraction keeps a poller's pause near its schedule: wait ± that much.
    """

    base: float = 1.0
    cap: float = 600.0
    spread: float | None = None

    def delay(self, attempt: int) -> float:
        """The wait before retry ``attempt`` (0 after the first failure)."""
        wait = min(self.cap, self.base * 2 ** min(max(attempt, 0), 30))
        if self.spread is None:
            return random.uniform(0, wait)
        return wait * random.uniform(1 - self.spread, 1 + self.spread)


class Wakeup:
    """An event a worker sleeps on between polls: set by whoever made new work."""

    def __init__(self, idle_seconds: float = 1.0) -> None:
        self.idle_seconds = idle_seconds
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        """Return when woken, or after ``idle_seconds`` (the poll that catches retries coming due).

        A wake-up that came while nobody waited (new work during the last round) returns at once: cleared
        after waking, not before, so it is not lost (the store's push while the poller reads the feed)."""
        # asyncio.timeout, not wait_for: on Python 3.11 a cancellation arriving in the loop turn the event was
        # set is dropped by wait_for (it returns the event's result), and a worker told to stop runs on
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.idle_seconds):
                await self._event.wait()
        self._event.clear()
