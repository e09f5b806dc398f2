"""The store's HTTP API through aiohttp's test client (a real server on a loopback port)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from forwarder.central.app import MAX_BODY_BYTES, STORE

from .conftest import (
    API_TOKEN,
    BEARER,
    CANARY_NAME,
    CANARY_PHONE,
    CANARY_TEXT,
    body_of,
    make_complaint,
    post_headers,
)


async def count(client) -> int:
    return await client.app[STORE].count()


async def test_signed_post_is_stored_with_due_dates(client):
    body = body_of(make_complaint(1))
    resp = await client.post("/v1/complaints", data=body, headers=post_headers(body))
    assert resp.status == 201
    answer = await resp.json()
    assert answer["tracking_id"] == "0000000001"
    assert answer["status"] == "received"
    assert datetime.fromisoformat(answer["received_at"]) == datetime(2026, 1, 9, 3, 0, tzinfo=UTC)
    assert answer["due"]["verify_by"].startswith("2026-01-14T23:59:59")
    assert answer["due"]["agency_follow_up_by"] is None
    assert await count(client) == 1


async def test_bad_or_missing_signature_is_401_and_nothing_stored(client):
    body = body_of(make_complaint(1))
    other = body_of(make_complaint(2))
    from forwarder.central import sign

    cases = [
        {"Idempotency-Key": "k"},  # missing
        post_headers(body, signature="sha256=" + "0" * 64),  # wrong
        post_headers(body, signature=sign("another-key", body)),  # signed with another key
        post_headers(body, signature=post_headers(other)["X-Signature"]),  # signature of another body
    ]
    for headers in cases:
        resp = await client.post("/v1/complaints", data=body, headers=headers)
        assert resp.status == 401
        assert CANARY_TEXT not in await resp.text()
    assert await count(client) == 0


async def test_idempotency_key_is_required(client):
    body = body_of(make_complaint(1))
    resp = await client.post("/v1/complaints", data=body, headers=post_headers(body, key=None))
    assert resp.status == 400
    assert await count(client) == 0


async def test_replay_returns_the_first_answer_once_stored(client):
    body = body_of(make_complaint(1))
    first = await client.post("/v1/complaints", data=body, headers=post_headers(body, "same"))
    again = await client.post("/v1/complaints", data=body, headers=post_headers(body, "same"))
    assert (first.status, again.status) == (201, 200)
    assert await first.json() == await again.json()
    assert await count(client) == 1


async def test_conflicting_replays_are_409(client):
    c = make_complaint(1)
    body = body_of(c)
    assert (await client.post("/v1/complaints", data=body, headers=post_headers(body, "k1"))).status == 201
    changed = body_of(c.model_copy(update={"body": "something else"}))
    resp = await client.post("/v1/complaints", data=changed, headers=post_headers(changed, "k1"))
    assert resp.status == 409  # same key, different body
    resp = await client.post("/v1/complaints", data=body, headers=post_headers(body, "k2"))
    assert resp.status == 409  # same tracking_id, different key
    assert await count(client) == 1


async def test_invalid_record_is_422_with_locations_but_no_values(client):
    record = json.loads(body_of(make_complaint(1)))
    record["tracking_id"] = CANARY_PHONE  # 13 digits: fails the pattern
    record["language"] = CANARY_NAME
    record["reporter"]["nik"] = {"not": CANARY_TEXT}
    del record["channel"]
    body = json.dumps(record).encode()
    resp = await client.post("/v1/complaints", data=body, headers=post_headers(body))
    assert resp.status == 422
    text = await resp.text()
    for canary in (CANARY_PHONE, CANARY_NAME, CANARY_TEXT):
        assert canary not in text
    locs = {tuple(d["loc"]) for d in json.loads(text)["details"]}
    assert {("tracking_id",), ("language",), ("reporter", "nik"), ("channel",)} <= locs
    assert await count(client) == 0


async def test_malformed_json_is_422(client):
    for body in (b'{"tracking_id": "' + CANARY_TEXT.encode(), b"\xff\xfe garbage", b""):
        resp = await client.post("/v1/complaints", data=body, headers=post_headers(body))
        assert resp.status == 422
        assert CANARY_TEXT not in await resp.text()


async def test_oversized_body_is_413(client):
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    resp = await client.post("/v1/complaints", data=body, headers=post_headers(body))
    assert resp.status == 413
    assert await count(client) == 0


async def test_read_api_needs_the_bearer_token(client, post):
    c = make_complaint(1)
    await post(c)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {API_TOKEN}"}):
        for path in ("/v1/complaints/0000000001", "/v1/complaints"):
            resp = await client.get(path, headers=headers)
            assert resp.status == 401
            assert CANARY_NAME not in await resp.text()
    resp = await client.get("/v1/complaints/0000000001", headers=BEARER)
    assert resp.status == 200
    item = await resp.json()
    assert item["record"] == json.loads(body_of(c))  # as received
    assert item["status"] == "received"
    assert [h["status"] for h in item["history"]] == ["received"]
    assert (await client.get("/v1/complaints/0000000099", headers=BEARER)).status == 404


async def test_list_paginates_in_arrival_order(client, post):
    # arrival order differs from received_at order on purpose
    base = datetime(2026, 1, 9, tzinfo=UTC)
    for n in range(1, 26):
        channel = "email" if n % 5 == 0 else "sms"
        await post(make_complaint(n, channel=channel, received_at=base - timedelta(hours=n)))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "10", **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/v1/complaints", params=params, headers=BEARER)
        assert resp.status == 200
        page = await resp.json()
        seen += [i["tracking_id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"{n:010d}" for n in range(1, 26)]

    resp = await client.get("/v1/complaints", params={"channel": "email"}, headers=BEARER)
    assert [i["tracking_id"] for i in (await resp.json())["items"]] == [f"{n:010d}" for n in (5, 10, 15, 20, 25)]

    since = (base - timedelta(hours=3)).isoformat()  # received_at >= since: n = 1..3
    resp = await client.get("/v1/complaints", params={"since": since}, headers=BEARER)
    assert [i["tracking_id"] for i in (await resp.json())["items"]] == [f"{n:010d}" for n in (1, 2, 3)]


async def test_list_rejects_bad_queries(client):
    for params in ({"limit": "501"}, {"limit": "0"}, {"limit": "x"}, {"limit": " 1_0 "}, {"limit": "+5"},
                   {"limit": "١٠"}, {"cursor": "nonsense!"}, {"since": "yesterday"}):  # int() took the 3 middle
        resp = await client.get("/v1/complaints", params=params, headers=BEARER)
        assert resp.status == 400, params


async def test_status_endpoint_shows_status_and_due_dates_only(client, post):
    await post(make_complaint(1))
    resp = await client.get("/v1/complaints/0000000001/status", headers=BEARER)
    assert resp.status == 200
    view = await resp.json()
    assert set(view) == {"tracking_id", "status", "status_since", "due"}
    assert view["status"] == "received"
    text = await resp.text()
    for leak in (CANARY_NAME, CANARY_PHONE, CANARY_TEXT, "Infrastruktur", "ref-abc", "sms"):
        assert leak not in text
    assert (await client.get("/v1/complaints/0000000002/status", headers=BEARER)).status == 404


async def test_operator_moves_a_complaint_along(client, post):
    await post(make_complaint(1))
    url = "/v1/complaints/0000000001/status"
    assert (await client.post(url, json={"status": "verifying"})).status == 401

    resp = await client.post(url, json={"status": "closed"}, headers=BEARER)
    assert resp.status == 409
    assert set((await resp.json())["allowed"]) == {"verifying", "needs_details", "archived"}
    assert (await client.post(url, json={"status": "bogus"}, headers=BEARER)).status == 400
    assert (await client.post(url, data=b"not json", headers=BEARER)).status == 400
    assert (
        await client.post("/v1/complaints/0000000009/status", json={"status": "verifying"}, headers=BEARER)
    ).status == 404

    path = ["verifying", "forwarded_to_agency", "in_progress", "resolved", "closed"]
    for status in path:
        resp = await client.post(url, json={"status": status, "note": f"to {status}"}, headers=BEARER)
        assert resp.status == 200, status
        view = await resp.json()
        assert view["status"] == status
        if status == "forwarded_to_agency":
            assert view["due"]["agency_follow_up_by"] is not None
            assert view["due"]["ombudsman_escalation"] is not None
    assert view["due"]["citizen_response_within"] is not None
    assert (await client.post(url, json={"status": "in_progress"}, headers=BEARER)).status == 409  # closed is final

    public = await (await client.get(url, headers=BEARER)).json()
    assert public["status"] == "closed"
    item = await (await client.get("/v1/complaints/0000000001", headers=BEARER)).json()
    assert [h["status"] for h in item["history"]] == ["received", *path]
    assert all(datetime.fromisoformat(h["at"]).tzinfo is not None for h in item["history"])
    # the replayed POST answer is still the first one
    again = await post(make_complaint(1).model_copy(update={"id": item["record"]["id"]}))
    assert again.status == 200
    assert (await again.json())["status"] == "received"
