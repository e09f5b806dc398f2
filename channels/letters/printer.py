"""The receipt "sender" for letters: a printable PDF for the staff to post or hand over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from channels.base import OutboundReceipt
from channels.citizen_time import DEFAULT_TIMEZONE
from channels.letters.receipt_pdf import render_receipt_pdf


class LettersReceiptPrinter:
    family = "letters"

    def __init__(self, folder: Path, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.folder = Path(folder)
        self.timezone = timezone  # service.timezone: the zone the receipt's time is shown in

    async def send(self, receipt: OutboundReceipt) -> str:
        tid = receipt.reply_context["tracking_id"]
        target = self.folder / f"{tid}.pdf"
        self.folder.mkdir(parents=True, exist_ok=True)
        label = {"form": "Kotak pengaduan", "fax": "Faks"}.get(receipt.reply_context.get("kind") or "", "Surat")
        # the PDF carries its own "how to check the status" lines; the text template is for SMS/email
        now = datetime.now(UTC)
        await asyncio.to_thread(render_receipt_pdf, target, tid, now, label, None, self.timezone)
        return str(target)
