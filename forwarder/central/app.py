"""HTTP API of the reference central store (what the forwarder POSTs to and ``CEK`` reads).

=========================================  ========  ===============================================
route                                      auth      answers
=========================================  ========  ===============================================
POST /v1/complaints                        X-Signa-  201 first answer, 200 replay, 400 no key,
                                           ture      401 signature, 409 conflict, 413, 422
GET  /v1/complaints/{tracking_id}          bearer    the record as received + status, due, history
GET  /v1/complaints?since&channel&limit&c  bearer    {items, next_cursor}, arrival order
GET  /v1/complaints/{tracking_id}/status   bearer    status and due dates only (CEK)
POST /v1/complaints/{tracking_id}/status   bearer    operator move {status, note?}; 409 if not allowed
=========================================  ========  ===============================================

Error bodies are ``{"error": "..."}`` and never carry a record's values. Every read needs the
bearer token, and the token is checked before any lookup: a stranger gets the same 401 for a
tracking ID that exists (confidential or not) as for one that does not, so no route is an
existence oracle.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from channels.signing import sha256_signature

from .status import TransitionError
from .store import MAX_LIMIT, CentralStore, InvalidRecord, UnknownComplaint

MAX_BODY_BYTES = 1024 * 1024
MAX_KEY_LENGTH = 200

STORE: web.AppKey[CentralStore] = web.AppKey("central_store", CentralStore)
_SECRETS: web.AppKey[tuple[bytes, bytes]] = web.AppKey("central_secrets", tuple)


sign = sha256_signature  # the ``X-Signature`` value for a body; what the forwarder sends


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return _json({"error": message, **extra}, status)


def _bearer_ok(request: web.Request) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    token_expected = request.app[_SECRETS][1]
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), token_expected)


def _unauthorized() -> web.Response:
    resp = _error(401, "missing or bad bearer token")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="central"'
    return resp


async def post_complaint(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(413, f"body over {MAX_BODY_BYTES} bytes")
    body = await request.read()  # aiohttp enforces client_max_size for chunked bodies
    given = request.headers.get("X-Signature", "")
    if not hmac.compare_digest(sign(request.app[_SECRETS][0], body).encode(), given.strip().encode()):
        return _error(401, "missing or bad signature")
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return _error(400, f"Idempotency-Key header required (1..{MAX_KEY_LENGTH} characters)")
    try:
        status, answer = await request.app[STORE].put(key, hashlib.sha256(body).hexdigest(), body)
    except InvalidRecord as exc:
        return _error(422, "invalid complaint record", details=exc.errors)
    return _json(answer, status)


async def get_complaint(request: web.Request) -> web.Response:
    if not _bearer_ok(request):
        return _unauthorized()
    item = await request.app[STORE].get(request.match_info["tracking_id"])
    return _error(404, "unknown tracking_id") if item is None else _json(item)


async def list_complaints(request: web.Request) -> web.Response:
    if not _bearer_ok(request):
        return _unauthorized()
    q = request.query
    try:
        limit = int(q.get("limit", "100"))
        since = _parse_since(q["since"]) if q.get("since") else None
        page = await request.app[STORE].list(
            since=since, channel=q.get("channel") or None, limit=limit, cursor=q.get("cursor") or None
        )
    except ValueError:
        return _error(400, f"bad query: since is an ISO datetime, limit 1..{MAX_LIMIT}, cursor as returned")
    return _json({"items": page.items, "next_cursor": page.next_cursor})


async def get_status(request: web.Request) -> web.Response:
    if not _bearer_ok(request):
        return _unauthorized()
    view = await request.app[STORE].status(request.match_info["tracking_id"])
    return _error(404, "unknown tracking_id") if view is None else _json(view)


async def post_status(request: web.Request) -> web.Response:
    if not _bearer_ok(request):
        return _unauthorized()
    try:
        data = await request.json()
        wanted, note = data["status"], data.get("note")
        if not isinstance(wanted, str) or not (note is None or isinstance(note, str)):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        return _error(400, 'body must be {"status": "<status>", "note": "<optional text>"}')
    try:
        view = await request.app[STORE].set_status(request.match_info["tracking_id"], wanted, note)
    except UnknownComplaint:
        return _error(404, "unknown tracking_id")
    except TransitionError as exc:
        return _error(409, str(exc), allowed=exc.allowed)
    except ValueError:
        return _error(400, "unknown status")
    return _json(view)


def _parse_since(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_central_app(db_path: Path | str, hmac_key: str, api_token: str) -> web.Application:
    """The store's aiohttp app; it opens the SQLite file now and closes it on cleanup."""
    if not hmac_key or not api_token:
        raise ValueError("central.hmac_key and central.api_token are required")
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    store = CentralStore(db_path)
    app[STORE] = store
    app[_SECRETS] = (hmac_key.encode(), api_token.encode())

    async def close_store(_app: web.Application) -> None:
        await asyncio.to_thread(store.close)

    app.on_cleanup.append(close_store)
    app.router.add_post("/v1/complaints", post_complaint)
    app.router.add_get("/v1/complaints", list_complaints)
    app.router.add_get("/v1/complaints/{tracking_id}", get_complaint)
    app.router.add_get("/v1/complaints/{tracking_id}/status", get_status)
    app.router.add_post("/v1/complaints/{tracking_id}/status", post_status)
    return app
