"""The worker's two processes: journaled messages → complaints (``worker``), and complaints → central
store with receipts back out (``delivery``).

Why two: one Python process is one core, and the router alone kept one busy while the machine's second
stood mostly idle. The router writes outcomes and wakes the delivery process through a pipe; the
delivery process reads what is due from the journal, as it did in one process. ``lapor-gateway worker``
run on its own (not by ``run``) does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from channels import isolate
from channels.base import AcceptResult, Closable
from channels.message import InboundMessage
from channels.retry import Backoff
from forwarder.outbox import CentralClient, Forwarder
from forwarder.responses import ResponseForwarder
from gateway.loops import cancel_all, report_failures, supervise, tune_gc
from gateway.pipes import Waker, listen_for_wakeups, report_status
from gateway.settings import Settings
from gateway.store import open_journal
from gateway.store.blobs import BlobStore
from gateway.store.sqlite.journal import Journal, JournalCursors
from gateway.wiring import Channels, build_channels
from gateway.worker.delivery import attach_delivery
from gateway.worker.rate_limits import RateLimits
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from gateway.worker.update_texts import UpdateTexts
from gateway.worker.updates import UpdateFeed, UpdatePoller
from normalizer.pipeline import Normalizer

log = logging.getLogger(__name__)

Works = list[tuple[str, Callable[[], Awaitable[None]]]]


class WorkerProcess:
    """The router (``route``), the outboxes and receipts (``deliver``), or both in one process."""

    def __init__(self, settings: Settings, *, route: bool = True, deliver: bool = True) -> None:
        assert settings.privacy.vault_key and settings.privacy.reporter_hmac_key and settings.central.hmac_key
        assert route or deliver
        self.settings = settings
        self.journal = open_journal(settings)
        blobs = BlobStore.for_settings(settings)
        logging.disable(logging.INFO)  # the intake process already said which channels are on
        try:
            found = build_channels(settings, blobs, lambda name: JournalCursors(self.journal, name))
        finally:
            logging.disable(logging.NOTSET)
        self.central = CentralClient(
            settings.central.url, settings.central.hmac_key, settings.forwarder.timeout_seconds,
            api_token=settings.central.api_token,
        )
        self.router: Router | None = self._router(found) if route else None
        self.delivery: Delivery | None = Delivery(settings, self.journal, self.central, found) if deliver else None
        if self.router is not None and self.delivery is not None:
            self.router.on_written.append(self.delivery.wake)
        self._tasks: list[asyncio.Task[None]] = []

    def _router(self, found: Channels) -> Router:
        s, w = self.settings, self.settings.worker
        isolate.configure(workers=w.heavy_concurrency, memory_bytes=w.isolated_memory_mb * 1024 * 1024)
        self.pollers = found.worker_pollers
        report_failures(self.pollers, self.journal)
        return Router(
            self.journal,
            Normalizer(s.privacy.reporter_hmac_key),
            Templates(s.sms.receipt_language, timezone=s.service.timezone),
            found.completers,
            self.central.status,
            max_attempts=w.max_attempts,
            heavy_concurrency=w.heavy_concurrency,
            details_days=w.details_days,
        )

    async def accept(self, msg: InboundMessage) -> AcceptResult:
        """For the pollers this process runs (the hot folder): durable, then picked up at once."""
        assert self.router is not None
        result = await self.journal.accept(msg)
        self.router.wake.set()
        return result

    def listen_for_wakeups(self, fd: int) -> None:
        """Intake's wake-ups: new messages for the router, new work or updates for the delivery part."""
        def on_work() -> None:
            if self.router is not None:
                self.router.wake.set()
            if self.delivery is not None:
                self.delivery.wake()

        listen_for_wakeups(fd, on_work, self.delivery.wake_updates if self.delivery is not None else None)

    def wake_delivery_through(self, fd: int) -> None:
        """The delivery part runs in another process: the router's writes wake it through ``fd``."""
        assert self.router is not None and self.delivery is None
        self.router.on_written.append(Waker(fd).poke)

    async def start(self) -> None:
        works: Works = []
        if self.router is not None:
            works.append(("normalising worker", self.router.run))
            works += [(p.name, functools.partial(p.run, self.accept)) for p in self.pollers]
        if self.delivery is not None:
            works += self.delivery.works()
        self._tasks = [asyncio.create_task(supervise(run, name)) for name, run in works]
        tune_gc()

    def report_faults(self, fd: int) -> None:
        """Tell the intake process (for /healthz) when the worker's loop meets a fault and when it is over."""
        if self.router is not None:
            self.router.on_fault.append(lambda fault: report_status(fd, fault))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        if self.router is not None:
            await self.router.stop()
            await asyncio.to_thread(isolate.shared_pool().close)
        if self.delivery is not None:
            await self.delivery.close()
        await self.central.close()
        self.journal.close()


class Delivery:
    """The forwarder, the citizens' answers' outbox, the receipts and the update poller, with the senders
    and the one set of durable quotas they share."""

    def __init__(self, settings: Settings, journal: Journal, central: CentralClient, found: Channels) -> None:
        self.senders = found.senders
        limits = RateLimits.from_settings(journal, settings)
        attach_delivery(self.senders, journal, language=settings.sms.receipt_language, limits=limits)
        f = settings.forwarder
        self.forwarder = Forwarder(
            journal, central, concurrency=f.concurrency, max_attempts=f.max_attempts,
            backoff=Backoff(f.backoff_base_seconds, f.backoff_max_seconds),
        )
        self.receipts = ReceiptWorker(journal, self.senders, retry_hours=settings.receipts.retry_hours,
                                      concurrency=settings.receipts.concurrency, limits=limits)
        self.responses = ResponseForwarder(  # citizens' answers on their complaints, the second outbox
            journal, central, max_attempts=f.max_attempts,
            backoff=Backoff(f.backoff_base_seconds, f.backoff_max_seconds), limits=limits,
        )
        self.updates: UpdatePoller | None = None
        if settings.central.updates:  # the return path: the store's answers and status changes to the citizen
            self.updates = UpdatePoller(
                journal,
                UpdateFeed(settings.central.url, settings.central.api_token, settings.forwarder.timeout_seconds),
                UpdateTexts(Templates(settings.sms.receipt_language, timezone=settings.service.timezone)),
                statuses=settings.notify.statuses,
                poll_seconds=settings.central.updates_poll_seconds,
            )
            self.updates.on_queued.append(self.receipts.wake.set)

    def wake(self) -> None:
        """New complaints, receipts or answers in the journal."""
        for part in (self.forwarder, self.receipts, self.responses):
            part.wake.set()

    def wake_updates(self) -> None:
        if self.updates is not None:
            self.updates.wake.set()

    def works(self) -> Works:
        works: Works = [("forwarder", self.forwarder.run), ("receipts", self.receipts.run),
                        (self.responses.name, self.responses.run)]
        if self.updates is not None:
            works.append((self.updates.name, self.updates.run))
        return works

    async def close(self) -> None:
        for sender in self.senders:
            if isinstance(sender, Closable):
                with contextlib.suppress(Exception):
                    await sender.close()
        if self.updates is not None:
            await self.updates.close()


async def serve_worker(
    settings: Settings, stop: asyncio.Event, wake_fd: int | None, status_fd: int | None = None,
    delivery_fd: int | None = None, *, route: bool = True,
) -> None:
    """``route``: the router, and the delivery part too unless ``delivery_fd`` says where its process is
    woken; not ``route``: the delivery part alone (``lapor-gateway delivery``)."""
    p = WorkerProcess(settings, route=route, deliver=not route or delivery_fd is None)
    try:
        if wake_fd is not None:
            p.listen_for_wakeups(wake_fd)
        if delivery_fd is not None:
            p.wake_delivery_through(delivery_fd)
        if status_fd is not None:
            p.report_faults(status_fd)
        await p.start()
        await stop.wait()
    finally:
        await p.stop()
