"""tweepy's X API v2 client, pointed where the settings say, with the rate-limit wait the poller needs.

The seam for a local fake: tweepy's ``Client.request`` always builds
``"https://api.twitter.com" + route`` and sends it through ``client.session``,
a ``requests.Session``. We mount a transport adapter on that host prefix that
rewrites the URL to ``x.api_base_url`` (the API root, without ``/2``) and
puts a timeout on every request (requests has none by default). No tweepy
internals are patched; with no base URL set the requests go to X unchanged.

Replies and DMs need a *user-context* token: ``x.bearer_token`` is an OAuth 2.0
user access token (scopes tweet.read tweet.write users.read dm.read dm.write),
sent as a Bearer token with ``user_auth=False``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import tweepy
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from channels.quiet import quiet_client_loggers

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"  # what tweepy.Client.request prefixes every route with
MAX_RATE_LIMIT_WAIT = 15 * 60.0  # X's windows are 15 minutes


class RedirectAdapter(HTTPAdapter):
    """Sends ``https://api.twitter.com/…`` to ``base_url/…``, with a default timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/").removesuffix("/2")  # routes already start with /2
        self.timeout = timeout

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        if request.url and request.url.startswith(TWEEPY_HOST):
            request.url = self.base_url + request.url[len(TWEEPY_HOST):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def make_client(bearer_token: str, api_base_url: str | None = None, timeout: float = 20.0) -> tweepy.Client:
    """A tweepy Client answering plain dicts; constructing it does no network I/O."""
    quiet_client_loggers()
    client = tweepy.Client(bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False)
    client.session.mount(TWEEPY_HOST, RedirectAdapter(api_base_url or TWEEPY_HOST, timeout))
    return client


def rate_limit_wait(reset_time: int | None, now: float, cap: float = MAX_RATE_LIMIT_WAIT) -> float:
    """Seconds to wait after a 429: until ``x-rate-limit-reset`` (+1 s for clock skew), capped."""
    if reset_time is None:
        return min(60.0, cap)
    return min(max(reset_time - now, 0.0) + 1.0, cap)


async def call_waiting(fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Run a blocking tweepy call in a thread; on 429 sleep until the window resets and try again.

    Nothing is lost: the caller's state (since_id, pagination token) is untouched
    until the call succeeds.
    """
    while True:
        try:
            return await asyncio.to_thread(fn, **kwargs)
        except tweepy.TooManyRequests as exc:
            wait = rate_limit_wait(exc.reset_time, time.time())
            log.warning("x: rate limited (429); waiting %.0fs for the window to reset", wait)
            await asyncio.sleep(wait)
