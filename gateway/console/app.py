"""The console's aiohttp app: its context, the middlewares every request passes, and the role guards.

Middlewares, in order: security headers (a strict CSP: scripts and styles only from ``/console/static``),
the session (cookie → user, stage, language; idle and absolute expiry), CSRF (every request that is not GET
or HEAD carries ``csrf_token`` in its form or ``X-CSRF-Token``; else 403). A page needs :func:`page` (no
session: 303 to the login page), a feed or data endpoint :func:`data` (no session: 401); a role too low: 403.
A session still at the ``password`` or ``enrol`` stage reaches only that page.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import importlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.console.auth import Throttle, new_token, role_at_least, token_hash
from gateway.console.i18n import LANGS
from gateway.console.keys import CSRF_TOKEN, LANG, NEW_PRE, SESSION_HASH, STAGE, USER
from gateway.console.render import APP_KEY_ENV, environment, render
from gateway.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "lapor_session"
PRE_COOKIE = "lapor_pre"  # before sign-in: the login form's CSRF token is bound to it
LANG_COOKIE = "lapor_lang"
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# route modules, each with ``add_routes(app)``; ``reports_page`` is the monthly report's (added when present)
ROUTE_MODULES = ("pages_login", "pages_log", "pages_complaint", "pages_review", "pages_dead", "pages_desk",
                 "pages_health", "pages_admin")
OPTIONAL_MODULES = ("reports_page",)
SIGNED_OUT_BODY = 16 * 1024  # the largest body a request of nobody signed in may have (the login form)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class OffLoop:
    """The console store's methods as coroutines run in a worker thread: SQLite never blocks the event loop.

    ``await c.db.user(name)`` is ``c.store.user(name)`` in ``asyncio.to_thread`` (as the worker's router reads)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._store, name)

        @functools.wraps(method)
        async def off_loop(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        return off_loop


@dataclass
class Console:
    """What the pages share: settings, the console store, the gateway's journal and blobs (opened lazily)."""

    settings: Settings
    store: Any  # gateway.store.ports.ConsoleStore
    journal: Any = None  # gateway.store.sqlite.journal.Journal (the ports of the CLI)
    blobs: Any = None
    clock: Callable[[], float] = time.time
    login_delay: float = 0.5  # seconds a wrong password waits before the answer
    poll_seconds: float = 0.5  # the live log's poll of the intake log
    throttle: Throttle = field(init=False)
    csrf_key: bytes = field(init=False)
    db: OffLoop = field(init=False)  # ``store`` off the event loop: what the handlers use

    def __post_init__(self) -> None:
        c = self.settings.console
        self.throttle = Throttle(self.store, c.login_free_failures, c.login_lock_max_seconds)
        self.db = OffLoop(self.store)
        key = (self.settings.privacy.vault_key or "") + ":console-csrf"
        self.csrf_key = hashlib.sha256(key.encode()).digest()

    @property
    def secure_cookies(self) -> bool:
        return (self.settings.console.public_url or "").lower().startswith("https://")

    def open_journal(self) -> Any:
        if self.journal is None:
            from gateway.store import open_journal

            self.journal = open_journal(self.settings)
        return self.journal

    def open_blobs(self) -> Any:
        if self.blobs is None:
            from gateway.store.blobs import BlobStore

            self.blobs = BlobStore.for_settings(self.settings)
        return self.blobs

    def csrf_for(self, bound_to: str) -> str:
        return hmac.new(self.csrf_key, bound_to.encode(), hashlib.sha256).hexdigest()

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


CONSOLE = web.AppKey("console", Console)


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, path="/console", httponly=True, samesite="Strict",
                        secure=console_of(request).secure_cookies, max_age=max_age)


async def start_session(request: web.Request, response: web.StreamResponse, user: str, stage: str) -> str:
    """A new session (a fresh token: no fixation), its cookie on ``response``."""
    c = console_of(request)
    token = new_token()
    await c.db.create_session(token_hash(token), user, stage, c.clock(), request.get(LANG, "id"))
    set_cookie(request, response, SESSION_COOKIE, token)
    return token


# --- middlewares ---------------------------------------------------------------------------
@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException) and response.status >= 300:
        raise response
    return response


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    c = console_of(request)
    lang = request.query.get("lang") or request.cookies.get(LANG_COOKIE) or "id"
    request[LANG] = lang if lang in LANGS else "id"
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        th = token_hash(token)
        s = await c.db.session(th)
        now = c.clock()
        cfg = c.settings.console
        if s and not s["disabled"] and now - s["seen_at"] < cfg.session_minutes * 60 \
                and now - s["created_at"] < cfg.session_max_hours * 3600:
            user = await c.db.user(s["user"])
            if user is not None:
                request[USER] = {"name": user["name"], "role": user["role"]}
                request[STAGE] = s["stage"]
                request[SESSION_HASH] = th
                request[CSRF_TOKEN] = c.csrf_for("s:" + token)
                if now - s["seen_at"] > 5:
                    await c.db.touch_session(th, now)
        elif s:
            await c.db.end_session(th)
    pre = None
    if CSRF_TOKEN not in request:
        pre = request.cookies.get(PRE_COOKIE)
        if not pre or len(pre) > 100:
            pre = new_token()
            request[NEW_PRE] = pre
        request[CSRF_TOKEN] = c.csrf_for("pre:" + pre)
    response = await handler(request)
    if request.get(NEW_PRE) and not response.prepared:
        set_cookie(request, response, PRE_COOKIE, request[NEW_PRE])
    if "lang" in request.query and request[LANG] == request.query["lang"] and not response.prepared:
        set_cookie(request, response, LANG_COOKIE, request[LANG], max_age=365 * 86400)
    return response


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return await handler(request)
    if request.get(USER) is None and (request.content_length is None or request.content_length > SIGNED_OUT_BODY):
        raise web.HTTPForbidden(text="403: sign in first\n")  # nobody signed in uploads anything: not even read
    given = request.headers.get("X-CSRF-Token")
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if request.get(NEW_PRE) or not given or not hmac.compare_digest(given, request[CSRF_TOKEN]):
        raise web.HTTPForbidden(text="403: missing or wrong csrf_token\n")
    return await handler(request)


# --- guards --------------------------------------------------------------------------------
def _guard(least: str, *, feed: bool) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = request.get(USER)
            if user is None:
                if feed:
                    raise web.HTTPUnauthorized(text="401: sign in first\n")
                raise web.HTTPSeeOther("/console/login")
            stage = request.get(STAGE)
            if stage != "full":
                if feed:
                    raise web.HTTPUnauthorized(text="401: sign-in not finished\n")
                raise web.HTTPSeeOther("/console/password" if stage == "password" else "/console/enrol")
            if not role_at_least(user["role"], least):
                if feed:
                    raise web.HTTPForbidden(text="403: not for this role\n")
                return render(request, "message.html", status=403, message_key="forbidden")
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


def page(least: str) -> Callable[[Handler], Handler]:
    """A page for ``least`` and the roles above it; signed out: 303 to the login page."""
    return _guard(least, feed=False)


def data(least: str) -> Callable[[Handler], Handler]:
    """A feed or data endpoint (SSE, JSON, CSV, an attachment); signed out: 401."""
    return _guard(least, feed=True)


async def audit(request: web.Request, action: str, *, tracking_id: str | None = None, reason: str | None = None,
                user: str | None = None) -> None:
    who = user or (request.get(USER) or {}).get("name") or "-"
    await console_of(request).db.audit(who, action, tracking_id=tracking_id, reason=reason, remote=request.remote,
                                       at=console_of(request).clock())


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    types = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    return web.Response(body=path.read_bytes(), content_type=types.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "max-age=3600"})


def build_app(console: Console) -> web.Application:
    app = web.Application(middlewares=[security_headers, sessions, csrf],
                          client_max_size=console.settings.console.max_upload_bytes)
    app[CONSOLE] = console
    app[APP_KEY_ENV] = environment(console.settings.service.timezone)
    app.router.add_get("/console/static/{name}", _static)
    for name in ROUTE_MODULES:
        importlib.import_module(f"gateway.console.{name}").add_routes(app)
    for name in OPTIONAL_MODULES:
        try:
            module = importlib.import_module(f"gateway.console.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gateway.console.{name}":
                raise
            continue
        module.add_routes(app)
    app.router.add_get("/console", _to_root)
    return app


async def _to_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")
