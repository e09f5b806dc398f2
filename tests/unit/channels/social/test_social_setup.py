"""Each social channel is off unless configured, says so in one line, and builds without network I/O."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from channels.base import Completer, Poller, ReceiptSender, StartupCheck, WebhookChannel
from channels.social.setup import social_from_settings, telegram_from_settings, whatsapp_from_settings, x_from_settings
from gateway.settings import Settings
from gateway.store.blobs import BlobStore
from tests.unit.channels.social.helpers import JsonCursors


def build(fn, settings: Settings, tmp_path: Path):
    return fn(settings, BlobStore(tmp_path / "blobs"), lambda name: JsonCursors(tmp_path / f"{name}.json"))


def roles(objs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in objs:
        for role, proto in (("webhook", WebhookChannel), ("poller", Poller), ("sender", ReceiptSender),
                            ("completer", Completer), ("check", StartupCheck)):
            if isinstance(o, proto) and hasattr(o, {"webhook": "parse", "poller": "run", "sender": "send",
                                                    "completer": "complete", "check": "check"}[role]):
                out.setdefault(role, []).append(type(o).__name__)
    return out


def test_nothing_configured_means_all_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert build(social_from_settings, Settings(), tmp_path) == []
    assert [r.getMessage() for r in caplog.records] == [
        "telegram: off (telegram.token not set)", "x: off (x.bearer_token not set)",
        "whatsapp: off (whatsapp.verify_token not set)"]


def test_telegram_webhook_mode(tmp_path: Path) -> None:
    s = Settings(telegram={"token": "7000000001:AAxx", "webhook_secret": "s"})
    objs = build(telegram_from_settings, s, tmp_path)
    assert roles(objs) == {"webhook": ["TelegramChannel"], "completer": ["TelegramFiles"],
                           "sender": ["TelegramReceiptSender"], "check": ["TelegramChannel"]}
    assert next(o for o in objs if hasattr(o, "parse")).account == "7000000001"


def test_telegram_webhook_without_secret_is_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert build(telegram_from_settings, Settings(telegram={"token": "1:x"}), tmp_path) is None
    assert "telegram.webhook_secret" in caplog.records[-1].getMessage()


def test_telegram_polling_mode(tmp_path: Path) -> None:
    objs = build(telegram_from_settings, Settings(telegram={"token": "1:x", "mode": "polling"}), tmp_path)
    assert roles(objs)["poller"] == roles(objs)["check"] == ["TelegramPoller"] and "webhook" not in roles(objs)


def test_x(tmp_path: Path) -> None:
    assert build(x_from_settings, Settings(x={"bearer_token": "t"}), tmp_path) is None  # no user_id
    objs = build(x_from_settings, Settings(x={"bearer_token": "t", "user_id": "15", "dm_intake": True}), tmp_path)
    assert roles(objs) == {"poller": ["XMentionsPoller"], "sender": ["XReceiptSender"], "check": ["XMentionsPoller"]}


def test_whatsapp(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    partial = {"verify_token": "v", "app_secret": "a", "access_token": "t"}
    assert build(whatsapp_from_settings, Settings(whatsapp=partial), tmp_path) is None
    assert caplog.records[-1].getMessage() == "whatsapp: off (whatsapp.phone_number_id not set)"
    objs = build(whatsapp_from_settings, Settings(whatsapp=partial | {"phone_number_id": "1"}), tmp_path)
    assert roles(objs) == {"webhook": ["WhatsappChannel"], "completer": ["WhatsappMedia"],
                           "sender": ["WhatsappReceiptSender"], "check": ["WhatsappChannel"]}
