"""The clock's sweep: resolved -> closed after 10 days, needs_details -> archived after 10 working days.

"now" is injected: the store's clock for writes, and ``sweep(now)``. T0 is Monday 16 March 2026,
10:00 in Jakarta; Nyepi (Thursday 19 March) is a national holiday, so the 10 working days after a
request for details on T0 end with Tuesday 31 March, not Monday 30 March.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from forwarder.central import CentralStore, build_central_app, expiry
from forwarder.central.app import STORE

from .conftest import (
    API_TOKEN,
    HMAC_KEY,
    T0,
    Clock,
    body_of,
    citizen_body,
    citizen_post,
    complaint,
    feed,
    make_complaint,
    move_to,
    respond,
    store_complaint,
)

JKT = ZoneInfo("Asia/Jakarta")


def jakarta(*args: int) -> datetime:
    return datetime(*args, tzinfo=JKT)


async def resolved(client: TestClient, n: int = 1) -> str:
    tid = await store_complaint(client, n)
    await move_to(client, tid, "verifying", "forwarded_to_agency")
    assert (await respond(client, tid, {"kind": "response", "text": "Selesai.", "status": "resolved"})).status == 201
    return tid


async def test_resolved_closes_after_ten_calendar_days(central):
    tid = await resolved(central)
    store = central.app[STORE]
    assert await store.sweep(jakarta(2026, 3, 26, 23, 59, 59)) == []  # the 10th day, holidays counted
    assert (await complaint(central, tid))["status"] == "resolved"
    moved = await store.sweep(jakarta(2026, 3, 27, 0, 0, 1))
    assert [(m["tracking_id"], m["kind"], m["status"]) for m in moved] == [(tid, "status", "closed")]
    item = await complaint(central, tid)
    assert item["status"] == "closed"
    assert item["history"][-1]["status"] == "closed"
    assert item["history"][-1]["note"] == "no citizen response in time"
    last = (await feed(central))["items"][-1]
    assert (last["kind"], last["status"], last["text"]) == ("status", "closed", None)
    assert datetime.fromisoformat(last["at"]) == jakarta(2026, 3, 27, 0, 0, 1)
    assert await store.sweep(jakarta(2026, 5, 1)) == []  # once


async def test_needs_details_archives_after_ten_working_days_with_nyepi_off(central):
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "request_details", "text": "Alamatnya?"})
    store = central.app[STORE]
    assert await store.sweep(jakarta(2026, 3, 31, 12, 0)) == []  # counting Nyepi would have archived it
    assert (await complaint(central, tid))["status"] == "needs_details"
    moved = await store.sweep(jakarta(2026, 4, 1, 0, 0))
    assert [(m["kind"], m["status"]) for m in moved] == [("status", "archived")]
    item = await complaint(central, tid)
    assert item["status"] == "archived"
    assert item["history"][-1]["note"] == "details not received in time"
    assert (await respond(central, tid, {"kind": "response", "text": "x"})).status == 409


async def test_a_citizen_response_stops_the_clock(central, clock):
    waiting = await store_complaint(central, 1)
    await respond(central, waiting, {"kind": "request_details", "text": "Foto?"})
    objected = await resolved(central, 2)
    clock.now = jakarta(2026, 3, 20, 9, 0)
    assert (await citizen_post(central, waiting, citizen_body("ini"), key="a")).status == 201
    assert (await citizen_post(central, objected, citizen_body("belum"), key="b")).status == 201
    assert await central.app[STORE].sweep(jakarta(2026, 6, 1)) == []
    assert (await complaint(central, waiting))["status"] == "verifying"
    assert (await complaint(central, objected))["status"] == "in_progress"


async def test_resolved_again_gets_a_new_ten_days(central, clock):
    tid = await resolved(central)
    clock.now = jakarta(2026, 3, 25, 8, 0)
    await citizen_post(central, tid, citizen_body("belum"))
    await respond(central, tid, {"kind": "response", "text": "Sudah, dicek lagi.", "status": "resolved"})
    store = central.app[STORE]
    assert await store.sweep(jakarta(2026, 4, 4, 23, 0)) == []
    assert len(await store.sweep(jakarta(2026, 4, 5, 0, 1))) == 1


async def test_a_complaint_moved_between_finding_and_writing_is_left_alone(central):
    """The sweep's candidates are re-checked in the writer: the citizen's answer wins."""
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "request_details", "text": "?"})
    store = central.app[STORE]
    due = await store._reader.aquery(lambda c: expiry.find_expired(c, jakarta(2026, 5, 1), store.calendar, 10))
    assert [d.tracking_id for d in due] == [tid]
    await citizen_post(central, tid, citizen_body("ini"))
    assert await store._writer.write(lambda c: expiry.expire(c, due, "2026-05-01T00:00:00+00:00")) == []
    assert (await complaint(central, tid))["status"] == "verifying"


async def test_the_store_process_sweeps_by_itself(tmp_path):
    """At start-up and then periodically: a store whose clock is past the deadline archives on its own."""
    path = tmp_path / "central.db"
    store = CentralStore(path, clock=Clock(T0))
    await store.put("k", "h", body_of(make_complaint(1)))
    await store.set_status("0000000001", "needs_details")
    store.close()
    app = build_central_app(path, HMAC_KEY, API_TOKEN, clock=Clock(jakarta(2026, 4, 2)), sweep_seconds=3600)
    moved = asyncio.Event()
    app[STORE].add_listener(lambda _update_id: moved.set())
    async with TestClient(TestServer(app)) as client:
        await asyncio.wait_for(moved.wait(), 30)
        assert (await complaint(client, "0000000001"))["status"] == "archived"


async def test_an_operator_resolving_starts_the_same_clock(central):
    tid = await store_complaint(central)
    await move_to(central, tid, "verifying", "forwarded_to_agency", "resolved")
    moved = await central.app[STORE].sweep(jakarta(2026, 3, 27, 0, 0, 1))
    assert [m["status"] for m in moved] == ["closed"]
    assert [i["status"] for i in (await feed(central))["items"]] == [
        "verifying", "forwarded_to_agency", "resolved", "closed"]
