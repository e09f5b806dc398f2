"""Inbound SMTP for a direct MX: an aiosmtpd server whose 250 means "durably journaled".

``handle_RCPT`` accepts only our domains (550, no open relay); aiosmtpd
enforces ``max_message_bytes`` (552) and offers SIZE, 8BITMIME and SMTPUTF8.
``handle_DATA`` builds the cheap :func:`~channels.email.complete.raw_message`
(the raw bytes travel inside the journaled message; over 1 MiB they go to the blob store) and answers 250 only after
``accept`` returned (451 when it failed); MIME parsing is deferred to
:meth:`complete`. The server runs on the caller's event loop, so ``accept`` is
awaited where the journal lives.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.base import Accept, BlobSink, CursorStore
from channels.email.complete import INLINE_MAX, MailCompleter, raw_message
from channels.email.mime import Limits
from channels.email.scans import MailScans
from channels.email.scans import from_settings as scans_from_settings
from channels.message import InboundMessage, Rejected

if TYPE_CHECKING:
    from gateway.settings import Settings

__all__ = ["IntakeHandler", "SmtpListener", "from_settings"]

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(">").lower()


class IntakeHandler:
    """aiosmtpd handler: recipient policy and the durable accept before 250."""

    def __init__(self, domains: list[str], accept: Accept, blobs: BlobSink, channel: str = "email.smtp") -> None:
        self.domains = {d.lower().strip() for d in domains}
        self.accept = accept
        self.blobs = blobs
        self.channel = channel

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if _domain(address) not in self.domains:
            return "550 5.7.1 Relaying denied: we accept mail only for our own domains"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes) or not envelope.rcpt_tos:
            return "554 5.5.1 No valid recipients"
        mail_from = envelope.mail_from or ""
        try:
            build = partial(
                raw_message,
                self.channel,
                envelope.rcpt_tos[0].lower(),
                raw,
                self.blobs,
                mail_from or None,
                rcpt_to=[r.lower() for r in envelope.rcpt_tos],
                null_sender=mail_from in ("", "<>"),
            )
            # a mail that travels inside the journal costs no file I/O: build it here
            msg = build() if len(raw) <= INLINE_MAX else await asyncio.to_thread(build)
            result = await self.accept(msg)
        except Rejected as exc:
            return f"552 5.3.4 {exc.reason}"
        except Exception as exc:  # journal or disk trouble: the client keeps the mail and retries
            log.warning("smtp intake failed, answering 451: %s", type(exc).__name__)
            return "451 4.3.0 Temporary failure, please retry"
        return f"250 2.0.0 OK queued as {result.message_id}"


class SmtpListener:
    """``Poller`` for the gateway: ``await listener.run(accept)`` serves until cancelled; also a ``Completer``."""

    name = "email.smtp"

    def __init__(
        self,
        host: str,
        port: int,
        domains: list[str],
        blobs: BlobSink,
        max_message_bytes: int = 10 * 1024 * 1024,
        limits: Limits | None = None,
        hostname: str | None = None,
        timeout: float = 60,
        scans: MailScans | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.domains = domains
        self.blobs = blobs
        self.max_message_bytes = max_message_bytes
        self.hostname = hostname
        self.timeout = timeout
        self.completer = MailCompleter(blobs, limits, scans)
        self.started = asyncio.Event()
        self.bound_port: int | None = None

    def protocol(self, handler: Any) -> SMTP:
        return SMTP(
            handler,
            data_size_limit=self.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident="lapor-gateway ESMTP",
            timeout=self.timeout,
        )

    async def run(self, accept: Accept) -> None:
        handler = IntakeHandler(self.domains, accept, self.blobs, self.name)
        await self.serve(handler)

    async def serve(self, handler: Any) -> None:
        """Serve ``handler`` until cancelled (the benchmark passes a no-op handler here)."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: self.protocol(handler), self.host, self.port, reuse_address=True)
        self.bound_port = server.sockets[0].getsockname()[1]
        log.info("smtp listening on %s:%d", self.host, self.bound_port)
        self.started.set()
        try:
            async with server:
                await server.serve_forever()
        finally:
            self.started.clear()

    async def check(self) -> str:
        return f"smtp on {self.host}:{self.port} for {len(self.domains)} domain(s)"

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        return await self.completer.complete(msg)

    def is_heavy(self, msg: InboundMessage) -> bool:
        """Cheap, no MIME parse: see :meth:`MailCompleter.is_heavy`."""
        return self.completer.is_heavy(msg)


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_attachments=settings.mail.max_attachments, max_attachment_bytes=settings.mail.max_attachment_bytes
    )


def from_settings(settings: Settings, blobs: BlobSink, cursors: CursorStore | None = None) -> SmtpListener | None:
    """None when SMTP is disabled or no recipient domain is configured (it would refuse everything)."""
    s = settings.smtp
    if not s.enabled or not s.domains:
        return None
    return SmtpListener(s.host, s.port, s.domains, blobs, s.max_message_bytes, limits_from(settings),
                        scans=scans_from_settings(settings, blobs))
