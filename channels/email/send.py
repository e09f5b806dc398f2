"""Email receipts over SMTP (aiosmtplib), answered in the citizen's thread.

Headers per RFC 3834 and 5322: ``In-Reply-To`` / ``References`` from the
citizen's mail, ``Auto-Submitted: auto-replied`` (so well-behaved responders
do not answer us), and our own Message-ID ``<lapor.{tracking}.{rand}@domain>``
(:mod:`channels.email.thread_ids`) so replies and bounces find their complaint
without a lookup. The envelope sender is ``mail.from`` so bounces come back to
our mailbox. Receipts to one address are limited per hour (``Rejected(429)``).

An update (the agency's answer or a status change, ``receipt.kind == "update"``) goes in the same
thread: ``In-Reply-To`` the citizen's mail, ``References`` naming it and our receipt, whose
Message-ID is derived from the reply context (:func:`~channels.email.thread_ids.receipt_message_id`)
so no lookup is needed; each update has its own Message-ID, the same when it is sent again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict, deque
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from html import escape
from typing import TYPE_CHECKING, Any

import aiosmtplib

from channels.base import OutboundReceipt
from channels.email.thread_ids import derived_message_id, make_message_id, receipt_message_id, references_chain
from channels.message import PeerUnavailable, Rejected

if TYPE_CHECKING:
    from gateway.settings import Settings

__all__ = ["EmailReceiptSender", "RateLimiter", "from_settings"]

DEFAULT_SUBJECT = "Laporan Anda telah kami terima"
UPDATE_SUBJECT = "Tanggapan atas laporan Anda"
# SMTP sessions open to the relay at once. Every receipt opens its own; without a cap a burst opened as many
# as receipts are sent at once (receipts.concurrency), past a Postfix's 100 smtpd processes for all its clients
MAX_SESSIONS = 32
_REPLY_PREFIX = re.compile(r"^(?:(?:re|aw|balas)\s*:\s*)+", re.IGNORECASE)
_OUR_ID = re.compile(r"<lapor\.[^<>\s]+@[^<>\s]+>")


class RateLimiter:
    """At most ``limit`` events per key in any ``window`` seconds (in memory; a restart forgives)."""

    def __init__(self, limit: int, window: float = 3600.0) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        q = self._events[key]
        while q and now - q[0] >= self.window:
            q.popleft()
        if len(q) >= self.limit:
            return False
        q.append(now)
        return True

    def undo(self, key: str) -> None:
        """Forget the last event of ``key`` (the send it counted did not happen)."""
        if self._events.get(key):
            self._events[key].pop()


def reply_subject(original: str | None, fallback: str = DEFAULT_SUBJECT) -> str:
    if not original:
        return fallback
    return original if original[:3].lower() == "re:" else f"Re: {original}"


def update_subject(original: str | None, tracking_id: str | None) -> str:
    """``Re: [LAPOR 1234567890] <the citizen's subject>``: the thread's subject, with the ticket named."""
    base = _REPLY_PREFIX.sub("", " ".join((original or "").split())) or UPDATE_SUBJECT
    if tracking_id and tracking_id not in base:
        base = f"[LAPOR {tracking_id}] {base}"
    return reply_subject(base)


def text_to_html(text: str) -> str:
    paragraphs = [escape(p).replace("\n", "<br>\n") for p in text.strip().split("\n\n")]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


class EmailReceiptSender:
    family = "email"

    def __init__(
        self,
        host: str,
        port: int,
        from_addr: str,
        rate_per_hour: int = 5,
        from_name: str = "Layanan Pengaduan",
        timeout: float = 30.0,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.host, self.port = host, port
        self.from_addr = from_addr
        self.from_name = from_name
        self.domain = from_addr.rpartition("@")[2] or "localhost"
        self.timeout = timeout
        self.limiter = RateLimiter(rate_per_hour)
        self._sessions = asyncio.Semaphore(max_sessions)

    def build(self, receipt: OutboundReceipt) -> EmailMessage:
        ctx = receipt.reply_context
        tracking = ctx.get("tracking_id")
        update = receipt.kind == "update"
        msg = EmailMessage()
        msg["From"] = formataddr((self.from_name, self.from_addr))
        msg["To"] = receipt.to
        if update:
            msg["Subject"] = update_subject(ctx.get("subject") or receipt.subject, tracking)
        else:
            msg["Subject"] = receipt.subject or reply_subject(ctx.get("subject"))
        msg["Date"] = formatdate(localtime=False)
        parent = ctx.get("message_id")
        refs = references_chain(ctx.get("references"), parent)
        if update and tracking:
            ours = self.receipt_message_id(ctx)
            # one id per update and address (its row), kept when the same row is sent again
            msg["Message-ID"] = derived_message_id(str(tracking), f"update|{ctx.get('receipt_id') or ''}|"
                                                   f"{ctx.get('update_id') or ''}", self.domain)
            parent = parent or ours
            refs = references_chain(refs, ours)
        elif tracking and receipt.kind == "receipt":
            msg["Message-ID"] = receipt_message_id(str(tracking), parent, self.domain)
        else:
            msg["Message-ID"] = (
                make_message_id(str(tracking), self.domain) if tracking else make_msgid("lapor", self.domain)
            )
        if parent:
            msg["In-Reply-To"] = parent
        if refs:
            msg["References"] = refs
        # RFC 3834: an update is generated by us, not a reply to the citizen's last mail; either way no
        # responder should answer it (a person may: that is a citizen response)
        msg["Auto-Submitted"] = "auto-generated" if update else "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # Outlook/Exchange: no out-of-office back to us
        if not update:
            msg["Precedence"] = "auto_reply"
        msg.set_content(receipt.text)
        msg.add_alternative(receipt.html or text_to_html(receipt.text), subtype="html")
        return msg

    def receipt_message_id(self, ctx: dict[str, Any]) -> str:
        """Our receipt's Message-ID for the ticket of ``ctx``: as recorded when the update carries it (the
        receipt's provider id), else derived as the receipt derived it."""
        for key in ("original_provider_id", "receipt_message_id"):
            value = ctx.get(key)
            if isinstance(value, str) and _OUR_ID.fullmatch(value.strip()):
                return value.strip()
        return receipt_message_id(str(ctx.get("tracking_id")), ctx.get("message_id"), self.domain)

    async def send(self, receipt: OutboundReceipt) -> str:
        to = receipt.to.strip().lower()
        if "@" not in to:
            raise Rejected(400, "receipt address is not an email address")
        # the hourly cap is for receipts (a flood of mails in): an agency's answer is capped per citizen by
        # the worker's durable limits, never refused here
        if receipt.kind != "update" and not self.limiter.allow(to):
            raise Rejected(429, "too many receipts to this address in the last hour")
        try:
            return await self._send(self.build(receipt))
        except PeerUnavailable:
            if receipt.kind != "update":
                self.limiter.undo(to)  # a retry later must not count twice
            raise
        except ValueError as exc:
            # e.g. From: "Name"@example.com> parses to an address SMTP cannot carry; the message would
            # name the address, so it is not passed on
            raise Rejected(400, "receipt address is not a valid email address") from exc

    async def _send(self, msg: EmailMessage) -> str:
        try:
            # one timeout for the whole send, the wait for a session included (aiosmtplib's own is per command):
            # behind a relay that hangs, a queued receipt fails in one timeout and is retried later
            async with asyncio.timeout(self.timeout), self._sessions:
                await aiosmtplib.send(
                    msg, sender=self.from_addr, recipients=[str(msg["To"])], hostname=self.host, port=self.port,
                    timeout=self.timeout, start_tls=False,
                )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(500 <= c < 600 for c in codes):
                raise Rejected(550, "relay refused the recipient") from exc
            raise PeerUnavailable("relay deferred the recipient") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise Rejected(exc.code, f"relay refused the receipt ({exc.code})") from exc
            raise PeerUnavailable(f"relay answered {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise PeerUnavailable(f"relay unreachable: {type(exc).__name__}") from exc
        return str(msg["Message-ID"])


def from_settings(settings: Settings) -> EmailReceiptSender | None:
    m = settings.mail
    if not m.outbound_host:
        return None
    return EmailReceiptSender(m.outbound_host, m.outbound_port, m.from_, m.receipt_rate_per_hour)
