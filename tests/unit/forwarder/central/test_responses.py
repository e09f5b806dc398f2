"""POST /v1/complaints/{id}/responses and the conversation in GET /v1/complaints/{id}, over the real app."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from forwarder.central.app import MAX_BODY_BYTES
from forwarder.central.bodies import MAX_TEXT

from .conftest import (
    BEARER,
    CANARY_TEXT,
    T0,
    complaint,
    feed,
    move_to,
    respond,
    store_complaint,
)


async def test_an_answer_is_one_update_with_the_shape_the_gateway_reads(central):
    tid = await store_complaint(central)
    await move_to(central, tid, "verifying", "forwarded_to_agency")
    resp = await respond(central, tid, {"kind": "response", "text": "Lampu sudah diganti.", "status": "resolved"})
    assert resp.status == 201
    answer = await resp.json()
    assert set(answer) == {"update_id", "tracking_id", "kind", "status", "at"}
    assert answer["tracking_id"] == tid
    assert (answer["kind"], answer["status"]) == ("response", "resolved")
    assert datetime.fromisoformat(answer["at"]) == T0
    assert isinstance(answer["update_id"], int)

    item = await complaint(central, tid)
    assert item["status"] == "resolved"
    assert item["due"]["citizen_response_within"].startswith("2026-03-26T23:59:59")
    assert item["responses"] == [
        {"update_id": answer["update_id"], "kind": "response", "by": "agency", "text": "Lampu sudah diganti.",
         "at": answer["at"]}
    ]
    assert [h["status"] for h in item["history"]] == ["received", "verifying", "forwarded_to_agency", "resolved"]
    last = (await feed(central))["items"][-1]
    assert last == {**answer, "text": "Lampu sudah diganti."}


async def test_an_answer_without_status_keeps_the_status(central):
    tid = await store_complaint(central)
    await move_to(central, tid, "verifying", "forwarded_to_agency", "in_progress")
    resp = await respond(central, tid, {"kind": "response", "text": "Sedang dikerjakan."})
    assert resp.status == 201
    assert (await resp.json())["status"] == "in_progress"
    same = await respond(central, tid, {"kind": "response", "text": "Masih.", "status": "in_progress"})
    assert same.status == 201  # the status it already has is no move
    item = await complaint(central, tid)
    assert [h["status"] for h in item["history"]][-1] == "in_progress"
    assert len(item["history"]) == 4
    assert [r["text"] for r in item["responses"]] == ["Sedang dikerjakan.", "Masih."]


@pytest.mark.parametrize("start", [[], ["verifying"], ["verifying", "forwarded_to_agency"],
                                   ["verifying", "forwarded_to_agency", "in_progress"],
                                   ["verifying", "forwarded_to_agency", "resolved"]])
async def test_request_details_moves_to_needs_details_from_any_open_state(central, start):
    tid = await store_complaint(central)
    await move_to(central, tid, *start)
    resp = await respond(central, tid, {"kind": "request_details", "text": "Di jalan apa tepatnya?"})
    assert resp.status == 201
    answer = await resp.json()
    assert (answer["kind"], answer["status"]) == ("request_details", "needs_details")
    item = await complaint(central, tid)
    assert item["status"] == "needs_details"
    assert item["due"]["archive_incomplete_after"].startswith("2026-03-31T23:59:59")  # Nyepi is off
    assert item["responses"][-1]["kind"] == "request_details"
    assert item["responses"][-1]["by"] == "agency"


async def test_request_details_again_restarts_the_clock(central, clock):
    tid = await store_complaint(central)
    assert (await respond(central, tid, {"kind": "request_details", "text": "Alamat?"})).status == 201
    clock.now = clock.now.replace(day=23)
    assert (await respond(central, tid, {"kind": "request_details", "text": "Alamat, mohon."})).status == 201
    item = await complaint(central, tid)
    assert item["due"]["archive_incomplete_after"].startswith("2026-04-07T23:59:59")  # Good Friday 3 April off


async def test_transitions_are_enforced_and_final_complaints_take_no_answers(central):
    tid = await store_complaint(central)
    resp = await respond(central, tid, {"kind": "response", "text": "Selesai.", "status": "resolved"})
    assert resp.status == 409  # received -> resolved is not allowed
    body = await resp.json()
    assert set(body["allowed"]) == {"verifying", "needs_details", "archived"}
    await move_to(central, tid, "archived")
    for body in ({"kind": "response", "text": "x"}, {"kind": "request_details", "text": "x"}):
        resp = await respond(central, tid, body)
        assert resp.status == 409
        assert "archived" in (await resp.json())["error"]
    item = await complaint(central, tid)
    assert item["responses"] == []
    assert [i["kind"] for i in (await feed(central))["items"]] == ["status"]  # only the move to archived


async def test_unknown_complaint_is_404_and_the_token_is_checked_first(central):
    body = {"kind": "response", "text": "x"}
    assert (await respond(central, "0000000404", body)).status == 404
    tid = await store_complaint(central)
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        for target in (tid, "0000000404"):
            resp = await central.post(f"/v1/complaints/{target}/responses", json=body, headers=headers)
            assert resp.status == 401
    assert (await feed(central))["items"] == []


HOSTILE = [
    b"",
    b"not json",
    b"[]",
    b'{"kind": "response"}',  # no text
    b'{"kind": "response", "text": ""}',
    b'{"kind": "answer", "text": "x"}',
    b'{"kind": "response", "text": 12}',
    b'{"kind": "response", "text": ["x"]}',
    b'{"kind": "response", "text": "x", "status": "done"}',
    b'{"kind": "response", "text": "x", "status": 3}',
    b'{"kind": "request_details", "text": "x", "status": "resolved"}',
    b'{"kind": "response", "text": "x", "extra": "field"}',
    b'{"kind": "response", "text": "\\ud800 lone surrogate"}',
    b'{"kind": "response", "text": "\\udfff"}',
    b'{"kind": "response", "text": "\xff\xfe bad utf-8"}',
    b'{"kind": "response", "text": "' + b"a" * (MAX_TEXT + 1) + b'"}',
    b'{"kind": "response", "text": "x", "kind": ' + b"[" * 5000 + b"]" * 5000 + b"}",
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_bodies_are_422_and_nothing_is_stored(central, raw):
    tid = await store_complaint(central)
    resp = await central.post(f"/v1/complaints/{tid}/responses", data=raw,
                              headers={**BEARER, "Content-Type": "application/json"})
    assert resp.status == 422, await resp.text()
    assert "details" in await resp.json()
    assert (await feed(central))["items"] == []
    assert (await complaint(central, tid))["status"] == "received"


async def test_a_huge_body_is_413_and_nothing_is_stored(central):
    tid = await store_complaint(central)
    raw = json.dumps({"kind": "response", "text": "a" * MAX_BODY_BYTES}).encode()
    resp = await central.post(f"/v1/complaints/{tid}/responses", data=raw, headers=BEARER)
    assert resp.status == 413
    assert (await feed(central))["items"] == []


async def test_errors_never_echo_the_text(central):
    tid = await store_complaint(central)
    raw = json.dumps({"kind": "response", "text": CANARY_TEXT, "status": "nonsense"}).encode()
    resp = await central.post(f"/v1/complaints/{tid}/responses", data=raw, headers=BEARER)
    assert resp.status == 422
    assert CANARY_TEXT not in await resp.text()


async def test_operator_status_move_answers_as_before_and_adds_a_status_update(central):
    tid = await store_complaint(central)
    resp = await central.post(f"/v1/complaints/{tid}/status", json={"status": "verifying", "note": "dicek"},
                              headers=BEARER)
    assert resp.status == 200
    assert set(await resp.json()) == {"tracking_id", "status", "status_since", "due"}
    await move_to(central, tid, "forwarded_to_agency")
    items = (await feed(central))["items"]
    assert [(i["kind"], i["status"], i["text"]) for i in items] == [
        ("status", "verifying", "dicek"),
        ("status", "forwarded_to_agency", None),
    ]
    assert (await complaint(central, tid))["responses"] == []  # status-only updates stay in history
    refused = await central.post(f"/v1/complaints/{tid}/status", json={"status": "closed"}, headers=BEARER)
    assert refused.status == 409
    assert len((await feed(central))["items"]) == 2  # a refused move adds nothing
