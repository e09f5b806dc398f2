"""``/console/audit`` (supervisor): sign-ins, reveals, reviews, retries; ``/console/users`` (admin): the users,
adding one, disabling or enabling one, resetting a lost authenticator. The users are the same as
``lapor-gateway user`` manages."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from gateway.console.app import audit, console_of, page
from gateway.console.auth import ROLES, TOTP_ROLES, hash_password, new_totp_secret, password_problem
from gateway.console.keys import FLASH, USER
from gateway.console.render import render

NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


@page("supervisor")
async def audit_page(request: web.Request) -> web.StreamResponse:
    try:
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError:
        before = None
    entries = await console_of(request).db.audit_entries(before=before, limit=200)
    return render(request, "audit.html", entries=entries)


@page("admin")
async def users_page(request: web.Request) -> web.StreamResponse:
    return render(request, "users.html", users=await console_of(request).db.users(), roles=ROLES,
                  totp_roles=TOTP_ROLES)


@page("admin")
async def add_user(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    form = await request.post()
    name, role, password = (form.get(k) if isinstance(form.get(k), str) else "" for k in ("username", "role",
                                                                                           "password"))
    error = None
    if not NAME.fullmatch(name or "") or role not in ROLES:
        error = "bad_name"
    elif problem := password_problem(password or ""):
        error = problem
    if error is None:
        secret = new_totp_secret() if role in TOTP_ROLES else None
        hashed = await asyncio.to_thread(hash_password, password, c.settings.console)
        if await c.db.add_user(name, role, hashed, totp_secret=secret, must_change=True):
            await audit(request, "user_added", reason=f"{name} ({role})")
            request[FLASH] = "user_added"
        else:
            error = "user_exists"
    return render(request, "users.html", status=400 if error else 200, users=await c.db.users(), roles=ROLES,
                  totp_roles=TOTP_ROLES, error=(error, {}) if error else None)


@page("admin")
async def set_disabled(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    form = await request.post()
    name = form.get("username")
    disable = form.get("action") != "enable"
    if isinstance(name, str) and name != request[USER]["name"] and await c.db.set_disabled(name, disable):
        await audit(request, "user_disabled" if disable else "user_enabled", reason=name)
    raise web.HTTPSeeOther("/console/users")


@page("admin")
async def reset_otp(request: web.Request) -> web.StreamResponse:
    """A lost authenticator: a fresh secret the user enrols at the next sign-in (its QR shown then, to them
    alone), their sessions ended; never the admin's own (it would end the session doing it)."""
    c = console_of(request)
    form = await request.post()
    name = form.get("username")
    user = await c.db.user(name) if isinstance(name, str) and name != request[USER]["name"] else None
    if user is None or user["role"] not in TOTP_ROLES:
        raise web.HTTPSeeOther("/console/users")
    await c.db.reset_totp(name, new_totp_secret())
    await audit(request, "totp_reset", reason=name)
    request[FLASH] = "totp_reset"
    return render(request, "users.html", users=await c.db.users(), roles=ROLES, totp_roles=TOTP_ROLES)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/audit", audit_page)
    app.router.add_get("/console/users", users_page)
    app.router.add_post("/console/users", add_user)
    app.router.add_post("/console/users/disable", set_disabled)
    app.router.add_post("/console/users/reset-otp", reset_otp)
