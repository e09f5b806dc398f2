"""The pipes between the processes: wake-ups (intake → worker, intake and worker → delivery) and the
worker's faults (worker → intake).

Every process imports this module: the intake process owns the pipes, its children hold one end each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

UPDATES_BYTE = b"u"  # to the delivery process: read the central store's updates feed (any other byte: new work)


class Waker:
    """The writing end of a wake-up pipe: one byte means 'new work' (``u``: new updates in the central
    store). Never blocks the writer."""

    def __init__(self, write_fd: int) -> None:
        self.write_fd = write_fd
        self._pending = False

    def poke(self) -> None:
        """Coalesced: at most one write per event-loop iteration, however many requests landed."""
        if not self._pending:
            self._pending = True
            asyncio.get_running_loop().call_soon(self._write)

    def _write(self) -> None:
        self._pending = False
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self.write_fd, b"!")

    def poke_updates(self) -> None:
        """The central store pushed a wake-up: ``u`` says to read the updates feed now."""
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self.write_fd, UPDATES_BYTE)


class WakePipe(Waker):
    """A wake-up pipe the intake process owns; ``read_fd`` (and ``write_fd``, for a child that wakes
    another) is handed to its children with ``pass_fds``."""

    def __init__(self) -> None:
        self.read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        super().__init__(write_fd)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def listen_for_wakeups(fd: int, on_work: Callable[[], None], on_updates: Callable[[], None] | None = None) -> None:
    """A child's reading end: ``on_work`` for every wake-up, ``on_updates`` too when one said ``u``."""

    def drain() -> None:
        updates = False
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(fd, 4096):
                updates = updates or UPDATES_BYTE in chunk
        if updates and on_updates is not None:
            on_updates()
        on_work()

    os.set_blocking(fd, False)
    asyncio.get_running_loop().add_reader(fd, drain)


class StatusPipe:
    """Worker → intake: one line whenever the worker's fault changes (``ok`` or the reason).

    A pipe, not the journal: it must work when the disk is full.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_inheritable(self.write_fd, True)
        self.fault: str | None = None
        self._partial = b""

    def listen(self) -> None:
        asyncio.get_running_loop().add_reader(self.read_fd, self._read)

    def _read(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self.read_fd, 4096):
                self._partial += chunk
        *lines, self._partial = self._partial.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").strip()
            self.fault = None if text == "ok" else text[:200]

    def reset(self) -> None:
        """A restarted worker starts without a fault."""
        self.fault = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.read_fd)
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def report_status(fd: int, fault: str | None) -> None:
    """The worker's side of :class:`StatusPipe`."""
    with contextlib.suppress(OSError):
        os.write(fd, ((fault or "ok").replace("\n", " ") + "\n").encode())
