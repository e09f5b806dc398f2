"""WhatsApp Cloud API calls through the Graph API (aiohttp): media download, replies, token check.

``api_base_url`` is the versioned Graph root (default ``https://graph.facebook.com/v21.0``);
every call carries ``Authorization: Bearer <access token>``. Media are two
calls: ``GET /{media-id}`` answers a short-lived URL, fetched with the same token.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from channels.base import BlobSink, OutboundReceipt, ReceiptSender
from channels.message import Attachment, ChannelError, InboundMessage, PeerUnavailable, Refused, Rejected
from channels.social.whatsapp import CHANNEL
from channels.social.whatsapp_window import (
    OUTSIDE_WINDOW_CODES,
    LastInbound,
    in_window,
    last_time,
    short_status,
    template_payload,
)

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"
MAX_TEXT = 4096
RETRYABLE_CODES = {4, 80007, 130429, 131000, 131016, 131048, 131056, 133004}  # rate limits, Meta-side errors


class GraphError(Exception):
    def __init__(self, status: int, code: Any, title: str) -> None:
        super().__init__(f"{status} (code {code}) {title}")
        self.status, self.code, self.title = status, code, title

    @property
    def retryable(self) -> bool:
        # 401/190: the token is wrong or expired — fixed by an operator, so worth retrying later
        return self.status >= 500 or self.status in (401, 429) or self.code in RETRYABLE_CODES


class GraphApi:
    """The few Graph endpoints we use; the aiohttp session is made on first use (no I/O at start-up)."""

    def __init__(self, access_token: str, phone_number_id: str, api_base_url: str | None = None,
                 timeout: float = 20.0) -> None:
        self.base = (api_base_url or DEFAULT_BASE_URL).rstrip("/")
        self.phone_number_id = phone_number_id
        self._auth = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._auth)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.session().request(method, f"{self.base}/{path}", **kwargs) as resp:
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerUnavailable(f"whatsapp: Graph API unreachable ({type(exc).__name__})") from None
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # a proxy's error page, a cut answer
            raise PeerUnavailable(f"whatsapp: Graph API answered {resp.status} with something else than JSON") from None
        if not isinstance(body, dict):
            raise PeerUnavailable(f"whatsapp: Graph API answered {resp.status} with JSON that is not an object")
        if resp.status >= 400 or "error" in body:
            err = body["error"] if isinstance(body.get("error"), dict) else {}
            # the error's "message" may quote what we sent; keep its type and code only
            raise GraphError(resp.status, err.get("code"), str(err.get("type") or resp.reason))
        return body

    async def download(self, media_id: str, limit: int) -> tuple[bytes, str]:
        """The bytes and media type of a media id, refusing anything over ``limit`` bytes."""
        info = await self.call("GET", media_id)
        if int(info.get("file_size") or 0) > limit:
            raise Rejected(413, f"{info['file_size']} bytes, over the {limit} byte limit")
        try:
            async with self.session().get(info["url"]) as resp:
                if resp.status != 200:
                    raise GraphError(resp.status, None, "media download refused")
                data = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        raise Rejected(413, f"more than the {limit} byte limit")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerUnavailable(f"whatsapp: media download failed ({type(exc).__name__})") from None
        return bytes(data), str(info.get("mime_type") or "application/octet-stream")


async def check_graph(graph: GraphApi) -> str:
    """Looks up our phone number id with the token: one line when fine.

    :class:`Refused` when Graph rejects the token (401, code 190) or its permissions (403, codes 10
    and 200-299): the channel is switched off. Anything else (unreachable, a timeout, a 5xx, an answer
    that is not Graph's JSON, a phone number id Graph does not know) is a ChannelError: the webhook
    stays on and the check is tried again.
    """
    try:
        info = await graph.call("GET", graph.phone_number_id, params={"fields": "display_phone_number,verified_name"})
    except GraphError as exc:
        if exc.status == 401 or exc.code == 190:
            raise Refused(f"whatsapp: access token rejected ({exc.status}, code {exc.code})") from None
        if exc.status == 403 or exc.code == 10 or (isinstance(exc.code, int) and 200 <= exc.code <= 299):
            raise Refused(f"whatsapp: access token lacks the permission ({exc.status}, code {exc.code}):"
                          " check whatsapp.access_token") from None
        if exc.status >= 500 or exc.retryable:
            raise PeerUnavailable(f"whatsapp: Graph API failed ({exc.status}, code {exc.code})") from None
        raise ChannelError(f"whatsapp: phone number id not usable ({exc.status}, code {exc.code})") from None
    name = info.get("verified_name")
    return f"whatsapp: on for {name if isinstance(name, str) and name.isprintable() else 'the business number'}," \
           " webhook at /channels/whatsapp"


class WhatsappMedia:
    """Completer: fetches the media an accepted message names into the blob store (idempotent)."""

    name = CHANNEL

    def __init__(self, graph: GraphApi, blobs: BlobSink, max_file_bytes: int) -> None:
        self.graph = graph
        self.blobs = blobs
        self.max_file_bytes = max_file_bytes

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        media: list[dict[str, Any]] = msg.metadata.get("media") or []
        if not media:
            return msg
        attachments: list[Attachment] = []
        errors: list[str] = []
        for m in media:
            try:
                data, media_type = await self.graph.download(str(m["id"]), self.max_file_bytes)
                attachments.append(await asyncio.to_thread(self.blobs.put, data, m.get("mime_type") or media_type,
                                                           m.get("file_name")))
            except Rejected as exc:
                errors.append(f"{m.get('kind', 'media')}: {exc.reason}")
            except GraphError as exc:
                if exc.retryable:
                    raise PeerUnavailable(f"whatsapp: media lookup failed ({exc})") from None
                errors.append(f"{m.get('kind', 'media')}: Graph API refused ({exc.status}, code {exc.code})")
        metadata = dict(msg.metadata)
        if errors:
            metadata["attachment_errors"] = errors
        return msg.model_copy(update={"attachments": attachments, "metadata": metadata})


LATE_KINDS = frozenset({"update", "rejection"})  # what the window applies to; a receipt answers a fresh message


class WhatsappReceiptSender:
    """Replies in the citizen's chat via ``POST /{phone-number-id}/messages``.

    An update or a rejection notice (:data:`LATE_KINDS`: sent long after the citizen wrote, not as an answer to
    their message) is free text only inside the 24-hour window
    (:mod:`channels.social.whatsapp_window`), which is the later of ``reply_context["last_inbound_at"]`` and
    what ``last_inbound`` finds (the worker sets it: the citizen's latest message, a reply too). Outside it:
    the template; with none set, ``sms`` to the same number; with neither, refused as undeliverable.
    """

    family = CHANNEL

    def __init__(self, graph: GraphApi, *, update_template: str | None = None, template_language: str = "id",
                 sms: ReceiptSender | None = None, last_inbound: LastInbound | None = None) -> None:
        self.graph = graph
        self.update_template = update_template
        self.template_language = template_language or "id"
        self.sms = sms  # set by the worker when SMS is on
        self.last_inbound = last_inbound  # set by the worker: looks the citizen's last message up

    @staticmethod
    def payload(receipt: OutboundReceipt) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": receipt.reply_context.get("to") or receipt.to,
            "type": "text",
            "text": {"preview_url": False, "body": receipt.text[:MAX_TEXT]},
        }
        if receipt.reply_context.get("message_id"):
            body["context"] = {"message_id": receipt.reply_context["message_id"]}
        return body

    def number_of(self, receipt: OutboundReceipt) -> str:
        return receipt.account if receipt.account.isdigit() else self.graph.phone_number_id

    async def send(self, receipt: OutboundReceipt) -> str:
        if receipt.kind in LATE_KINDS and not await self.window_open(receipt):
            return await self.outside_window(receipt)
        try:
            return await self._post(receipt, self.payload(receipt))
        except GraphError as exc:
            if receipt.kind in LATE_KINDS and exc.code in OUTSIDE_WINDOW_CODES:  # our clock thought it open
                return await self.outside_window(receipt)
            raise _failure(exc) from None

    async def window_open(self, receipt: OutboundReceipt) -> bool:
        ctx = receipt.reply_context
        found = None
        to = str(ctx.get("to") or receipt.to)
        if self.last_inbound is not None and to:
            found = await self.last_inbound(receipt.account, to)
        return in_window(last_time(ctx.get("last_inbound_at"), found))

    async def outside_window(self, receipt: OutboundReceipt) -> str:
        ctx = receipt.reply_context
        to = str(ctx.get("to") or receipt.to)
        if self.update_template:
            body = template_payload(to, self.update_template, self.template_language, str(ctx.get("tracking_id")),
                                    short_status(ctx, self.template_language))
            try:
                return await self._post(receipt, body)
            except GraphError as exc:
                raise _failure(exc) from None
        if self.sms is not None and to:
            # the same number by SMS; no receipt id, so no delivery report is taken for another family's row
            sms = OutboundReceipt(channel="sms.whatsapp", account="", to="+" + to.lstrip("+"), text=receipt.text,
                                  reply_context={"tracking_id": ctx.get("tracking_id")}, kind=receipt.kind)
            return "sms:" + await self.sms.send(sms)
        raise Rejected(422, "whatsapp: undeliverable, more than 24 hours since the citizen wrote and no "
                            "whatsapp.update_template set (SMS off)")

    async def _post(self, receipt: OutboundReceipt, body: dict[str, Any]) -> str:
        answer = await self.graph.call("POST", f"{self.number_of(receipt)}/messages", json=body)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise PeerUnavailable("whatsapp: reply answer without a message id") from None

    async def close(self) -> None:
        await self.graph.close()


def _failure(exc: GraphError) -> ChannelError:
    if exc.retryable:
        return PeerUnavailable(f"whatsapp: reply not sent ({exc})")
    return Rejected(exc.status if 400 <= exc.status < 500 else 400, f"whatsapp refused the reply ({exc})")
