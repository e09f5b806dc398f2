"""POST /channels/central/updates (issue 15): the store's signed wake-up only wakes the poller; a bad
signature is 403, an oversized body 413, anything but {"after": n} 400 (hostile bodies never a 500)."""

from __future__ import annotations

import json
from collections import Counter

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.signing import sha256_signature
from gateway.intake.update_push import MAX_BODY, PATH, update_push_handler

KEY = "push-key"


class App:
    def __init__(self) -> None:
        self.pokes = 0
        self.counts: Counter[tuple[str, str]] = Counter()

    def poke(self) -> None:
        self.pokes += 1

    def count(self, name: str, outcome: str, n: int = 1) -> None:
        self.counts[(name, outcome)] += n

    def web(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, update_push_handler(KEY, self.poke, self.count))
        return app


async def post(client: TestClient, body: bytes, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    headers["X-Signature"] = sha256_signature(KEY, body) if signature is None else signature
    return await client.post(PATH, data=body, headers=headers)


async def test_a_signed_wakeup_wakes_the_poller_and_nothing_else_does():
    a = App()
    async with TestClient(TestServer(a.web())) as client:
        body = json.dumps({"after": 42}).encode()
        assert (await post(client, body)).status == 202
        assert a.pokes == 1
        assert (await post(client, body, "sha256=" + "0" * 64)).status == 403
        assert (await post(client, body, "")).status == 403
        assert (await post(client, json.dumps({"after": 43}).encode(), sha256_signature(KEY, body))).status == 403
        assert (await post(client, b'{"after": -1}')).status == 400
        assert (await post(client, b'{"after": true}')).status == 400
        assert (await post(client, b"[1]")).status == 400
        assert (await post(client, b"not json")).status == 400
        big = json.dumps({"after": 1, "pad": "x" * MAX_BODY}).encode()
        assert (await post(client, big)).status == 413
        chunked = await client.post(PATH, data=_chunks(big), headers={"X-Signature": sha256_signature(KEY, big)})
        assert chunked.status == 413
        assert a.pokes == 1
        assert a.counts[("central.updates", "rejected_403")] == 3


async def _chunks(data: bytes):
    for i in range(0, len(data), 100):
        yield data[i:i + 100]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=MAX_BODY),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                   lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                                                             max_size=4),
                                   max_leaves=20).map(lambda v: json.dumps({"after": v}).encode())))
async def test_any_signed_body_is_a_wakeup_or_a_400(body):
    a = App()
    async with TestClient(TestServer(a.web())) as client:
        resp = await post(client, body)
        assert resp.status in (202, 400, 413)
        assert a.pokes == (1 if resp.status == 202 else 0)
