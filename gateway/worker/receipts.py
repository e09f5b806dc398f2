"""Sends pending receipts and replies through the sender of their channel family.

A receipt is claimed (``sending``) durably before it leaves and marked ``sent``
after; a crash in between leaves it ``unsure``: the delivery report may still
confirm it, otherwise it is sent again after a grace period (at-least-once,
with the window kept as small as one HTTP call). The claim is also where the
durable rate limits (:mod:`gateway.worker.rate_limits`) are checked and counted.

A send that fails for a passing reason (the peer down) is tried again with backoff for
``retry_hours`` from its first failure, which is an intake-log warning (``receipt_retrying``, once
per receipt); only then it is ``failed`` (``lapor-gateway retry-dead`` queues it again). The last
attempts on each sender family are its receipt path's state, for ``/healthz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import traceback
from typing import Any

from channels.base import OutboundReceipt, ReceiptSender
from channels.message import PeerUnavailable, Rejected
from channels.registry import spec_for
from channels.retry import Backoff, Wakeup
from gateway.loops import cancel_all
from gateway.store.ports import ReceiptStore
from gateway.store.records import Event
from gateway.worker.rate_limits import RateLimits, recipient_of

log = logging.getLogger(__name__)

PRIVATE_KINDS = ("update", "rejection")  # sent privately whatever the row says (rejection: gateway.worker.rejections)


class ReceiptWorker:
    def __init__(
        self,
        journal: ReceiptStore,
        senders: list[ReceiptSender],
        *,
        concurrency: int = 256,  # as receipts.concurrency
        retry_hours: float = 24.0,
        unsure_grace_seconds: float = 20.0,
        idle_seconds: float = 1.0,
        limits: RateLimits | None = None,
    ) -> None:
        self.journal = journal
        self.limits = limits or RateLimits(journal)  # no rules: every send passes
        self.senders = list(senders)  # the first configured of a family answers
        self.concurrency = concurrency
        self.retry_seconds = retry_hours * 3600.0
        self.unsure_grace_seconds = unsure_grace_seconds
        self.backoff = Backoff(base=2.0, cap=900.0)
        self.wake = Wakeup(idle_seconds)
        self._inflight: set[str] = set()
        self.paths: dict[str, bool] = {}  # family → the last attempt on it went out (as written to the store)

    def sender_for(self, channel: str) -> ReceiptSender | None:
        """The channel's own family's sender, else its fallback's (``ChannelSpec.fallback_family``)."""
        spec = spec_for(channel)
        for family in (spec.family, spec.fallback_family):
            sender = next((s for s in self.senders if family and s.family == family), None)
            if sender is not None:
                return sender
        return None

    async def run(self) -> None:
        unsure = await self.journal.mark_unsure_sending()
        if unsure:
            log.warning("%d receipts were being sent at the last stop; waiting %.0fs for delivery reports",
                        unsure, self.unsure_grace_seconds)
            asyncio.get_running_loop().call_later(
                self.unsure_grace_seconds, lambda: asyncio.ensure_future(self._resend_unsure())
            )
        sem = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                due = await asyncio.to_thread(self.journal.due_receipts, self.concurrency * 4)
                fresh = [r for r in due if r["id"] not in self._inflight]
                for r in fresh:
                    await sem.acquire()
                    self._inflight.add(r["id"])
                    t = asyncio.create_task(self._send(sem, r))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                if not fresh:
                    await self.wake.wait()
        finally:
            # stopped: the sends in flight stop with it and stay claimed (``sending``), as after a crash. Left
            # running, each met its sender being closed ("Session is closed") and was written down as failed.
            await cancel_all(list(tasks))

    async def _resend_unsure(self) -> None:
        n = await self.journal.resend_unsure()
        if n:
            log.warning("%d receipts had no delivery report after a restart; sending them again", n)
            self.wake.set()

    async def _send(self, sem: asyncio.Semaphore, r: dict[str, Any]) -> None:
        try:
            await self.deliver(r)
        finally:
            self._inflight.discard(r["id"])
            sem.release()
            self.wake.set()

    async def deliver(self, r: dict[str, Any]) -> str:
        """Claim, send and record one due receipt; answer the state it was left in."""
        rid, channel, tid = r["id"], r["channel"], r["tracking_id"]
        try:
            sender = self.sender_for(channel)
            if sender is None:
                await self.journal.set_receipt_state(
                    rid, "failed", error="no sender configured for this channel",
                    event=Event(channel, _failed(r), tid, detail="no sender configured"),
                )
                return "failed"
            target, body = r["target"], r["body"]
            receipt = OutboundReceipt(
                channel=channel,
                account=target.get("account", ""),
                to=target.get("to") or "",
                text=body["text"],
                subject=body.get("subject"),
                html=body.get("html"),
                reply_context=dict(target.get("reply_context") or {}) | {"receipt_id": rid, "tracking_id": tid},
                # an answer, and a notice that a complaint cannot be processed, are never posted publicly
                public=bool(body.get("public")) and r["kind"] not in PRIVATE_KINDS,
                kind=r["kind"],
            )
            try:
                claim = await self.limits.claim(r, sender.family, recipient_of(receipt.to, target.get("reply_context") or {}))
            except (sqlite3.Error, OSError) as exc:
                # our own storage failed, not the send: the row stays pending, untouched, and is tried again
                log.error("receipt %s: claim not written (%s)", rid, type(exc).__name__)
                await asyncio.sleep(self.wake.idle_seconds)  # no busy loop against a failing disk
                return "pending"
            if claim.outcome == "limited":
                return "rate_limited"
            if claim.outcome != "send":
                return "pending" if claim.outcome == "deferred" else "gone"
            try:
                provider_id = await sender.send(receipt)
            except PeerUnavailable as exc:
                await self.limits.give_back(claim)  # a retry later must not count twice
                await self._path(sender.family, False, str(exc))
                return await self._failed_for_now(r, str(exc))
            except Rejected as exc:
                if exc.status in (401, 403):  # the peer refuses us, not this receipt: the whole path fails
                    await self._path(sender.family, False, exc.reason)
                await self.journal.set_receipt_state(
                    rid, "failed", error=exc.reason, event=Event(channel, _failed(r), tid, detail=exc.reason)
                )
                return "failed"
            await self._path(sender.family, True)
            await self.journal.set_receipt_state(
                rid, "sent", provider_id=provider_id, event=Event(channel, f"{r['kind']}_sent", tid)
            )
            return "sent"
        except Exception as exc:
            # never the exception's text or a full traceback: they can hold the recipient's address
            log.error("receipt %s: unexpected %s", rid, type(exc).__name__)
            log.debug("receipt %s: at %s", rid, "".join(traceback.format_tb(exc.__traceback__)))
            with contextlib.suppress(Exception):
                await self.journal.set_receipt_state(
                    rid, "failed", error=f"unexpected {type(exc).__name__}",
                    event=Event(channel, _failed(r), tid, detail=f"unexpected {type(exc).__name__}"),
                )
            return "failed"

    async def _failed_for_now(self, r: dict[str, Any], reason: str) -> str:
        """Pending again after a backoff, until ``retry_hours`` have passed since its first failure."""
        now = time.time()
        first = r.get("failing_since")
        give_up = first is not None and now - first >= self.retry_seconds
        if give_up:
            event = Event(r["channel"], _failed(r), r["tracking_id"],
                          detail=f"{reason}; gave up after {self.retry_seconds / 3600:g}h")
        elif first is None:  # the first failure is told once, not every attempt
            event = Event(r["channel"], "receipt_retrying", r["tracking_id"],
                          detail=f"{reason}; retrying for up to {self.retry_seconds / 3600:g}h")
            log.warning("%s %s on %s not sent (%s); retrying for up to %gh", r["kind"], r["id"], r["channel"],
                        reason, self.retry_seconds / 3600)
        else:
            event = None
        await self.journal.set_receipt_state(
            r["id"], "failed" if give_up else "pending", error=reason, failing=True,
            next_at=now + self.backoff.delay(r["attempts"]), event=event,
        )
        return "failed" if give_up else "pending"

    async def _path(self, family: str, up: bool, reason: str | None = None) -> None:
        """Written when a path changes (and on its first attempt after a start); a path that comes back
        makes its waiting receipts due at once."""
        if self.paths.get(family) is up:
            return
        self.paths[family] = up
        try:
            woken = await self.journal.set_receipt_path(family, up, time.time(), reason)
        except (sqlite3.Error, OSError) as exc:
            self.paths.pop(family, None)  # written with the next attempt
            log.error("receipt path %s: state not written (%s)", family, type(exc).__name__)
            return
        if up and woken:
            log.info("receipts: %s works again; %d waiting receipts due now", family, woken)
            self.wake.set()
        elif not up:
            log.warning("receipts: %s failing (%s)", family, reason)


def _failed(r: dict[str, Any]) -> str:
    """The intake-log state of a send given up: ``update_failed`` for an update, else ``receipt_failed``."""
    return "update_failed" if r.get("kind") == "update" else "receipt_failed"
