"""GET /v1/updates: order, paging with after/limit, a cursor that survives a restart, bad queries."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forwarder.central import CentralStore, build_central_app
from forwarder.central.app import STORE
from forwarder.central.bodies import AgencyResponse

from .conftest import API_TOKEN, BEARER, HMAC_KEY, body_of, feed, make_complaint, move_to, respond, store_complaint


async def test_creating_a_complaint_adds_no_update(central):
    await store_complaint(central, 1)
    await store_complaint(central, 2)
    assert await feed(central) == {"items": [], "next_after": 0}
    assert await feed(central, after=41) == {"items": [], "next_after": 41}  # none: the given after


async def test_items_come_in_update_id_order_across_complaints(central):
    a = await store_complaint(central, 1)
    b = await store_complaint(central, 2)
    await move_to(central, a, "verifying")
    await respond(central, b, {"kind": "request_details", "text": "Foto?"})
    await move_to(central, a, "forwarded_to_agency")
    await respond(central, a, {"kind": "response", "text": "Diteruskan ke dinas."})
    page = await feed(central)
    items = page["items"]
    assert [(i["tracking_id"], i["kind"], i["status"]) for i in items] == [
        (a, "status", "verifying"),
        (b, "request_details", "needs_details"),
        (a, "status", "forwarded_to_agency"),
        (a, "response", "forwarded_to_agency"),
    ]
    ids = [i["update_id"] for i in items]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert page["next_after"] == ids[-1]
    assert all(set(i) == {"update_id", "tracking_id", "kind", "status", "text", "at"} for i in items)


async def test_paging_with_after_and_limit(central):
    tid = await store_complaint(central)
    for n in range(7):
        assert (await respond(central, tid, {"kind": "response", "text": f"jawaban {n}"})).status == 201
    seen, after, pages = [], 0, 0
    while True:
        page = await feed(central, after=after, limit=3)
        if not page["items"]:
            assert page["next_after"] == after
            break
        seen += [i["text"] for i in page["items"]]
        after = page["next_after"]
        pages += 1
    assert seen == [f"jawaban {n}" for n in range(7)]
    assert pages == 3
    assert len((await feed(central))["items"]) == 7  # default limit 100


async def test_bad_queries_are_400(central):
    for params in ({"limit": "0"}, {"limit": "501"}, {"limit": "x"}, {"limit": "-1"}, {"after": "-1"},
                   {"after": "x"}, {"after": "1.5"}, {"after": "٣"}, {"after": "1_0"}, {"after": "9" * 40},
                   {"limit": " 5"}):
        resp = await central.get("/v1/updates", params=params, headers=BEARER)
        assert resp.status == 400, params
    assert (await feed(central, limit=500))["items"] == []
    assert (await feed(central, limit=1))["items"] == []


async def test_the_feed_needs_the_bearer_token(central):
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "response", "text": "x"})
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {API_TOKEN}"}):
        assert (await central.get("/v1/updates", headers=headers)).status == 401


async def test_the_cursor_survives_a_restart_and_ids_are_never_reused(tmp_path):
    path = tmp_path / "central.db"

    async def run(texts: list[str], after: int) -> dict:
        app = build_central_app(path, HMAC_KEY, API_TOKEN, sweep_seconds=None)
        async with TestClient(TestServer(app)) as client:
            if not await client.app[STORE].count():  # the first start: the complaint
                await store_complaint(client)
            for t in texts:
                assert (await respond(client, "0000000001", {"kind": "response", "text": t})).status == 201
            return await feed(client, after=after)

    first = await run(["a", "b"], 0)
    cursor = first["next_after"]
    second = await run(["c"], cursor)  # a new process on the same file
    assert [i["text"] for i in second["items"]] == ["c"]
    assert second["items"][0]["update_id"] > cursor
    # the newest update gone (a hand-edited file): its id is still not handed out again
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM updates WHERE update_id = ?", (second["next_after"],))
    conn.close()
    third = await run(["d"], second["next_after"])
    assert [i["text"] for i in third["items"]] == ["d"]
    assert third["items"][0]["update_id"] > second["next_after"]


# -- property: any sequence of updates, any page size: every update exactly once, in order ---------

_TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(st.tuples(st.integers(0, 2), _TEXTS), min_size=0, max_size=40),
    limit=st.integers(1, 12),
    start_pages=st.integers(0, 3),
)
def test_paging_yields_every_update_once_in_order(ops, limit, start_pages):
    """Updates are written between page reads too: a reader following next_after misses none."""
    asyncio.run(_paging_property(ops, limit, start_pages))


async def _paging_property(ops: list[tuple[int, str]], limit: int, start_pages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = CentralStore(Path(tmp) / "central.db")
        try:
            for n in range(3):
                c = make_complaint(n + 1)
                await store.put(f"k{n}", "h", body_of(c))
            written: list[int] = []
            read: list[int] = []
            after = 0
            for i, (n, text) in enumerate(ops):
                answer = await store.respond(f"{n + 1:010d}", AgencyResponse(kind="response", text=text))
                written.append(answer["update_id"])
                if start_pages and i % (start_pages + 1) == 0:  # read a page now and then, mid-stream
                    page = await store.updates(after, limit)
                    assert len(page.items) <= limit
                    read += [u["update_id"] for u in page.items]
                    after = page.next_after
            while True:
                page = await store.updates(after, limit)
                assert len(page.items) <= limit
                if not page.items:
                    assert page.next_after == after
                    break
                read += [u["update_id"] for u in page.items]
                after = page.next_after
            assert read == written
            assert read == sorted(set(read))
        finally:
            store.close()
