"""The receipt paths (Kannel's sendsms, the mail relay): checked at start-up, shown on ``/healthz`` and
``/metrics``.

The start-up check only tells (one line each): a receipt that cannot go out waits and is retried by
the worker, so an unreachable path turns nothing off. Afterwards the worker's own attempts are the
truth: the receipt worker records each path's state in the state file when it changes
(:meth:`~gateway.store.sqlite.receipts.ReceiptTables.set_receipt_path`), and this reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp

from gateway.settings import Settings

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0


@dataclass
class PathCheck:
    family: str
    what: str  # "Kannel sendsms at http://127.0.0.1:13013/cgi-bin/sendsms"
    probe: Callable[[], Any]  # a coroutine function: returns when reachable, raises when not


def shown_url(url: str) -> str:
    """The URL without credentials or query (a deployer may have put the password there)."""
    u = urlsplit(url)
    host = u.hostname or ""
    return f"{u.scheme}://{host}{f':{u.port}' if u.port else ''}{u.path}"


async def _http_answers(url: str) -> None:
    """Any HTTP status counts: the peer is there (a GET without parameters is refused by sendsms)."""
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, allow_redirects=False) as resp:
        await resp.read()


async def _tcp_accepts(host: str, port: int) -> None:
    _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CHECK_TIMEOUT)
    writer.close()
    with contextlib.suppress(TimeoutError, OSError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)


def receipt_path_checks(settings: Settings) -> list[PathCheck]:
    url = settings.sms.kannel.sendsms_url
    checks = [PathCheck("sms", f"Kannel sendsms at {shown_url(url)}", lambda: _http_answers(url))]
    m = settings.mail
    if m.outbound_host:
        host, port = m.outbound_host, m.outbound_port
        checks.append(PathCheck("email", f"mail relay {host}:{port}", lambda: _tcp_accepts(host, port)))
    return checks


class ReceiptPaths:
    """What ``/healthz`` and ``/metrics`` say about the receipt paths."""

    def __init__(self, journal: Any, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.journal = journal
        self.settings = settings
        self.clock = clock
        self.zone = ZoneInfo(settings.service.timezone)
        self.checks = receipt_path_checks(settings)
        self.checked_at: float | None = None
        self.unreachable: dict[str, tuple[float, str]] = {}  # family → (when, why) from the start-up check

    async def check_at_start(self) -> None:
        """One line per path; an unreachable one is a warning (its receipts wait and are retried)."""
        self.checked_at = self.clock()
        results = await asyncio.gather(*(c.probe() for c in self.checks), return_exceptions=True)
        hours = self.settings.receipts.retry_hours
        for check, result in zip(self.checks, results, strict=True):
            if isinstance(result, BaseException):
                why = type(result).__name__
                self.unreachable[check.family] = (self.checked_at, why)
                log.warning("receipts: %s unreachable (%s); %s receipts wait and are retried for %gh",
                            check.what, why, check.family, hours)
            else:
                log.info("receipts: %s reachable", check.what)

    def _when(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.zone).isoformat(timespec="seconds")

    def state(self) -> dict[str, dict[str, Any]]:
        """family → {up, since, reason, waiting}: the worker's record once it tried the path after this
        start, before that the start-up check's."""
        try:
            paths = self.journal.receipt_paths()
        except sqlite3.Error:  # the state file unreadable for now: what the start-up check said
            paths = {}
        out: dict[str, dict[str, Any]] = {}
        for check in self.checks:
            out[check.family] = {"up": True, "since": None, "reason": None, "waiting": 0, "failed": 0}
        for family, p in paths.items():
            out[family] = {k: p.get(k) for k in ("up", "since", "reason", "waiting", "failed")}
        for family, (when, why) in self.unreachable.items():
            recorded = paths.get(family)
            if recorded is None or (self.checked_at is not None and recorded["updated"] < self.checked_at):
                # down before this start too: it has been failing since then, not since the restart
                was = recorded.get("since") if recorded is not None and recorded.get("up") is False else None
                first = min(float(was), when) if isinstance(was, int | float) else when
                out[family] |= {"up": False, "since": first, "reason": f"unreachable at start-up ({why})"}
        return out

    def problems(self) -> list[str]:
        out = []
        for family, p in sorted(self.state().items()):
            if not p["up"]:
                since = f" since {self._when(p['since'])}" if p["since"] else ""
                failed = f", {p['failed']} failed" if p["failed"] else ""
                out.append(f"receipts: {family} failing{since} ({p['waiting']} waiting{failed})")
        return out

    def view(self) -> dict[str, dict[str, Any]]:
        return {family: {"up": p["up"], "since": self._when(p["since"]) if p["since"] else None,
                         "reason": p["reason"], "waiting": p["waiting"], "failed": p["failed"]}
                for family, p in sorted(self.state().items())}

    def metrics(self) -> list[str]:
        state = self.state()
        lines = ["# TYPE lapor_receipt_path_up gauge"]
        lines += [f'lapor_receipt_path_up{{family="{f}"}} {int(bool(p["up"]))}' for f, p in sorted(state.items())]
        lines.append("# TYPE lapor_receipts_waiting gauge")
        lines += [f'lapor_receipts_waiting{{family="{f}"}} {p["waiting"]}' for f, p in sorted(state.items())]
        return lines
