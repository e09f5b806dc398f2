"""Helpers for end-to-end tests through ``lapor-gateway run`` (shared by the e2e test folders).

- :class:`ThreadedSmtpSink`: :class:`~tests.peers.smtp_sink.SmtpSink` on its own event loop in a
  thread, so the gateway child process can deliver email receipts to it while the test is synchronous.
- :func:`metrics_text`, :func:`journal_dump`, :func:`assert_absent`: the places the privacy
  canaries look at.
- :func:`records_by_external_id`, :func:`wait_record`, :func:`intake_log`: the central store and the
  intake log as a test reads them.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from normalizer.tracking import check_tracking_id
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers.smtp_sink import Captured, SmtpSink

__all__ = [
    "ThreadedSmtpSink",
    "assert_absent",
    "intake_log",
    "journal_dump",
    "metrics_text",
    "records_by_external_id",
    "threaded_smtp_sink",
    "tracking_ids_in",
    "wait_record",
]


class ThreadedSmtpSink:
    """An SMTP sink reachable from other processes; ``messages`` fills as mail arrives."""

    def __init__(self, fail_with: str | None = None) -> None:
        self.sink = SmtpSink(fail_with=fail_with)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-sink", daemon=True)

    def start(self) -> ThreadedSmtpSink:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sink.__aenter__(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self.sink.__aexit__(None, None, None)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in others:  # sessions still open (aiosmtpd keeps one task per connection)
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    @property
    def port(self) -> int:
        return self.sink.port

    @property
    def messages(self) -> list[Captured]:
        return list(self.sink.messages)

    def env(self) -> dict[str, str]:
        """Gateway settings that send email receipts here."""
        return {"LAPOR_MAIL__OUTBOUND_HOST": "127.0.0.1", "LAPOR_MAIL__OUTBOUND_PORT": str(self.port)}

    def to(self, address: str) -> list[Captured]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def wait_to(self, address: str, count: int = 1, timeout: float = 20.0) -> list[Captured]:
        return wait_until(lambda: (got := self.to(address)) and len(got) >= count and got, timeout,
                          what=f"{count} receipt(s) to {address}")  # fmt: skip


@contextmanager
def threaded_smtp_sink(fail_with: str | None = None) -> Iterator[ThreadedSmtpSink]:
    sink = ThreadedSmtpSink(fail_with).start()
    try:
        yield sink
    finally:
        sink.stop()


def metrics_text(gw: GatewayProcess) -> str:
    with urllib.request.urlopen(gw.url + "/metrics", timeout=5) as r:
        return r.read().decode()


JOURNAL_FILES = ("gateway.db", "gateway-state.db")


def journal_dump(data_dir: Path, names: tuple[str, ...] = JOURNAL_FILES) -> str:
    """The gateway's SQLite journal files as SQL text (``iterdump``): what is stored at rest."""
    out = []
    for path in (data_dir / n for n in names):
        if not path.exists():
            continue
        db = sqlite3.connect(path)
        try:
            out.append("\n".join(db.iterdump()))
        finally:
            db.close()
    return "\n".join(out)


def assert_absent(canaries: list[str], places: dict[str, str]) -> None:
    """No canary (case-insensitive) in any place; the message names what leaked where, not the content."""
    for where, content in places.items():
        low = content.lower()
        for canary in canaries:
            assert canary.lower() not in low, f"{canary!r} leaked into the {where}"


# --- the central store and the intake log, as the e2e tests read them (used by letters_e2e) --------


def records_by_external_id(gw: GatewayProcess) -> dict[str, list[dict[str, Any]]]:
    """The forwarded records in the central store, grouped by ``external_id``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in gw.central_records():
        out.setdefault(item["record"]["external_id"], []).append(item["record"])
    return out


def wait_record(gw: GatewayProcess, external_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The one forwarded record with ``external_id`` (fails when it is stored twice)."""
    got = wait_until(lambda: records_by_external_id(gw).get(external_id), timeout, interval=0.2,
                     what=f"complaint {external_id[:16]} in the central store")  # fmt: skip
    assert len(got) == 1, f"{external_id[:16]} stored {len(got)} times"
    return got[0]


def intake_log(gw: GatewayProcess, n: int = 1000) -> str:
    """``lapor-gateway log -n N``: the intake log as the operator sees it."""
    out = gw.cli("log", "-n", str(n))
    assert out.returncode == 0, out.stderr
    return out.stdout


def tracking_ids_in(text: str) -> list[str]:
    """The valid tracking IDs (10 digits, Damm check digit) a receipt or reply names, in order (used by social_e2e)."""
    found = [t for t in re.findall(r"(?<!\d)\d{10}(?!\d)", text) if check_tracking_id(t).ok]
    return list(dict.fromkeys(found))
