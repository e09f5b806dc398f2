"""A fake Telegram Bot API: getMe, getUpdates (long poll), sendMessage, getFile and file downloads.

Point python-telegram-bot at it with ``Bot(token, base_url=fake.base_url,
base_file_url=fake.base_file_url)``. Answers are shaped like the real API's
(``{"ok": true, "result": …}`` / ``{"ok": false, "error_code": …, "description": …}``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from aiohttp import web

from tests.fakes.server import RECORDED, FakeServer


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if extra:
        body["parameters"] = extra
    return web.json_response(body, status=code)


class FakeTelegram(FakeServer):
    def __init__(self, token: str = "7000000001:AAFakeTokenForTestsOnly_abcdefghijk", username: str = "lapor1708_bot"):
        super().__init__()
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.updates: list[dict[str, Any]] = []
        self.sent_messages: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None  # what setWebhook registered
        self.files: dict[str, tuple[bytes, str]] = {}  # file_id -> (bytes, file_path)
        self.failures: dict[str, list[web.Response]] = {}  # method -> answers to give first
        self._next_update = itertools.count(100001)
        self._next_message = itertools.count(5001)
        self._new_update = asyncio.Event()

    # --- what tests use -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root}/file/bot"

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Make ``update`` available to getUpdates (an ``update_id`` is assigned when missing)."""
        update = dict(update)
        update.setdefault("update_id", next(self._next_update))
        self.updates.append(update)
        self._new_update.set()
        return update

    def add_file(self, file_id: str, data: bytes, file_path: str = "photos/file_0.jpg") -> None:
        self.files[file_id] = (data, file_path)

    def fail_next(self, method: str, code: int, description: str, **parameters: Any) -> None:
        """The next call of ``method`` gets this error (e.g. 429 with ``retry_after=1``)."""
        self.failures.setdefault(method, []).append(_error(code, description, **parameters))

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r.params for r in self.requests if r.path.endswith(f"/{method}")]

    # --- the API --------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        pending = self.failures.get(method)
        if pending:
            return pending.pop(0)
        params = request[RECORDED].params
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        return await handler(params)

    async def _m_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok({"id": self.bot_id, "is_bot": True, "first_name": "LAPOR 1708", "username": self.username,
                    "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False})

    async def _m_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:  # confirms every update below the offset, as Telegram does
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates and time.monotonic() < deadline:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return _ok(self.updates[:limit])

    async def _m_setWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return _ok(True)

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        self.sent_messages.append(params)
        chat_id = int(params["chat_id"])
        return _ok({"message_id": next(self._next_message), "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                    "from": {"id": self.bot_id, "is_bot": True, "first_name": "LAPOR 1708",
                             "username": self.username},
                    "text": params.get("text", "")})

    async def _m_getFile(self, params: dict[str, Any]) -> web.Response:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        data, path = self.files[file_id]
        return _ok({"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": path})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        for data, path in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=data, content_type="application/octet-stream")
        return _error(404, "Not Found")
