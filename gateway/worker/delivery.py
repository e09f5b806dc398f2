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

from channels.base import ReceiptSender
from channels.letters.printer import LettersReceiptPrinter
from channels.social.telegram_bot import TelegramReceiptSender
from channels.social.whatsapp import CHANNEL as WHATSAPP
from channels.social.whatsapp_graph import WhatsappReceiptSender
from channels.social.whatsapp_window import WINDOW_SECONDS
from gateway.store.ports import DeliveryLookups


def attach_delivery(senders: Iterable[ReceiptSender], journal: DeliveryLookups, *, language: str = "id") -> None:
    senders = list(senders)
    sms = next((s for s in senders if s.family == "sms"), None)

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
