"""Sign in, sign out, the first password change and TOTP enrolment.

Stages of a session: ``password`` (the initial password must be changed), ``enrol`` (a supervisor or admin
without a confirmed authenticator), ``full``. Every sign-in, failure and throttled try goes to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import segno
from aiohttp import web
from markupsafe import Markup

from gateway.console.app import SESSION_COOKIE, audit, console_of, set_cookie, start_session
from gateway.console.auth import (
    TOTP_ROLES,
    hash_password,
    new_totp_secret,
    password_problem,
    totp_step,
    totp_uri,
    verify_password,
)
from gateway.console.keys import FLASH, SESSION_HASH, STAGE, USER
from gateway.console.render import render

INITIAL_PASSWORD_FILE = "initial-admin-password"
_SHOWN_NAME = re.compile(r"[^A-Za-z0-9._@-]")


def home_for(role: str) -> str:
    return "/console/new" if role == "scanner" else "/console/"


def _field(form: object, name: str, limit: int = 200) -> str:
    value = form.get(name) if hasattr(form, "get") else None  # type: ignore[union-attr]
    return value[:limit] if isinstance(value, str) else ""


async def login_form(request: web.Request) -> web.StreamResponse:
    if request.get(USER) and request.get(STAGE) == "full":
        raise web.HTTPSeeOther(home_for(request[USER]["role"]))
    return render(request, "login.html", username="", ask_otp=False)


async def login(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    form = await request.post()
    name, password, otp = _field(form, "username", 64).strip(), _field(form, "password", 1024), _field(form, "otp", 20)
    shown = _SHOWN_NAME.sub("?", name)[:64] or "-"  # what the audit keeps of a name that may be anything
    now = c.clock()
    wait = await asyncio.to_thread(c.throttle.wait_for, name, request.remote, now)
    if wait > 0:
        await audit(request, "login_throttled", user=shown)
        seconds = int(wait) + 1
        response = render(request, "login.html", status=429, username=name, ask_otp=bool(otp),
                          error=("throttled", {"seconds": seconds}))
        response.headers["Retry-After"] = str(seconds)
        return response
    user = await c.db.user(name) if name else None
    ok = await asyncio.to_thread(verify_password, user["password_hash"] if user else None, password,
                                 c.settings.console)
    if not ok or user is None or user["disabled"]:
        await asyncio.to_thread(c.throttle.failed, name, request.remote, now)
        await audit(request, "login_failed", user=shown)
        await asyncio.sleep(c.login_delay)
        return render(request, "login.html", status=401, username=name, ask_otp=bool(otp), error=("bad_login", {}))
    stage = "full"
    if user["role"] in TOTP_ROLES:
        secret = user["totp_secret"]
        if user["totp_confirmed"] and secret:
            if not otp:
                return render(request, "login.html", status=401, username=name, ask_otp=True,
                              error=("otp_needed", {}))
            step = totp_step(secret, otp, now)
            if step is None or not await c.db.use_totp_step(name, step):
                await asyncio.to_thread(c.throttle.failed, name, request.remote, now)
                await audit(request, "login_failed_otp", user=name)
                await asyncio.sleep(c.login_delay)
                return render(request, "login.html", status=401, username=name, ask_otp=True, error=("bad_otp", {}))
        elif secret and otp and (step := totp_step(secret, otp, now)) is not None:
            await c.db.use_totp_step(name, step)  # the URI `user add` printed, used at the first sign-in
            await c.db.set_totp(name, secret, confirmed=True)
        else:
            stage = "enrol"
    if user["must_change"]:
        stage = "password"
    await asyncio.to_thread(c.throttle.succeeded, name)
    await c.db.logged_in(name, now)
    await audit(request, "login", user=name)
    target = {"password": "/console/password", "enrol": "/console/enrol"}.get(stage, home_for(user["role"]))
    response = web.HTTPSeeOther(target)
    await start_session(request, response, name, stage)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    if request.get(SESSION_HASH):
        await c.db.end_session(request[SESSION_HASH])
        await audit(request, "logout")
    response = web.HTTPSeeOther("/console/login")
    set_cookie(request, response, SESSION_COOKIE, "", max_age=0)
    raise response


def _signed_in(request: web.Request) -> dict[str, str]:
    user = request.get(USER)
    if user is None:
        raise web.HTTPSeeOther("/console/login")
    return user


async def password_form(request: web.Request) -> web.StreamResponse:
    _signed_in(request)
    return render(request, "password.html", must_change=request.get(STAGE) == "password")


async def change_password(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    user = _signed_in(request)
    form = await request.post()
    old, new, again = (_field(form, k, 1024) for k in ("password", "new_password", "new_password_confirm"))
    row = await c.db.user(user["name"])
    must = request.get(STAGE) == "password"
    error = None
    if row is None or not await asyncio.to_thread(verify_password, row["password_hash"], old, c.settings.console):
        error = "bad_login"
    elif problem := password_problem(new):
        error = problem
    elif new != again:
        error = "password_mismatch"
    elif new == old:
        error = "password_same"
    if error:
        return render(request, "password.html", status=400, must_change=must, error=(error, {}))
    await c.db.set_password(user["name"], await asyncio.to_thread(hash_password, new, c.settings.console), must_change=False)
    await audit(request, "password_changed")
    if row and row["must_change"]:
        with contextlib.suppress(FileNotFoundError):
            (c.settings.data.dir / INITIAL_PASSWORD_FILE).unlink()
    if must:
        needs_enrol = row is not None and row["role"] in TOTP_ROLES and not row["totp_confirmed"]
        stage = "enrol" if needs_enrol else "full"
        await c.db.set_session_stage(request[SESSION_HASH], stage)
        raise web.HTTPSeeOther("/console/enrol" if needs_enrol else home_for(user["role"]))
    request[FLASH] = "password_changed"
    return render(request, "password.html", must_change=False)


async def _enrol_secret(request: web.Request) -> tuple[str, str]:
    c = console_of(request)
    user = _signed_in(request)
    if request.get(STAGE) != "enrol":
        raise web.HTTPSeeOther(home_for(user["role"]) if request.get(STAGE) == "full" else "/console/password")
    row = await c.db.user(user["name"]) or {}
    secret = row.get("totp_secret")
    if not secret:
        secret = new_totp_secret()
        await c.db.set_totp(user["name"], secret, confirmed=False)
    return user["name"], secret


async def enrol_form(request: web.Request, *, error: str | None = None) -> web.StreamResponse:
    name, secret = await _enrol_secret(request)
    uri = totp_uri(secret, name)
    qr = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title="QR")
    return render(request, "enrol.html", status=400 if error else 200, secret=secret, uri=uri, qr=Markup(qr),
                  error=(error, {}) if error else None)


async def enrol(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    name, secret = await _enrol_secret(request)
    form = await request.post()
    step = totp_step(secret, _field(form, "otp", 20), c.clock())
    if step is None or not await c.db.use_totp_step(name, step):
        return await enrol_form(request, error="bad_otp")
    await c.db.set_totp(name, secret, confirmed=True)
    await c.db.set_session_stage(request[SESSION_HASH], "full")
    await audit(request, "totp_enrolled")
    raise web.HTTPSeeOther(home_for(request[USER]["role"]))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/login", login_form)
    app.router.add_post("/console/login", login)
    app.router.add_post("/console/logout", logout)
    app.router.add_get("/console/password", password_form)
    app.router.add_post("/console/password", change_password)
    app.router.add_get("/console/enrol", enrol_form)
    app.router.add_post("/console/enrol", enrol)
