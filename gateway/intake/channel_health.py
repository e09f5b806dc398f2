"""The channels' start-up checks, and what ``/healthz`` and ``/metrics`` say about each channel.

A check either passes (``ok``), fails for now (``degraded``: the peer is unreachable, times out,
answers 5xx or garbage) or is refused for good (``off``: :class:`~channels.message.Refused`, a
rejected token). Only ``off`` turns a channel's intake off: a degraded channel keeps its webhook
routes and its poller (which reconnects on its own), and its check is tried again in the background,
with a growing pause, until it passes or is refused.

What is kept and shown of a failure is the channel's own error text (it names a status code or an
exception type, never a token or a message) or, for anything else a check raises, the exception's
type only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from channels.base import StartupCheck
from channels.message import ChannelError, Refused
from channels.retry import Backoff

log = logging.getLogger(__name__)

State = Literal["ok", "degraded", "off"]
UP = {"ok": 1.0, "degraded": 0.5, "off": 0.0}  # ``lapor_channel_up``
CHECK_TIMEOUT = 30.0  # one check, at start-up or later; the clients' own timeouts are shorter


@dataclass
class Entry:
    name: str
    obj: object  # the intake object (webhook channel or poller) the check sits on, or None
    state: State = "ok"
    error: str | None = None
    since: float = 0.0  # when the state last changed
    failures: int = 0  # failed checks in a row
    retry_in: float = 0.0  # the pause before the next check, while degraded


class ChannelHealth:
    """One entry per intake channel; the checked ones change state as their checks pass or fail."""

    def __init__(self, *, retry: Backoff | None = None, timeout: float = CHECK_TIMEOUT,
                 clock: Callable[[], float] = time.time, zone: tzinfo | None = None) -> None:
        self.retry = retry or Backoff(5.0, 300.0, spread=0.2)
        self.timeout = timeout
        self.clock = clock
        self.zone = zone  # the service's time zone, for ``since`` (None: the machine's)
        self.entries: list[Entry] = []
        self._checks: dict[int, StartupCheck] = {}
        self._off: set[int] = set()  # id() of the intake objects switched off

    def add(self, objects: Iterable[object]) -> None:
        """Every intake object the gateway runs (webhooks and pollers), shown as ``ok`` until a check says else."""
        for obj in objects:
            if not any(e.obj is obj for e in self.entries):
                self.entries.append(Entry(_name(obj), obj, since=self.clock()))

    def is_off(self, obj: object) -> bool:
        return id(obj) in self._off

    async def first_checks(self, checks: Iterable[StartupCheck]) -> list[object]:
        """Run every check once, side by side; the objects whose check was refused (to leave out)."""
        entries = []
        for check in checks:
            self.add([check])
            entry = next(e for e in self.entries if e.obj is check)
            self._checks[id(check)] = check
            entries.append(entry)
        await asyncio.gather(*(self._run(e) for e in entries))
        return [e.obj for e in entries if e.state == "off"]

    def retries(self, on_off: Callable[[object], None]) -> list[asyncio.Task[None]]:
        """Background tasks that check each degraded channel again until it passes or is refused."""
        return [asyncio.create_task(self._recheck(e, on_off), name=f"check {e.name}")
                for e in self.entries if e.state == "degraded"]

    async def _recheck(self, entry: Entry, on_off: Callable[[object], None]) -> None:
        while entry.state == "degraded":
            await asyncio.sleep(entry.retry_in)
            await self._run(entry)
        if entry.state == "off":
            on_off(entry.obj)

    async def _run(self, entry: Entry) -> None:
        check = self._checks[id(entry.obj)]
        try:
            async with asyncio.timeout(self.timeout):  # not wait_for: it can drop a cancellation (3.11)
                line = await check.check()
        except Refused as exc:
            self._set(entry, "off", str(exc))
            log.error("%s; %s switched off", exc, entry.name)
            return
        except ChannelError as exc:
            self._failed(entry, str(exc))
            return
        except TimeoutError:
            self._failed(entry, f"{entry.name}: start-up check timed out after {self.timeout:g}s")
            return
        except Exception as exc:  # a client that raised something else: say what, never its text
            self._failed(entry, f"{entry.name}: start-up check failed ({type(exc).__name__})")
            log.debug("%s check traceback", entry.name, exc_info=True)
            return
        again = entry.failures
        self._set(entry, "ok", None)
        log.info("%s%s", line, f" (again, after {again} failed check{'s' * (again > 1)})" if again else "")

    def _failed(self, entry: Entry, error: str) -> None:
        same = entry.state == "degraded" and entry.error == error
        self._set(entry, "degraded", error)
        entry.failures += 1
        entry.retry_in = self.retry.delay(entry.failures - 1)
        if not same:  # said once; again only when the reason changes
            log.warning("%s; %s stays on (degraded), checked again in %.0fs", error, entry.name, entry.retry_in)
        else:
            log.debug("%s; still degraded after %d checks, next in %.0fs", error, entry.failures, entry.retry_in)

    def _set(self, entry: Entry, state: State, error: str | None) -> None:
        if state != entry.state:
            entry.since = self.clock()
        if state == "ok":
            entry.failures = 0
        entry.state, entry.error = state, error
        if state == "off":
            self._off.add(id(entry.obj))

    # --- what /healthz and /metrics show ---------------------------------------------------
    def view(self) -> dict[str, dict[str, Any]]:
        """``{name: {state, error, since}}``; a name two objects share (none today) shows its worst state."""
        out: dict[str, dict[str, Any]] = {}
        for e in self.entries:
            if e.name in out and UP[out[e.name]["state"]] <= UP[e.state]:
                continue
            out[e.name] = {"state": e.state, "error": e.error, "since": datetime.fromtimestamp(e.since, self.zone).astimezone(self.zone).isoformat(timespec="seconds")}
        return out

    def problems(self) -> list[str]:
        return [f"{name}: {v['state']} ({v['error']})" for name, v in self.view().items() if v["state"] != "ok"]

    def metrics(self) -> list[str]:
        lines = ["# TYPE lapor_channel_up gauge"]
        lines += [f'lapor_channel_up{{channel="{name}"}} {UP[v["state"]]:g}' for name, v in sorted(self.view().items())]
        return lines


def _name(obj: object) -> str:
    """Webhooks and pollers have a ``name``; a bare start-up check may not, and is shown by its type."""
    return str(getattr(obj, "name", None) or type(obj).__name__)
