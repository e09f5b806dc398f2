"""HTTP API of the reference central store (what the forwarder POSTs to and ``CEK`` reads).

=========================================  ========  ===============================================
route                                      auth      answers
=========================================  ========  ===============================================
POST /v1/complaints                        X-Signa-  201 first answer, 200 replay, 400 no key,
                                           ture      401 signature, 409 conflict, 413, 422
GET  /v1/complaints/{tracking_id}          bearer    the record as received + status, due, history
GET  /v1/complaints?since&channel&limit&c  bearer    {items, next_cursor}, arrival order
GET  /v1/complaints/{tracking_id}/status   bearer    status and due dates only (CEK)
POST /v1/complaints/{tracking_id}/status   bearer    operator move {status, note?}; 409 if not allowed;
                                                     adds a ``status`` update (text: the note)
=========================================  ========  ===============================================

The return path's routes (answers, ``/v1/updates``, citizen responses) are in :mod:`.return_path`.
Beside the routes the app runs two background tasks: the clock's sweep (closing and archiving
complaints whose deadline passed) and, when ``gateway_url`` is given, the wake-up push.

Error bodies are ``{"error": "..."}`` and never carry a record's values. Every read needs the
bearer token, and the token is checked before any lookup: a stranger gets the same 401 for a
tracking ID that exists (confidential or not) as for one that does not, so no route is an
existence oracle.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from channels.signing import sha256_signature

from . import return_path
from .httputil import MAX_BODY_BYTES, MAX_KEY_LENGTH, SECRETS, STORE, query_int, signed_post
from .httputil import bearer_ok as _bearer_ok
from .httputil import error as _error
from .httputil import json_answer as _json
from .httputil import unauthorized as _unauthorized
from .push import UpdatePusher
from .status import TransitionError
from .store import MAX_LIMIT, CentralStore, InvalidRecord, UnknownComplaint
from .workdays import WorkdayCalendar

__all__ = ["MAX_BODY_BYTES", "MAX_KEY_LENGTH", "STORE", "build_central_app", "sign"]

log = logging.getLogger("lapor.central")

SWEEP_SECONDS = 60.0  # deadlines end at midnight Jakarta, so a minute late is on time
PUSHER: web.AppKey[UpdatePusher] = web.AppKey("central_pusher", UpdatePusher)

sign = sha256_signature  # the ``X-Signature`` value for a body; what the forwarder sends


async def post_complaint(request: web.Request) -> web.Response:
    signed = await signed_post(request)
    if isinstance(signed, web.Response):
        return signed
    body, key = signed
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
        limit = query_int(q.get("limit", "100"))
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


async def _sweep_forever(store: CentralStore, seconds: float) -> None:
    while True:
        try:
            moved = await store.sweep()
        except Exception:  # a failed sweep is retried at the next one; the API keeps answering
            log.exception("clock sweep failed")
        else:
            if moved:
                log.info("clock sweep: %d complaints closed or archived", len(moved))
        await asyncio.sleep(seconds)


def build_central_app(
    db_path: Path | str,
    hmac_key: str,
    api_token: str,
    *,
    gateway_url: str | None = None,
    sweep_seconds: float | None = SWEEP_SECONDS,
    clock: Callable[[], datetime] | None = None,
    calendar: WorkdayCalendar | None = None,
) -> web.Application:
    """The store's aiohttp app; it opens the SQLite file now and closes it on cleanup.

    ``gateway_url`` turns the wake-up push on; ``sweep_seconds=None`` turns the periodic
    clock sweep off (tests call :meth:`CentralStore.sweep` themselves); ``clock`` pins "now".
    """
    if not hmac_key or not api_token:
        raise ValueError("central.hmac_key and central.api_token are required")
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    store = CentralStore(db_path, calendar=calendar, **({"clock": clock} if clock else {}))
    app[STORE] = store
    app[SECRETS] = (hmac_key.encode(), api_token.encode())
    if gateway_url:
        pusher = UpdatePusher(gateway_url, hmac_key)
        app[PUSHER] = pusher
        store.add_listener(pusher.notify)

    async def background(app: web.Application) -> AsyncIterator[None]:
        pusher = app.get(PUSHER)
        if pusher is not None:
            await pusher.start()
        sweeper = asyncio.create_task(_sweep_forever(store, sweep_seconds)) if sweep_seconds else None
        yield
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if pusher is not None:
            await pusher.close()

    async def close_store(_app: web.Application) -> None:
        await asyncio.to_thread(store.close)

    app.cleanup_ctx.append(background)  # its cleanup runs before close_store
    app.on_cleanup.append(close_store)
    return_path.add_routes(app)
    app.router.add_post("/v1/complaints", post_complaint)
    app.router.add_get("/v1/complaints", list_complaints)
    app.router.add_get("/v1/complaints/{tracking_id}", get_complaint)
    app.router.add_get("/v1/complaints/{tracking_id}/status", get_status)
    app.router.add_post("/v1/complaints/{tracking_id}/status", post_status)
    return app
