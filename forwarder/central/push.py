"""The optional wake-up push: after new updates, POST ``{"after": <update_id>}`` to the gateway.

``after`` is the newest ``update_id`` the store has made durable. The push is a hint only (the
feed stays the source of truth), so it is coalesced (a burst of updates gives one or two POSTs,
never a queue), signed like the forwarder's requests (``X-Signature: sha256=<hex HMAC>`` with
``central.hmac_key``), and its failures are logged and dropped: nothing waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiohttp

from channels.signing import sha256_signature

log = logging.getLogger("lapor.central.push")

PUSH_PATH = "/channels/central/updates"


class UpdatePusher:
    """Sends the newest ``update_id`` to ``<gateway_url>/channels/central/updates``; :meth:`notify` never blocks."""

    def __init__(self, gateway_url: str, hmac_key: str | bytes, *, timeout_seconds: float = 5.0) -> None:
        self.url = gateway_url.rstrip("/") + PUSH_PATH
        self._key = hmac_key
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._wanted = 0  # newest update_id announced
        self._pushed = 0  # newest update_id the gateway acknowledged (2xx)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.failed = 0

    def notify(self, update_id: int) -> None:
        """A store listener: remember the newest id and wake the sender."""
        if update_id > self._wanted:
            self._wanted = update_id
            self._idle.clear()
            self._wake.set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        self._task = asyncio.create_task(self._run(), name="central-push")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def drain(self) -> None:
        """Wait until every announced id has been tried once (for tests and a clean stop)."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            after = self._wanted
            if after > self._pushed:
                await self._push(after)
            if not self._wake.is_set():
                self._idle.set()

    async def _push(self, after: int) -> None:
        assert self._session is not None
        body = json.dumps({"after": after}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Signature": sha256_signature(self._key, body)}
        try:
            async with self._session.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                if resp.status >= 300:
                    raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.failed += 1
            log.warning("wake-up push to the gateway failed (%s); it reads the feed anyway", _reason(exc))
            return
        self.sent += 1
        self._pushed = max(self._pushed, after)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}"
    return type(exc).__name__
