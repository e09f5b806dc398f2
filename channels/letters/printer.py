"""The receipt "sender" for letters: a printable PDF for the staff to post or hand over.

A receipt goes to ``<folder>/<tracking_id>.pdf``; an update (the agency's answer, ``receipt.kind ==
"update"``) becomes an answer letter at ``<outbox>/<tracking_id>-<update_id>.pdf``
(:mod:`channels.letters.answer_pdf`), addressed with the name and address the letter gave: from the
update's reply context when it carries them, else from ``identity`` (the worker sets it: the vault's
identity of the complaint, so an anonymous reporter is reached too). A notice that the complaint cannot be
processed (``receipt.kind == "rejection"``) is such a letter too, at ``<outbox>/<tracking_id>-tolak.pdf``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channels.base import OutboundReceipt
from channels.citizen_time import DEFAULT_TIMEZONE
from channels.letters.answer_pdf import Addressee, render_answer_pdf
from channels.letters.receipt_pdf import render_receipt_pdf
from channels.message import Rejected

Identity = Callable[[str], Awaitable[dict[str, Any] | None]]  # tracking ID → the vault's identity
_SAFE = re.compile(r"[^0-9A-Za-z_-]")


class LettersReceiptPrinter:
    family = "letters"

    def __init__(self, folder: Path, timezone: str = DEFAULT_TIMEZONE, *, outbox: Path | None = None,
                 language: str = "id", identity: Identity | None = None) -> None:
        self.folder = Path(folder)
        self.timezone = timezone  # service.timezone: the zone the receipt's time is shown in
        # <data.dir>/outbox/letters beside <data.dir>/receipts unless told
        self.outbox = Path(outbox) if outbox else self.folder.parent / "outbox" / "letters"
        self.language = language
        self.identity = identity

    async def send(self, receipt: OutboundReceipt) -> str:
        if receipt.kind in ("update", "rejection"):  # the gateway's words to the citizen: a letter
            return await self.answer(receipt)
        tid = receipt.reply_context["tracking_id"]
        target = self.folder / f"{tid}.pdf"
        self.folder.mkdir(parents=True, exist_ok=True)
        label = {"form": "Kotak pengaduan", "fax": "Faks", "desk": "Loket pengaduan"}.get(receipt.reply_context.get("kind") or "", "Surat")
        # the PDF carries its own "how to check the status" lines; the text template is for SMS/email
        now = datetime.now(UTC)
        await asyncio.to_thread(render_receipt_pdf, target, tid, now, label, None, self.timezone)
        return str(target)

    async def answer(self, receipt: OutboundReceipt) -> str:
        ctx = receipt.reply_context
        number = "tolak" if receipt.kind == "rejection" else ctx.get("update_id")  # LAPOR/<tid>/<number>
        tid, update_id = _SAFE.sub("", str(ctx.get("tracking_id") or "")), _SAFE.sub("", str(number or ""))
        if not tid or not update_id:
            raise Rejected(400, "letters: an update without its tracking ID or update id")
        to = await self.addressee(tid, ctx)
        target = self.outbox / f"{tid}-{update_id}.pdf"
        self.outbox.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(render_answer_pdf, target, tid, update_id, receipt.text, to, datetime.now(UTC),
                                language=self.language, timezone=self.timezone)
        return str(target)

    async def addressee(self, tracking_id: str, ctx: dict[str, Any]) -> Addressee:
        name, address = ctx.get("reporter_name"), ctx.get("reporter_address")
        if not (name or address) and self.identity is not None:
            found = await self.identity(tracking_id) or {}
            reporter = found.get("reporter") if isinstance(found.get("reporter"), dict) else {}
            name, address = reporter.get("name"), reporter.get("address")
        return Addressee(name if isinstance(name, str) else None, address if isinstance(address, str) else None)
