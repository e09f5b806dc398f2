"""The Telegram parts that call the Bot API: photo/document download, long polling, receipts.

All calls go through python-telegram-bot's ``Bot`` (``base_url``/``base_file_url``
point it at a local fake in tests). Nothing here logs a chat id, a name or text;
the library's own loggers are quietened (:mod:`channels.quiet`).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from channels.base import Accept, BlobSink, CursorStore, OutboundReceipt
from channels.message import Attachment, ChannelError, InboundMessage, PeerUnavailable, Refused, Rejected
from channels.quiet import quiet_client_loggers
from channels.retry import Backoff
from channels.social.telegram import CHANNEL, read_batch

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
MAX_TEXT = 4096  # Telegram's limit for one message
GROUP_UPDATE = ("Ada tanggapan untuk laporan dengan no. tiket {tracking_id}. Demi kerahasiaan, isinya tidak "
                "ditampilkan di grup; kirim /cek {tracking_id} kepada bot ini lewat pesan pribadi.")
GROUP_UPDATE_EN = ("There is an answer for the report with ticket no. {tracking_id}. For privacy it is not shown in "
                   "the group; send /cek {tracking_id} to this bot in a private message.")


def file_url_for(base_url: str) -> str:
    """``…/bot`` → ``…/file/bot``: where the same server serves file downloads."""
    head, sep, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot" if sep else "https://api.telegram.org/file/bot"


def make_bot(token: str, api_base_url: str | None = None, long_poll_seconds: int = 25) -> Bot:
    """A Bot for our token; constructing it does no network I/O."""
    quiet_client_loggers()
    base = api_base_url or DEFAULT_BASE_URL
    return Bot(
        token,
        base_url=base,
        base_file_url=file_url_for(base),
        request=HTTPXRequest(connection_pool_size=8, read_timeout=15.0, media_write_timeout=30.0),
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=long_poll_seconds + 10.0),
    )


def _retry_hint(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int vs timedelta: PTB v22.2 deprecation, either is fine here
        warnings.simplefilter("ignore")
        ra = exc.retry_after
    return ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra)


def _the_apis_answer(exc: TelegramError) -> bool:
    """PTB raises InvalidToken/Forbidden for a 401/404/403 status even when the body was not the Bot API's
    JSON (a proxy's page): then a parse failure is in the chain of causes (``initialize`` wraps getMe's)."""
    cause = exc.__cause__
    while cause is not None:
        if not isinstance(cause, InvalidToken | Forbidden):
            return False
        cause = cause.__cause__
    return True


async def check_bot(bot: Bot, mode: str, webhook_url: str | None = None, secret: str | None = None) -> str:
    """getMe with our token: one line when fine.

    In webhook mode with a public URL, the webhook is (re)registered with its secret
    token, so the operator does not have to call setWebhook by hand.

    :class:`Refused` when the Bot API itself rejects the token (its JSON 401/404 "Unauthorized" or
    "Not Found", or 403): the channel is switched off. Anything else (unreachable, a timeout, a 5xx,
    an answer that is not the Bot API's JSON, a setWebhook the API refused) is a PeerUnavailable
    or ChannelError: the intake stays on and the check is tried again.
    """
    try:
        await bot.initialize()  # calls getMe; its error text would hold the token, so it is dropped
        if webhook_url:
            await bot.set_webhook(url=webhook_url, secret_token=secret,
                                  allowed_updates=["message", "edited_message", "channel_post"])
    except (InvalidToken, Forbidden) as exc:
        if not _the_apis_answer(exc):
            raise PeerUnavailable(f"telegram: Bot API answered {type(exc).__name__} without its JSON") from None
        if isinstance(exc, Forbidden):
            raise Refused("telegram: token refused (403 Forbidden)") from None
        raise Refused("telegram: token rejected (401 Unauthorized)") from None
    except BadRequest as exc:  # setWebhook: a URL Telegram will not call; safe: our own URL, not the token
        raise ChannelError(f"telegram: Bot API refused ({type(exc).__name__})") from None
    except TelegramError as exc:
        raise PeerUnavailable(f"telegram: Bot API unreachable or refused ({type(exc).__name__})") from None
    except Exception as exc:  # getMe's answer is JSON but not a User (PTB reads it without checking types)
        raise PeerUnavailable(f"telegram: Bot API answered something unreadable ({type(exc).__name__})") from None
    registered = f", webhook registered at {webhook_url}" if webhook_url else ""
    return f"telegram: on as @{bot.username}, {mode} mode{registered}"


class TelegramFiles:
    """Completer: downloads the photos/documents an accepted message names, into the blob store.

    Idempotent: the attachment list is rebuilt from ``metadata["files"]`` each
    time, and the blob store is content-addressed.
    """

    name = CHANNEL

    def __init__(self, bot: Bot, blobs: BlobSink, max_file_bytes: int) -> None:
        self.bot = bot
        self.blobs = blobs
        self.max_file_bytes = max_file_bytes

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        files: list[dict[str, Any]] = msg.metadata.get("files") or []
        if not files:
            return msg
        attachments: list[Attachment] = []
        errors: list[str] = []
        for f in files:
            try:
                attachments.append(await self._fetch(f))
            except Rejected as exc:
                errors.append(f"{f.get('kind', 'file')}: {exc.reason}")
        metadata = dict(msg.metadata)
        if errors:
            metadata["attachment_errors"] = errors
        return msg.model_copy(update={"attachments": attachments, "metadata": metadata})

    async def _fetch(self, f: dict[str, Any]) -> Attachment:
        limit = self.max_file_bytes
        if (f.get("file_size") or 0) > limit:
            raise Rejected(413, f"{f['file_size']} bytes, over the {limit} byte limit")
        try:
            tg_file = await self.bot.get_file(f["file_id"])
            if (tg_file.file_size or 0) > limit:
                raise Rejected(413, f"{tg_file.file_size} bytes, over the {limit} byte limit")
            data = bytes(await tg_file.download_as_bytearray())
        except BadRequest as exc:  # expired or unknown file_id, "file is too big" (> 20 MB)
            raise Rejected(400, f"Telegram refused the download: {exc.message}") from None
        except (RetryAfter, NetworkError, InvalidToken) as exc:
            raise PeerUnavailable(f"telegram: download failed ({type(exc).__name__})") from None
        if len(data) > limit:
            raise Rejected(413, f"{len(data)} bytes, over the {limit} byte limit")
        name = f.get("file_name") or (tg_file.file_path or "").rsplit("/", 1)[-1] or None
        return await asyncio.to_thread(self.blobs.put, data, f.get("mime_type") or "application/octet-stream", name)


class TelegramPoller:
    """Long polling (``telegram.mode = "polling"``): getUpdates from the persisted offset.

    The offset moves past a batch only after every update in it was accepted
    (durable), so a crash replays at most one batch — and replays are one
    complaint each, the journal being idempotent on ``update_id``.
    """

    name = CHANNEL
    allowed_updates = ("message", "edited_message")

    def __init__(self, bot: Bot, account: str, cursors: CursorStore, *, long_poll_seconds: int = 25,
                 retry_seconds: float = 5.0) -> None:
        self.bot = bot
        self.account = account
        self.cursors = cursors
        self.long_poll_seconds = long_poll_seconds
        self.retry_seconds = retry_seconds
        self.key = f"offset:{account}"  # another bot's offsets mean nothing to this one

    async def poll_once(self, accept: Accept, timeout: int | None = None) -> int:
        """One getUpdates round; returns how many updates it consumed.

        The batch is fetched as JSON and read update by update (:func:`read_batch`):
        ``Bot.get_updates`` reads it whole, so one malformed update would fail
        every round and stop the offset for good (and PTB logs the raw batch,
        texts and ids, at CRITICAL). A malformed one is accepted as such, alone.
        """
        stored = await self.cursors.get(self.key)
        wait = self.long_poll_seconds if timeout is None else timeout
        query: dict[str, Any] = {"timeout": wait, "allowed_updates": list(self.allowed_updates)}
        if stored:
            query["offset"] = int(stored)
        with warnings.catch_warnings():  # "use Bot.get_updates": on purpose, see above
            warnings.simplefilter("ignore", PTBUserWarning)
            result = await self.bot.do_api_request("getUpdates", api_kwargs=query, read_timeout=wait + 10.0)
        try:
            messages, offset = read_batch(result, self.account)
        except Rejected:
            raise PeerUnavailable("telegram: getUpdates answered something else than a list") from None
        for msg in messages:
            await accept(msg)
        if offset is not None:
            await self.cursors.set(self.key, str(offset))
        return len(result)

    async def check(self) -> str:
        """Start-up token check: :class:`Refused` and the gateway does not start this poller; any other
        failure and it polls (with its own backoff) while the check is tried again."""
        return await check_bot(self.bot, "polling")

    async def run(self, accept: Accept) -> None:
        failures = 0
        while True:
            try:
                await self.poll_once(accept)
                failures = 0
                continue
            except RetryAfter as exc:
                delay = min(_retry_hint(exc), 300.0)
                log.warning("telegram: getUpdates rate limited; waiting %.0fs", delay)
            except InvalidToken:
                log.error("telegram: token rejected (401 Unauthorized); polling stopped")
                return
            except Conflict:
                delay = 60.0
                log.error("telegram: getUpdates refused (409): a webhook is set for this bot or another "
                          "poller runs; use telegram.mode=webhook or delete the webhook")
            except Exception as exc:  # network down, journal busy: never lose the offset, try again
                failures += 1
                delay = Backoff(self.retry_seconds, 300.0, spread=0.2).delay(failures - 1)
                log.warning("telegram: polling failed (%s); retrying in %.0fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)


class TelegramReceiptSender:
    """Receipts and command answers as a reply in the citizen's chat."""

    family = CHANNEL

    def __init__(self, bot: Bot, language: str = "id") -> None:
        self.bot = bot
        self.language = language  # of the fixed group sentence; the worker sets the receipts' language

    async def send(self, receipt: OutboundReceipt) -> str:
        chat_id = receipt.reply_context.get("chat_id") or receipt.to
        reply_to = receipt.reply_context.get("message_id")
        text = receipt.text
        if receipt.kind == "update" and str(chat_id).startswith("-"):
            # a group or channel (negative ids) reads it: the answer stays private, only the ticket is named
            group = GROUP_UPDATE_EN if self.language == "en" else GROUP_UPDATE
            text = group.format(tracking_id=receipt.reply_context.get("tracking_id", ""))
        try:
            sent = await self.bot.send_message(
                chat_id=int(chat_id),
                text=text[:MAX_TEXT],
                reply_parameters=ReplyParameters(int(reply_to), allow_sending_without_reply=True) if reply_to else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            raise PeerUnavailable(f"telegram: rate limited, retry after {_retry_hint(exc):.0f}s") from None
        except Forbidden:
            raise Rejected(403, "telegram: the bot may not write to this chat (blocked or left)") from None
        except InvalidToken:
            raise PeerUnavailable("telegram: token rejected (401 Unauthorized)") from None
        except BadRequest as exc:
            raise Rejected(400, f"telegram refused sendMessage: {exc.message}") from None
        except (NetworkError, TelegramError) as exc:
            raise PeerUnavailable(f"telegram: sendMessage failed ({type(exc).__name__})") from None
        # the provider id is stored and shown (``lapor-gateway show``): the chat id is the citizen's
        # Telegram user id in a private chat, i.e. identity, so it stays out (anonymous reporters)
        return f"tg:{sent.message_id}"

    async def close(self) -> None:
        await self.bot.shutdown()
