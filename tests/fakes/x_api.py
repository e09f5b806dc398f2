"""A fake X API v2: users/me, a user's mentions timeline (paged, since_id), dm_events, tweets and DMs.

Point tweepy at it with ``channels.social.x_client.make_client(token, fake.base_url)``.
Answers are shaped like X's: ``{"data": […], "includes": {"users": […]}, "meta": {…}}``,
errors as ``{"title", "detail", "type", "status"}``; ``rate_limit_next()`` makes
the next calls answer 429 with ``x-rate-limit-reset`` a second or two ahead.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.server import RECORDED, FakeServer


def _problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response({"title": title, "detail": detail, "type": "about:blank", "status": status},
                             status=status)


class FakeX(FakeServer):
    def __init__(self, token: str = "fake-x-user-token", user_id: str = "1500000000000000001",
                 username: str = "lapor1708") -> None:
        super().__init__()
        self.token = token
        self.user_id = user_id
        self.username = username
        self.mentions: list[dict[str, Any]] = []  # oldest first
        self.dm_events: list[dict[str, Any]] = []  # oldest first
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: list[dict[str, Any]] = []  # bodies of POST /2/tweets
        self.dms: list[dict[str, Any]] = []  # {"participant_id", "text"} of DMs sent
        self.rate_limited: list[int] = []  # seconds-ahead for each 429 still to give
        self.rate_limited_pages: dict[str, int] = {}  # pagination_token -> seconds-ahead, once
        self.closed_dms: set[str] = set()  # users who do not accept our DMs
        self._ids = itertools.count(1800000000000000000, 1000)

    @property
    def base_url(self) -> str:
        return self.root

    # --- what tests use -------------------------------------------------------------------
    def add_user(self, user_id: str, username: str, name: str) -> None:
        self.users[user_id] = {"id": user_id, "username": username, "name": name}

    def add_mention(self, author_id: str, text: str, **extra: Any) -> dict[str, Any]:
        tid = str(next(self._ids))
        tweet = {"id": tid, "text": text, "author_id": author_id, "conversation_id": tid,
                 "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                 "edit_history_tweet_ids": [tid], **extra}
        if f"@{self.username}" in text:
            start = text.index(f"@{self.username}")
            tweet.setdefault("entities", {"mentions": [
                {"start": start, "end": start + len(self.username) + 1, "username": self.username,
                 "id": self.user_id}]})
        self.mentions.append(tweet)
        return tweet

    def add_dm(self, sender_id: str, text: str) -> dict[str, Any]:
        eid = str(next(self._ids))
        event = {"id": eid, "event_type": "MessageCreate", "text": text, "sender_id": sender_id,
                 "dm_conversation_id": f"{min(sender_id, self.user_id)}-{max(sender_id, self.user_id)}",
                 "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        self.dm_events.append(event)
        return event

    def rate_limit_next(self, times: int = 1, reset_in: int = 1) -> None:
        self.rate_limited += [reset_in] * times

    def rate_limit_page(self, pagination_token: str, reset_in: int = 1) -> None:
        """The next request for this page (of any timeline) answers 429 once."""
        self.rate_limited_pages[pagination_token] = reset_in

    def mention_requests(self) -> list[dict[str, Any]]:
        return [r.query for r in self.requests if r.path.endswith("/mentions")]

    # --- the API --------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/2/users/me", self._me)
        app.router.add_get("/2/users/{id}/mentions", self._mentions)
        app.router.add_get("/2/dm_events", self._dm_events)
        app.router.add_post("/2/tweets", self._create_tweet)
        app.router.add_post("/2/dm_conversations/with/{participant_id}/messages", self._create_dm)

    def _gate(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _problem(401, "Unauthorized", "Unauthorized")
        page_limit = self.rate_limited_pages.pop(request.query.get("pagination_token", ""), None)
        if self.rate_limited or page_limit is not None:
            reset = int(time.time()) + (page_limit if page_limit is not None else self.rate_limited.pop(0))
            resp = _problem(429, "Too Many Requests", "Too Many Requests")
            resp.headers.update({"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0",
                                 "x-rate-limit-reset": str(reset)})
            return resp
        return None

    async def _me(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        return web.json_response({"data": {"id": self.user_id, "name": "LAPOR! 1708", "username": self.username}})

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Newest first, since_id honoured, ``max_results`` per page, next_token = offset."""
        q = request.query
        since = int(q.get("since_id") or 0)
        newest_first = [i for i in reversed(items) if int(i["id"]) > since]
        size = int(q.get("max_results") or 10)
        start = int(q.get("pagination_token") or 0)
        page = newest_first[start:start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + size < len(newest_first):
            meta["next_token"] = str(start + size)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            authors = {i.get("author_id") or i.get("sender_id") for i in page}
            body["includes"] = {"users": [self.users[a] for a in sorted(authors) if a in self.users]}
        return body

    async def _mentions(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        if request.match_info["id"] != self.user_id:
            return _problem(403, "Forbidden", "You can only read your own mentions")
        return web.json_response(self._page(request, self.mentions))

    async def _dm_events(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        return web.json_response(self._page(request, self.dm_events))

    async def _create_tweet(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        body = request[RECORDED].params
        self.tweets.append(body)
        return web.json_response({"data": {"id": str(next(self._ids)), "text": body.get("text", ""),
                                           "edit_history_tweet_ids": []}}, status=201)

    async def _create_dm(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        pid = request.match_info["participant_id"]
        if pid in self.closed_dms:
            return _problem(403, "Forbidden", "You cannot send messages to this user.")
        self.dms.append({"participant_id": pid, **request[RECORDED].params})
        return web.json_response({"data": {"dm_conversation_id": f"{pid}-{self.user_id}",
                                           "dm_event_id": str(next(self._ids))}}, status=201)
