"""The return path: the central store's updates feed → one update notice per citizen address, as receipts.

:class:`UpdatePoller` reads ``GET /v1/updates?after=<cursor>`` (bearer ``central.api_token``) every
``central.updates_poll_seconds``, sooner when the store's signed push wakes it, and backs off while the
store is down. For each update it finds the complaint by tracking ID and queues one ``receipts`` row of
kind ``update`` for each address the complaint's own receipts went to (their sealed targets reused: an
anonymous reporter's number never leaves the vault, the store learns nothing). The rows of a page and the
cursor past it are one transaction; the receipt worker sends them as it sends receipts (claimed before
sending, retried, settled by delivery reports). Never a public post: the answer goes privately or not at all.

An update's ``reply_context`` holds the original receipt's context and beside it ``update_id``,
``update_kind`` (response | request_details | status), ``status``, ``status_text``, ``tracking_id``,
``complaint_id``, ``original_receipt_id`` and ``original_provider_id`` (our first message to the citizen,
e.g. the receipt mail's Message-ID for threading).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, Field, ValidationError

from channels.message import PeerUnavailable, Rejected
from channels.registry import spec_for
from channels.retry import Backoff, Wakeup
from gateway.store.ports import UpdateStore
from gateway.store.records import Event, ReceiptRow
from gateway.worker.rate_limits import normalise_address, recipient_of
from gateway.worker.update_texts import UpdateTexts

log = logging.getLogger(__name__)

TOLD_ALWAYS = ("response", "request_details")  # the agency's words reach the citizen whatever notify.statuses says
HOLD_AFTER_FAILURE = 5.0  # seconds of a failure's backoff no push shortens
FEED_CHANNEL = "central"  # the intake-log channel of what the feed itself causes (skips)


MAX_UPDATE_ID = 2**63 - 1  # what SQLite keeps; a larger id is a store bug that would move the cursor past everything


class FeedItem(BaseModel):
    update_id: int = Field(ge=1, le=MAX_UPDATE_ID)
    tracking_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(max_length=40)
    status: str | None = Field(None, max_length=40)
    text: str | None = None
    at: str | None = None


class FeedPage(BaseModel):
    items: list[Any]  # each read alone: one bad item is skipped, not the page
    next_after: int = Field(ge=0)
    limit: int = 0  # how many were asked for (set by the feed, whatever the store sent)


MAX_PAGE_BYTES = 16 * 1024 * 1024  # a page bigger than this is a store bug: refused before it fills memory
MAX_LIMIT = 500  # the largest page the store serves


class UpdateFeed:
    """The store's feed over HTTP: a page after an update id, or PeerUnavailable / Rejected."""

    def __init__(self, url: str, api_token: str | None, timeout: float = 10.0,
                 max_bytes: int = MAX_PAGE_BYTES) -> None:
        self.url = url.rstrip("/") + "/v1/updates"
        self.headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_bytes = max_bytes
        self.fits = MAX_LIMIT  # halved after a page over max_bytes, so huge answers are read a few at a time
        self._session: aiohttp.ClientSession | None = None

    async def page(self, after: int, limit: int) -> FeedPage:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        limit = max(1, min(limit, self.fits))
        try:
            async with self._session.get(self.url, params={"after": str(after), "limit": str(limit)},
                                         headers=self.headers) as resp:
                body = await self._read(resp, limit)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerUnavailable(f"central store unreachable: {type(exc).__name__}") from exc
        if resp.status in (401, 403):
            raise Rejected(resp.status, f"central store refused the updates feed ({resp.status})")
        if resp.status != 200:
            raise PeerUnavailable(f"central store answered {resp.status} for the updates feed")
        try:
            # the stdlib's parser: a lone surrogate escape is valid JSON (pydantic's parser refuses it) and bytes
            # that are not UTF-8 are replaced, so one bad text is one item to clean, not a page read forever
            page = FeedPage.model_validate(json.loads(body.decode("utf-8", "replace")))
        except (ValueError, RecursionError, ValidationError):
            raise PeerUnavailable("central store sent an unreadable updates page") from None
        self.fits = min(self.fits * 2, MAX_LIMIT)
        page.limit = limit
        return page

    async def _read(self, resp: aiohttp.ClientResponse, limit: int) -> bytes:
        """The body, or PeerUnavailable past ``max_bytes`` (a store bug must not fill memory)."""
        body = bytearray()
        if (resp.content_length or 0) <= self.max_bytes:
            async for chunk in resp.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > self.max_bytes:
                    break
        if len(body) > self.max_bytes or (resp.content_length or 0) > self.max_bytes:
            self.fits = max(1, limit // 2)
            raise PeerUnavailable(f"central store sent an updates page larger than {self.max_bytes} bytes")
        return bytes(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Skip = Literal["citizen_response", "status_not_told", "unknown_ticket", "unknown_kind", "malformed", "no_address"]


class UpdatePoller:
    name = "central updates"

    def __init__(
        self,
        journal: UpdateStore,
        feed: UpdateFeed,
        texts: UpdateTexts,
        *,
        statuses: Iterable[str],
        poll_seconds: float = 10.0,
        page_size: int = 100,
        backoff: Backoff | None = None,
    ) -> None:
        self.journal = journal
        self.feed = feed
        self.texts = texts
        self.statuses = frozenset(statuses)
        self.poll_seconds = poll_seconds
        self.page_size = page_size
        self.backoff = backoff or Backoff(1.0, 300.0)
        self.wake = Wakeup(poll_seconds)
        self.on_queued: list[Callable[[], None]] = []  # the receipt worker's wake-up
        self.counts: Counter[str] = Counter()  # queued rows, and skipped updates by reason
        self.cursor: int | None = None
        self.failing: str | None = None

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                full = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store down, refusing us, or our own storage: wait, then the same page
                reason = failure(exc)
                if reason != self.failing:
                    log.warning("updates feed: %s; trying again with backoff", reason)
                self.failing = reason
                self.cursor = None  # read again from storage: a failed write left it where it was
                # the first seconds of the wait are not cut by a wake-up: the push carries no nonce, and a
                # replayed one must not make us ask a failing store as fast as it refuses
                delay = self.backoff.delay(failures)
                await asyncio.sleep(min(delay, HOLD_AFTER_FAILURE))
                await self._pause(max(delay - HOLD_AFTER_FAILURE, 0.0))
                failures += 1
                continue
            if self.failing:
                log.info("updates feed: works again")
            self.failing, failures = None, 0
            if not full:
                await self._pause(self.poll_seconds)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless woken (the store's push) sooner."""
        self.wake.idle_seconds = seconds
        await self.wake.wait()

    async def poll_once(self) -> bool:
        """Read one page after the cursor and queue it; answers whether the page was full (read on at once)."""
        if self.cursor is None:
            self.cursor = await asyncio.to_thread(self.journal.updates_cursor)
        page = await self.feed.page(self.cursor, self.page_size)
        limit = page.limit or self.page_size  # fewer after a page too big to read
        items = page.items[:limit]
        if not items:
            return False  # an empty page moves nothing (a next_after past the last update would skip some)
        top = next_cursor(self.cursor, items, page.next_after)
        queued, events = await asyncio.to_thread(self.prepare, items)
        new = await self.journal.record_updates(queued, events, top, statuses=store_statuses(items, time.time()))
        before, self.cursor = self.cursor, top
        self.counts["queued"] += new
        if new:
            for wake in self.on_queued:
                wake()
        return len(items) >= limit and top > before  # a store repeating a page is not read in a loop

    def prepare(self, items: list[Any]) -> tuple[list[tuple[ReceiptRow, Event]], list[Event]]:
        """The notices of a page's items and the events of those skipped (blocking reads: off the loop)."""
        queued: list[tuple[ReceiptRow, Event]] = []
        events: list[Event] = []
        for raw in items:
            try:
                item = FeedItem.model_validate(raw)
            except ValidationError:
                self._skip("malformed", events, None, raw.get("update_id") if isinstance(raw, dict) else None)
                continue
            rows, skip = self.notices(item)
            if skip is not None:
                self._skip(skip, events, item.tracking_id, item.update_id)
            queued += rows
        return queued, events

    def notices(self, item: FeedItem) -> tuple[list[tuple[ReceiptRow, Event]], Skip | None]:
        if item.kind == "citizen_response":
            return [], "citizen_response"  # the gateway's own post: nothing to tell
        if item.kind not in (*TOLD_ALWAYS, "status"):
            return [], "unknown_kind"
        if item.kind == "status" and item.status not in self.statuses:
            return [], "status_not_told"
        complaint = self.journal.complaint_by_tracking(item.tracking_id)
        if complaint is None:
            return [], "unknown_ticket"
        out = []
        for original in addresses(self.journal.receipts_to_reuse(complaint["id"])):
            out.append(self.notice(item, complaint, original))
        return out, None if out else "no_address"

    def notice(self, item: FeedItem, complaint: dict[str, Any], original: dict[str, Any]) -> tuple[ReceiptRow, Event]:
        channel = original["channel"]
        style = spec_for(channel).style
        words = self.texts.render(style, item.kind, item.tracking_id, item.status, item.text)
        target = dict(original["target"])
        context = dict(target.get("reply_context") or {}) | {
            "update_id": item.update_id,
            "update_kind": item.kind,
            "status": item.status,
            "status_text": self.texts.status_name(item.status) if item.status else None,
            "tracking_id": item.tracking_id,
            "complaint_id": complaint["id"],
            "original_receipt_id": original["id"],
            "original_provider_id": original.get("provider_id"),
        }
        body: dict[str, Any] = {"text": words.text, "public": False,
                                "update": {"update_id": item.update_id, "kind": item.kind, "status": item.status}}
        if words.subject is not None:
            body["subject"] = words.subject
        row = ReceiptRow(
            dedup_key=f"update:{item.update_id}:{original['id']}",
            kind="update",
            channel=channel,
            target=target | {"reply_context": context},
            body=body,
            complaint_id=complaint["id"],
            tracking_id=item.tracking_id,
        )
        return row, Event(channel, "update_queued", item.tracking_id, detail=f"update {item.update_id} ({item.kind})")

    def _skip(self, reason: Skip, events: list[Event], tracking_id: str | None, update_id: Any) -> None:
        self.counts[f"skipped_{reason}"] += 1
        if reason in ("citizen_response", "status_not_told"):
            return  # by design, not worth a line in the log
        uid = update_id if isinstance(update_id, int) else "?"
        known = tracking_id if reason == "no_address" else None  # a ticket we do not know is not ours to list
        events.append(Event(FEED_CHANNEL, f"update_{reason}", known, detail=f"update {uid}"))

    async def close(self) -> None:
        await self.feed.close()


def next_cursor(cursor: int, items: list[Any], next_after: int) -> int:
    """Past the page's last update; the store's ``next_after`` only when no item has a readable id."""
    ids = [i.get("update_id") for i in items if isinstance(i, dict)]
    ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_UPDATE_ID]
    return max(cursor, max(ids) if ids else next_after if next_after <= MAX_UPDATE_ID else cursor)


EARLIEST_FEED_TIME = 946684800.0  # 2000-01-01: an earlier time in the feed is a store bug


def store_statuses(items: list[Any], now: float) -> list[tuple[str, str, float, int]]:
    """(tracking ID, status, when the store set it, update_id) of every readable item, told or not: what the
    monthly report knows of the store. An item without a readable time is dated ``now`` (when we read it)."""
    out = []
    for raw in items:
        try:
            item = FeedItem.model_validate(raw)
        except ValidationError:
            continue
        if item.status:
            out.append((item.tracking_id, item.status, feed_time(item.at, now), item.update_id))
    return out


def feed_time(at: str | None, now: float) -> float:
    """The store's ISO time as epoch seconds; ``now`` when absent, unreadable, without a zone, in the future or
    before 2000 (a store bug must not make a complaint resolved before it was sent)."""
    try:
        when = datetime.fromisoformat(str(at))
    except ValueError:
        return now
    if when.tzinfo is None:
        return now
    seconds = when.timestamp()
    return seconds if EARLIEST_FEED_TIME <= seconds <= now else now


def addresses(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One of a complaint's receipts per citizen address (the latest: a details receipt after the first ask);
    a receipt with no address (a letter's printable one) counts once per channel."""
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in receipts:
        target = r["target"] or {}
        family = spec_for(r["channel"]).family
        who = recipient_of(str(target.get("to") or ""), target.get("reply_context") or {})
        chosen[(family, normalise_address(family, who) if who else r["channel"])] = r
    return list(chosen.values())


def failure(exc: BaseException) -> str:
    """One line for the log: our own reasons, else the type only (an exception's text may hold an address)."""
    if isinstance(exc, Rejected):
        return exc.reason
    if isinstance(exc, PeerUnavailable):
        return str(exc)
    return f"unexpected {type(exc).__name__}"
