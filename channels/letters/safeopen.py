"""Read a file the hot folder listed, and only that file: no links followed, no swaps.

The inbox is a share the scanners (and whoever reaches them) write to. Between
the listing and the read, its entry can be replaced by a symbolic link to a
file elsewhere on the machine; reading by name would then forward that file.
So the file is opened with ``O_NOFOLLOW`` (a link fails to open), ``fstat``-ed
on the opened descriptor (a regular file, one hard link, the same
``(st_dev, st_ino)`` as listed) and read from that descriptor only.
``O_NONBLOCK`` keeps a FIFO planted in the inbox from blocking the open.
"""

from __future__ import annotations

import errno
import os
import stat

from channels.message import Rejected

__all__ = ["read_listed"]

CHUNK = 1024 * 1024


def read_listed(path: str | os.PathLike[str], listed: os.stat_result, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it is still the regular file ``listed`` (an ``lstat``); else Rejected."""
    if stat.S_ISLNK(listed.st_mode):
        raise Rejected(422, "is a symbolic link; links are not followed")
    if not stat.S_ISREG(listed.st_mode):
        raise Rejected(422, "is not a regular file")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Rejected(422, "became a symbolic link after it was listed; links are not followed") from exc
        raise
    with os.fdopen(fd, "rb", buffering=0) as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Rejected(422, "is not a regular file")
        if (st.st_dev, st.st_ino) != (listed.st_dev, listed.st_ino):
            raise Rejected(422, "changed since it was listed (another file took its name); not read")
        if st.st_nlink != 1:
            raise Rejected(422, "has other hard links (it may be a file outside the inbox); not read")
        if st.st_size > max_bytes:
            raise Rejected(413, f"file is {st.st_size} bytes, larger than the limit of {max_bytes} bytes")
        os.set_blocking(fd, True)
        parts, total = [], 0
        while chunk := f.read(min(CHUNK, max_bytes + 1 - total)):
            parts.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew after the fstat
                raise Rejected(413, f"file is larger than the limit of {max_bytes} bytes")
        return b"".join(parts)
