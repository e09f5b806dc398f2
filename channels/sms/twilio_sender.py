"""SMS receipts through Twilio's Messages API, for the citizens who wrote to our Twilio number.

``POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with the form fields ``To``, ``From``
and ``Body``, HTTP basic auth ``AccountSid:AuthToken``; Twilio answers ``201`` with the message's
``sid`` (the provider id). Numbers go in E.164 (``+62…``): the webhook keeps them as digits.

Errors are mapped as the receipt worker expects: 401/403 (the account refuses us) and other 4xx
(this message is refused: Twilio's ``code`` only, its ``message`` names the number) are
:class:`Rejected`; 429, 5xx and no answer are :class:`PeerUnavailable` (tried again later).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import aiohttp

from channels.base import OutboundReceipt
from channels.message import PeerUnavailable, Rejected

API_BASE_URL = "https://api.twilio.com"


class TwilioSender:
    family = "sms.twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str | None = None,
                 api_base_url: str = API_BASE_URL, timeout: float = 10.0) -> None:
        self.url = f"{api_base_url.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"
        basic = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self.headers = {"Authorization": f"Basic {basic}"}  # RFC 7617, as Twilio's API asks
        self.sender = sender  # None: the number the citizen wrote to
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def form(self, receipt: OutboundReceipt) -> dict[str, str]:
        return {"To": e164(receipt.to), "From": e164(self.sender or receipt.account), "Body": receipt.text}

    async def send(self, receipt: OutboundReceipt) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(self.url, data=self.form(receipt), headers=self.headers) as resp:
                status, answer = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerUnavailable(f"twilio unreachable: {type(exc).__name__}") from exc
        body = _json(answer)
        if status in (200, 201):
            sid = body.get("sid")
            if not isinstance(sid, str) or not sid:
                raise PeerUnavailable(f"twilio answered {status} without a message sid")
            return sid
        code = body.get("code")
        said = f" (Twilio error {code})" if isinstance(code, int) else ""
        if status == 429 or status >= 500:
            raise PeerUnavailable(f"twilio answered {status}{said}")
        if status in (401, 403):
            raise Rejected(status, f"twilio refused the account's credentials{said}")
        if 400 <= status < 500:
            raise Rejected(status, f"twilio refused the message{said}")
        raise PeerUnavailable(f"twilio answered {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def e164(number: str) -> str:
    """``6281…`` → ``+6281…``; a number already with ``+`` (or a sender id such as ``LAPOR``) as it is."""
    n = number.strip()
    return "+" + n if n.isdigit() else n


def _json(data: bytes) -> dict[str, object]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # not JSON (a proxy's page), or nested past reason
        return {}
    return value if isinstance(value, dict) else {}
