"""A fake Graph API for the WhatsApp Cloud API: phone-number lookup, messages, media URL and download.

Point the channel at it with ``api_base_url=fake.base_url`` (``…/v21.0``).
Errors are shaped like Graph's ``{"error": {"message", "type", "code", "fbtrace_id"}}``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiohttp import web

from channels.base import hmac_sha256_hex
from tests.fakes.server import RECORDED, FakeServer

VERSION = "v21.0"


def _graph_error(status: int, code: int, message: str, etype: str = "OAuthException") -> web.Response:
    return web.json_response({"error": {"message": message, "type": etype, "code": code,
                                        "fbtrace_id": "AbCdEfGhIjK"}}, status=status)


class FakeGraph(FakeServer):
    def __init__(self, access_token: str = "EAAfake-access-token", phone_number_id: str = "106540352242922",
                 app_secret: str = "fake-app-secret") -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.sent_messages: list[dict[str, Any]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.failures: list[web.Response] = []  # answers to give to the next message sends
        self._wamids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"{self.root}/{VERSION}"

    # --- what tests use -------------------------------------------------------------------
    def add_media(self, media_id: str, data: bytes, mime_type: str = "image/jpeg") -> None:
        self.media[media_id] = (data, mime_type)

    def fail_next_send(self, status: int, code: int, message: str = "error") -> None:
        self.failures.append(_graph_error(status, code, message))

    def sign(self, body: bytes | dict[str, Any]) -> tuple[bytes, str]:
        """The raw body and the ``X-Hub-Signature-256`` header Meta would send with it."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return raw, "sha256=" + hmac_sha256_hex(self.app_secret, raw)

    # --- the API --------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_post(f"/{VERSION}/{{number}}/messages", self._send)
        app.router.add_get(f"/{VERSION}/{{node}}", self._node)
        app.router.add_get("/media-download/{media_id}", self._download)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _graph_error(401, 190, "Invalid OAuth access token.")
        if request.match_info["number"] != self.phone_number_id:
            return _graph_error(400, 100, "Unsupported post request.", "GraphMethodException")
        if self.failures:
            return self.failures.pop(0)
        body = request[RECORDED].params
        self.sent_messages.append(body)
        wamid = f"wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgS{next(self._wamids):06d}"
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                                  "messages": [{"id": wamid}]})

    async def _node(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _graph_error(401, 190, "Invalid OAuth access token.")
        node = request.match_info["node"]
        if node == self.phone_number_id:
            return web.json_response({"display_phone_number": "+62 21 1708", "verified_name": "LAPOR! 1708",
                                      "id": node})
        if node in self.media:
            data, mime = self.media[node]
            return web.json_response({"messaging_product": "whatsapp", "url": f"{self.root}/media-download/{node}",
                                      "mime_type": mime, "sha256": "0" * 64, "file_size": len(data), "id": node})
        return _graph_error(400, 100, "Unsupported get request.", "GraphMethodException")

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        data, mime = self.media[request.match_info["media_id"]]
        return web.Response(body=data, content_type=mime)
