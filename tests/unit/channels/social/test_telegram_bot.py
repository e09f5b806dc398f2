"""Telegram against the fake Bot API: long polling with a durable offset, downloads, receipts, token check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from channels.base import OutboundReceipt
from channels.message import ChannelError, PeerUnavailable, Rejected
from channels.social.telegram import TelegramChannel, bot_id_from_token
from channels.social.telegram_bot import (
    TelegramFiles,
    TelegramPoller,
    TelegramReceiptSender,
    check_bot,
    file_url_for,
    make_bot,
)
from gateway.store.blobs import BlobStore
from tests.fakes import FakeTelegram
from tests.unit.channels.social.helpers import JsonCursors, MemoryJournal, fixture

# python-telegram-bot's own RetryAfter constructor warns about its int → timedelta change
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake():
    async with FakeTelegram() as fake:
        yield fake


def bot_for(fake: FakeTelegram, token: str | None = None):
    return make_bot(token or fake.token, fake.base_url)


def poller_for(fake: FakeTelegram, cursors: JsonCursors) -> TelegramPoller:
    return TelegramPoller(bot_for(fake), bot_id_from_token(fake.token), cursors)


def update(name: str) -> dict:
    u = fixture("telegram", name)
    u.pop("update_id")  # the fake numbers updates as Telegram would
    return u


def test_file_url_is_derived_from_the_base_url() -> None:
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"


async def test_polling_accepts_every_update_and_persists_the_offset(fake: FakeTelegram, tmp_path: Path) -> None:
    cursors, journal = JsonCursors(tmp_path / "c.json"), MemoryJournal()
    ups = [fake.queue_update(update(n)) for n in ("message__text", "message__photo_caption", "my_chat_member__blocked")]
    poller = poller_for(fake, cursors)
    assert await poller.poll_once(journal.accept, timeout=0) == 3
    assert sorted(m.external_id for m in journal.messages) == sorted(str(u["update_id"]) for u in ups[:2])
    assert await cursors.get(poller.key) == str(ups[-1]["update_id"] + 1)

    # a restart: a new poller over the same cursor file asks from the stored offset, sees only the new update
    late = fake.queue_update(update("message__cek"))
    restarted = poller_for(fake, JsonCursors(tmp_path / "c.json"))
    assert await restarted.poll_once(journal.accept, timeout=0) == 1
    assert int(fake.calls("getUpdates")[-1]["offset"]) == ups[-1]["update_id"] + 1
    assert journal.stored[("social.telegram", restarted.account, str(late["update_id"]))].text == "/cek 4820193746"
    assert len(journal.messages) == 3


async def test_offset_does_not_move_when_accept_fails(fake: FakeTelegram, tmp_path: Path) -> None:
    cursors, journal = JsonCursors(tmp_path / "c.json"), MemoryJournal()
    fake.queue_update(update("message__text"))
    fake.queue_update(update("message__cek"))

    async def broken(msg):
        raise OSError("journal disk full")

    poller = poller_for(fake, cursors)
    with pytest.raises(OSError):
        await poller.poll_once(broken, timeout=0)
    assert await cursors.get(poller.key) is None
    assert await poller.poll_once(journal.accept, timeout=0) == 2  # redelivered, nothing lost
    assert len(journal.messages) == 2


async def test_replayed_update_is_one_complaint(fake: FakeTelegram, tmp_path: Path) -> None:
    journal = MemoryJournal()
    u = fixture("telegram", "message__text")
    fake.queue_update(u)
    await poller_for(fake, JsonCursors(tmp_path / "a.json")).poll_once(journal.accept, timeout=0)
    fake.queue_update(u)  # Telegram redelivers the same update_id (e.g. the offset was lost)
    await poller_for(fake, JsonCursors(tmp_path / "b.json")).poll_once(journal.accept, timeout=0)
    assert journal.calls >= 2 and len(journal.messages) == 1


async def test_run_keeps_polling_and_survives_rate_limits(fake: FakeTelegram, tmp_path: Path) -> None:
    journal = MemoryJournal()
    fake.fail_next("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    poller = TelegramPoller(bot_for(fake), bot_id_from_token(fake.token), JsonCursors(tmp_path / "c.json"),
                            long_poll_seconds=1)
    task = asyncio.create_task(poller.run(journal.accept))
    try:
        fake.queue_update(update("message__text"))
        fake.queue_update(update("message__document"))
        async with asyncio.timeout(20):
            while len(journal.messages) < 2:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert {m.text for m in journal.messages} == {"jln rusak dpn pasar kramat, sdh 3 bln tdk diperbaiki",
                                                  "surat pengantar ditolak"}


async def test_photo_is_downloaded_into_the_blob_store(fake: FakeTelegram, tmp_path: Path) -> None:
    from channels.social.telegram import message_from_update, parse_update

    blobs = BlobStore(tmp_path / "blobs")
    photo = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 100
    fake.add_file("AgACAgUAAxkBAAIBsmZ_large", photo, "photos/file_7.jpg")
    msg = message_from_update(parse_update(fixture("telegram", "message__photo_caption")), "7000000001")
    files = TelegramFiles(bot_for(fake), blobs, max_file_bytes=100_000)
    done = await files.complete(msg)
    [att] = done.attachments
    assert (att.media_type, att.size, att.filename) == ("image/jpeg", len(photo), "file_7.jpg")
    assert blobs.get(att.sha256) == photo
    assert await files.complete(done) == done  # idempotent when retried
    assert [c["file_id"] for c in fake.calls("getFile")] == ["AgACAgUAAxkBAAIBsmZ_large"] * 2


async def test_download_size_limit_keeps_the_message(fake: FakeTelegram, tmp_path: Path) -> None:
    from channels.social.telegram import message_from_update, parse_update

    fake.add_file("BQACAgUAAxkBAAIBtGZ_doc", b"%PDF" + b"0" * 5000, "documents/file_1.pdf")
    msg = message_from_update(parse_update(fixture("telegram", "message__document")), "7000000001")
    msg.metadata["files"][0]["file_size"] = None  # Telegram may omit it: the limit still holds
    done = await TelegramFiles(bot_for(fake), BlobStore(tmp_path / "blobs"), max_file_bytes=1000).complete(msg)
    assert done.attachments == []
    assert done.text == "surat pengantar ditolak"
    assert "over the 1000 byte limit" in done.metadata["attachment_errors"][0]
    assert not list((tmp_path / "blobs").rglob("*"))


async def test_declared_oversize_file_is_not_even_fetched(fake: FakeTelegram, tmp_path: Path) -> None:
    from channels.social.telegram import message_from_update, parse_update

    msg = message_from_update(parse_update(fixture("telegram", "message__photo_caption")), "7000000001")
    done = await TelegramFiles(bot_for(fake), BlobStore(tmp_path / "b"), max_file_bytes=1000).complete(msg)
    assert done.attachments == [] and fake.calls("getFile") == []


async def test_download_when_api_is_down_is_retryable(tmp_path: Path) -> None:
    from channels.social.telegram import message_from_update, parse_update

    async with FakeTelegram() as gone:
        bot = bot_for(gone)
    msg = message_from_update(parse_update(fixture("telegram", "message__photo_only")), "7000000001")
    with pytest.raises(PeerUnavailable):
        await TelegramFiles(bot, BlobStore(tmp_path / "b"), 100_000).complete(msg)


@pytest.mark.parametrize(("code", "description", "error"), [
    (403, "Forbidden: bot was blocked by the user", Rejected),
    (400, "Bad Request: chat not found", Rejected),
    (429, "Too Many Requests: retry after 5", PeerUnavailable),
    (502, "Bad Gateway", PeerUnavailable),
])
async def test_receipt_errors(fake: FakeTelegram, code: int, description: str, error: type) -> None:
    extra = {"retry_after": 5} if code == 429 else {}
    fake.fail_next("sendMessage", code, description, **extra)
    receipt = OutboundReceipt(channel="social.telegram", account="1", to="612345678", text="x",
                              reply_context={"chat_id": 612345678})
    with pytest.raises(error) as err:
        await TelegramReceiptSender(bot_for(fake)).send(receipt)
    assert "612345678" not in str(err.value)


async def test_check_with_a_good_token(fake: FakeTelegram, tmp_path: Path) -> None:
    poller = poller_for(fake, JsonCursors(tmp_path / "c.json"))
    assert await poller.check() == "telegram: on as @lapor1708_bot, polling mode"
    webhook = TelegramChannel("7000000001", "s", lambda: check_bot(bot_for(fake), "webhook"))
    assert await webhook.check() == "telegram: on as @lapor1708_bot, webhook mode"


async def test_check_registers_the_webhook_with_its_secret(fake: FakeTelegram) -> None:
    url = "https://pengaduan.example.go.id/channels/telegram"
    line = await check_bot(bot_for(fake), "webhook", url, "rahasia-webhook")
    assert line == f"telegram: on as @lapor1708_bot, webhook mode, webhook registered at {url}"
    assert fake.webhook is not None
    assert fake.webhook["url"] == url and fake.webhook["secret_token"] == "rahasia-webhook"
    assert "message" in fake.webhook["allowed_updates"]


async def test_check_with_a_bad_token(fake: FakeTelegram) -> None:
    bad = "7000000001:AAWrongTokenWrongTokenWrongToken_xx"
    with pytest.raises(ChannelError) as err:
        await check_bot(bot_for(fake, bad), "webhook")
    assert str(err.value) == "telegram: token rejected (401 Unauthorized)"
    assert "AAWrong" not in str(err.value)


async def test_check_when_unreachable() -> None:
    async with FakeTelegram() as gone:
        bot = bot_for(gone)
    with pytest.raises(ChannelError, match="telegram: Bot API unreachable"):
        await check_bot(bot, "polling")
