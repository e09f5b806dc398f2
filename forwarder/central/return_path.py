"""Routes of the return path: agency answers, the updates feed, citizen answers.

=================================================  =========  ==========================================
route                                              auth       answers
=================================================  =========  ==========================================
POST /v1/complaints/{tracking_id}/responses        bearer     201 {update_id, tracking_id, kind, status,
                                                              at}; 404, 409 transition, 413, 422
GET  /v1/updates?after=&limit=                     bearer     {items, next_after}; 400 bad query
POST /v1/complaints/{tracking_id}/citizen-         X-Signa-   201 as above, 200 replay, 400 no key,
     responses                                     ture       401, 404, 409 key reused, 413, 422
=================================================  =========  ==========================================

The order of checks never lets a stranger learn whether a tracking ID exists: credentials first,
then the body, then the lookup.
"""

from __future__ import annotations

from aiohttp import web

from .bodies import AgencyResponse, CitizenResponse, InvalidBody, parse
from .httputil import (
    STORE,
    bearer_ok,
    error,
    json_answer,
    query_int,
    signed_post,
    too_large,
    unauthorized,
)
from .status import TransitionError
from .store import MAX_LIMIT, UPDATES_DEFAULT_LIMIT, UnknownComplaint

MAX_UPDATE_ID = 2**63 - 1


async def post_response(request: web.Request) -> web.Response:
    if not bearer_ok(request):
        return unauthorized()
    if (big := too_large(request)) is not None:
        return big
    try:
        body = parse(AgencyResponse, await request.read())
    except InvalidBody as exc:
        return error(422, 'body must be {"kind": "response"|"request_details", "text": "...", "status"?}',
                     details=exc.errors)
    try:
        answer = await request.app[STORE].respond(request.match_info["tracking_id"], body)
    except UnknownComplaint:
        return error(404, "unknown tracking_id")
    except TransitionError as exc:
        return error(409, str(exc), allowed=exc.allowed)
    return json_answer(answer, 201)


async def list_updates(request: web.Request) -> web.Response:
    if not bearer_ok(request):
        return unauthorized()
    q = request.query
    try:
        after = query_int(q.get("after", "0"))
        limit = query_int(q.get("limit", str(UPDATES_DEFAULT_LIMIT)))
        if not 0 <= after <= MAX_UPDATE_ID:
            raise ValueError
        page = await request.app[STORE].updates(after, limit)
    except ValueError:
        return error(400, f"bad query: after is an update_id (>= 0), limit 1..{MAX_LIMIT}")
    return json_answer({"items": page.items, "next_after": page.next_after})


async def post_citizen_response(request: web.Request) -> web.Response:
    signed = await signed_post(request)
    if isinstance(signed, web.Response):
        return signed
    raw, key = signed
    try:
        body = parse(CitizenResponse, raw)
    except InvalidBody as exc:
        return error(422, "invalid citizen response", details=exc.errors)
    try:
        status, answer = await request.app[STORE].citizen_respond(request.match_info["tracking_id"], key, raw, body)
    except UnknownComplaint:
        return error(404, "unknown tracking_id")
    return json_answer(answer, status)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/complaints/{tracking_id}/responses", post_response)
    app.router.add_post("/v1/complaints/{tracking_id}/citizen-responses", post_citizen_response)
    app.router.add_get("/v1/updates", list_updates)
