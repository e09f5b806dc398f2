"""What every route of the store shares: app keys, JSON answers, the bearer and signature checks."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from channels.signing import same_secret, sha256_signature

from .store import CentralStore

MAX_BODY_BYTES = 1024 * 1024
MAX_KEY_LENGTH = 200

STORE: web.AppKey[CentralStore] = web.AppKey("central_store", CentralStore)
SECRETS: web.AppKey[tuple[bytes, bytes]] = web.AppKey("central_secrets", tuple)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_answer(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=dumps)


def error(status: int, message: str, **extra: Any) -> web.Response:
    return json_answer({"error": message, **extra}, status)


def bearer_ok(request: web.Request) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    token_expected = request.app[SECRETS][1]
    return scheme.lower() == "bearer" and same_secret(token_expected, token.strip())


def unauthorized() -> web.Response:
    resp = error(401, "missing or bad bearer token")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="central"'
    return resp


def signature_ok(request: web.Request, body: bytes) -> bool:
    given = request.headers.get("X-Signature", "").strip()
    return same_secret(sha256_signature(request.app[SECRETS][0], body), given)


def idempotency_key(request: web.Request) -> str | None:
    """The header's value when it is 1..MAX_KEY_LENGTH printable ASCII characters, else None."""
    key = request.headers.get("Idempotency-Key", "").strip()
    return key if 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable() else None


def too_large(request: web.Request) -> web.Response | None:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return error(413, f"body over {MAX_BODY_BYTES} bytes")
    return None


async def signed_post(request: web.Request) -> tuple[bytes, str] | web.Response:
    """A signed POST's body and its ``Idempotency-Key``, or the answer refusing it (413, 401, 400)."""
    if (big := too_large(request)) is not None:
        return big
    body = await request.read()  # aiohttp enforces client_max_size for chunked bodies
    if not signature_ok(request, body):
        return error(401, "missing or bad signature")
    key = idempotency_key(request)
    if key is None:
        return error(400, f"Idempotency-Key header required (1..{MAX_KEY_LENGTH} printable ASCII characters)")
    return body, key


def query_int(text: str) -> int:
    """A query's number as plain ASCII decimal digits (``int()`` would also take ``" 1_0 "``, ``"+5"`` and
    Unicode digits such as ``"١٠"``); ValueError otherwise, the route's 400."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise ValueError(text)
    return int(text)
