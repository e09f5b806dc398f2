"""A stand-in receipt sender (``channels.base`` sender protocol) that records what the receipt worker gives it."""

from __future__ import annotations

from channels.base import OutboundReceipt


class RecordingSender:
    """Keeps each receipt in ``sent`` and answers provider ids ``<prefix>1``, ``<prefix>2``, …; while ``down`` is
    an exception it raises that instead (a peer that is down, or refuses)."""

    def __init__(self, family: str = "sms", prefix: str = "p") -> None:
        self.family = family
        self.prefix = prefix
        self.down: Exception | None = None
        self.sent: list[OutboundReceipt] = []

    async def send(self, receipt: OutboundReceipt) -> str:
        if self.down is not None:
            raise self.down
        self.sent.append(receipt)
        return f"{self.prefix}{len(self.sent)}"
