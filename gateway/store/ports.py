"""What each part of the gateway needs from storage, one ``Protocol`` per owner.

The SQLite adapter (:class:`gateway.store.sqlite.journal.Journal`) implements all of them; a
PostgreSQL adapter would be one more folder beside ``sqlite/`` implementing the same. Methods that
read without ``async`` block: callers on an event loop run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from channels.base import AcceptResult
from channels.message import InboundMessage
from forwarder.outbox import OutboxStore
from gateway.store.records import DueInbound, Event, InboundOutcome

__all__ = [
    "ComplaintStore", "CursorStore", "EventLog", "InboundStore", "OutboxStore", "OutcomeStore", "ReceiptStore",
    "ReviewStore", "RouterStore",
]


class InboundStore(Protocol):
    """The acknowledging process: what citizens sent, durable before the 200."""

    async def accept(self, msg: InboundMessage) -> AcceptResult: ...

    async def accept_many(self, msgs: list[InboundMessage]) -> list[AcceptResult]: ...


class CursorStore(Protocol):
    """Pollers' positions (IMAP UID, X since_id), kept beside what they accepted."""

    async def get_cursor(self, key: str) -> str | None: ...

    async def set_cursor(self, key: str, value: str) -> None: ...


class OutcomeStore(Protocol):
    """The worker: messages due, and its decisions written with its cursor in one batch."""

    def worker_cursor(self) -> int: ...

    def due_inbound(self, after: int, limit: int, *, deferred: int = 0, busy: Iterable[int] = ()) -> list[DueInbound]: ...

    async def record_outcomes(
        self, outcomes: list[InboundOutcome], cursor: int | None = None, *, max_attempts: int = 8
    ) -> list[bool]: ...

    def progress(self) -> dict[str, Any]: ...


class ComplaintStore(Protocol):
    """Complaints by tracking ID (``CEK``, ``INFO``, ``show``) and by reporter (near-duplicates)."""

    def complaint_by_tracking(self, tracking_id: str) -> dict[str, Any] | None: ...

    def recent_by_reporter(self, reporter_ref: str, since: float) -> list[tuple[str, str]]: ...

    def tracking_for_inbound(self, inbound_ids: list[int]) -> dict[int, str]: ...

    def retry_dead_sync(self, tracking_ids: Iterable[str] | None = None) -> int: ...

    def retry_dead_forwards_sync(self, tracking_ids: Iterable[str] | None = None) -> list[str]: ...

    def awaiting_details(self, reporter_refs: Iterable[str], since: float) -> dict[str, Any] | None: ...


class ReviewStore(Protocol):
    def review_queue(self) -> list[dict[str, Any]]: ...

    def review_decide_sync(self, tracking_id: str, approve: bool) -> bool: ...

    def review_correct_sync(self, tracking_id: str, record_json: str) -> bool: ...


class ReceiptStore(Protocol):
    """The receipt worker: due receipts (opened), their states, the unsure window after a crash."""

    def due_receipts(self, limit: int) -> list[dict[str, Any]]: ...

    async def set_receipt_state(
        self, receipt_id: str, state: str, *, provider_id: str | None = None, error: str | None = None,
        next_at: float = 0, event: Event | None = None, failing: bool = False,
    ) -> None: ...

    async def mark_unsure_sending(self) -> int: ...

    async def resend_unsure(self) -> int: ...

    def receipts_for(self, tracking_id: str) -> list[dict[str, Any]]: ...

    def receipt_texts_for(self, tracking_id: str) -> dict[str, str]: ...

    async def set_receipt_path(self, family: str, up: bool, since: float, reason: str | None = None) -> int: ...

    def receipt_paths(self) -> dict[str, dict[str, Any]]: ...

    def retry_failed_receipts_sync(self, tracking_ids: Iterable[str] | None = None) -> list[tuple[str, str, str]]: ...

    def known_tracking_ids(self, tracking_ids: Iterable[str]) -> set[str]: ...


class EventLog(Protocol):
    """The intake log and the counts behind /metrics."""

    async def log_event(self, event: Event) -> None: ...

    def events_after(self, seq: int, limit: int = 500) -> list[dict[str, Any]]: ...

    def events_matching(
        self, *, after: int = 0, last: int | None = None, channels: Sequence[str] | None = None,
        states: Sequence[str] = (), tracking_id: str | None = None, since: float | None = None, limit: int = 500,
    ) -> list[dict[str, Any]]: ...

    def event_channels(self) -> list[str]: ...

    def last_event_seq(self) -> int: ...

    def counts(self) -> dict[str, dict[str, int]]: ...


class RouterStore(OutcomeStore, ComplaintStore, Protocol):
    """What the router needs: its messages and outcomes, and complaints to look up."""
