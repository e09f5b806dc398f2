"""Which social channels run: each is off unless its tokens are set, and says so in one log line.

Each ``*_from_settings`` returns the objects the gateway files by role
(``gateway.wiring.Channels.add``): webhook channel, poller, completer,
receipt sender, or None when the channel is not configured. The start-up
``check()`` sits on the intake object (webhook or poller), so a token the API
refuses (``Refused``) switches off exactly that intake; any other failure leaves
it on, degraded, and checked again (``gateway/intake/channel_health.py``). Nothing here
does network I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from channels.base import BlobSink, CursorStore

if TYPE_CHECKING:
    from gateway.settings import Settings

log = logging.getLogger(__name__)

Cursors = Callable[[str], CursorStore]
WHATSAPP_MAX_FILE_BYTES = 10 * 1024 * 1024  # until a whatsapp.max_file_bytes setting exists


def _off(label: str, missing: str) -> None:
    log.info("%s: off (%s not set)", label, missing)


def telegram_from_settings(settings: Settings, blobs: BlobSink, cursors: Cursors) -> list[Any] | None:
    t = settings.telegram
    if not t.token:
        _off("telegram", "telegram.token")
        return None
    if t.mode == "webhook" and not t.webhook_secret:
        _off("telegram", "telegram.webhook_secret (required in webhook mode)")
        return None
    # imported here: python-telegram-bot and httpx cost memory only where Telegram is configured
    from channels.social.telegram import CHANNEL as TELEGRAM
    from channels.social.telegram import TelegramChannel, bot_id_from_token
    from channels.social.telegram_bot import TelegramFiles, TelegramPoller, TelegramReceiptSender, check_bot, make_bot

    account = bot_id_from_token(t.token)
    bot = make_bot(t.token, t.api_base_url)
    objects: list[Any] = [TelegramFiles(bot, blobs, t.max_file_bytes), TelegramReceiptSender(bot)]
    if t.mode == "polling":
        objects.append(TelegramPoller(bot, account, cursors(TELEGRAM)))
    else:
        objects.append(TelegramChannel(account, t.webhook_secret or "", partial(check_bot, bot, "webhook", t.public_url, t.webhook_secret)))
    log.info("telegram: configured, %s mode", t.mode)
    return objects


def x_from_settings(settings: Settings, blobs: BlobSink, cursors: Cursors) -> list[Any] | None:
    x = settings.x
    if not x.bearer_token:
        _off("x", "x.bearer_token")
        return None
    if not x.user_id:
        _off("x", "x.user_id")
        return None
    from channels.social.x import CHANNEL as X
    from channels.social.x import XMentionsPoller, XReceiptSender
    from channels.social.x_client import make_client

    poller = XMentionsPoller(make_client(x.bearer_token, x.api_base_url), x.user_id, cursors(X),
                             poll_seconds=x.poll_seconds, dm_intake=x.dm_intake)
    sender = XReceiptSender(make_client(x.bearer_token, x.api_base_url), x.user_id)
    log.info("x: configured, %s", poller.describe)
    return [poller, sender]


def whatsapp_from_settings(settings: Settings, blobs: BlobSink, cursors: Cursors) -> list[Any] | None:
    w = settings.whatsapp
    for key in ("verify_token", "app_secret", "access_token", "phone_number_id"):
        if not getattr(w, key):
            _off("whatsapp", f"whatsapp.{key}")
            return None
    assert w.verify_token and w.app_secret and w.access_token and w.phone_number_id
    from channels.social.whatsapp import WhatsappChannel
    from channels.social.whatsapp_graph import GraphApi, WhatsappMedia, WhatsappReceiptSender, check_graph

    graph = GraphApi(w.access_token, w.phone_number_id, w.api_base_url)
    limit = WHATSAPP_MAX_FILE_BYTES
    log.info("whatsapp: configured, webhook at %s", WhatsappChannel.path)
    return [WhatsappChannel(w.verify_token, w.app_secret, partial(check_graph, graph)), WhatsappMedia(graph, blobs, limit),
            WhatsappReceiptSender(graph, update_template=w.update_template, template_language=w.template_language)]


def social_from_settings(settings: Settings, blobs: BlobSink, cursors: Cursors) -> list[Any]:
    """Every configured social channel's objects, for ``Channels.add``."""
    found: list[Any] = []
    for build in (telegram_from_settings, x_from_settings, whatsapp_from_settings):
        found += build(settings, blobs, cursors) or []
    return found


__all__ = ["social_from_settings", "telegram_from_settings", "whatsapp_from_settings", "x_from_settings"]
