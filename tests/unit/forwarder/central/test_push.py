"""The wake-up push: a real local aiohttp server plays the gateway's /channels/central/updates."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from channels.signing import sha256_signature
from forwarder.central import build_central_app, run_central, serve_central_from
from forwarder.central.app import PUSHER
from gateway.settings import load_settings

from .conftest import (
    API_TOKEN,
    CANARY_TEXT,
    HMAC_KEY,
    Clock,
    body_of,
    citizen_body,
    citizen_post,
    feed,
    make_complaint,
    respond,
)
from .conftest import store_complaint as store


@dataclass
class FakeGateway:
    """Records each wake-up; answers ``status`` (500 to play a broken gateway)."""

    status: int = 204
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return web.Response(status=self.status)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[FakeGateway, str]]:
    fake = FakeGateway()
    app = web.Application()
    app.router.add_post("/channels/central/updates", fake.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def _store(tmp_path, gateway_url: str) -> TestClient:
    app = build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN, gateway_url=gateway_url,
                            clock=Clock(), sweep_seconds=None)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_a_new_update_wakes_the_gateway_with_a_signed_post(tmp_path, gateway):
    fake, url = gateway
    client = await _store(tmp_path, url + "/")  # a trailing slash is fine
    try:
        tid = await store(client)
        assert fake.got == []  # a new complaint is no update
        answer = await (await respond(client, tid, {"kind": "response", "text": CANARY_TEXT})).json()
        await asyncio.wait_for(fake.arrived.wait(), 30)
        await client.app[PUSHER].drain()
        headers, body = fake.got[-1]
        assert json.loads(body) == {"after": answer["update_id"]}
        assert headers["X-Signature"] == sha256_signature(HMAC_KEY, body)
        assert headers["Content-Type"] == "application/json"
        assert CANARY_TEXT.encode() not in body  # a wake-up only: the feed carries the text

        fake.arrived.clear()
        reply = await (await citizen_post(client, tid, citizen_body("ok"))).json()
        await asyncio.wait_for(fake.arrived.wait(), 30)
        await client.app[PUSHER].drain()
        assert json.loads(fake.got[-1][1]) == {"after": reply["update_id"]}
    finally:
        await client.close()


async def test_a_burst_of_updates_is_coalesced_and_ends_with_the_newest(tmp_path, gateway):
    fake, url = gateway
    client = await _store(tmp_path, url)
    try:
        tid = await store(client)
        answers = await asyncio.gather(*(respond(client, tid, {"kind": "response", "text": f"{n}"})
                                         for n in range(20)))
        newest = max([(await a.json())["update_id"] for a in answers])
        await client.app[PUSHER].drain()
        afters = [json.loads(body)["after"] for _h, body in fake.got]
        assert afters == sorted(afters) and afters[-1] == newest
        assert len(afters) <= 20
    finally:
        await client.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("broken", ["500", "nobody listening"])
async def test_a_failing_push_changes_nothing(tmp_path, gateway, broken):
    fake, url = gateway
    if broken == "500":
        fake.status = 500
    else:
        url = f"http://127.0.0.1:{_closed_port()}"
    client = await _store(tmp_path, url)
    try:
        tid = await store(client)
        pusher = client.app[PUSHER]
        for n in range(3):
            resp = await respond(client, tid, {"kind": "response", "text": f"jawaban {n}"})
            assert resp.status == 201
            await pusher.drain()
        assert pusher.failed >= 1 and pusher.sent == 0
        assert [i["text"] for i in (await feed(client))["items"]] == ["jawaban 0", "jawaban 1", "jawaban 2"]
        fake.status = 204  # the gateway is back: the next update is pushed again
        answer = await (await respond(client, tid, {"kind": "response", "text": "lagi"})).json()
        await pusher.drain()
        if broken == "500":
            assert json.loads(fake.got[-1][1]) == {"after": answer["update_id"]}
            assert pusher.sent == 1
    finally:
        await client.close()


async def test_the_setting_reaches_the_store_started_from_the_settings(tmp_path, gateway, monkeypatch):
    """``central.gateway_url`` (LAPOR_CENTRAL__GATEWAY_URL) turns the push on for ``lapor-gateway central``."""
    fake, url = gateway
    for key in list(os.environ):
        if key.startswith("LAPOR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LAPOR_DATA__DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAPOR_CENTRAL__GATEWAY_URL", url)
    monkeypatch.setenv("LAPOR_CENTRAL__PORT", "0")
    settings = load_settings(generate_secrets=True)
    assert settings.central.gateway_url == url
    server = await serve_central_from(settings.central, settings.data.dir)
    try:
        async with aiohttp.ClientSession(server.url) as http:
            body = body_of(make_complaint(1))
            headers = {"Idempotency-Key": "k", "X-Signature": sha256_signature(settings.central.hmac_key, body)}
            assert (await http.post("/v1/complaints", data=body, headers=headers)).status == 201
            bearer = {"Authorization": f"Bearer {settings.central.api_token}"}
            resp = await http.post("/v1/complaints/0000000001/responses", json={"kind": "response", "text": "x"},
                                   headers=bearer)
            assert resp.status == 201
            update_id = (await resp.json())["update_id"]
        await asyncio.wait_for(fake.arrived.wait(), 30)
        _headers, got = fake.got[-1]
        assert json.loads(got) == {"after": update_id}
        assert _headers["X-Signature"] == sha256_signature(settings.central.hmac_key, got)
    finally:
        await server.close()


def test_a_gateway_url_that_is_no_url_names_the_setting(tmp_path):
    central = SimpleNamespace(host="127.0.0.1", port=0, hmac_key="a", api_token="b", db=tmp_path / "c.db",
                              gateway_url="gateway:8080")
    with pytest.raises(ValueError, match=r"central\.gateway_url"):
        run_central(central)
