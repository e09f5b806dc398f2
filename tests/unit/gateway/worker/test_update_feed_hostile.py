"""A store that misbehaves (issue 15): the poller neither crashes, loops, skips ahead nor tells anyone
what a malformed page says. The feed is served by a small aiohttp app on a real socket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.message import PeerUnavailable, Rejected
from gateway.store.sqlite.journal import Journal
from gateway.worker.templates import Templates
from gateway.worker.update_texts import UpdateTexts
from gateway.worker.updates import UpdateFeed, UpdatePoller, next_cursor


class Feed:
    def __init__(self) -> None:
        self.status, self.body = 200, b'{"items": [], "next_after": 0}'
        self.seen: list[dict[str, str]] = []

    def app(self) -> web.Application:
        async def updates(request: web.Request) -> web.Response:
            self.seen.append(dict(request.query) | {"auth": request.headers.get("Authorization", "")})
            return web.Response(status=self.status, body=self.body, content_type="application/json")

        app = web.Application()
        app.router.add_get("/v1/updates", updates)
        return app

    def page(self, items: list[Any], next_after: int) -> None:
        self.body = json.dumps({"items": items, "next_after": next_after}).encode()


@pytest.fixture
async def feed_server():
    feed = Feed()
    async with TestServer(feed.app()) as server:
        yield feed, str(server.make_url(""))


@pytest.fixture(autouse=True)
async def closing():
    made.clear()
    yield
    for p in made:
        await p.close()


made: list[UpdatePoller] = []



def poller(j: Journal, url: str, **kw: Any) -> UpdatePoller:
    p = UpdatePoller(j, UpdateFeed(url, "tok"), UpdateTexts(Templates("id")), statuses=["resolved"], **kw)
    made.append(p)
    return p


async def test_malformed_items_are_skipped_counted_and_passed(feed_server, journal):
    feed, url = feed_server
    feed.page([{"update_id": 3, "kind": "response"}, "x", {"update_id": 4, "tracking_id": "1" * 500, "kind": "status"},
               {"update_id": 5, "tracking_id": "0000000001", "kind": "weird"}], 5)
    p = poller(journal, url)
    assert await p.poll_once() is False
    assert journal.updates_cursor() == 5
    assert p.counts["skipped_malformed"] == 3 and p.counts["skipped_unknown_kind"] == 1
    assert feed.seen[0] == {"after": "0", "limit": "100", "auth": "Bearer tok"}
    events = [e for e in journal.events_after(0, 100)]
    assert {e["state"] for e in events} == {"update_malformed", "update_unknown_kind"}
    assert all("1" * 20 not in json.dumps(e) for e in events)  # what a bad item says is not logged


async def test_an_empty_page_never_moves_the_cursor_and_a_repeated_page_is_not_a_loop(feed_server, journal):
    feed, url = feed_server
    feed.page([], 9999)  # a store bug: "next_after" past anything it returned
    p = poller(journal, url, page_size=2)
    assert await p.poll_once() is False and journal.updates_cursor() == 0
    feed.page([{"update_id": 1, "tracking_id": "0000000001", "kind": "citizen_response"},
               {"update_id": 2, "tracking_id": "0000000001", "kind": "citizen_response"}], 2)
    assert await p.poll_once() is True  # a full page: read on
    assert await p.poll_once() is False  # the same page again: not read in a loop
    assert journal.updates_cursor() == 2


@pytest.mark.parametrize(("status", "body", "error"), [
    (401, b"{}", Rejected), (403, b"{}", Rejected), (500, b"{}", PeerUnavailable), (503, b"", PeerUnavailable),
    (200, b"not json", PeerUnavailable), (200, b'{"items": 3, "next_after": 0}', PeerUnavailable),
    (200, b'{"items": [], "next_after": -1}', PeerUnavailable),
])
async def test_a_failing_store_is_a_failure_to_wait_out(feed_server, journal, status, body, error):
    feed, url = feed_server
    feed.status, feed.body = status, body
    with pytest.raises(error):
        await poller(journal, url).poll_once()
    assert journal.updates_cursor() == 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["update_id", "tracking_id", "kind", "status", "text", "at"]),
                    st.one_of(st.none(), st.booleans(), st.integers(-5, 2**70), st.text(max_size=30)), max_size=6),
    st.integers(), st.text(max_size=5), st.none()), max_size=8), after=st.integers(0, 2**40))
def test_any_page_is_prepared_without_raising(journal, items, after):
    p = poller(journal, "http://127.0.0.1:9")
    queued, _events = p.prepare(items)
    assert queued == []  # no complaint is ours here
    assert next_cursor(after, items, after) >= after
