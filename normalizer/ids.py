"""UUIDv7 (RFC 9562) for complaint record ids; Python 3.11's ``uuid`` has no ``uuid7``.

Layout: 48-bit Unix time in ms | version 7 | 74 random bits (12 + 62) around the
variant bits. Within one process the ids are strictly increasing: when the clock
has not moved (or went back), the previous 74-bit random value is incremented by
a random step (RFC 9562 §6.2, method 2 "monotonic random").
"""

from __future__ import annotations

import threading
import time
import uuid

from normalizer.randomness import random_bits

__all__ = ["uuid7", "uuid7_ms"]

_RAND_BITS = 74
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _next(now_ms: int) -> tuple[int, int]:
    global _last_ms, _last_rand
    with _lock:
        if now_ms > _last_ms:
            # Top bit clear leaves room to count up within the same millisecond.
            rand = random_bits(_RAND_BITS - 1)
        else:
            now_ms = _last_ms
            rand = _last_rand + 1 + random_bits(20)
            if rand >> _RAND_BITS:  # exhausted this ms: borrow the next one
                now_ms += 1
                rand = random_bits(_RAND_BITS - 1)
        _last_ms, _last_rand = now_ms, rand
        return now_ms, rand


def uuid7() -> str:
    """A new time-ordered UUIDv7 as its canonical 36-character string."""
    ms, rand = _next(time.time_ns() // 1_000_000)
    rand_a = rand >> 62
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def uuid7_ms(value: str) -> int:
    """The Unix time in milliseconds stored in a UUIDv7 string."""
    return uuid.UUID(value).int >> 80
