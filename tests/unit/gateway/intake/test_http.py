"""The intake's route table on aiohttp's low-level server answers as the application did."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from gateway.intake.http import Routes, intake_server

CAP = 1000


async def _echo(request: web.BaseRequest) -> web.Response:
    body = await request.read()
    return web.Response(text=f"{request.method} {len(body)}")


async def _gone(request: web.BaseRequest) -> web.Response:
    raise web.HTTPNotFound()


@pytest.fixture
async def url() -> AsyncIterator[str]:
    routes = Routes()
    routes.add("GET", "/hook", _echo)
    routes.add("POST", "/hook", _echo)
    routes.add_post("/push", _echo)
    routes.add_get("/off", _gone)
    routes.add_get("/page", _echo)
    runner = web.ServerRunner(intake_server(routes, CAP))
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_each_route_answers_its_methods(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/hook?x=1") as r:
            assert (r.status, await r.text()) == (200, "GET 0")
        async with http.post(url + "/hook", data=b"abc") as r:
            assert (r.status, await r.text()) == (200, "POST 3")
        async with http.head(url + "/page") as r:  # HEAD where a page is read, without a body
            assert r.status == 200 and await r.read() == b""
        async with http.head(url + "/hook") as r:  # never on a webhook: it would journal what it is given
            assert r.status == 405


async def test_an_unknown_path_is_404_and_a_method_not_taken_is_405_with_allow(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/hook/", "/HOOK", "/hook%00", "/" + "a" * 4000):
            async with http.get(url + path) as r:
                assert r.status == 404, path
        async with http.put(url + "/hook", data=b"x") as r:
            assert r.status == 405 and set(r.headers["Allow"].split(",")) == {"GET", "POST"}
        async with http.get(url + "/push") as r:
            assert r.status == 405 and r.headers["Allow"] == "POST"


async def test_a_handler_raising_an_http_error_answers_it(url: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(url + "/off") as r:
        assert r.status == 404


async def test_a_body_over_the_cap_is_refused_with_413(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/hook", data=b"x" * (CAP + 1)) as r:
            assert r.status == 413
        async with http.post(url + "/hook", data=b"x" * CAP) as r:  # the cap itself is taken
            assert (r.status, await r.text()) == (200, f"POST {CAP}")
