"""What each part of the gateway needs from storage, one ``Protocol`` per owner.

The SQLite adapter (:class:`gateway.store.sqlite.journal.Journal`) implements all of them; a
PostgreSQL adapter would be one more folder beside ``sqlite/`` implementing the same. Methods that
read without ``async`` block: callers on an event loop run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Protocol

from channels.base import AcceptResult
from channels.message import InboundMessage
from forwarder.outbox import OutboxStore
from forwarder.responses import ResponseOutbox
from gateway.store.records import Claim, DueInbound, Event, InboundOutcome, RateCheck, ReceiptRow
from gateway.store.reports import Month, MonthlyReport

__all__ = [
    "ComplaintStore", "ConsoleStore", "CursorStore", "EventLog", "InboundStore", "OutboxStore", "OutcomeStore", "RateLimitStore", "ReceiptStore",
    "ReportStore", "ResponseStore", "ReviewStore", "RouterStore", "UpdateStore",
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

    def recent_by_reporters(self, reporter_refs: Collection[str], since: float) -> dict[str, list[tuple[str, str]]]: ...

    def tracking_for_inbound(self, inbound_ids: list[int]) -> dict[int, str]: ...

    def retry_dead_sync(self, tracking_ids: Iterable[str] | None = None) -> int: ...

    def retry_dead_forwards_sync(self, tracking_ids: Iterable[str] | None = None) -> list[str]: ...

    def dead_forwards(self, limit: int = 500) -> list[dict[str, Any]]: ...

    def awaiting_details_by_reporter(self, reporter_refs: Collection[str], since: float) -> dict[str, dict[str, Any]]: ...

    def tracking_for_external(self, channel: str, account: str, external_id: str) -> str | None: ...

    def sealed_identity(self, tracking_id: str) -> dict[str, Any] | None: ...


class ReviewStore(Protocol):
    def review_queue(self) -> list[dict[str, Any]]: ...

    def complaint_by_tracking(self, tracking_id: str) -> dict[str, Any] | None: ...

    def receipts_to_reuse(self, complaint_id: str) -> list[dict[str, Any]]: ...

    def strangers_answer(self, tracking_id: str) -> bool: ...

    def review_decide_sync(self, tracking_id: str, approve: bool, reason: str | None = None, *,
                           because: str | None = None, notices: Sequence[ReceiptRow] = ()) -> bool: ...

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

    def failed_receipts(self, limit: int = 500) -> list[dict[str, Any]]: ...

    def known_tracking_ids(self, tracking_ids: Iterable[str]) -> set[str]: ...


class RateLimitStore(Protocol):
    """The receipt worker's send quotas (which rules, under which keys: :mod:`gateway.worker.rate_limits`)."""

    async def claim_send(self, receipt_id: str, checks: list[RateCheck], now: float, *, horizon: float,
                         channel: str, tracking_id: str | None) -> Claim:
        """In one transaction: ``gone`` unless the receipt is still pending; counts older than ``horizon``
        seconds are forgotten; over a check that does not defer, the receipt ends ``rate_limited``
        (``limited``); over only deferring checks, it waits until the latest of their free slots
        (``deferred``, ``next_at``); each check that bites logs its event once per key and window;
        otherwise the send is counted under every check's key and the receipt marked ``sending``."""
        ...

    async def give_back_sends(self, counted: list[int]) -> None:
        """The send did not happen: the counts a ``send`` claim made count for nothing."""
        ...

    async def count_sends(self, checks: list[RateCheck], now: float, *, horizon: float, channel: str,
                          tracking_id: str | None) -> Claim:
        """A send no receipt row stands for (WhatsApp's SMS fallback, inside a WhatsApp receipt's send): the
        same checks and counts as :meth:`claim_send`, no row touched (``limited``, ``deferred`` or ``send``)."""
        ...

    async def claim_post(self, response_id: str, checks: list[RateCheck], now: float, *, horizon: float,
                         channel: str, tracking_id: str | None) -> Claim:
        """As :meth:`claim_send`, for a citizen response about to be posted to the store: ``gone`` unless it is
        still pending; over a check that does not defer it ends ``held`` (for a person; ``retry-dead`` queues it
        again), over only deferring ones it waits; otherwise counted (it stays pending until the store's answer)."""
        ...


class DeliveryLookups(Protocol):
    """The senders of updates: when a chat's citizen last wrote (WhatsApp's window), a letter's addressee."""

    def last_inbound_from(self, channel: str, account: str, sender: str, since: float) -> float | None: ...

    def sealed_identity(self, tracking_id: str) -> dict[str, Any] | None: ...


class UpdateStore(Protocol):
    """The update poller (the return path): its cursor in the store's feed, where a complaint's citizen was
    answered, and a page of update notices queued as receipts with the cursor past it, in one transaction."""

    def updates_cursor(self) -> int: ...

    def complaint_by_tracking(self, tracking_id: str) -> dict[str, Any] | None: ...

    def receipts_to_reuse(self, complaint_id: str) -> list[dict[str, Any]]: ...

    def strangers_answer(self, tracking_id: str) -> bool: ...

    async def record_updates(self, queued: list[tuple[ReceiptRow, Event]], events: list[Event], cursor: int, *,
                             statuses: Sequence[tuple[str, str, float, int]] = ()) -> int:
        """``statuses``: (tracking ID, the store's status, its time, update_id) of every update read, told or
        not, kept per complaint we know in the same transaction (:meth:`ReportStore`'s "resolved")."""
        ...


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


class ReportStore(Protocol):
    """The monthly report (``lapor-gateway report``, the console's reports page): a month in a time zone."""

    def monthly_report(self, month: Month, timezone: str) -> MonthlyReport: ...


class RouterStore(OutcomeStore, ComplaintStore, Protocol):
    """What the router needs: its messages and outcomes, and complaints to look up."""

    def complaints_answered_by(self, channel: str, account: str, ref: str) -> list[dict[str, Any]]: ...


class ResponseStore(ResponseOutbox, Protocol):
    """Citizen responses: the second outbox, ``retry-dead`` and ``show``."""

    def retry_dead_responses_sync(self, tracking_ids: Iterable[str] | None = None) -> list[str]: ...

    def dead_responses(self, limit: int = 500) -> list[dict[str, Any]]: ...

    def responses_for(self, tracking_id: str) -> list[dict[str, Any]]: ...


class ConsoleStore(Protocol):
    """The operator console: users, sessions, login failures, desk entries and the append-only audit log."""

    def add_user(self, name: str, role: str, password_hash: str, *, totp_secret: str | None = None,
                 must_change: bool = False) -> bool: ...

    def user(self, name: str) -> dict[str, Any] | None: ...

    def users(self) -> list[dict[str, Any]]: ...

    def user_count(self) -> int: ...

    def set_password(self, name: str, password_hash: str, *, must_change: bool = False) -> bool: ...

    def set_disabled(self, name: str, disabled: bool) -> bool: ...

    def set_totp(self, name: str, secret: str | None, *, confirmed: bool) -> bool: ...

    def reset_totp(self, name: str, secret: str) -> bool: ...

    def use_totp_step(self, name: str, step: int) -> bool: ...

    def logged_in(self, name: str, at: float) -> None: ...

    def create_session(self, token_hash: str, user: str, stage: str, at: float, lang: str = "id") -> None: ...

    def session(self, token_hash: str) -> dict[str, Any] | None: ...

    def touch_session(self, token_hash: str, at: float) -> None: ...

    def set_session_stage(self, token_hash: str, stage: str) -> None: ...

    def set_session_lang(self, token_hash: str, lang: str) -> None: ...

    def end_session(self, token_hash: str) -> None: ...

    def end_sessions_before(self, created_before: float, seen_before: float) -> None: ...

    def add_failure(self, key: str, at: float) -> None: ...

    def failures_since(self, key: str, since: float) -> list[float]: ...

    def clear_failures(self, key: str) -> None: ...

    def add_desk_entry(self, external_id: str, user: str, channel: str, at: float) -> None: ...

    def set_desk_tracking(self, external_id: str, tracking_id: str) -> None: ...

    def desk_entry(self, external_id: str) -> dict[str, Any] | None: ...

    def desk_entries_by(self, user: str, limit: int = 100) -> list[dict[str, Any]]: ...

    def entered_by(self, tracking_id: str) -> str | None: ...

    def audit(self, user: str, action: str, *, tracking_id: str | None = None, reason: str | None = None,
              remote: str | None = None, at: float | None = None) -> None: ...

    def audit_entries(self, *, before: int | None = None, limit: int = 200) -> list[dict[str, Any]]: ...
