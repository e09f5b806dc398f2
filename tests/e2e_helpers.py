"""Helpers for end-to-end tests through ``lapor-gateway run`` (shared by the e2e test folders).

- :class:`InThread`: a fake API or sink on its own event loop in a thread, reachable from the gateway
  child process while the test is synchronous; :class:`ThreadedSmtpSink` is the SMTP sink so run.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from channels.message import InboundMessage
from normalizer.pipeline import Normalizer
from normalizer.tracking import check_tracking_id
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers.smtp_sink import Captured, SmtpSink

T = TypeVar("T")

__all__ = [
    "InThread",
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


class InThread(Generic[T]):
    """An async context manager (a fake API, an SMTP sink) on its own event loop in a thread,
    so the gateway, a separate process, can reach it while the test reads what it recorded.

    Change its state with :meth:`call`, which runs on its loop.
    """

    def __init__(self, inner: T) -> None:
        self.inner = inner
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=type(inner).__name__, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.inner.__aenter__(), self._loop).result(10)  # type: ignore[attr-defined]
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        # handlers or sessions still running (a getUpdates long poll, an open SMTP session)
        # would make the server wait for them: cancel first, then close
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in others:
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.inner.__aexit__(None, None, None)  # type: ignore[attr-defined]

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)


class ThreadedSmtpSink(InThread[SmtpSink]):
    """An SMTP sink reachable from other processes; ``messages`` fills as mail arrives."""

    def __init__(self, fail_with: str | None = None) -> None:
        super().__init__(SmtpSink(fail_with=fail_with))

    @property
    def sink(self) -> SmtpSink:
        return self.inner

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


class RecordsByExternalId(dict[str, list[dict[str, Any]]]):
    """Records grouped by ``external_id``; a raw channel id also finds its anonymous record, which is
    forwarded under a keyed id (``anon:…``) computed here with the gateway's reporter key."""

    def __init__(self, records: list[dict[str, Any]], reporter_key: str | None) -> None:
        super().__init__()
        for r in records:
            self.setdefault(r["external_id"], []).append(r)
        self._normalizer = Normalizer(reporter_key) if reporter_key else None
        self._places = {(r["channel"], r["account"]) for r in records if r["external_id"].startswith("anon:")}

    def _keyed(self, raw: object) -> str | None:
        if self._normalizer is None or not isinstance(raw, str):
            return None
        for channel, account in self._places:
            msg = InboundMessage(channel=channel, account=account, external_id=raw)
            keyed = self._normalizer.anonymous_external_id(msg)
            if dict.__contains__(self, keyed):
                return keyed
        return None

    def __missing__(self, key: str) -> list[dict[str, Any]]:
        keyed = self._keyed(key)
        if keyed is None:
            raise KeyError(key)
        return dict.__getitem__(self, keyed)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or self._keyed(key) is not None

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default


def records_by_external_id(gw: GatewayProcess) -> RecordsByExternalId:
    """The forwarded records in the central store, grouped by ``external_id`` (raw ids find anonymous ones)."""
    return RecordsByExternalId([item["record"] for item in gw.central_records()],
                               gw.env.get("LAPOR_PRIVACY__REPORTER_HMAC_KEY"))


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


def review_rows(gw: GatewayProcess) -> dict[str, str]:
    """``lapor-gateway review`` as {tracking ID: the text of its row} (the cells of the table lines under it)."""
    out = gw.cli("review")
    assert out.returncode == 0, out.stderr
    rows: dict[str, str] = {}
    current = None
    for line in out.stdout.splitlines():
        if ids := tracking_ids_in(line):
            current = ids[0]
            rows[current] = ""
        if current and line.startswith("│"):
            rows[current] += " " + " ".join(cell.strip() for cell in line.split("│"))
    return rows
