"""A local stand-in for Twilio's Messages API: records each POST, answers 201 with a message sid as Twilio does."""

from __future__ import annotations

import itertools

from aiohttp import web

from tests.fakes.server import FakeServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-for-tests"


class FakeTwilio(FakeServer):
    """``201 {"sid": "SM…"}`` to every authorised POST on the account's Messages.json; 401 as Twilio for others."""

    def __init__(self) -> None:
        super().__init__()
        self._sids = (f"SM{n:032x}" for n in itertools.count(1))

    @property
    def path(self) -> str:
        return f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)

    async def _messages(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if request.match_info["sid"] != ACCOUNT_SID or auth != expected_auth():
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        form = await request.post()
        return web.json_response({"sid": next(self._sids), "to": form.get("To"), "from": form.get("From"),
                                  "body": form.get("Body"), "status": "queued"}, status=201)


def expected_auth() -> str:
    import base64

    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
