"""POST /v1/complaints/{id}/citizen-responses: signed, idempotent, and what it does to the complaint."""

from __future__ import annotations

import asyncio
import json

import pytest

from forwarder.central import sign
from forwarder.central.app import MAX_BODY_BYTES
from forwarder.central.bodies import MAX_ATTACHMENTS, MAX_TEXT

from .conftest import (
    CANARY_PHONE,
    CANARY_TEXT,
    HMAC_KEY,
    T0,
    citizen_body,
    citizen_post,
    complaint,
    feed,
    move_to,
    respond,
    store_complaint,
)

PHOTO = {"sha256": "ab" * 32, "media_type": "image/jpeg", "size": 48213, "filename": "lampu.jpg"}


async def test_answer_to_a_request_for_details_goes_back_to_verifying(central):
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "request_details", "text": "Di mana tepatnya?"})
    body = citizen_body("Jl. Merdeka 5, depan masjid", attachments=[PHOTO])
    resp = await citizen_post(central, tid, body)
    assert resp.status == 201
    answer = await resp.json()
    assert set(answer) == {"update_id", "tracking_id", "kind", "status", "at"}
    assert (answer["tracking_id"], answer["kind"], answer["status"]) == (tid, "citizen_response", "verifying")
    item = await complaint(central, tid)
    assert item["status"] == "verifying"
    assert item["due"]["archive_incomplete_after"] is None  # the clock stopped
    assert [(r["kind"], r["by"]) for r in item["responses"]] == [("request_details", "agency"),
                                                                ("citizen_response", "citizen")]
    mine = item["responses"][-1]
    assert mine["text"] == "Jl. Merdeka 5, depan masjid"
    assert mine["attachments"] == [PHOTO]
    assert [h["status"] for h in item["history"]] == ["received", "needs_details", "verifying"]
    last = (await feed(central))["items"][-1]
    assert last == {**answer, "text": "Jl. Merdeka 5, depan masjid"}


async def test_answer_to_a_resolved_complaint_reopens_it(central):
    tid = await store_complaint(central)
    await move_to(central, tid, "verifying", "forwarded_to_agency")
    await respond(central, tid, {"kind": "response", "text": "Sudah diperbaiki.", "status": "resolved"})
    resp = await citizen_post(central, tid, citizen_body("Belum, masih mati."))
    assert resp.status == 201
    assert (await resp.json())["status"] == "in_progress"
    item = await complaint(central, tid)
    assert item["status"] == "in_progress"
    assert item["due"]["citizen_response_within"] is None


@pytest.mark.parametrize("path", [[], ["verifying", "forwarded_to_agency", "in_progress"], ["archived"]])
async def test_other_statuses_keep_their_status_and_the_words(central, path):
    tid = await store_complaint(central)
    await move_to(central, tid, *path)
    status = path[-1] if path else "received"
    resp = await citizen_post(central, tid, citizen_body("tambahan"))
    assert resp.status == 201
    assert (await resp.json())["status"] == status
    assert (await complaint(central, tid))["responses"][-1]["text"] == "tambahan"


async def test_a_replay_of_the_same_key_gets_the_first_answer_and_stores_nothing_new(central, clock):
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "request_details", "text": "?"})
    body = citizen_body("jawab")
    first = await citizen_post(central, tid, body, key="same")
    clock.now = T0.replace(hour=9)
    again = await citizen_post(central, tid, body, key="same")
    assert (first.status, again.status) == (201, 200)
    assert await first.json() == await again.json()
    assert [i["kind"] for i in (await feed(central))["items"]] == ["request_details", "citizen_response"]
    # same key with another body, or for another complaint: a conflict, nothing stored
    other = await store_complaint(central, 2)
    assert (await citizen_post(central, tid, citizen_body("lain"), key="same")).status == 409
    assert (await citizen_post(central, other, body, key="same")).status == 409
    assert len((await feed(central))["items"]) == 2
    assert (await citizen_post(central, tid, body, key="another")).status == 201  # a new key is a new answer


async def test_signature_key_and_lookup_errors(central):
    tid = await store_complaint(central)
    body = citizen_body("x")
    for headers in ({"X-Signature": ""}, {"X-Signature": "sha256=" + "0" * 64},
                    {"X-Signature": sign("another-key", body)}, {"X-Signature": sign(HMAC_KEY, body + b" ")}):
        for target in (tid, "0000000404"):  # the same 401 whether the complaint exists or not
            assert (await citizen_post(central, target, body, **headers)).status == 401
    assert (await citizen_post(central, tid, body, key=None)).status == 400
    assert (await citizen_post(central, tid, body, key="k" * 201)).status == 400
    assert (await citizen_post(central, tid, body, key="k\tey")).status == 400
    assert (await citizen_post(central, "0000000404", body)).status == 404
    assert (await citizen_post(central, "0000000404", body)).status == 404  # the key was not used up
    assert (await feed(central))["items"] == []


HOSTILE = [
    b"",
    b"nope",
    b"[]",
    json.dumps({"text": "x"}).encode(),  # no received_at, channel
    citizen_body(12),
    citizen_body(""),  # neither text nor attachment
    citizen_body("   "),
    citizen_body("x", received_at="2026-03-16T04:00:00"),  # naive: whose time zone?
    citizen_body("x", received_at="yesterday"),
    citizen_body("x", received_at=1773633600),
    citizen_body("x", channel=""),
    citizen_body("x", channel="sms\nX-Injected: 1"),
    citizen_body("x", channel=["sms"]),
    citizen_body("x", attachments="photo.jpg"),
    citizen_body("x", attachments=[{**PHOTO, "sha256": "xyz"}]),
    citizen_body("x", attachments=[{**PHOTO, "size": -1}]),
    citizen_body("x", attachments=[{**PHOTO, "size": "48213"}]),
    citizen_body("x", attachments=[{**PHOTO, "media_type": "not a type"}]),
    citizen_body("x", attachments=[{**PHOTO, "extra": 1}]),
    citizen_body("x", attachments=[PHOTO] * (MAX_ATTACHMENTS + 1)),
    citizen_body("x", reporter_phone=CANARY_PHONE),  # unknown fields refused: the store learns nothing new
    citizen_body("a" * (MAX_TEXT + 1)),
    b'{"text": "\\ud83d alone", "received_at": "2026-03-16T04:00:00+00:00", "channel": "sms", "attachments": []}',
    b'{"text": "\xc3\x28", "received_at": "2026-03-16T04:00:00+00:00", "channel": "sms", "attachments": []}',
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_bodies_are_422_without_echo_and_nothing_stored(central, raw):
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "request_details", "text": "?"})
    resp = await citizen_post(central, tid, raw)
    assert resp.status == 422, await resp.text()
    text = await resp.text()
    assert CANARY_PHONE not in text
    assert (await complaint(central, tid))["status"] == "needs_details"
    assert len((await feed(central))["items"]) == 1


async def test_errors_never_echo_the_citizens_words(central):
    tid = await store_complaint(central)
    resp = await citizen_post(central, tid, citizen_body(CANARY_TEXT, received_at="not a date"))
    assert resp.status == 422
    assert CANARY_TEXT not in await resp.text()


async def test_a_huge_body_is_413(central):
    tid = await store_complaint(central)
    body = citizen_body("a" * MAX_BODY_BYTES)
    assert (await citizen_post(central, tid, body)).status == 413
    assert (await feed(central))["items"] == []


async def test_concurrent_replays_of_one_key_store_one_answer(central):
    """The gateway retrying while its first POST is still in flight: one 201, the rest the same answer."""
    tid = await store_complaint(central)
    await respond(central, tid, {"kind": "request_details", "text": "?"})
    body = citizen_body("sekali saja")
    answers = await asyncio.gather(*(citizen_post(central, tid, body, key="retry") for _ in range(20)))
    assert sorted(a.status for a in answers) == [200] * 19 + [201]
    assert len({json.dumps(await a.json(), sort_keys=True) for a in answers}) == 1
    items = (await feed(central))["items"]
    assert [i["kind"] for i in items] == ["request_details", "citizen_response"]
    assert (await complaint(central, tid))["status"] == "verifying"
