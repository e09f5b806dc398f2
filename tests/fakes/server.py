"""The part every fake shares: an aiohttp app on 127.0.0.1:<free port>, started and stopped as a context."""

from __future__ import annotations

import json
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


class FakeServer:
    """Base of the fakes: subclasses add routes in :meth:`routes`."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

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
