"""Pages from Jinja2 templates with autoescape on: every value from a message is escaped, always.

Page modules call :func:`render` with a template that ``{% extends "base.html" %}`` and fills
``{% block content %}`` (and ``{% block title %}``); the base gives the header, navigation for the user's role,
the language switch and the flash line. Values also pass :func:`gateway.cli.display.safe_text` (``|clean``):
bidi overrides and controls from a sender are shown as visible escapes, not obeyed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from channels.citizen_time import zone, zone_label
from gateway.cli.display import safe_text
from gateway.console.i18n import action_label, state_label, state_note, translate
from gateway.console.keys import CSRF_TOKEN, FLASH, LANG, STAGE, USER

TEMPLATES = Path(__file__).parent / "templates"
APP_KEY_ENV = web.AppKey("console_jinja", jinja2.Environment)

# (route, text key, least role): the navigation; a page module may append to it
NAV: list[tuple[str, str, str]] = [
    ("/console/", "nav_log", "operator"),
    ("/console/review", "nav_review", "operator"),
    ("/console/dead-letters", "nav_dead", "operator"),
    ("/console/new", "nav_new", "scanner"),
    ("/console/scan", "nav_scan", "scanner"),
    ("/console/mine", "nav_mine", "scanner"),
    ("/console/health", "nav_health", "operator"),
    ("/console/reports", "nav_reports", "operator"),
    ("/console/audit", "nav_audit", "supervisor"),
    ("/console/users", "nav_users", "admin"),
]


def environment(timezone: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)

    def when(value: Any) -> str:
        if value in (None, ""):
            return "-"
        try:
            if isinstance(value, int | float):
                moment = datetime.fromtimestamp(float(value), zone(timezone))
            else:
                moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(zone(timezone))
        except (TypeError, ValueError, OverflowError, OSError):
            return safe_text(value)
        return f"{moment:%Y-%m-%d %H:%M:%S} {zone_label(timezone)}"

    env.filters["when"] = when
    env.filters["clean"] = lambda v, newlines=False: safe_text(v, newlines=newlines)
    return env


def words_for(lang: str) -> dict[str, Any]:
    """:mod:`gateway.console.words` for one language, as the templates' ``w.reason(r)``, ``w.size(n)``…"""
    from gateway.console import words

    return {"reason": lambda r: words.reason_words(r, lang), "size": lambda n: words.human_size(n, lang),
            "account": lambda a: words.account_words(a, lang), "channel": lambda c: words.channel_words(c, lang),
            "kind": lambda k: words.kind_words(k, lang), "receipt_state": lambda s: words.receipt_state_words(s, lang),
            "response_state": lambda s: words.response_state_words(s, lang),
            "delivery": lambda s: words.delivery_words(s, lang)}


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """The page ``template`` for this request's user, in their language, with their CSRF token."""
    from gateway.console.auth import role_at_least

    env = request.app[APP_KEY_ENV]
    lang = request.get(LANG, "id")
    user = request.get(USER)
    role = user["role"] if user and request.get(STAGE) == "full" else None
    nav = [(href, key) for href, key, least in NAV if role and role_at_least(role, least)]
    html = env.get_template(template).render(
        t=lambda key, **values: translate(key, lang, **values), sl=lambda state: state_label(state, lang),
        sn=lambda state: state_note(state, lang),
        w=words_for(lang),
        al=lambda action: action_label(action, lang), lang=lang, user=user, role=role, nav=nav,
        csrf_token=request.get(CSRF_TOKEN, ""), path=request.path, flash=request.get(FLASH), **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
