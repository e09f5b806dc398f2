"""A fixed number of byte strings (or None) as one byte string, and back: a channel's journal form.

Length-prefixed (big-endian int32 per field, -1 for None), so any byte may stand in a field: a message's
text in its own charset, a NUL. One ``struct`` call and one join each way.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence


class PackedError(ValueError):
    """Bytes that are not ``n`` packed fields."""


def pack(fields: Sequence[bytes | None]) -> bytes:
    lengths = [-1 if f is None else len(f) for f in fields]
    return struct.pack(f">{len(fields)}i", *lengths) + b"".join(f for f in fields if f)


def unpack(data: bytes, n: int) -> list[bytes | None]:
    head = 4 * n
    if len(data) < head:
        raise PackedError(f"{len(data)} bytes cannot hold {n} fields")
    out: list[bytes | None] = []
    at = head
    for length in struct.unpack_from(f">{n}i", data):
        if length == -1:
            out.append(None)
            continue
        if length < 0:
            raise PackedError(f"a field of length {length}")
        out.append(data[at : at + length])
        at += length
    if at != len(data):
        raise PackedError(f"{n} fields end at byte {at} of {len(data)}")
    return out
