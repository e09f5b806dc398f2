"""A local SMTP sink (aiosmtpd) that captures what the gateway sends: receipts, in tests.

Runs on the test's event loop: ``async with SmtpSink() as sink`` then point the
sender at ``sink.port``; ``sink.messages`` holds parsed messages with their
envelope. ``fail_with`` makes it answer DATA with that reply (e.g. ``"451 later"``); ``hold_data`` makes
each DATA wait that long before it answers (a slow relay), and ``most_in_data`` is the most sessions that were
in DATA at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    fail_with: str | None = None
    hold_data: float = 0.0
    most_in_data: int = 0
    _in_data: int = 0
    messages: list[Captured] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    _arrived: asyncio.Condition | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._in_data += 1
        self.most_in_data = max(self.most_in_data, self._in_data)
        try:
            await asyncio.sleep(self.hold_data)
        finally:
            self._in_data -= 1
        if self.fail_with:
            return self.fail_with
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
        self.messages.append(Captured(envelope.mail_from, list(envelope.rcpt_tos), raw, msg))  # type: ignore[arg-type]
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        return "250 OK"

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Captured]:
        assert self._arrived is not None
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.messages) >= count), timeout)
        return self.messages

    async def __aenter__(self) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self._arrived = asyncio.Condition()
        self._server = await loop.create_server(
            lambda: SMTP(self, enable_SMTPUTF8=True, decode_data=False), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
