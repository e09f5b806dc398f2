"""What the console's middlewares put on a request, as typed ``web.RequestKey``s (no ``NotAppKeyWarning``)."""

from __future__ import annotations

from aiohttp import web

LANG = web.RequestKey("lang", str)  # "id" or "en"
USER = web.RequestKey("user", dict)  # {"name", "role"} of the signed-in user
STAGE = web.RequestKey("stage", str)  # the session's stage: password, enrol or full
SESSION_HASH = web.RequestKey("session_hash", str)
CSRF_TOKEN = web.RequestKey("csrf_token", str)
NEW_PRE = web.RequestKey("new_pre", str)  # a fresh pre-sign-in cookie to set
FLASH = web.RequestKey("flash", str)  # the i18n key of the page's one-line notice
