"""The worker process: journaled messages → complaints → central store, and receipts back out."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Awaitable, Callable

from channels import isolate
from channels.base import AcceptResult, Closable
from channels.message import InboundMessage
from channels.retry import Backoff
from forwarder.outbox import CentralClient, Forwarder
from forwarder.responses import ResponseForwarder
from gateway.loops import cancel_all, report_failures, supervise, tune_gc
from gateway.pipes import UPDATES_BYTE, report_status
from gateway.settings import Settings
from gateway.store import open_journal
from gateway.store.blobs import BlobStore
from gateway.store.sqlite.journal import JournalCursors
from gateway.wiring import build_channels
from gateway.worker.delivery import attach_delivery
from gateway.worker.rate_limits import RateLimits
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from gateway.worker.update_texts import UpdateTexts
from gateway.worker.updates import UpdateFeed, UpdatePoller
from normalizer.pipeline import Normalizer

log = logging.getLogger(__name__)


class WorkerProcess:
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
        limits = RateLimits.from_settings(self.journal, settings)  # one set of durable quotas for every send
        attach_delivery(self.senders, self.journal, language=settings.sms.receipt_language, limits=limits)
        self.pollers = found.worker_pollers
        report_failures(self.pollers, self.journal)
        self.central = CentralClient(
            settings.central.url, settings.central.hmac_key, settings.forwarder.timeout_seconds,
            api_token=settings.central.api_token,
        )
        w = settings.worker
        isolate.configure(workers=w.heavy_concurrency, memory_bytes=w.isolated_memory_mb * 1024 * 1024)
        self.router = Router(
            self.journal,
            Normalizer(settings.privacy.reporter_hmac_key),
            Templates(settings.sms.receipt_language, timezone=settings.service.timezone),
            found.completers,
            self.central.status,
            max_attempts=w.max_attempts,
            heavy_concurrency=w.heavy_concurrency,
            details_days=w.details_days,
        )
        f = settings.forwarder
        self.forwarder = Forwarder(
            self.journal, self.central, concurrency=f.concurrency, max_attempts=f.max_attempts,
            backoff=Backoff(f.backoff_base_seconds, f.backoff_max_seconds),
        )
        self.receipts = ReceiptWorker(self.journal, self.senders, retry_hours=settings.receipts.retry_hours,
                                      limits=limits)
        self.router.on_written += [self.forwarder.wake.set, self.receipts.wake.set]
        self.responses = ResponseForwarder(  # citizens' answers on their complaints, the second outbox
            self.journal, self.central, max_attempts=f.max_attempts,
            backoff=Backoff(f.backoff_base_seconds, f.backoff_max_seconds), limits=limits,
        )
        self.router.on_written.append(self.responses.wake.set)
        self.updates: UpdatePoller | None = None
        if settings.central.updates:  # the return path: the store's answers and status changes to the citizen
            self.updates = UpdatePoller(
                self.journal,
                UpdateFeed(settings.central.url, settings.central.api_token, settings.forwarder.timeout_seconds),
                UpdateTexts(Templates(settings.sms.receipt_language, timezone=settings.service.timezone)),
                statuses=settings.notify.statuses,
                poll_seconds=settings.central.updates_poll_seconds,
            )
            self.updates.on_queued.append(self.receipts.wake.set)
        self._tasks: list[asyncio.Task[None]] = []

    async def accept(self, msg: InboundMessage) -> AcceptResult:
        """For the pollers this process runs (the hot folder): durable, then picked up at once."""
        result = await self.journal.accept(msg)
        self.router.wake.set()
        return result

    def listen_for_wakeups(self, fd: int) -> None:
        def drain() -> None:
            updates = False
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(fd, 4096):
                    updates = updates or UPDATES_BYTE in chunk
            if updates and self.updates is not None:
                self.updates.wake.set()
            self.router.wake.set()

        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, drain)

    async def start(self) -> None:
        works: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("normalising worker", self.router.run), ("forwarder", self.forwarder.run), ("receipts", self.receipts.run)
        ]
        works.append((self.responses.name, self.responses.run))
        works += [(p.name, functools.partial(p.run, self.accept)) for p in self.pollers]
        if self.updates is not None:
            works.append((self.updates.name, self.updates.run))
        self._tasks = [asyncio.create_task(supervise(run, name)) for name, run in works]
        tune_gc()

    def report_faults(self, fd: int) -> None:
        """Tell the intake process (for /healthz) when the worker's loop meets a fault and when it is over."""
        self.router.on_fault.append(lambda fault: report_status(fd, fault))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        await self.router.stop()
        await asyncio.to_thread(isolate.shared_pool().close)
        for sender in self.senders:
            if isinstance(sender, Closable):
                with contextlib.suppress(Exception):
                    await sender.close()
        await self.central.close()
        if self.updates is not None:
            await self.updates.close()
        self.journal.close()


async def serve_worker(
    settings: Settings, stop: asyncio.Event, wake_fd: int | None, status_fd: int | None = None
) -> None:
    p = WorkerProcess(settings)
    try:
        if wake_fd is not None:
            p.listen_for_wakeups(wake_fd)
        if status_fd is not None:
            p.report_faults(status_fd)
        await p.start()
        await stop.wait()
    finally:
        await p.stop()
