"""``POST /channels/central/updates``: the central store's signed wake-up for the updates feed.

The body is ``{"after": <update_id>}`` signed like the forwarder's requests (``X-Signature: sha256=<hex>``
of the body with ``central.hmac_key``). It only wakes the worker's update poller: nothing in it is trusted
or stored, the feed stays the source of truth. 403 for a bad signature, 413 over :data:`MAX_BODY`, 400 for
a body that is not that object.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from channels.signing import same_secret, sha256_signature

PATH = "/channels/central/updates"
MAX_BODY = 1024
NAME = "central.updates"  # its label in /metrics

Count = Callable[..., None]


def update_push_handler(
    hmac_key: str, poke: Callable[[], None], count: Count
) -> Callable[[web.BaseRequest], Awaitable[web.Response]]:
    async def handle(request: web.BaseRequest) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            count(NAME, "rejected_413")
            return web.Response(status=413, text=f"body larger than {MAX_BODY} bytes\n")
        body = b""
        async for chunk in request.content.iter_chunked(MAX_BODY + 1):
            body += chunk
            if len(body) > MAX_BODY:
                count(NAME, "rejected_413")
                return web.Response(status=413, text=f"body larger than {MAX_BODY} bytes\n",
                                    headers={"Connection": "close"})
        if not same_secret(sha256_signature(hmac_key, body), (request.headers.get("X-Signature") or "").strip()):
            count(NAME, "rejected_403")
            return web.Response(status=403, text="bad or missing signature\n")
        if not _is_wakeup(body):
            count(NAME, "rejected_400")
            return web.Response(status=400, text='body must be {"after": <update_id>}\n')
        poke()
        count(NAME, "accepted")
        return web.json_response({"ok": True}, status=202)

    return handle


def _is_wakeup(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False
    after = data.get("after") if isinstance(data, dict) else None
    return isinstance(after, int) and not isinstance(after, bool) and after >= 0
