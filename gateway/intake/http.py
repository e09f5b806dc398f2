"""The intake's HTTP surface: a table of fixed routes on aiohttp's low-level server.

The intake serves a handful of fixed paths (webhooks, ``/healthz``, ``/metrics``,
the store's wake-up) and needs nothing of ``web.Application``: no path patterns,
match info, middlewares or app signals. The application's dispatch and its
per-request ``Request`` cost about 40 µs a request here (an aiohttp no-op at
120 µs of CPU a request; the same handler on the low-level server at 80), which
was a tenth of the acknowledging path.

What a caller sees is what the application answered: 404 for an unknown path,
405 with ``Allow`` for a method a path does not take, ``HEAD`` where a page is
read with ``GET`` (not on a webhook), and the body limit of the largest channel
on every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class Routes:
    """``(path, method) → handler``, called by the low-level server for every request."""

    def __init__(self) -> None:
        self._by_path: dict[str, dict[str, Handler]] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        self._by_path.setdefault(path, {})[method.upper()] = handler

    def add_get(self, path: str, handler: Handler) -> None:
        """A page to read (``/healthz``), so ``HEAD`` too. A webhook's GET is added with :meth:`add`: it
        journals what it is given, and a HEAD must change nothing."""
        self.add("GET", path, handler)
        self.add("HEAD", path, handler)

    def add_post(self, path: str, handler: Handler) -> None:
        self.add("POST", path, handler)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        methods = self._by_path.get(request.path)
        if methods is None:
            raise web.HTTPNotFound()
        handler = methods.get(request.method)
        if handler is None:
            raise web.HTTPMethodNotAllowed(request.method, sorted(methods))
        return await handler(request)


def intake_server(routes: Routes, client_max_size: int) -> web.Server:
    """The low-level server for ``routes``; no access log (a request line names a sender's number)."""
    loop = asyncio.get_running_loop()

    def make_request(message: RawRequestMessage, payload: StreamReader, protocol: RequestHandler,
                     writer: AbstractStreamWriter, task: asyncio.Task[None]) -> web.BaseRequest:
        return web.BaseRequest(message, payload, protocol, writer, task, loop, client_max_size=client_max_size)

    return web.Server(routes, request_factory=make_request, access_log=None)
