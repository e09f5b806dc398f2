"""Privacy canaries: the fixtures' citizen (name, handle, phone, NIK, chat/user ids) and confidential text
appear in no log line, at DEBUG, through every social channel's intake, polling, downloads and replies —
including the ones the client libraries (python-telegram-bot, httpx, tweepy, urllib3) would write."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from channels.base import OutboundReceipt
from channels.message import ChannelError, InboundMessage, PeerUnavailable, Rejected
from channels.social.telegram import SECRET_HEADER, TelegramChannel
from channels.social.telegram_bot import TelegramFiles, TelegramPoller, TelegramReceiptSender, check_bot, make_bot
from channels.social.whatsapp import WhatsappChannel
from channels.social.whatsapp_graph import GraphApi, WhatsappMedia, WhatsappReceiptSender
from channels.social.x import XMentionsPoller, XReceiptSender
from channels.social.x_client import make_client
from gateway.store.blobs import BlobStore
from tests.fakes import FakeGraph, FakeTelegram, FakeX
from tests.unit.channels.social.helpers import CANARIES, JsonCursors, MemoryJournal, fixture, fixture_bytes, raw_post

CONFIDENTIAL = "pungli di kantor kelurahan"


def assert_no_canary(caplog: pytest.LogCaptureFixture) -> None:
    lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    for canary in (*CANARIES, CONFIDENTIAL):
        assert canary not in lines, f"{canary!r} leaked into the logs"


async def test_telegram_logs_no_identity(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeTelegram() as fake:
        bot = make_bot(fake.token, fake.base_url)
        channel = TelegramChannel("7000000001", "secret")
        for name in ("message__rahasia", "message__contact"):
            channel.parse(raw_post(channel.path, fixture_bytes("telegram", name), {SECRET_HEADER: "secret"}))
        with pytest.raises(Rejected):
            channel.parse(raw_post(channel.path, fixture_bytes("telegram", "message__rahasia"), {}))
        for name in ("message__rahasia", "message__photo_caption"):
            u = fixture("telegram", name)
            u.pop("update_id")
            fake.queue_update(u)
        fake.add_file("AgACAgUAAxkBAAIBsmZ_large", b"\xff\xd8" * 50)
        journal = MemoryJournal()
        fake.fail_next("getUpdates", 502, "Bad Gateway")
        poller = TelegramPoller(bot, "7000000001", JsonCursors(tmp_path / "c.json"), long_poll_seconds=0,
                                retry_seconds=0.05)
        task = asyncio.create_task(poller.run(journal.accept))
        async with asyncio.timeout(20):
            while len(journal.messages) < 2:
                await asyncio.sleep(0.05)
        task.cancel()
        photo = next(m for m in journal.messages if m.metadata.get("files"))
        await TelegramFiles(bot, BlobStore(tmp_path / "b"), 10_000).complete(photo)
        sender = TelegramReceiptSender(bot)
        receipt = OutboundReceipt(channel="social.telegram", account="1", to="612345678", text="Nomor 4820193746",
                                  reply_context={"chat_id": 612345678, "message_id": 104})
        await sender.send(receipt)
        fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
        with pytest.raises(Rejected):
            await sender.send(receipt)
        with pytest.raises(ChannelError):
            await check_bot(make_bot("7000000001:AAbad", fake.base_url), "webhook")
        await poller.check()
        await sender.close()
    assert_no_canary(caplog)
    assert not any("AAFakeToken" in r.getMessage() for r in caplog.records)  # nor the bot token


async def test_x_logs_no_identity(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeX() as fake:
        fake.add_user("1422222222222222222", "canary_warga", "Siti Kanari")
        fake.add_mention("1422222222222222222", f"@lapor1708 rahasia: {CONFIDENTIAL}, hp 6281299990001")
        fake.add_dm("1422222222222222222", f"{CONFIDENTIAL} NIK 3201010101900001")
        fake.rate_limit_next(1, reset_in=0)
        journal = MemoryJournal()
        poller = XMentionsPoller(make_client(fake.token, fake.base_url), fake.user_id,
                                 JsonCursors(tmp_path / "c.json"), dm_intake=True)
        assert await poller.poll_once(journal.accept) == 2
        sender = XReceiptSender(make_client(fake.token, fake.base_url), fake.user_id)
        await sender.send(OutboundReceipt(channel="social.x", account=fake.user_id, to="1422222222222222222",
                                          text="Lanjutkan lewat DM ya", public=True,
                                          reply_context={"in_reply_to_tweet_id": "1"}))
        await sender.send(OutboundReceipt(channel="social.x", account=fake.user_id, to="1422222222222222222",
                                          text="Nomor 4820193746", reply_context={"author_id": "1422222222222222222"}))
        fake.closed_dms.add("1422222222222222222")
        with pytest.raises(Rejected):
            await sender.send(OutboundReceipt(channel="social.x", account=fake.user_id, to="1422222222222222222",
                                              text="x", reply_context={"author_id": "1422222222222222222"}))
    assert_no_canary(caplog)


async def test_whatsapp_logs_no_identity(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeGraph() as fake:
        channel = WhatsappChannel("v", fake.app_secret)
        msgs: list[InboundMessage] = []
        for name in ("messages__text", "messages__image_caption", "statuses__failed"):
            body, sig = fake.sign(fixture_bytes("whatsapp", name))
            msgs += channel.parse(raw_post(channel.path, body, {"X-Hub-Signature-256": sig})).messages
        fake.add_media("1003383421387256", b"\xff\xd8" * 10)
        graph = GraphApi(fake.access_token, fake.phone_number_id, fake.base_url)
        await WhatsappMedia(graph, BlobStore(tmp_path / "b"), 10_000).complete(msgs[1])
        sender = WhatsappReceiptSender(graph)
        receipt = OutboundReceipt(channel="social.whatsapp", account=fake.phone_number_id, to="6281299990001",
                                  text="Nomor 4820193746", reply_context={"to": "6281299990001"})
        await sender.send(receipt)
        fake.fail_next_send(500, 131000, "Something went wrong for 6281299990001")
        with pytest.raises(PeerUnavailable):
            await sender.send(receipt)
        await sender.close()
    assert_no_canary(caplog)
