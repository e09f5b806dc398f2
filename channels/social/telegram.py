"""Telegram bot intake: the webhook on ``/channels/telegram`` and the Update → InboundMessage mapping.

python-telegram-bot's ``Update.de_json`` reads the update (it needs no bot
offline). The webhook is authenticated by the secret Telegram echoes in
``X-Telegram-Bot-Api-Secret-Token`` (set with ``setWebhook(secret_token=…)``).
Photos and documents are only *named* here (``metadata["files"]``): the bytes
are fetched after the acknowledgement by :class:`channels.social.telegram_bot.TelegramFiles`.
Commands (``/start``, ``/cek <id>``, ``/anonim …``) pass through as text:
the gateway and the normaliser interpret them. In groups Telegram sends a command
addressed to one bot as ``/start@<bot>``: the suffix is Telegram's, so it is cut
here (:func:`without_bot_suffix`) and the worker reads ``/start`` whatever the chat.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update

from channels.base import RawRequest, failure_reason, from_unix, malformed, same_secret
from channels.message import InboundMessage, Intake, Rejected, ReporterInfo

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNEL = "social.telegram"


def bot_id_from_token(token: str) -> str:
    """The bot's numeric id is the token's first part: the account, known without network I/O."""
    return token.split(":", 1)[0]


def _files(msg: Message) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    if msg.photo:  # several sizes of one photo: the largest is the evidence
        big = max(msg.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        files.append({"kind": "photo", "file_id": big.file_id, "file_unique_id": big.file_unique_id,
                      "file_size": big.file_size, "mime_type": "image/jpeg", "file_name": None})
    if msg.document:
        d = msg.document
        files.append({"kind": "document", "file_id": d.file_id, "file_unique_id": d.file_unique_id,
                      "file_size": d.file_size, "mime_type": d.mime_type or "application/octet-stream",
                      "file_name": d.file_name})
    return files


def without_bot_suffix(text: str, entities: Any) -> str:
    """``text`` with each bot command Telegram marked (``bot_command`` entities) cut before its ``@<bot>``.

    Entity offsets count UTF-16 code units, as Telegram counts them; the cut is made in those units. An
    entity that does not fall on whole characters (a hostile update) leaves the text as it came.
    """
    commands = sorted(((e.offset, e.offset + e.length) for e in entities or () if e.type == "bot_command"),
                      reverse=True)
    if not commands:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    try:
        for start, end in commands:
            command = units[2 * start:2 * end].decode("utf-16-le")
            at = command.find("@")
            if start >= 0 and command.startswith("/") and at > 1:
                units = units[:2 * start] + command[:at].encode("utf-16-le") + units[2 * end:]
        return units.decode("utf-16-le")
    except UnicodeDecodeError:
        return text


def _unsupported(msg: Message) -> str | None:
    for kind in ("voice", "audio", "video", "video_note", "sticker", "animation"):
        if getattr(msg, kind, None):
            return kind
    return None


def message_from_update(update: Update, account: str) -> InboundMessage | None:
    """The complaint an update carries, or None for updates that carry none (joins, callbacks, …)."""
    edited = update.edited_message is not None
    msg = update.message or update.edited_message
    if msg is None or msg.from_user is None:
        return None
    user, chat = msg.from_user, msg.chat
    files = _files(msg)
    text = without_bot_suffix(msg.text, msg.entities) if msg.text else without_bot_suffix(
        msg.caption or "", msg.caption_entities)
    unsupported = _unsupported(msg)
    if not text and not files and msg.location is None and msg.contact is None and unsupported is None:
        return None  # service messages: member joined, pinned, …
    own = msg.contact if msg.contact is not None and msg.contact.user_id == user.id else None
    reporter = ReporterInfo(
        name=" ".join(p for p in (user.first_name, user.last_name) if p) or None,
        handle=f"@{user.username}" if user.username else None,
        phone=own.phone_number if own is not None else None,  # the citizen shared their own number
    )
    # identity (user id, chat id) stays in sender/reporter, never in metadata
    metadata: dict[str, Any] = {"chat_type": str(chat.type), "message_id": msg.message_id}
    if files:
        metadata["files"] = files
    if unsupported:
        metadata["unsupported_media"] = unsupported
    if msg.location is not None:
        metadata["location"] = {"lat": msg.location.latitude, "lon": msg.location.longitude}
    if chat.type != "private":
        metadata["reply_visibility"] = "public"  # a group sees the reply: public-safe text only
    reply_context: dict[str, Any] = {"chat_id": chat.id, "message_id": msg.message_id}
    if chat.type != "private":
        reply_context["from_id"] = user.id  # a group's members share its chat: who wrote is the reporter
    answers: str | None = None
    if msg.reply_to_message is not None:
        metadata["in_reply_to_message_id"] = msg.reply_to_message.message_id
        author = msg.reply_to_message.from_user
        if not edited and author is not None and (str(author.id) == account or author.is_bot):
            answers = f"tg:{msg.reply_to_message.message_id}"  # a reply to our message: the sender's provider id
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=str(update.update_id),
        sender=str(chat.id),
        received_at=msg.edit_date if edited and msg.edit_date else msg.date,
        text=text,
        reporter=reporter,
        reply_context=reply_context,
        metadata=metadata,
        kind="edit" if edited else "reply" if answers else "complaint",
        related=str(msg.message_id) if edited else answers,
        suppress_receipt="sender is a bot" if user.is_bot else None,
    )


MAX_UPDATE_ID = 2**53  # Telegram's ids fit in a double; anything past is not Telegram's
TIME_FIELDS = frozenset({"date", "edit_date", "forward_date"})


def _sane_times(value: Any, now: int, depth: int = 0) -> Any:
    """``value`` with every out-of-range Unix time (``date: 1e20``) set to ``now``: PTB would raise on it.

    The receive time is a fair stand-in, and the message is kept rather than refused.
    """
    if not isinstance(value, dict) or depth > 6:
        return value
    out = {}
    for k, v in value.items():
        if k in TIME_FIELDS and not (type(v) is int and from_unix(v) is not None):
            out[k] = now
        else:
            out[k] = _sane_times(v, now, depth + 1) if isinstance(v, dict) else v
    return out


def update_id_of(data: Any) -> int | None:
    uid = data.get("update_id") if isinstance(data, dict) else None
    return uid if type(uid) is int and 0 <= uid < MAX_UPDATE_ID else None


def parse_update(data: Any) -> Update:
    """An Update from its JSON; Rejected(400) for anything the library cannot read."""
    if update_id_of(data) is None:
        raise Rejected(400, "not a Telegram update (no update_id)")
    try:
        return Update.de_json(_sane_times(data, int(time.time())), None)
    except Exception as exc:  # PTB reads peer data without checking types: any error means malformed
        raise Rejected(400, f"malformed Telegram update ({type(exc).__name__})") from None


def read_update(data: Any, account: str) -> InboundMessage | None:
    """The complaint of one update's JSON; Rejected(400) when it cannot be read, whatever the reason."""
    update = parse_update(data)
    try:
        return message_from_update(update, account)
    except Exception as exc:  # an int where a name goes, a photo without width: malformed, not a crash
        raise Rejected(400, f"malformed Telegram message ({type(exc).__name__})") from None


def read_batch(updates: Any, account: str) -> tuple[list[InboundMessage], int | None]:
    """A getUpdates result: its messages (malformed updates kept as such, alone) and the next offset."""
    if not isinstance(updates, list):
        raise Rejected(400, "getUpdates result is not a list")
    out: list[InboundMessage] = []
    ids = [uid for u in updates if (uid := update_id_of(u)) is not None]
    for i, data in enumerate(updates):
        try:
            if (msg := read_update(data, account)) is not None:
                out.append(msg)
        except Rejected as exc:
            out.append(malformed(CHANNEL, account, data, failure_reason(f"update[{i}]", exc)))
    return out, (max(ids) + 1 if ids else None)


class TelegramChannel:
    """Webhook mode: Telegram POSTs each Update as JSON with our secret in a header."""

    name = CHANNEL
    path = "/channels/telegram"
    methods = ("POST",)

    def __init__(self, account: str, webhook_secret: str,
                 startup_check: Callable[[], Awaitable[str]] | None = None) -> None:
        if not webhook_secret:
            raise ValueError("telegram webhook needs a secret")
        self.account = account
        self._secret = webhook_secret.encode()
        self._startup_check = startup_check

    async def check(self) -> str:
        """The token check (getMe): Refused switches this webhook off; any other ChannelError leaves it on, checked again."""
        if self._startup_check is None:
            return "telegram: webhook on (token not checked)"
        return await self._startup_check()

    def parse(self, raw: RawRequest) -> Intake:
        if not same_secret(self._secret, raw.headers.get(SECRET_HEADER)):
            raise Rejected(403, "bad or missing secret token")
        try:
            data = json.loads(raw.body)
        except (ValueError, RecursionError):
            raise Rejected(400, "body is not JSON") from None
        msg = read_update(data, self.account)
        return Intake(messages=[msg] if msg else [])
