"""Shared fixtures: a valid complaint body, a store on a temp file, and an HTTP client for the store's app."""

from __future__ import annotations

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
