"""/console/health and /console/users in the page's words: it showed 'Status: degraded', channels 'ok' and counts as
'forwarded: 2 · review: 1' in an Indonesian page."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.console import pages_health
from tests.unit.gateway.console.console_env import Env, add_complaint


async def test_the_health_page_says_its_states_in_words(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "degraded", "problems": ["receipts: sms failing"], "channels": {
            "sms.kannel": {"state": "ok", "error": None, "since": None},
            "email.imap": {"state": "off", "error": "login refused", "since": None}}})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    intake = TestServer(app)
    await intake.start_server()
    monkeypatch.setattr(pages_health, "intake_url", lambda _settings, path: str(intake.make_url(path)))
    try:
        add_complaint(env, {"body": "jalan rusak"}, state="forwarded")
        env.add_user("ops", "operator")
        await env.login("ops")
        page = await (await env.client.get("/console/health")).text()
    finally:
        await intake.close()
    assert "ada gangguan" in page and '<small class="code">degraded</small>' in page
    assert ">berfungsi<" in page and ">mati<" in page and "receipts: sms failing" in page
    assert "Diteruskan: 1" in page and "forwarded: 1" not in page


async def test_the_users_page_names_the_roles_in_words(env: Env) -> None:
    """It listed 'scanner', 'supervisor' and offered them bare, 'scanner' first and chosen, in an Indonesian page."""
    env.add_user("kepala", "admin")
    env.add_user("sri", "scanner")
    await env.login("kepala")
    page = await (await env.client.get("/console/users")).text()
    assert 'Pemindai <small class="code">scanner</small>' in page
    assert '<option value="operator" selected>Operator: juga pesan masuk' in page
    assert '<option value="supervisor">Penyelia: juga membuka identitas' in page
