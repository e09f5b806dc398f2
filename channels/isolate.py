"""Run a heavy, hostile-input function in a separate, resource-limited process.

OCR, PDF text extraction, image decoding and the parsing of large mails read
bytes a stranger chose. A decompression bomb or a pathological stream must
cost one job, not the worker: each job runs in one of a few long-lived child
processes with an address-space limit (``RLIMIT_AS``), a CPU-time limit per
job (``RLIMIT_CPU``) and a wall-clock timeout. A child that goes over any of
them is killed and replaced; the job fails with :class:`IsolationFailed`
(a :class:`~channels.message.Rejected`, so it fails alone, with a reason an
operator may read); every other job keeps running.

The function and its arguments must be picklable (a module-level function,
plain values). Exceptions raised by the function come back as their type name
only (their messages may quote the input), except :class:`Rejected`, whose
reason is safe to show by contract.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import queue
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from channels.message import Rejected

__all__ = ["IsolatedPool", "IsolationFailed", "JobLimits", "configure", "run_isolated", "shared_pool"]

T = TypeVar("T")
MiB = 1024 * 1024


class IsolationFailed(Rejected):
    """The job went over a limit or crashed its process; ``reason`` says which, never what it read."""

    def __init__(self, reason: str) -> None:
        super().__init__(422, reason)


@dataclass(frozen=True)
class JobLimits:
    seconds: float = 120.0  # wall clock, waiting included once the job runs
    cpu_seconds: int = 120


def _serve(conn: Connection, memory_bytes: int) -> None:
    """The child's loop: one job at a time, under the address-space limit set once.

    The child leads a process group of its own, so that the subprocesses a job
    starts (tesseract) die with it when it is killed over a limit; they
    inherit its rlimits (each gets the address-space limit to itself).
    """
    with contextlib.suppress(OSError):
        os.setsid()
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        fn, args, kwargs, cpu_seconds = job
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, resource.RLIM_INFINITY))
        try:
            result = ("ok", fn(*args, **kwargs))
        except MemoryError:
            result = ("memory", None)
        except Rejected as exc:
            result = ("rejected", (exc.status, exc.reason))
        except BaseException as exc:  # the type only: a message may quote what it read
            result = ("error", type(exc).__name__)
        try:
            conn.send(result)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # an unpicklable result
            conn.send(("error", f"unsendable result ({type(exc).__name__})"))


class _Child:
    def __init__(self, ctx: Any, memory_bytes: int) -> None:
        self.conn, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child_end, memory_bytes), daemon=True, name="lapor-isolated")
        self.proc.start()
        child_end.close()
        self.jobs = 0

    def kill(self) -> None:
        pid = self.proc.pid
        if pid is not None:
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pid:  # its own group (see _serve): its subprocesses go too
                    os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class IsolatedPool:
    """``workers`` children, each limited to ``memory_bytes`` of address space; callers block a thread."""

    def __init__(self, workers: int = 2, memory_bytes: int = 1536 * MiB, recycle_after: int = 200) -> None:
        self.workers = max(1, workers)
        self.memory_bytes = memory_bytes
        self.recycle_after = recycle_after
        self._ctx = multiprocessing.get_context("forkserver")
        self._idle: queue.SimpleQueue[_Child | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._all: set[_Child] = set()
        self._closed = False
        for _ in range(self.workers):
            self._idle.put(None)  # a slot: the child starts on first use

    def run(self, fn: Callable[..., T], *args: Any, limits: JobLimits = JobLimits(), **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a child; raise :class:`IsolationFailed` when it goes over a limit."""
        if self._closed:
            raise RuntimeError("isolated pool is closed")
        child = self._idle.get()
        try:
            if child is None or not child.proc.is_alive() or child.jobs >= self.recycle_after:
                if child is not None:
                    self._retire(child)
                child = self._start()
            child.jobs += 1
            try:
                child.conn.send((fn, args, kwargs, limits.cpu_seconds))
            except (OSError, ValueError) as exc:
                self._retire(child)
                child = None
                raise IsolationFailed("the isolated worker could not take the job") from exc
            if not child.conn.poll(limits.seconds):
                self._retire(child)
                child = None
                raise IsolationFailed(f"took longer than {limits.seconds:g} s")
            try:
                status, value = child.conn.recv()
            except (EOFError, OSError) as exc:
                code = child.proc.exitcode
                self._retire(child)
                child = None
                if code == -signal.SIGXCPU:
                    raise IsolationFailed(f"used more than {limits.cpu_seconds} s of CPU") from exc
                if code == -signal.SIGKILL:
                    raise IsolationFailed(f"needed more than {self.memory_bytes // MiB} MiB") from exc
                raise IsolationFailed(f"crashed its process (exit {code})") from exc
            if status == "ok":
                return value  # type: ignore[no-any-return]
            if status == "memory":
                self._retire(child)  # its heap may be fragmented past use
                child = None
                raise IsolationFailed(f"needed more than {self.memory_bytes // MiB} MiB")
            if status == "rejected":
                raise Rejected(*value)
            raise IsolationFailed(f"failed with {value}")
        finally:
            self._idle.put(child)

    def _start(self) -> _Child:
        child = _Child(self._ctx, self.memory_bytes)
        with self._lock:
            self._all.add(child)
        return child

    def _retire(self, child: _Child) -> None:
        child.kill()
        with self._lock:
            self._all.discard(child)

    def pids(self) -> list[int]:
        with self._lock:
            return [c.proc.pid for c in self._all if c.proc.pid is not None]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            children = list(self._all)
            self._all.clear()
        for child in children:
            child.kill()


_shared: IsolatedPool | None = None
_shared_lock = threading.Lock()
_shared_config: dict[str, int] = {}


def configure(workers: int | None = None, memory_bytes: int | None = None) -> None:
    """Set the shared pool's size and memory limit (the worker does, from settings, before first use)."""
    if workers is not None:
        _shared_config["workers"] = workers
    if memory_bytes is not None:
        _shared_config["memory_bytes"] = memory_bytes


def shared_pool() -> IsolatedPool:
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = IsolatedPool(**_shared_config)
            atexit.register(_shared.close)
        return _shared


def run_isolated(fn: Callable[..., T], *args: Any, limits: JobLimits = JobLimits(), **kwargs: Any) -> T:
    """Run ``fn`` in the shared pool (blocking: call it from a thread, e.g. ``asyncio.to_thread``).

    Inside an isolated child (a job calling another) it runs in place: the limits already apply.
    """
    if multiprocessing.current_process().name == "lapor-isolated" or os.environ.get("LAPOR_ISOLATE") == "off":
        return fn(*args, **kwargs)
    return shared_pool().run(fn, *args, limits=limits, **kwargs)
