"""Random bits for ids, drawn from ``os.urandom`` a block at a time.

``secrets`` asks the kernel once per value; each call lets go of the GIL, and in the worker the
journal's writer thread takes it every time (a thread switch per id, three ids per message). The
bytes are the kernel's CSPRNG output as ``secrets`` would give them, only fetched 4 KiB at once; a
forked child drops what it inherited, so parent and child never hand out the same bits.
"""

from __future__ import annotations

import os
import threading

__all__ = ["random_below", "random_bits"]

_BLOCK = 4096
_lock = threading.Lock()
_buf = b""
_pos = 0


def _forget() -> None:
    global _buf, _pos, _lock
    _buf, _pos, _lock = b"", 0, threading.Lock()  # a fresh lock too: another thread may have held it


os.register_at_fork(after_in_child=_forget)


def _take(n: int) -> bytes:
    global _buf, _pos
    with _lock:
        if _pos + n > len(_buf):
            _buf, _pos = os.urandom(max(_BLOCK, n)), 0
        out = _buf[_pos:_pos + n]
        _pos += n
        return out


def random_bits(k: int) -> int:
    """A uniformly random integer of ``k`` bits (0 <= value < 2**k), as ``secrets.randbits``."""
    if k <= 0:
        return 0
    nbytes = (k + 7) // 8
    return int.from_bytes(_take(nbytes), "big") >> (nbytes * 8 - k)


def random_below(n: int) -> int:
    """A uniformly random integer in [0, n), as ``secrets.randbelow`` (rejection sampling: no bias)."""
    if n <= 0:
        raise ValueError("upper bound must be positive")
    k = n.bit_length()
    while (r := random_bits(k)) >= n:
        pass
    return r
