"""A local stand-in for Kannel's smsbox ``/cgi-bin/sendsms``: records each MT request, answers as Kannel does."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.server import FakeServer


class FakeSendsms(FakeServer):
    """``202 0: Accepted for delivery`` to every GET; ``answer_next`` gives another answer (a refusal, an outage)."""

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/sendsms", self._sendsms)

    @property
    def url(self) -> str:
        return f"{self.root}/cgi-bin/sendsms"

    async def _sendsms(self, request: web.Request) -> web.Response:
        return web.Response(status=202, text="0: Accepted for delivery")
