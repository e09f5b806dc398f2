"""Sign-in, sessions, CSRF, the login throttle, TOTP, the initial admin and roles, in the console's own app."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest

from gateway.console.app import PRE_COOKIE, SESSION_COOKIE
from gateway.console.process import ensure_admin
from tests.unit.gateway.console.console_env import PASSWORD, Env, close_env, make_env

PAGES = ["/console/", "/console/review", "/console/dead-letters", "/console/new", "/console/scan",
         "/console/health", "/console/audit", "/console/users", "/console/complaints/1234567897",
         "/console/mine", "/console/enrol"]
FEEDS = ["/console/events", "/console/complaints/1234567897/attachments/0",
         "/console/complaints/1234567897/receipt.pdf"]


async def test_signed_out_pages_redirect_to_login_and_feeds_answer_401(env: Env) -> None:
    for path in PAGES:
        r = await env.client.get(path, allow_redirects=False)
        assert r.status == 303, path
        assert r.headers["Location"] == "/console/login", path
    for path in FEEDS:
        r = await env.client.get(path, allow_redirects=False)
        assert r.status == 401, path


async def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(env: Env) -> None:
    env.add_user("ana", "operator")
    r = await env.login("ana")
    assert r.status == 303 and r.headers["Location"] == "/console/"
    cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # console.public_url is not https
    r = await env.client.get("/console/", allow_redirects=False)
    assert r.status == 200
    token = await env.csrf("/console/")
    r = await env.client.post("/console/logout", data={"csrf_token": token}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/console/login"
    assert (await env.client.get("/console/", allow_redirects=False)).status == 303
    assert [a["action"] for a in env.store.audit_entries()][:2] == ["logout", "login"]


async def test_cookies_are_secure_behind_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = await make_env(tmp_path, monkeypatch, LAPOR_CONSOLE__PUBLIC_URL="https://pengaduan.example.go.id")
    try:
        r = await env.client.get("/console/login")
        cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith(PRE_COOKIE))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        await close_env(env)


async def test_state_changing_requests_without_the_csrf_token_are_refused(env: Env) -> None:
    env.add_user("ana", "operator")
    r = await env.client.post("/console/login", data={"username": "ana", "password": PASSWORD},
                              allow_redirects=False)
    assert r.status == 403
    await env.login("ana")
    for path, form in (("/console/logout", {}), ("/console/new", {"body": "x", "channel": "desk.walkin"}),
                       ("/console/dead-letters/retry", {}), ("/console/complaints/1234567897/approve", {})):
        r = await env.client.post(path, data=form, allow_redirects=False)
        assert r.status == 403, path
        r = await env.client.post(path, data={**form, "csrf_token": "0" * 64}, allow_redirects=False)
        assert r.status == 403, path
    assert (await env.client.get("/console/", allow_redirects=False)).status == 200  # still signed in


async def test_repeated_wrong_passwords_are_slowed_down(env: Env) -> None:
    env.add_user("ana", "operator")
    for _ in range(3):
        assert (await env.login("ana", "wrong password!")).status == 401
    r = await env.login("ana")  # the right password, too soon: refused without being checked
    assert r.status == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert "Terlalu banyak" in await r.text()
    env.clock.now += 3  # the wait after the third failure (2 s) is over
    assert (await env.login("ana", "wrong again!!")).status == 401
    assert (await env.login("ana")).status == 429  # the next wait is longer (4 s)
    env.clock.now += 3
    assert (await env.login("ana")).status == 429
    env.clock.now += 2
    r = await env.login("ana")
    assert r.status == 303
    actions = [a["action"] for a in env.store.audit_entries()]
    assert actions.count("login_failed") == 4 and "login_throttled" in actions


async def test_sessions_expire_when_idle(env: Env) -> None:
    env.add_user("ana", "operator")
    await env.login("ana")
    env.clock.now += 29 * 60
    assert (await env.client.get("/console/", allow_redirects=False)).status == 200
    env.clock.now += 31 * 60
    assert (await env.client.get("/console/", allow_redirects=False)).status == 303


async def test_a_disabled_user_is_signed_out_and_cannot_sign_in(env: Env) -> None:
    env.add_user("ana", "operator")
    await env.login("ana")
    env.store.set_disabled("ana", True)
    assert (await env.client.get("/console/", allow_redirects=False)).status == 303
    assert (await env.login("ana")).status == 401


async def test_totp_enrolment_then_sign_in_with_the_code(env: Env) -> None:
    env.add_user("sri", "supervisor", confirmed=False)
    r = await env.login("sri", otp="")
    assert r.status == 303 and r.headers["Location"] == "/console/enrol"
    assert (await env.client.get("/console/", allow_redirects=False)).headers["Location"] == "/console/enrol"
    page = await (await env.client.get("/console/enrol")).text()
    secret = env.totp["sri"]
    assert secret in page
    assert f"otpauth://totp/LAPOR%21%20gateway:sri?secret={secret}" in page.replace("&amp;", "&")
    assert "<svg" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = await env.client.post("/console/enrol", data={"otp": "000000", "csrf_token": token}, allow_redirects=False)
    assert r.status == 400
    code = pyotp.TOTP(secret).at(env.clock.now)
    r = await env.client.post("/console/enrol", data={"otp": code, "csrf_token": token}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/console/"
    assert (await env.client.get("/console/audit", allow_redirects=False)).status == 200
    env.client.session.cookie_jar.clear()
    r = await env.login("sri", otp="")
    assert r.status == 401 and 'name="otp"' in await r.text()
    assert (await env.login("sri", otp=code)).status == 401  # the code of the enrolment, used: no replay
    env.clock.now += 60
    assert (await env.login("sri")).status == 303


async def test_the_initial_admin_changes_its_password_then_enrols(env: Env) -> None:
    assert ensure_admin(env.settings, env.store)
    assert not ensure_admin(env.settings, env.store)  # once
    path = env.settings.data.dir / "initial-admin-password"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert text.count("\n") == 1 and len(text.strip()) >= 12
    r = await env.login("admin", text.strip(), otp="")
    assert r.status == 303 and r.headers["Location"] == "/console/password"
    assert (await env.client.get("/console/users", allow_redirects=False)).headers["Location"] == "/console/password"
    token = await env.csrf("/console/password")
    r = await env.client.post("/console/password", data={"password": text.strip(), "new_password": "short",
                                                         "new_password_confirm": "short", "csrf_token": token})
    assert r.status == 400 and path.exists()
    r = await env.client.post("/console/password", allow_redirects=False, data={
        "password": text.strip(), "new_password": "a much better password", "new_password_confirm":
        "a much better password", "csrf_token": token})
    assert r.status == 303 and r.headers["Location"] == "/console/enrol"
    assert not path.exists()


@pytest.mark.parametrize(("role", "allowed", "refused"), [
    ("scanner", ["/console/new", "/console/scan", "/console/mine"], ["/console/", "/console/review",
                                                                      "/console/dead-letters", "/console/health"]),
    ("operator", ["/console/", "/console/review", "/console/dead-letters", "/console/health"],
     ["/console/audit", "/console/users"]),
])
async def test_roles(env: Env, role: str, allowed: list[str], refused: list[str]) -> None:
    env.add_user("u1", role)
    await env.login("u1")
    for path in allowed:
        assert (await env.client.get(path, allow_redirects=False)).status == 200, path
    for path in refused:
        assert (await env.client.get(path, allow_redirects=False)).status == 403, path


async def test_supervisor_reads_the_audit_log_and_only_an_admin_the_users(env: Env) -> None:
    env.add_user("sri", "supervisor")
    env.add_user("adi", "admin")
    await env.login("sri")
    assert (await env.client.get("/console/audit")).status == 200
    assert (await env.client.get("/console/users", allow_redirects=False)).status == 403
    env.client.session.cookie_jar.clear()
    await env.login("adi")
    page = await (await env.client.get("/console/users")).text()
    assert "sri" in page and "adi" in page


async def test_pages_carry_a_strict_content_security_policy(env: Env) -> None:
    r = await env.client.get("/console/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "http" not in csp
    page = await r.text()
    assert "<script>" not in page and "style=" not in page and "http://" not in page and "https://" not in page
    assert 'lang="id"' in page and "Masuk" in page
    assert "Sign in" in await (await env.client.get("/console/login?lang=en")).text()


def test_every_template_compiles_and_autoescapes() -> None:
    from gateway.console.render import TEMPLATES, environment

    env = environment("Asia/Jakarta")
    assert env.autoescape is True
    for path in TEMPLATES.glob("*.html"):
        env.get_template(path.name)


async def test_nobody_signed_in_gets_a_large_body_read(env: Env) -> None:
    token = await env.csrf()
    r = await env.client.post("/console/scan", data={"csrf_token": token, "files": b"x" * 100_000},
                              allow_redirects=False)
    assert r.status == 403
    r = await env.client.post("/console/scan", data={"csrf_token": token}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/console/login"


async def test_many_wrong_names_from_one_address_slow_that_address_down(env: Env) -> None:
    env.add_user("ana", "operator")
    for n in range(10):  # a different name each time: no single user's count grows
        assert (await env.login(f"guess{n}", "wrong password!")).status == 401
    assert (await env.login("ana")).status == 429
    env.clock.now += 3
    assert (await env.login("ana")).status == 303


def test_argon2_cost_is_a_setting_with_a_secure_default() -> None:
    """console.password_* choose the cost of new hashes; a hash made at another cost still verifies."""
    from pydantic import ValidationError

    from gateway.console.auth import hash_password, verify_password
    from gateway.settings import ConsoleSettings

    default = ConsoleSettings()
    strong = hash_password("correct horse battery", default)
    assert strong.startswith("$argon2id$") and "$m=65536,t=3,p=4$" in strong  # argon2-cffi's (RFC 9106) default
    cheap = ConsoleSettings(password_time_cost=1, password_memory_cost=8, password_parallelism=1)
    weak = hash_password("correct horse battery", cheap)
    assert "$m=8,t=1,p=1$" in weak
    assert verify_password(strong, "correct horse battery", cheap)  # the stored hash's own cost is used
    assert verify_password(weak, "correct horse battery", default)
    assert not verify_password(weak, "correct horse batterz", cheap)
    assert not verify_password(None, "correct horse battery", cheap)  # a missing user: never signed in
    with pytest.raises(ValidationError):
        ConsoleSettings(password_memory_cost=16, password_parallelism=4)  # argon2 needs 8 KiB per lane
    with pytest.raises(ValidationError):
        ConsoleSettings(password_time_cost=0)


async def test_console_db_is_never_read_on_the_event_loop(env: Env) -> None:
    """Every console.db call of a sign-in, a page and a sign-out runs in a worker thread, not the loop's."""
    import threading

    from gateway.store.sqlite.console import ConsoleTables

    loop_thread = threading.get_ident()
    calls: list[tuple[str, bool]] = []
    for name in [n for n in vars(ConsoleTables) if not n.startswith("_") and callable(getattr(env.store, n))]:
        method = getattr(env.store, name)

        def spy(*args: object, _m: object = method, _n: str = name, **kwargs: object) -> object:
            calls.append((_n, threading.get_ident() == loop_thread))
            return _m(*args, **kwargs)  # type: ignore[operator]

        setattr(env.store, name, spy)
    env.add_user("ana", "operator")
    calls.clear()
    r = await env.login("ana")
    assert r.status == 303
    assert (await env.client.get("/console/audit")).status == 403
    token = await env.csrf("/console/")
    await env.client.post("/console/logout", data={"csrf_token": token}, allow_redirects=False)
    names = {n for n, _ in calls}
    assert {"user", "create_session", "session", "audit", "failures_since", "end_session"} <= names
    assert [n for n, on_loop in calls if on_loop] == []
