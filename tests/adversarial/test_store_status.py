"""The store's status endpoint answers only the gateway (bearer token), and strangers learn nothing from it.

A stranger probing ``GET /v1/complaints/{id}/status`` must get one and the same answer for a
confidential complaint, an open one and an ID that was never issued: no existence oracle.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from forwarder.central import build_central_app, serve_central
from forwarder.outbox import CentralClient
from normalizer.record import Privacy
from tests.unit.forwarder.central.conftest import (
    API_TOKEN,
    BEARER,
    CANARY_NAME,
    CANARY_PHONE,
    CANARY_TEXT,
    HMAC_KEY,
    body_of,
    make_complaint,
    post_headers,
)

CONFIDENTIAL, OPEN, NEVER_ISSUED = "0000004242", "0000004243", "0000009999"

STRANGER_HEADERS: list[dict[str, str]] = [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Bearer {API_TOKEN}x"},
    {"Authorization": f"Bearer {API_TOKEN[:-1]}"},
    {"Authorization": f"Basic {API_TOKEN}"},
    {"Authorization": f"Token {API_TOKEN}"},
    {"Authorization": API_TOKEN},
    {"X-Api-Token": API_TOKEN},
]


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN))) as c:
        yield c


@pytest.fixture
def post(client: TestClient) -> Callable:
    async def _post(c):
        body = body_of(c)
        resp = await client.post("/v1/complaints", data=body, headers=post_headers(body, f"k-{c.tracking_id}"))
        assert resp.status == 201

    return _post


async def _seed(client: TestClient, post: Callable) -> None:
    await post(make_complaint(4242))  # confidential (the fixture's default privacy)
    await post(make_complaint(4243, privacy=Privacy()))


async def test_status_without_the_token_is_401_and_the_same_for_every_id(client, post):
    await _seed(client, post)
    answers: set[tuple[int, str, str | None]] = set()
    for headers in STRANGER_HEADERS:
        for tid in (CONFIDENTIAL, OPEN, NEVER_ISSUED):
            resp = await client.get(f"/v1/complaints/{tid}/status", headers=headers)
            text = await resp.text()
            assert resp.status == 401, (headers, tid)
            for leak in (CANARY_NAME, CANARY_PHONE, CANARY_TEXT, tid, "received"):
                assert leak not in text
            answers.add((resp.status, text, resp.headers.get("WWW-Authenticate")))
    assert len(answers) == 1  # one answer: existence and confidentiality are not observable


async def test_status_with_the_token_still_shows_status_only(client, post):
    await _seed(client, post)
    for tid in (CONFIDENTIAL, OPEN):
        resp = await client.get(f"/v1/complaints/{tid}/status", headers=BEARER)
        assert resp.status == 200
        assert set(await resp.json()) == {"tracking_id", "status", "status_since", "due"}
        text = await resp.text()
        for leak in (CANARY_NAME, CANARY_PHONE, CANARY_TEXT):
            assert leak not in text
    assert (await client.get(f"/v1/complaints/{NEVER_ISSUED}/status", headers=BEARER)).status == 404


async def test_hostile_tracking_ids_in_the_path_are_refused_before_lookup(client, post):
    await _seed(client, post)
    for tid in ("%2e%2e", "0000004242%00", "' OR 1=1 --", "0000004242;", "\u0660" * 10):
        resp = await client.get(f"/v1/complaints/{tid}/status")
        assert resp.status in (401, 404), tid
        assert CANARY_TEXT not in await resp.text()


async def test_the_gateway_client_sends_its_token(tmp_path):
    app = build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN)
    async with TestServer(app) as server:
        base = str(server.make_url("/"))
        body = make_complaint(4242).model_dump_json()
        with_token = CentralClient(base, HMAC_KEY, api_token=API_TOKEN)
        without = CentralClient(base, HMAC_KEY)
        try:
            await with_token.post(body, "k-4242")
            view = await with_token.status(CONFIDENTIAL)
            assert view is not None and view["status"] == "received"
            assert await with_token.status(NEVER_ISSUED) is None
            assert await with_token.status("../0000004242") is None  # quoted: stays a path segment
            assert await without.status(CONFIDENTIAL) is None  # 401 → the gateway falls back to its own state
        finally:
            await with_token.close()
            await without.close()


async def test_the_worker_asks_the_store_with_the_configured_token(tmp_path, monkeypatch):
    """The wiring: the worker's CEK lookup (``WorkerProcess`` → ``Router.central_status``) carries central.api_token."""
    from gateway.settings import load_settings
    from gateway.worker.process import WorkerProcess
    from tests.gateway_proc import gateway_secrets

    env = gateway_secrets()
    server = await serve_central(tmp_path / "central.db", env["LAPOR_CENTRAL__HMAC_KEY"],
                                 env["LAPOR_CENTRAL__API_TOKEN"], port=0)
    for key in [k for k in os.environ if k.startswith("LAPOR_")]:
        monkeypatch.delenv(key)
    for key, value in {**env, "LAPOR_DATA__DIR": str(tmp_path / "gw"), "LAPOR_CENTRAL__URL": server.url}.items():
        monkeypatch.setenv(key, value)
    pipeline = WorkerProcess(load_settings(None))
    try:
        await pipeline.central.post(make_complaint(4242).model_dump_json(), "k-4242")
        view = await pipeline.router.central_status(CONFIDENTIAL)
        assert view is not None and view["status"] == "received"
    finally:
        await pipeline.central.close()
        pipeline.journal.close()
        await server.close()
