"""The intake process of ``lapor-gateway run``: webhooks, listeners and pollers → the journal.

It acknowledges only what is durable and does nothing else on that path; the
worker, delivery, the embedded central store and the console run as child processes
(:mod:`gateway.intake.children`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from channels.base import JournalsEntries, Listener, OwnBodyLimit, Poller, RawRequest, StartupCheck, WebhookChannel
from channels.message import Intake, Rejected
from gateway.intake.channel_health import ChannelHealth
from gateway.intake.children import BACKGROUND_NICE, Child, wait_http
from gateway.intake.http import Routes, intake_server
from gateway.intake.metrics import Metrics
from gateway.intake.receipt_paths import ReceiptPaths
from gateway.intake.update_push import PATH as UPDATE_PUSH_PATH
from gateway.intake.update_push import update_push_handler
from gateway.loops import cancel_all, report_failures, share_the_gil_sooner, supervise, tune_gc
from gateway.pipes import StatusPipe, WakePipe
from gateway.settings import Settings
from gateway.store import open_journal
from gateway.store.blobs import BlobStore
from gateway.store.sqlite.journal import JournalCursors
from gateway.wiring import build_channels

log = logging.getLogger(__name__)

ENTRY_ANSWER = Intake()  # a journaled entry's answer: 200, empty (Kannel reads nothing of it)


class Gateway:
    """Everything ``lapor-gateway run`` runs: this process plus its children."""

    def __init__(self, settings: Settings, config: str | None = None, *, children: bool = True) -> None:
        self.settings = settings
        self.config = config
        self.spawn_children = children
        data = settings.data.dir
        data.mkdir(parents=True, exist_ok=True)
        assert settings.privacy.vault_key
        self.journal = open_journal(settings)
        self.blobs = BlobStore.for_settings(settings)
        self.metrics = Metrics(self.journal)
        found = build_channels(settings, self.blobs, lambda name: JournalCursors(self.journal, name))
        self.webhooks: list[WebhookChannel] = found.webhooks
        self.pollers: list[Poller] = found.pollers
        self.checks: list[StartupCheck] = found.checks
        self.channel_health = ChannelHealth(zone=ZoneInfo(settings.service.timezone))
        self.channel_health.add([*self.webhooks, *self.pollers])
        self.metrics.sources.append(self.channel_health.metrics)
        self.receipt_paths = ReceiptPaths(self.journal, settings)  # Kannel sendsms, the mail relay
        self.metrics.sources.append(self.receipt_paths.metrics)
        report_failures(self.pollers, self.journal)
        self.wake = WakePipe()  # to the worker: new messages in the journal
        self.delivery_wake = WakePipe()  # to delivery (from the worker, and here): new work, the store's updates
        self.status = StatusPipe()
        self.storage_fault: str | None = None
        self.children: list[Child] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._poller_tasks: dict[int, asyncio.Task[None]] = {}
        self._runner: web.ServerRunner | None = None

    async def accept(self, msg: Any) -> Any:
        """What pollers and listeners call: durable, then the worker is woken."""
        result = await self.journal.accept(msg)
        self.wake.poke()
        return result

    # --- HTTP ----------------------------------------------------------------------------
    def routes(self) -> Routes:
        routes = Routes()
        for channel in self.webhooks:
            handler = self._webhook_handler(channel)
            for method in channel.methods:
                routes.add(method, channel.path, handler)
        if self.settings.central.updates and self.settings.central.hmac_key:  # the store's wake-up for its feed
            routes.add_post(UPDATE_PUSH_PATH, update_push_handler(
                self.settings.central.hmac_key, self.delivery_wake.poke_updates, self.metrics.count))
        routes.add_get("/healthz", self._healthz)
        routes.add_get("/metrics", self.metrics.handle)
        return routes

    def web_server(self) -> web.Server:
        """The HTTP listener's server. Its request cap is the largest any channel takes (a scanned letter);
        each handler then holds its channel to its own limit (``max_body_bytes``, else http.max_body_bytes)."""
        limits = [self._body_limit(c) for c in self.webhooks]
        return intake_server(self.routes(), max([self.settings.http.max_body_bytes, *limits]))

    def _body_limit(self, channel: WebhookChannel) -> int:
        return channel.max_body_bytes if isinstance(channel, OwnBodyLimit) else self.settings.http.max_body_bytes

    def _webhook_handler(self, channel: WebhookChannel) -> Callable[[web.BaseRequest], Awaitable[web.Response]]:
        accept_many, accept_entries = self.journal.accept_many, self.journal.accept_entries
        entry = channel.entry if isinstance(channel, JournalsEntries) else None  # looked up once, not per call
        poke = self.wake.poke
        count = self.metrics.count

        limit = self._body_limit(channel)
        too_large = f"body larger than {limit} bytes\n"
        is_off = self.channel_health.is_off

        async def handle(request: web.BaseRequest) -> web.Response:
            if is_off(channel):  # its token was refused after start-up: as if never served
                raise web.HTTPNotFound()
            if request.content_length is not None and request.content_length > limit:
                count(channel.name, "rejected_413")
                return web.Response(status=413, text=too_large)
            body = await read_limited(request, limit)
            if body is None:
                count(channel.name, "rejected_413")
                return web.Response(status=413, text=too_large, headers={"Connection": "close"})
            raw = RawRequest(
                method=request.method,
                path=request.path,
                query=request.rel_url.raw_query_string.encode("latin-1", "replace"),
                headers=request.headers,
                body=body,
                remote=request.remote,
                scheme=request.scheme,
                host=request.host,
            )
            try:
                if entry is not None:  # the message is built in the worker; the answer is an empty 200
                    intake, journaling = ENTRY_ANSWER, accept_entries([entry(raw)])
                else:
                    intake = channel.parse(raw)
                    journaling = accept_many(intake.messages) if intake.messages else None
            except Rejected as exc:
                count(channel.name, f"rejected_{exc.status}")
                return web.Response(status=exc.status, text=exc.reason + "\n")
            if journaling is not None:
                try:
                    results = await journaling
                except sqlite3.Error as exc:  # nothing was made durable: no 200, and the peer sends again
                    self.storage_fault = f"journal: storage fault ({_sqlite_name(exc)})"
                    count(channel.name, "rejected_503")
                    return web.Response(status=503, text="journal unavailable, try again later\n",
                                        headers={"Retry-After": "30"})
                self.storage_fault = None
                poke()
                count(channel.name, "accepted", sum(not r.duplicate for r in results))
                count(channel.name, "duplicate", sum(r.duplicate for r in results))
            return web.Response(status=intake.status, text=intake.body, content_type=intake.content_type)

        return handle

    async def _healthz(self, request: web.BaseRequest) -> web.Response:
        """200 while every part works; 503 naming the reasons while a child is down, the worker meets a
        fault (the disk full) or makes no progress while work is due, or the journal refuses writes.

        A channel whose check failed (``degraded``: still accepting) or was refused (``off``) is shown
        under ``channels`` and named in ``problems`` (``status`` "degraded"), but answers 200: the gateway
        still takes every other channel (and a degraded one), and a balancer or a restart cannot fix a
        provider's outage or a rejected token."""
        children = {c.name: {"alive": c.alive(), "restarts": c.restarts} for c in self.children}
        problems = [f"{name}: not running" for name, c in children.items() if not c["alive"]]
        if self.storage_fault and not await self._journal_writable():
            problems.append(self.storage_fault)
        if self.status.fault and children.get("worker", {}).get("alive"):
            problems.append(f"worker: {self.status.fault}")
        stall = await asyncio.to_thread(self._stalled)
        if stall:
            problems.append(stall)
        failing = bool(problems)
        # a failing receipt path (Kannel down) is named, but intake works: 200, as for a degraded channel
        problems += await asyncio.to_thread(self.receipt_paths.problems)
        problems += self.channel_health.problems()
        body = {"status": "degraded" if problems else "ok", "children": children,
                "channels": self.channel_health.view(), "problems": problems}
        return web.json_response(body, status=503 if failing else 200)

    def _stalled(self) -> str | None:
        """Work due for longer than ``worker.stall_seconds`` and no progress in that time: journaled
        messages and no outcome written (the worker), or complaints to forward and no try ended (delivery)."""
        limit = self.settings.worker.stall_seconds
        try:
            parts = (("worker", self.journal.progress()), ("delivery", self.journal.forwarding_progress()))
        except sqlite3.Error as exc:
            return f"journal: cannot read progress ({_sqlite_name(exc)})"
        now = time.time()
        for name, p in parts:
            if p["due_since"] is None or now - p["due_since"] < limit:
                continue
            if p["last_progress"] is not None and now - p["last_progress"] < limit:
                continue
            return f"{name}: no progress for {limit:.0f}s while work is due"
        return None

    async def _journal_writable(self) -> bool:
        """While intake writes fail, a health check tries one small write: the fault ends when it works."""
        try:
            await self.journal.set_cursor("healthz:probe", str(time.time()))
        except sqlite3.Error:
            return False
        self.storage_fault = None
        return True

    async def _watch_children(self, interval: float = 1.0) -> None:
        """A child that dies (a crash, the OOM killer) is started again, with a growing pause."""
        while True:
            await asyncio.sleep(interval)
            for child in self.children:
                if child.alive():
                    continue
                pause = min(30.0, 2.0 ** min(child.restarts, 5))
                log.error("%s exited with %s; restarting it in %.0fs", child.name, child.proc.returncode, pause)
                await asyncio.sleep(pause)
                child.ensure_running()
                if child.name == "worker":
                    self.status.reset()
                    self.wake.poke()
                elif child.name == "delivery":
                    self.delivery_wake.poke()

    # --- lifecycle -----------------------------------------------------------------------
    def _args(self, *args: str) -> list[str]:
        return (["--config", self.config] if self.config else []) + list(args)

    async def start(self) -> None:
        s = self.settings
        if s.central.embedded and self.spawn_children:
            central = Child("central store", self._args("central"), nice=BACKGROUND_NICE)
            self.children.append(central)
            await asyncio.to_thread(wait_http, f"http://{s.central.host}:{s.central.port}/v1/complaints", central.proc,
                                    central.name)
            # its own line says where it listens ("central store on ..."): not a second one here
        # the operator console, on its own listener: up (and its first admin made) before /healthz answers
        if self.spawn_children and s.console.enabled:
            console = Child("console", self._args("console"), nice=2)
            self.children.append(console)
            try:  # a console that cannot start (its port taken) is logged and restarted; intake goes on
                await asyncio.to_thread(wait_http, f"http://{s.console.host}:{s.console.port}/console/login",
                                        console.proc, console.name)
                # the child's own line says where it listens ("console on ..."): not a second one here
            except RuntimeError as exc:
                log.error("console: %s; intake goes on, the console is started again", exc)
        # a refused check switches its channel off; one that failed otherwise leaves it on, checked again later
        for refused in await self.channel_health.first_checks(self.checks):
            self._disable(refused)
        # listeners (SMTP) and pollers first: once /healthz answers, every intake path is open
        self._poller_tasks = {id(p): asyncio.create_task(supervise(functools.partial(p.run, self.accept), p.name))
                              for p in self.pollers}
        self._tasks = [*self._poller_tasks.values(), *self.channel_health.retries(self._disable)]
        listening = [p.started.wait() for p in self.pollers if isinstance(p, Listener)]
        if listening:
            await asyncio.wait_for(asyncio.gather(*listening), timeout=30)
        self._runner = web.ServerRunner(self.web_server(), handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.http.host, s.http.port, backlog=1024).start()
        log.info("HTTP on http://%s:%d (webhooks: %s)", s.http.host, s.http.port,
                 ", ".join(c.path for c in self.webhooks))
        if self.spawn_children:
            self.status.listen()
            to_delivery = self.delivery_wake
            self.children += [
                Child("worker", self._args("worker", "--wake-fd", str(self.wake.read_fd),
                                           "--status-fd", str(self.status.write_fd),
                                           "--delivery-fd", str(to_delivery.write_fd)),
                      nice=BACKGROUND_NICE, pass_fds=(self.wake.read_fd, self.status.write_fd, to_delivery.write_fd)),
                Child("delivery", self._args("delivery", "--wake-fd", str(to_delivery.read_fd)),
                      nice=BACKGROUND_NICE, pass_fds=(to_delivery.read_fd,)),
            ]
        self.wake.poke()  # whatever a previous run left in the journal
        self.delivery_wake.poke()
        if self.children:
            self._tasks.append(asyncio.create_task(self._watch_children()))
        # the receipt paths, told in one line each, without holding up start-up
        self._tasks.append(asyncio.create_task(self.receipt_paths.check_at_start()))
        tune_gc()
        share_the_gil_sooner()

    def _disable(self, channel: object) -> None:
        """Stop a channel whose check was refused: its routes answer 404 (or are never added), its poller ends."""
        self.webhooks = [c for c in self.webhooks if c is not channel]
        self.pollers = [p for p in self.pollers if p is not channel]
        task = self._poller_tasks.pop(id(channel), None)
        if task is not None:
            task.cancel()

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        if self._runner is not None:
            await self._runner.cleanup()
        for child in reversed(self.children):
            await asyncio.to_thread(child.stop)
        self.wake.close()
        self.delivery_wake.close()
        self.status.close()
        self.journal.close()


async def serve(settings: Settings, stop: asyncio.Event, config: str | None = None) -> None:
    gw = Gateway(settings, config)
    try:
        await gw.start()
        await stop.wait()
        log.info("stopping: intake closes, then the children (what was acknowledged is kept)")
    finally:
        began = time.monotonic()
        await gw.stop()
        log.info("stopped in %.1f s", time.monotonic() - began)


async def read_limited(request: web.BaseRequest, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit``: a chunked upload is refused while it is read,
    never buffered up to the app-wide cap first."""
    if not request.body_exists:
        return b""
    if request.content_length is not None:  # declared, and already checked against the limit
        return await request.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _sqlite_name(exc: sqlite3.Error) -> str:
    """SQLite's own name for a fault (SQLITE_FULL); sqlite3 sets it only on errors from SQLite itself."""
    return getattr(exc, "sqlite_errorname", None) or type(exc).__name__
