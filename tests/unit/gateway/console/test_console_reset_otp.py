"""An admin resets a supervisor's lost authenticator on /console/users: a fresh secret enrolled at the next
sign-in, their sessions ended, an audit entry; CSRF like every other action, and admins only."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.unit.gateway.console.console_env import Env


@pytest.fixture
def console_users() -> list[tuple[str, str]]:
    return [("adi", "admin"), ("sri", "supervisor"), ("ana", "operator")]


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


async def test_admin_resets_a_lost_authenticator_and_the_user_enrols_again(env: Env) -> None:
    old = env.totp["sri"]
    env.store.create_session("s" * 64, "sri", "full", env.clock.now)
    await env.login("adi")
    page = await (await env.client.get("/console/users")).text()
    assert 'action="/console/users/reset-otp"' in page and 'value="sri"' in page
    forms = re.findall(r'<form method="post" action="/console/users/reset-otp".*?</form>', page)
    assert not any('value="ana"' in f or 'value="adi"' in f for f in forms)  # no TOTP to reset; not one's own

    r = await env.client.post("/console/users/reset-otp", data={"username": "sri"}, allow_redirects=False)
    assert r.status == 403  # no CSRF token
    assert env.store.user("sri")["totp_secret"] == old  # type: ignore[index]

    r = await env.client.post("/console/users/reset-otp", data={"username": "sri", "csrf_token": _token(page)},
                              allow_redirects=False)
    assert r.status == 200 and "Autentikator diatur ulang" in await r.text()
    row = env.store.user("sri")
    assert row is not None and row["totp_secret"] != old and not row["totp_confirmed"]
    assert env.store.session("s" * 64) is None  # signed out everywhere
    entry = env.store.audit_entries()[0]
    assert (entry["user"], entry["action"], entry["reason"]) == ("adi", "totp_reset", "sri")
    assert old not in await r.text() and row["totp_secret"] not in await r.text()  # the admin never sees it

    await env.logout()
    r = await env.login("sri", otp=pyotp.TOTP(old).at(env.clock.now))  # the lost phone's code
    assert r.status == 303 and r.headers["Location"] == "/console/enrol"  # not signed in fully: enrol again
    enrol = await (await env.client.get("/console/enrol")).text()
    assert row["totp_secret"] in enrol


async def test_only_an_admin_and_never_for_oneself(env: Env) -> None:
    await env.login("ana")
    token = _token(await (await env.client.get("/console/")).text())
    r = await env.client.post("/console/users/reset-otp", data={"username": "sri", "csrf_token": token},
                              allow_redirects=False)
    assert r.status == 403
    await env.logout()
    await env.login("adi")
    token = _token(await (await env.client.get("/console/users")).text())
    before = env.store.user("adi")["totp_secret"]  # type: ignore[index]
    r = await env.client.post("/console/users/reset-otp", data={"username": "adi", "csrf_token": token},
                              allow_redirects=False)
    assert r.status == 303 and env.store.user("adi")["totp_secret"] == before  # type: ignore[index]
    r = await env.client.post("/console/users/reset-otp", data={"username": "ana", "csrf_token": token},
                              allow_redirects=False)
    assert r.status == 303 and env.store.user("ana")["totp_secret"] is None  # type: ignore[index]
    assert not [a for a in env.store.audit_entries() if a["action"] == "totp_reset"]
