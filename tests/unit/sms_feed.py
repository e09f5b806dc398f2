"""SMS through the real router into a real journal, as the worker takes them: for tests that need a complaint
(and a citizen's ``BALAS`` on it) written the way intake writes it."""

from __future__ import annotations

from typing import Any

from channels.message import InboundMessage
from gateway.store.sqlite.journal import Journal
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer


async def no_status(_tid: str) -> dict[str, Any] | None:
    """A status lookup that knows no complaint."""
    return None


def sms_router(journal: Journal) -> Router:
    """The router with the reference normalizer, Indonesian texts and no status lookup."""
    return Router(journal, Normalizer("ref-key"), Templates("id"), {}, no_status)


async def feed(journal: Journal, router: Router, text: str, n: int, sender: str) -> None:
    """SMS number ``n`` from ``sender`` to the short code, accepted and routed."""
    await journal.accept(InboundMessage(channel="sms.kannel", account="1708", external_id=f"sms{n}", sender=sender,
                                        text=text))
    await router.process(journal.due_inbound(router.cursor, 100))
