"""The first sign-in's password page says which password goes where: the first field was labelled 'Kata sandi'
beside 'Kata sandi baru', and a new admin could not tell it wanted the one in data/initial-admin-password."""

from __future__ import annotations

from gateway.console.process import ensure_admin
from tests.unit.gateway.console.console_env import Env


async def test_the_forced_change_names_the_current_password(env: Env) -> None:
    assert ensure_admin(env.settings, env.store)
    initial = (env.settings.data.dir / "initial-admin-password").read_text().strip()
    r = await env.login("admin", initial, otp="")
    assert r.status == 303 and r.headers["Location"] == "/console/password"
    page = await (await env.client.get("/console/password")).text()
    assert '<label for="password">Kata sandi saat ini</label>' in page
    assert "kata sandi yang baru saja Anda pakai untuk masuk" in page
    page = await (await env.client.get("/console/password?lang=en")).text()
    assert '<label for="password">Current password</label>' in page
