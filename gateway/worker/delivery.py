"""What the senders of updates need from the worker, given to them once they are built.

The channels import nothing of the gateway, so the lookups they need for an update come in as plain
callables: WhatsApp asks when the citizen last wrote (its 24-hour window) and sends by SMS when it may
not write and has no template; the letters printer asks the vault whom an answer letter goes to. The
printer and Telegram word their own fixed texts in the receipts' language.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from channels.base import OutboundReceipt, ReceiptSender
from channels.letters.printer import LettersReceiptPrinter
from channels.message import PeerUnavailable, Rejected
from channels.social.telegram_bot import TelegramReceiptSender
from channels.social.whatsapp import CHANNEL as WHATSAPP
from channels.social.whatsapp_graph import WhatsappReceiptSender
from channels.social.whatsapp_window import WINDOW_SECONDS
from gateway.store.ports import DeliveryLookups
from gateway.worker.rate_limits import RateLimits


class CountedSms:
    """The SMS sender as WhatsApp's fallback uses it: each send checked and counted by the SMS quotas first
    (per minute overall, per number), as the receipt worker counts the SMS sender's own sends. Over a quota
    that waits: PeerUnavailable (the update is tried again later); over one that does not: Rejected (failed,
    its rule shown)."""

    def __init__(self, sms: ReceiptSender, limits: RateLimits) -> None:
        self.sms, self.limits = sms, limits
        self.family = sms.family

    async def send(self, receipt: OutboundReceipt) -> str:
        tid = receipt.reply_context.get("tracking_id")
        claim = await self.limits.count(self.family, receipt.kind, receipt.to, receipt.channel,
                                        str(tid) if tid else None)
        if claim.outcome == "limited":
            raise Rejected(429, f"rate limit {claim.rule} (the SMS fallback)")
        if claim.outcome != "send":
            raise PeerUnavailable(f"rate limit {claim.rule} (the SMS fallback); tried again later")
        try:
            return await self.sms.send(receipt)
        except PeerUnavailable as exc:
            await self.limits.give_back(claim)  # not sent: the retry must not count twice
            # said as the SMS path's fault: WhatsApp's own API is fine, the operator looks at Kannel
            raise PeerUnavailable(f"the SMS fallback: {exc}") from exc


def attach_delivery(senders: Iterable[ReceiptSender], journal: DeliveryLookups, *, language: str = "id",
                    limits: RateLimits | None = None) -> None:
    senders = list(senders)
    sms: Any = next((s for s in senders if s.family == "sms"), None)
    if sms is not None and limits is not None:
        sms = CountedSms(sms, limits)

    async def last_inbound(account: str, wa_id: str) -> float | None:
        since = time.time() - WINDOW_SECONDS
        return await asyncio.to_thread(journal.last_inbound_from, WHATSAPP, account, wa_id, since)

    async def identity(tracking_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(journal.sealed_identity, tracking_id)

    for sender in senders:
        if isinstance(sender, WhatsappReceiptSender):
            sender.last_inbound = last_inbound
            sender.sms = sms
        elif isinstance(sender, LettersReceiptPrinter):
            sender.identity = identity
            sender.language = language
        elif isinstance(sender, TelegramReceiptSender):
            sender.language = language  # the fixed sentence a group sees instead of an answer
