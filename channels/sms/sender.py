"""SMS receipts through Kannel's ``/cgi-bin/sendsms``.

GSM-7 text goes as is; anything else with ``coding=2&charset=UTF-8`` (without
it Kannel turns emoji into '?'). Each send asks for delivery reports to our
DLR webhook so the delivery is recorded against the receipt.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp

from channels.base import OutboundReceipt
from channels.message import PeerUnavailable, Rejected
from channels.sms.gsm import is_gsm7


class KannelSender:
    family = "sms"

    def __init__(
        self,
        sendsms_url: str,
        username: str | None,
        password: str | None,
        sender: str,
        dlr_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = sendsms_url
        self.username = username
        self.password = password
        self.sender = sender
        self.dlr_url = dlr_url
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def query(self, receipt: OutboundReceipt) -> dict[str, str]:
        q = {"from": self.sender, "to": receipt.to, "text": receipt.text}
        if self.username:
            q["username"] = self.username
        if self.password:
            q["password"] = self.password
        if not is_gsm7(receipt.text):
            q |= {"coding": "2", "charset": "UTF-8"}
        rid = receipt.reply_context.get("receipt_id")
        if self.dlr_url and rid:
            sep = "&" if "?" in self.dlr_url else "?"
            # %d is substituted by Kannel with the DLR status
            q |= {"dlr-mask": "31", "dlr-url": f"{self.dlr_url}{sep}{urlencode({'receipt': rid})}&status=%d"}
        return q

    async def send(self, receipt: OutboundReceipt) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.get(self.url, params=self.query(receipt)) as resp:
                answer = (await resp.text())[:200]
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerUnavailable(f"kannel sendsms unreachable: {type(exc).__name__}") from exc
        if resp.status in (200, 202):
            return str(receipt.reply_context.get("receipt_id") or answer)
        if resp.status in (401, 403) or 400 <= resp.status < 500:
            raise Rejected(resp.status, f"kannel refused sendsms: {answer.strip()}")
        raise PeerUnavailable(f"kannel sendsms answered {resp.status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
