"""Assembles the gateway process: journal, channels, workers, HTTP server, embedded central store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from channels.base import Completer, Poller, RawRequest, ReceiptSender, StartupCheck, WebhookChannel
from channels.message import ChannelError, Rejected
from forwarder.outbox import Backoff, CentralClient, Forwarder
from gateway.blobs import BlobStore
from gateway.channels import build_channels
from gateway.intake import IntakeWorker
from gateway.journal import Journal, JournalCursors
from gateway.metrics import Metrics
from gateway.receipt_worker import ReceiptWorker
from gateway.receipts import Templates
from gateway.settings import Settings
from gateway.vault import Sealer
from normalizer.pipeline import Normalizer

log = logging.getLogger(__name__)


class Gateway:
    """Everything ``lapor-gateway run`` runs, in one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        data = settings.data.dir
        data.mkdir(parents=True, exist_ok=True)
        assert settings.privacy.vault_key and settings.privacy.reporter_hmac_key and settings.central.hmac_key
        self.sealer = Sealer(settings.privacy.vault_key)
        self.journal = Journal(settings.sqlite_path, self.sealer, batch_max=settings.storage.batch_max)
        self.blobs = BlobStore(data / "blobs", max_bytes=settings.mail.max_attachment_bytes)
        self.metrics = Metrics(self.journal)
        self.central_client = CentralClient(
            settings.central.url, settings.central.hmac_key, timeout=settings.forwarder.timeout_seconds
        )
        found = build_channels(settings, self.blobs, lambda name: JournalCursors(self.journal, name))
        self.webhooks: list[WebhookChannel] = found.webhooks
        self.pollers: list[Poller] = found.pollers
        self.senders: list[ReceiptSender] = found.senders
        self.completers: dict[str, Completer] = found.completers
        self.checks: list[StartupCheck] = found.checks
        self.servers: list[Any] = found.servers  # e.g. the SMTP listener: start()/stop()
        self.intake = IntakeWorker(
            self.journal,
            Normalizer(settings.privacy.reporter_hmac_key),
            Templates(settings.sms.receipt_language),
            self.completers,
            self.central_client.status,
        )
        self.forwarder = Forwarder(
            self.journal,
            self.central_client,
            concurrency=settings.forwarder.concurrency,
            max_attempts=settings.forwarder.max_attempts,
            backoff=Backoff(settings.forwarder.backoff_base_seconds, settings.forwarder.backoff_max_seconds),
        )
        self.receipts = ReceiptWorker(self.journal, self.senders)
        self.intake.on_written += [self.forwarder.wake.set, self.receipts.wake.set]
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._central: Any = None

    # --- HTTP ----------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.http.max_body_bytes)
        for channel in self.webhooks:
            handler = self._webhook_handler(channel)
            for method in channel.methods:
                app.router.add_route(method, channel.path, handler)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self.metrics.handle)
        return app

    def _webhook_handler(self, channel: WebhookChannel) -> Callable[[web.Request], Awaitable[web.Response]]:
        accept_many = self.journal.accept_many
        wake = self.intake.wake
        count = self.metrics.count

        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            raw = RawRequest(
                method=request.method,
                path=request.path,
                query=request.rel_url.raw_query_string.encode("latin-1", "replace"),
                headers=request.headers,
                body=body,
                remote=request.remote,
                url=str(request.url),
            )
            try:
                intake = channel.parse(raw)
            except Rejected as exc:
                count(channel.name, f"rejected_{exc.status}")
                return web.Response(status=exc.status, text=exc.reason + "\n")
            if intake.messages:
                results = await accept_many(intake.messages)
                wake.set()
                count(channel.name, "accepted", sum(not r.duplicate for r in results))
                count(channel.name, "duplicate", sum(r.duplicate for r in results))
            return web.Response(status=intake.status, text=intake.body, content_type=intake.content_type)

        return handle

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        if s.central.embedded:
            from forwarder.central.server import serve_central_from

            self._central = await serve_central_from(s.central, s.data.dir)
            log.info("reference central store on http://%s:%d", s.central.host, s.central.port)
        for check in self.checks:
            try:
                log.info("%s", await check.check())
            except ChannelError as exc:
                log.error("%s", exc)
                self._disable(check)
        self._runner = web.AppRunner(self.web_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.http.host, s.http.port, backlog=1024).start()
        log.info("HTTP on http://%s:%d (webhooks: %s)", s.http.host, s.http.port,
                 ", ".join(c.path for c in self.webhooks))
        for server in self.servers:
            await server.start()
        workers: list[Awaitable[None]] = [self.intake.run(), self.forwarder.run(), self.receipts.run()]
        workers += [p.run(self.journal.accept) for p in self.pollers]
        self._tasks = [asyncio.create_task(self._supervise(w)) for w in workers]

    def _disable(self, channel: object) -> None:
        self.webhooks = [c for c in self.webhooks if c is not channel]
        self.pollers = [p for p in self.pollers if p is not channel]
        self.senders = [s for s in self.senders if s is not channel]
        self.receipts.senders = [s for s in self.receipts.senders if s is not channel]

    async def _supervise(self, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a worker stopped unexpectedly")

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        for sender in self.senders:
            close = getattr(sender, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        await self.central_client.close()
        if self._central is not None:
            await self._central.close()
        self.journal.close()


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    gw = Gateway(settings)
    try:
        await gw.start()
        await stop.wait()
    finally:
        await gw.stop()
