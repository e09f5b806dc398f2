"""The worker process: journaled messages → complaints → central store, and receipts back out."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels import isolate
from channels.base import AcceptResult
from channels.message import InboundMessage
from forwarder.outbox import Backoff, CentralClient, Forwarder
from gateway.channels import build_channels
from gateway.children import report_status, tune_gc
from gateway.intake import IntakeWorker
from gateway.rate_limits import RateLimits
from gateway.receipt_worker import ReceiptWorker
from gateway.receipts import Templates
from gateway.settings import Settings
from gateway.store import open_journal
from gateway.store.blobs import BlobStore
from gateway.store.ports import EventLog
from gateway.store.records import Event
from gateway.store.sqlite.journal import JournalCursors
from normalizer.pipeline import Normalizer

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(self, settings: Settings) -> None:
        assert settings.privacy.vault_key and settings.privacy.reporter_hmac_key and settings.central.hmac_key
        self.settings = settings
        self.journal = open_journal(settings)
        blobs = BlobStore.for_settings(settings)
        logging.disable(logging.INFO)  # the intake process already said which channels are on
        try:
            found = build_channels(settings, blobs, lambda name: JournalCursors(self.journal, name))
        finally:
            logging.disable(logging.NOTSET)
        self.senders = found.senders
        self.pollers = found.worker_pollers
        report_failures(self.pollers, self.journal)
        self.central = CentralClient(
            settings.central.url, settings.central.hmac_key, settings.forwarder.timeout_seconds,
            api_token=settings.central.api_token,
        )
        w = settings.worker
        isolate.configure(workers=w.heavy_concurrency, memory_bytes=w.isolated_memory_mb * 1024 * 1024)
        self.intake = IntakeWorker(
            self.journal,
            Normalizer(settings.privacy.reporter_hmac_key),
            Templates(settings.sms.receipt_language),
            found.completers,
            self.central.status,
            max_attempts=w.max_attempts,
            heavy_concurrency=w.heavy_concurrency,
        )
        f = settings.forwarder
        self.forwarder = Forwarder(
            self.journal, self.central, concurrency=f.concurrency, max_attempts=f.max_attempts,
            backoff=Backoff(f.backoff_base_seconds, f.backoff_max_seconds),
        )
        self.receipts = ReceiptWorker(self.journal, self.senders, limits=RateLimits.from_settings(self.journal, settings))
        self.intake.on_written += [self.forwarder.wake.set, self.receipts.wake.set]
        self._tasks: list[asyncio.Task[None]] = []

    async def accept(self, msg: InboundMessage) -> AcceptResult:
        """For the pollers this process runs (the hot folder): durable, then picked up at once."""
        result = await self.journal.accept(msg)
        self.intake.wake.set()
        return result

    def listen_for_wakeups(self, fd: int) -> None:
        def drain() -> None:
            with contextlib.suppress(BlockingIOError):
                while os.read(fd, 4096):
                    pass
            self.intake.wake.set()

        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, drain)

    async def start(self) -> None:
        works: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("normalising worker", self.intake.run), ("forwarder", self.forwarder.run), ("receipts", self.receipts.run)
        ]
        works += [(p.name, functools.partial(p.run, self.accept)) for p in self.pollers]
        self._tasks = [asyncio.create_task(supervise(run, name)) for name, run in works]
        tune_gc()

    def report_faults(self, fd: int) -> None:
        """Tell the intake process (for /healthz) when the worker's loop meets a fault and when it is over."""
        self.intake.on_fault.append(lambda fault: report_status(fd, fault))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        await self.intake.stop()
        await asyncio.to_thread(isolate.shared_pool().close)
        for sender in self.senders:
            close = getattr(sender, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        await self.central.close()
        self.journal.close()


def report_failures(pollers: list[Any], journal: EventLog) -> None:
    """A poller that sets input aside (IMAP → Failed, hot folder → failed/) reports it to the intake log."""

    def reporter(channel: str) -> Callable[[str, str], Awaitable[None]]:
        async def report(ref: str, reason: str) -> None:
            await journal.log_event(Event(channel, "failed", detail=f"{ref}: {reason}"))

        return report

    for poller in pollers:
        if hasattr(poller, "on_failed"):
            poller.on_failed = reporter(poller.name)


async def supervise(run: Callable[[], Awaitable[None]], name: str) -> None:
    """Run a loop for the life of the process: one that raises is started again, with a growing pause."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures = 1 if time.monotonic() - started > 300 else failures + 1
            pause = Backoff(1.0, 60.0).delay(failures - 1)
            log.error("%s stopped unexpectedly (%s); starting it again in %.1fs", name, type(exc).__name__, pause)
            log.debug("%s traceback", name, exc_info=True)
            await asyncio.sleep(pause)


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t


async def serve_pipeline(
    settings: Settings, stop: asyncio.Event, wake_fd: int | None, status_fd: int | None = None
) -> None:
    p = Pipeline(settings)
    try:
        if wake_fd is not None:
            p.listen_for_wakeups(wake_fd)
        if status_fd is not None:
            p.report_faults(status_fd)
        await p.start()
        await stop.wait()
    finally:
        await p.stop()
