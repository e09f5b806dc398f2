"""The router: what each journaled message is, and what follows from it.

The worker process runs it off the acknowledgement path. For each journaled message it runs the
channel's deferred step (MIME parsing, OCR, downloads: the channel's ``Completer``), then decides: a
delivery status, a command (``CEK``, ``INFO``, help) or a complaint; and writes the outcome
(complaint, sealed identity, receipts to send, intake-log events) in one durable transaction, so a
crash at any point leaves it either undone or done. Commands and answers to a complaint are decided in
:mod:`gateway.worker.commands` (with the short replies); a new complaint and its receipts here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.base import Completer, SaysHeavy
from channels.message import ChannelError, InboundMessage, PrivacyHint, Rejected
from channels.registry import spec_for
from channels.retry import Backoff, Wakeup
from gateway.store.ports import RouterStore
from gateway.store.records import STRANGERS_ANSWER, ComplaintRow, DueInbound, Event, InboundOutcome, ReceiptRow
from gateway.worker.commands import HELP_WORDS, Commands, StatusLookup
from gateway.worker.sender_reads import SenderReads, read_batch, read_own
from gateway.worker.templates import Templates
from normalizer.ids import uuid7
from normalizer.keywords import parse_command
from normalizer.pii import find_pii
from normalizer.pipeline import Normalizer, TextRead, read_text
from normalizer.tracking import new_tracking_id

log = logging.getLogger(__name__)


@dataclass
class DecidedBatch:
    """A batch's outcomes before they are written; ``ids`` (its messages) and ``refs`` (their senders) are
    what the next batch, read and decided meanwhile, must leave out or wait for."""

    outcomes: list[InboundOutcome]
    cursor: int
    heavy: list[DueInbound]  # set aside now, started in the heavy lane once written
    ids: set[int]
    refs: set[str]
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Router(Commands):
    """Reads the journal after its cursor, decides each message (:meth:`decide`), writes the outcomes."""

    def __init__(
        self,
        journal: RouterStore,
        normalizer: Normalizer,
        templates: Templates,
        completers: dict[str, Completer],
        central_status: StatusLookup,
        *,
        batch: int = 128,
        max_attempts: int = 8,
        idle_seconds: float = 1.0,
        heavy_concurrency: int = 2,
        details_days: float = 7.0,
    ) -> None:
        self.journal = journal
        self.normalizer = normalizer
        self.templates = templates
        self.completers = completers
        self.central_status = central_status
        self.batch = batch
        self.max_attempts = max_attempts
        self.details_window_s = details_days * 86400.0  # an empty SMS waits this long for the details
        self.wake = Wakeup(idle_seconds)
        self.on_written: list[Callable[[], None]] = []
        self.on_fault: list[Callable[[str | None], None]] = []  # the worker's health, for /healthz
        self.cursor = 0
        self.heavy_slots = asyncio.Semaphore(heavy_concurrency)
        self.heavy_capacity = 4 * heavy_concurrency  # taken into memory at once; the rest waits in the journal
        self.heavy_busy: set[int] = set()
        self._heavy_tasks: set[asyncio.Task[None]] = set()
        self.fault: str | None = None
        self._senders = SenderReads()  # the light batch being decided: its senders' reads, made ahead
        self._writing: DecidedBatch | None = None  # the batch being written while the next is decided

    async def run(self) -> None:
        """The loop never ends by an exception: a fault (the disk full, a bug) is reported, waited out
        with a growing pause, and the same work is tried again; nothing is skipped.

        A batch is decided while the one before it is being written (the worker's two halves, the
        normaliser's CPU and the writer's SQLite work, overlap): the next read starts after the batch in
        flight and leaves its messages out, and a batch whose senders are in the batch in flight waits
        for that write before it reads what they sent. A batch is written only once the one before is
        durable; when that write failed, the batch decided after it is dropped and read again."""
        failures = 0
        while True:
            try:
                if failures == 0 and self.cursor == 0:
                    self.cursor = await asyncio.to_thread(self.journal.worker_cursor)
                ahead = self._writing
                rows = await asyncio.to_thread(
                    self.journal.due_inbound, self._cursor_ahead(), self.batch, deferred=self._heavy_room(),
                    busy=set(self.heavy_busy) | (ahead.ids if ahead else set()),
                )
                if rows:
                    batch = await self.decide_batch(rows)
                    await self._written_through()
                    batch.task = asyncio.create_task(self.write_batch(batch))
                    self._writing = batch
                else:
                    await self._written_through()
                if failures or self.fault:
                    failures = 0
                    self._set_fault(None)
                if rows:
                    continue
                await self.wake.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                with contextlib.suppress(Exception):  # its failure, if any, is this one or tried again below
                    await self._written_through()
                failures += 1
                self._set_fault(fault_reason(exc))
                log.error("worker loop: %s (try %d); trying again", self.fault, failures)
                log.debug("worker loop traceback", exc_info=True)
                await asyncio.sleep(Backoff(0.5, 30.0).delay(failures - 1))

    def _cursor_ahead(self) -> int:
        """The cursor as it will be once the batch in flight is written."""
        return self._writing.cursor if self._writing is not None else self.cursor

    def _heavy_room(self) -> int:
        """Heavy messages that may start: the batch in flight's count as started."""
        return self.heavy_capacity - len(self.heavy_busy) - (len(self._writing.heavy) if self._writing else 0)

    async def _written_through(self) -> None:
        """Until the batch in flight is durable; its write's failure is raised here (once)."""
        batch, self._writing = self._writing, None
        if batch is not None and batch.task is not None:
            await batch.task

    def _set_fault(self, fault: str | None) -> None:
        if fault != self.fault:
            self.fault = fault
            for callback in self.on_fault:
                callback(fault)

    async def process(self, rows: list[DueInbound]) -> None:
        """Light messages are decided and written in one batch; heavy ones (OCR, PDFs, downloads) are set
        aside durably and decided in the heavy lane, each on its own: no batch waits for its slowest member."""
        await self.write_batch(await self.decide_batch(rows))

    async def decide_batch(self, rows: list[DueInbound]) -> DecidedBatch:
        """The outcomes of a batch's light messages, nothing written yet."""
        light, heavy = [], []
        for row in rows:
            (heavy if row.msg is not None and self.is_heavy(row.msg) else light).append(row)
        free = self._heavy_room()
        start, park = heavy[:max(free, 0)], heavy[max(free, 0):]
        # the channels' deferred work (MIME parsing of small mails) overlaps across the batch
        completed = await asyncio.gather(*(self.complete(row.msg) for row in light if row.msg is not None),
                                         return_exceptions=True)
        # what their senders sent before, read for the whole batch in one trip off the event loop
        opened = [(row, m) for row, m in zip([r for r in light if r.msg is not None], completed, strict=True)
                  if isinstance(m, InboundMessage)]
        refs = {row.id: self.normalizer.refs_of(m) for row, m in opened}
        every = {ref for these in refs.values() for ref in these}
        if self._writing is not None and every & self._writing.refs:
            await self._written_through()  # what these senders sent last is still being written
        self._senders = await read_batch(self.journal, refs, self.normalizer.duplicate_window_s,
                                         self.details_window_s)
        done_iter = iter(completed)
        outcomes: list[InboundOutcome] = []
        try:
            for row in light:
                done = next(done_iter) if row.msg is not None else None
                try:
                    if isinstance(done, BaseException):
                        raise done
                    outcomes.append(await self.outcome(row, done))
                except Exception as exc:
                    outcomes.append(self.failed(row, exc))
        finally:
            self._senders = SenderReads()  # true only until this batch is written
        outcomes += [InboundOutcome(row.id, "deferred") for row in start + park]
        # failures and set-asides are written with the cursor that moves past them: nothing is skipped
        cursor = max([self._cursor_ahead(), *(r.id for r in rows if r.attempts == 0)])
        return DecidedBatch(outcomes, cursor, start, {r.id for r in rows}, every)

    async def write_batch(self, batch: DecidedBatch) -> None:
        """A decided batch written with the cursor past it; then its heavy messages start."""
        if batch.outcomes or batch.cursor != self.cursor:
            await self.journal.record_outcomes(batch.outcomes, batch.cursor, max_attempts=self.max_attempts)
            self.cursor = batch.cursor
        for row in batch.heavy:
            self.heavy_busy.add(row.id)
            task = asyncio.create_task(self._heavy(row))
            self._heavy_tasks.add(task)
            task.add_done_callback(self._heavy_tasks.discard)
        self._written()

    async def _heavy(self, row: DueInbound) -> None:
        try:
            async with self.heavy_slots:
                assert row.msg is not None
                try:
                    outcome = await self.outcome(row, await self.complete(row.msg))
                except Exception as exc:
                    outcome = self.failed(row, exc)
                await self.journal.record_outcomes([outcome], max_attempts=self.max_attempts)
                self._written()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the write itself (storage): the row stays deferred and is taken again
            log.error("heavy lane: %s for inbound %s", fault_reason(exc), row.id)
        finally:
            self.heavy_busy.discard(row.id)
            self.wake.set()

    def _written(self) -> None:
        for callback in self.on_written:
            callback()

    async def outcome(self, row: DueInbound, msg: InboundMessage | None) -> InboundOutcome:
        """The decision for one message, with the events every message gets."""
        if msg is None:
            raise Rejected(422, row.error or "unreadable")
        outcome = await self.decide(row.id, msg)
        outcome.attempts, outcome.channel = row.attempts, msg.channel
        if row.attempts == 0:
            outcome.events.insert(0, Event(msg.channel, "received", at=row.created_at))
        if row.conflict and row.attempts == 0:
            outcome.events.insert(1, Event(msg.channel, "external_id_conflict",
                                           detail=f"inbound {row.id}: its channel id was used before for other content"))
        return outcome

    def failed(self, row: DueInbound, exc: BaseException) -> InboundOutcome:
        """One message failed: tried again later, then quarantined for an operator; nothing else waits.
        A refusal (``Rejected``: over a limit, unreadable) is final at once."""
        channel = row.msg.channel if row.msg is not None else "?"
        reason = exc.reason if isinstance(exc, Rejected) else type(exc).__name__
        log.warning("inbound %s on %s not processed (attempt %d): %s", row.id, channel, row.attempts + 1, reason)
        if not isinstance(exc, ChannelError):
            log.debug("traceback", exc_info=(type(exc), exc, exc.__traceback__))
        return InboundOutcome(row.id, "retry", attempts=row.attempts, channel=channel, failure=reason,
                              final=isinstance(exc, Rejected))

    def completer_for(self, msg: InboundMessage) -> Completer | None:
        return self.completers.get(msg.channel) or self.completers.get(spec_for(msg.channel).family)

    def is_heavy(self, msg: InboundMessage) -> bool:
        """Deferred work that may take long (OCR, PDFs, large mail, downloads) goes to the heavy lane.
        A completer says so per message (``is_heavy``); one that cannot tell is heavy."""
        completer = self.completer_for(msg)
        if completer is None:
            return False
        return completer.is_heavy(msg) if isinstance(completer, SaysHeavy) else True

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        completer = self.completer_for(msg)
        return msg if completer is None else await completer.complete(msg)

    async def stop(self) -> None:
        with contextlib.suppress(BaseException):  # a write in flight ends (it is the writer's by now)
            await self._written_through()
        for task in list(self._heavy_tasks):
            task.cancel()
        for task in list(self._heavy_tasks):
            with contextlib.suppress(BaseException):
                await task

    async def decide(self, inbound_id: int, msg: InboundMessage) -> InboundOutcome:
        """What a (completed) message is: a delivery status, a command, or a complaint."""
        kind = msg.kind
        if kind == "status":
            return self._delivery(inbound_id, msg, msg.related, msg.metadata.get("status", "?"))
        if kind in ("bounce", "auto_reply"):
            # the mail it is about (an update has its own Message-ID, its provider id), else the ticket's receipt
            about = msg.metadata.get("about_message_id")
            return self._delivery(inbound_id, msg, about if isinstance(about, str) else msg.related, kind)
        if kind == "malformed":  # an entry of a batch payload we could not read: kept for an operator
            reason = str(msg.metadata.get("reason") or "malformed entry")[:200]
            return InboundOutcome(inbound_id, "failed", events=[
                Event(msg.channel, "failed", detail=f"inbound {inbound_id} quarantined: {reason}")], error=reason)
        if kind not in ("complaint", "reply"):  # e.g. a Telegram edit: kept in the journal, not a new complaint
            return InboundOutcome(inbound_id, "recorded", events=[Event(msg.channel, f"recorded_{kind}")])
        read = read_text(msg.text)  # cleaned, privacy tags read: once, for commands and for the complaint
        command = parse_command(read.body)
        if command is None and kind == "complaint" and not msg.follow_up_hint and read.body.lower() not in HELP_WORDS:
            return await self._complaint(inbound_id, msg, None, None, [], read=read)  # a new complaint: most messages
        # help, CEK, BALAS/INFO, a reply in a thread or chat, a subject naming a ticket: gateway/worker/commands.py
        return await self.converse(inbound_id, msg, read, command)

    # --- outcomes ------------------------------------------------------------------------
    async def _complaint(
        self, inbound_id: int, msg: InboundMessage, text: str | None, follow_up_of: str | None, review: list[str],
        hold: str | None = None, *, read: TextRead | None = None,
    ) -> InboundOutcome:
        # the reporter's recent complaints (near-duplicate links) under both refs the normaliser may file this
        # message under, and one of theirs waiting for details: read ahead for the batch, or here for this one
        refs = self.normalizer.refs_of(msg)
        spec = spec_for(msg.channel)
        plain = text is None and follow_up_of is None and not review and not hold and not msg.follow_up_hint
        asks = spec.asks_for_details and bool(msg.sender) and not msg.suppress_receipt
        waiting, earlier = self._senders.get(inbound_id, refs) or await read_own(
            self.journal, inbound_id, refs, self.normalizer.duplicate_window_s, self.details_window_s)
        if not (plain and asks):
            waiting = None
        if waiting is not None and (waiting["anonymous"] or waiting["confidential"]):
            # "ANONIM" alone, then the details: the flags the citizen set hold for the complaint they complete
            msg = msg.model_copy(update={"privacy": PrivacyHint(
                anonymous=bool(waiting["anonymous"]) or bool(msg.privacy and msg.privacy.anonymous),
                confidential=bool(waiting["confidential"]) or bool(msg.privacy and msg.privacy.confidential),
                source="keyword")})
        complaint_id = waiting["id"] if waiting else uuid7()
        n = self.normalizer.build(
            msg,
            complaint_id=complaint_id,
            tracking_id=waiting["tracking_id"] if waiting else new_tracking_id(),
            text=text,
            read=read,
            follow_up_of=follow_up_of,
            recent=lambda ref: [e for e in earlier.get(ref, []) if not waiting or e[0] != waiting["tracking_id"]],
        )
        c = n.complaint
        if review:
            c.needs_review.extend(review)
        if waiting is not None and "no_substance" in c.needs_review:
            # still nothing to go on: asked again, under the same ticket
            return self._reply(inbound_id, msg, "need_details", {"tracking_id": c.tracking_id}, "waiting_for_details",
                               c.tracking_id, style=spec.style)
        row = ComplaintRow(
            id=c.id,
            tracking_id=c.tracking_id,
            inbound_id=inbound_id,
            channel=c.channel,
            record_json=c.model_dump_json(),
            reporter_ref=c.reporter_ref,
            anonymous=c.privacy.anonymous,
            confidential=c.privacy.confidential,
            vault=n.identity,
        )
        flags = ",".join(f for f, on in (("anonim", c.privacy.anonymous), ("rahasia", c.privacy.confidential)) if on)
        top = c.category_suggestion[0].category if c.category_suggestion else None
        events = [Event(c.channel, "normalized", c.tracking_id, n.contact_masked, top, flags or None)]
        if c.needs_review:
            events.append(Event(c.channel, "needs_review", c.tracking_id, n.contact_masked, top, flags or None,
                                ",".join(c.needs_review)))
        receipts: list[ReceiptRow] = []
        if msg.suppress_receipt:
            events.append(Event(c.channel, "receipt_suppressed", c.tracking_id, detail=msg.suppress_receipt))
        elif msg.sender or spec_for(msg.channel).receipt_without_sender:
            receipts.append(self._receipt_row(msg, c, complaint_id))
            receipts += self._contact_receipts(msg, c, complaint_id, n.identity["reporter"])
        if waiting is not None:
            # the citizen's details complete the complaint that waited for them: now it is forwarded
            row.completes = "awaiting_details"
            for r in receipts:
                r.dedup_key += ":details"
            events.insert(0, Event(c.channel, "details_received", c.tracking_id, n.contact_masked))
        elif plain and asks and "no_substance" in c.needs_review:
            # nothing to go on ("halo", "ANONIM" alone): kept, not forwarded empty; the receipt asks for details
            # and the sender's next message within details_days becomes its text
            row.state = "awaiting_details"
            events = [Event(c.channel, "waiting_for_details", c.tracking_id, n.contact_masked, top, flags or None,
                            ",".join(c.needs_review))]
        if msg.review_reasons and spec_for(msg.channel).hold_when_unsure:
            # the channel could not read it well (OCR): a person looks before it goes anywhere.
            # (Email notes such as a MIME defect only flag the complaint: its text was read as sent.)
            row.state = "review"
            for r in receipts:
                r.state = "held"
        if hold:
            # kept from the store until a person looks; its receipt goes out as for any complaint, so the
            # sender cannot tell this case from an unknown ID
            row.state = "review"
            events.append(Event(c.channel, "held_for_review", c.tracking_id, n.contact_masked, detail=hold))
        return InboundOutcome(inbound_id, "needs_review" if c.needs_review else "normalized", row, receipts, events)

    def _contact_receipts(
        self, msg: InboundMessage, c: Any, complaint_id: str, reporter: dict[str, str]
    ) -> list[ReceiptRow]:
        """A letter that gives a phone or an email (and is not anonymous) is also answered there."""
        contacts = spec_for(msg.channel).contact_receipts
        if not contacts or c.privacy.anonymous:
            return []
        out = []
        for field_name, channel in contacts:
            if reporter.get(field_name):
                row = self._receipt_row(msg.model_copy(update={"channel": channel, "sender": reporter[field_name],
                                                                "reply_context": {}}), c, complaint_id)
                row.dedup_key += f":{field_name}"
                out.append(row)
        return out

    def _receipt_row(self, msg: InboundMessage, c: Any, complaint_id: str) -> ReceiptRow:
        style = spec_for(msg.channel).style
        values = {"tracking_id": c.tracking_id, "follow_up_of": c.follow_up_of}
        public = msg.metadata.get("reply_visibility") == "public"
        if public:
            private = c.privacy.confidential or c.privacy.anonymous or bool(find_pii(c.body))
            text = self.templates.render("public", "private" if private else "receipt", **values)
        elif c.follow_up_of and STRANGERS_ANSWER not in c.needs_review:
            text = self.templates.render(style, "follow_up", **values)
        elif "no_substance" in c.needs_review:
            text = self.templates.render(style, "need_details", **values)
        elif c.privacy.anonymous:
            text = self.templates.render(style, "receipt_anonymous" if style in ("sms", "chat") else "receipt", **values)
        else:
            text = self.templates.render(style, "receipt", **values)
        body: dict[str, Any] = {"text": text, "public": public}
        if style == "email":
            body["subject"] = self.templates.render("email", "subject", **values)
        return ReceiptRow(
            dedup_key=f"receipt:{complaint_id}",
            kind="receipt",
            channel=msg.channel,
            target={"to": msg.sender, "account": msg.account, "reply_context": msg.reply_context},
            body=body,
            complaint_id=complaint_id,
            tracking_id=c.tracking_id,
        )

    def _delivery(self, inbound_id: int, msg: InboundMessage, ref: str | None, status: str) -> InboundOutcome:
        event = Event(msg.channel, f"receipt_{status}", detail=None)
        if not ref:
            return InboundOutcome(inbound_id, "recorded", events=[event])
        family = spec_for(msg.channel).delivery_family  # sms.kannel.dlr → sms
        return InboundOutcome(inbound_id, "recorded", events=[event], delivery=(str(ref), status, family))


def fault_reason(exc: BaseException) -> str:
    """One line for /healthz and the log: the storage's own words for its faults, else the type only."""
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__  # set only on errors from SQLite itself
        return f"storage fault ({name})"
    return f"unexpected {type(exc).__name__}"
