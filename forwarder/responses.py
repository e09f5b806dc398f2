"""The second outbox: citizen responses, posted to the store at least once.

Each response is POSTed to ``/v1/complaints/{tracking_id}/citizen-responses`` with its id as
``Idempotency-Key`` and ``X-Signature``, once its complaint is in the store (the store's 201 for the
complaint came first: the journal only hands out such responses). Failures back off with full jitter;
after ``max_attempts`` (or a refusal) the response is a dead letter until ``retry-dead``.
"""

from __future__ import annotations

from typing import Any, Protocol

from forwarder.outbox import Outbox


class ResponseOutbox(Protocol):
    """What the response forwarder needs from the journal."""

    def due_responses(self, limit: int) -> list[tuple[str, str, str, int]]: ...  # id, tracking, body json, attempts

    async def mark_response_forwarded(self, response_id: str, answer: dict[str, Any]) -> None: ...

    async def mark_response_failed(self, response_id: str, error: str, next_at: float, dead: bool) -> None: ...


class PostLimits(Protocol):
    """The worker's rate limits as the forwarder uses them (``gateway.worker.rate_limits.RateLimits``): a claim
    whose ``outcome`` is ``"send"`` may be posted; one not posted is given back."""

    async def claim_post(self, response_id: str, channel: str, tracking_id: str) -> Any: ...

    async def give_back(self, claim: Any) -> None: ...


class ResponseForwarder(Outbox):
    """Citizen responses: POSTed once their complaint is in the store (the journal hands out no others)."""

    name = "citizen responses"
    default_concurrency = 8
    failure_line = "citizen response on %s failed (attempt %d): %s"
    store: ResponseOutbox

    def __init__(self, *args: Any, limits: PostLimits | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.limits = limits  # receipts.citizen_responses_per_complaint_per_hour: over it, held for a person
        self._claims: dict[str, Any] = {}

    async def admit(self, row_id: str, tracking_id: str) -> bool:
        if self.limits is None:
            return True
        claim = await self.limits.claim_post(row_id, "central", tracking_id)
        if claim.outcome != "send":
            return False
        self._claims[row_id] = claim
        return True

    def due(self, limit: int) -> list[tuple[str, str, str, int]]:
        return self.store.due_responses(limit)

    async def post(self, row_id: str, tracking_id: str, body: str) -> dict[str, Any]:
        return await self.client.post_citizen_response(tracking_id, body, row_id)

    async def delivered_as(self, row_id: str, answer: dict[str, Any]) -> None:
        self._claims.pop(row_id, None)
        await self.store.mark_response_forwarded(row_id, answer)

    async def failed(self, row_id: str, reason: str, next_at: float, dead: bool) -> None:
        claim = self._claims.pop(row_id, None)
        if claim is not None and self.limits is not None:
            await self.limits.give_back(claim)  # not posted: a later try must not count twice
        await self.store.mark_response_failed(row_id, reason, next_at, dead)
