"""The part every fake shares: an aiohttp app on 127.0.0.1:<free port>, started and stopped as a context."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)  # decoded form or JSON body


RECORDED = web.RequestKey("recorded", Recorded)
Answer = Callable[[], web.StreamResponse]


def not_json(status: int = 200) -> web.Response:
    """What a proxy or a broken front end answers instead of the API's JSON."""
    return web.Response(status=status, text="<html><body><h1>Bad Gateway</h1></body></html>", content_type="text/html")


def unavailable() -> web.Response:
    return web.Response(status=503, text="Service Unavailable")


class FakeServer:
    """Base of the fakes: subclasses add routes in :meth:`routes`."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.port = 0
        self.canned: list[tuple[str, Answer]] = []  # (path suffix, answer) given before the API answers
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def answer_next(self, path_suffix: str, answer: Answer, times: int = 1) -> None:
        """The next ``times`` requests whose path ends with ``path_suffix`` get ``answer()`` (an outage)."""
        self.canned += [(path_suffix, answer)] * times

    def canned_left(self, path_suffix: str) -> int:
        return sum(suffix == path_suffix for suffix, _ in self.canned)

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._record])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        rec = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
            params=await decode_params(request, body),
        )
        self.requests.append(rec)
        request[RECORDED] = rec
        for i, (suffix, answer) in enumerate(self.canned):
            if request.path.endswith(suffix):
                del self.canned[i]
                return answer()
        return await handler(request)


async def decode_params(request: web.Request, body: bytes) -> dict[str, Any]:
    """Query, form fields and JSON body merged into one dict (JSON-looking form values decoded)."""
    params: dict[str, Any] = dict(request.query)
    ctype = request.content_type
    if body and ctype == "application/json":
        params.update(json.loads(body))
    elif body and ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            params[key] = _maybe_json(value) if isinstance(value, str) else value
    return params


def _maybe_json(value: str) -> Any:
    if value[:1] in "[{" or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
