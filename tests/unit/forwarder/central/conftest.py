"""Shared fixtures: a valid complaint body, a store on a temp file, and an HTTP client for the store's app."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from channels.message import ReporterInfo
from forwarder.central import build_central_app, sign
from normalizer.record import Complaint, Privacy

HMAC_KEY = "test-hmac-key"
API_TOKEN = "test-api-token"
CANARY_NAME = "Siti Canarywati"
CANARY_PHONE = "6281299990001"
CANARY_TEXT = "lampu jalan mati canary-body-7731"


def make_complaint(
    n: int = 1, *, channel: str = "sms", received_at: datetime | None = None, **over: object
) -> Complaint:
    fields: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "tracking_id": f"{n:010d}",
        "channel": channel,
        "account": "1708",
        "external_id": f"ext-{n}",
        "received_at": received_at or datetime(2026, 1, 9, 3, 0, tzinfo=UTC),
        "reporter": ReporterInfo(name=CANARY_NAME, phone=CANARY_PHONE),
        "reporter_ref": "ref-abc",
        "privacy": Privacy(confidential=True, source="keyword"),
        "body": CANARY_TEXT,
        "category_suggestion": [{"category": "Infrastruktur", "confidence": 0.8}],
    }
    fields.update(over)
    return Complaint.model_validate(fields)


def body_of(c: Complaint) -> bytes:
    return c.model_dump_json().encode()


def post_headers(body: bytes, key: str | None = "key-1", signature: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Signature": signature or sign(HMAC_KEY, body)}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[TestClient]:
    app = build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN)
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
def post(client: TestClient) -> Callable:
    async def _post(c: Complaint, key: str | None = None):
        body = body_of(c)
        return await client.post("/v1/complaints", data=body, headers=post_headers(body, key or f"k-{c.tracking_id}"))

    return _post


# -- the return path ------------------------------------------------------------------------------

T0 = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)  # Monday 10:00 in Jakarta; Nyepi (Thu 19 March) follows


class Clock:
    """A clock the test moves by hand: the store's "now" for every write."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def central(tmp_path, clock) -> AsyncIterator[TestClient]:
    """The store's app with a pinned clock and no periodic sweep (tests call ``sweep`` themselves)."""
    app = build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN, clock=clock, sweep_seconds=None)
    async with TestClient(TestServer(app)) as c:
        yield c


async def store_complaint(client: TestClient, n: int = 1, **over: object) -> str:
    c = make_complaint(n, **over)
    body = body_of(c)
    resp = await client.post("/v1/complaints", data=body, headers=post_headers(body, f"k-{c.tracking_id}"))
    assert resp.status == 201
    return c.tracking_id


async def move_to(client: TestClient, tracking_id: str, *statuses: str) -> None:
    for status in statuses:
        resp = await client.post(f"/v1/complaints/{tracking_id}/status", json={"status": status}, headers=BEARER)
        assert resp.status == 200, (status, await resp.text())


async def respond(client: TestClient, tracking_id: str, body: object):
    return await client.post(f"/v1/complaints/{tracking_id}/responses", json=body, headers=BEARER)


def citizen_body(text: str = "ini fotonya", **over: object) -> bytes:
    fields: dict[str, object] = {
        "text": text,
        "received_at": "2026-03-16T04:00:00+00:00",
        "channel": "sms",
        "attachments": [],
    }
    fields.update(over)
    return json.dumps(fields).encode()


async def citizen_post(client: TestClient, tracking_id: str, body: bytes, key: str | None = "c-1", **headers: str):
    return await client.post(
        f"/v1/complaints/{tracking_id}/citizen-responses", data=body, headers={**post_headers(body, key), **headers}
    )


async def feed(client: TestClient, **params: object) -> dict:
    resp = await client.get("/v1/updates", params={k: str(v) for k, v in params.items()}, headers=BEARER)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def complaint(client: TestClient, tracking_id: str) -> dict:
    resp = await client.get(f"/v1/complaints/{tracking_id}", headers=BEARER)
    assert resp.status == 200
    return await resp.json()
