"""The store itself: durability across reopen, concurrent writers, and starting it as a server."""

from __future__ import annotations

import asyncio
import hashlib
from types import SimpleNamespace

import aiohttp
import pytest

from forwarder.central import CentralStore, InvalidRecord, serve_central, serve_central_from, sign
from forwarder.central.server import run_central

from .conftest import API_TOKEN, BEARER, HMAC_KEY, body_of, make_complaint, post_headers


def h(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def test_records_and_status_survive_close_and_reopen(tmp_path):
    path = tmp_path / "central.db"
    store = CentralStore(path)
    bodies = [body_of(make_complaint(n)) for n in range(1, 4)]
    for n, body in enumerate(bodies, 1):
        assert (await store.put(f"k{n}", h(body), body))[0] == 201
    await store.set_status("0000000002", "verifying")
    store.close()

    reopened = CentralStore(path)
    try:
        assert await reopened.count() == 3
        item = await reopened.get("0000000002")
        assert item is not None
        assert item["status"] == "verifying"
        assert [x["status"] for x in item["history"]] == ["received", "verifying"]
        assert (await reopened.put("k1", h(bodies[0]), bodies[0]))[0] == 200  # keys remembered too
        assert [i["tracking_id"] for i in (await reopened.list()).items] == ["0000000001", "0000000002", "0000000003"]
    finally:
        reopened.close()


async def test_concurrent_puts_each_land_once(tmp_path):
    store = CentralStore(tmp_path / "central.db")
    try:
        bodies = [body_of(make_complaint(n)) for n in range(1, 301)]
        puts = [store.put(f"k{i}", h(b), b) for i, b in enumerate(bodies)]
        replays = [store.put(f"k{i}", h(b), b) for i, b in enumerate(bodies[:50])]
        results = await asyncio.gather(*puts, *replays)
        codes = [code for code, _ in results]
        assert codes.count(201) == 300
        assert codes.count(200) == 50
        assert await store.count() == 300
    finally:
        store.close()


async def test_invalid_record_raises_without_values(tmp_path):
    store = CentralStore(tmp_path / "central.db")
    try:
        with pytest.raises(InvalidRecord) as err:
            await store.put("k", "x", b'{"tracking_id": "secret-value"}')
        assert "secret-value" not in repr(err.value.errors)
        assert await store.count() == 0
    finally:
        store.close()


async def test_serve_central_in_process_on_a_free_port(tmp_path):
    server = await serve_central(tmp_path / "central.db", HMAC_KEY, API_TOKEN, port=0)
    try:
        assert server.port != 0
        body = body_of(make_complaint(7))
        async with aiohttp.ClientSession(server.url) as http:
            resp = await http.post("/v1/complaints", data=body, headers=post_headers(body))
            assert resp.status == 201
            resp = await http.get("/v1/complaints/0000000007/status", headers=BEARER)
            assert (await resp.json())["status"] == "received"
            resp = await http.get("/v1/complaints", headers=BEARER)
            assert len((await resp.json())["items"]) == 1
    finally:
        await server.close()
    # closed cleanly: the file opens again with the record in it
    store = CentralStore(tmp_path / "central.db")
    try:
        assert await store.count() == 1
    finally:
        store.close()


async def test_serve_from_settings_section(tmp_path):
    central = SimpleNamespace(host="127.0.0.1", port=0, hmac_key=HMAC_KEY, api_token=API_TOKEN, db=None)
    server = await serve_central_from(central, data_dir=tmp_path)
    try:
        body = body_of(make_complaint(8))
        async with aiohttp.ClientSession(server.url) as http:
            resp = await http.post(
                "/v1/complaints", data=body, headers={"Idempotency-Key": "k", "X-Signature": sign(HMAC_KEY, body)}
            )
            assert resp.status == 201
    finally:
        await server.close()
    assert (tmp_path / "central.db").exists()


@pytest.mark.parametrize("missing", ["hmac_key", "api_token"])
def test_missing_secret_names_the_setting(tmp_path, missing):
    values = {"host": "127.0.0.1", "port": 0, "hmac_key": "a", "api_token": "b", "db": tmp_path / "c.db"}
    values[missing] = None
    with pytest.raises(ValueError, match=f"central.{missing}"):
        run_central(SimpleNamespace(**values))
