"""What the router does with a message that is not simply a new complaint: help, ``CEK``, ``BALAS``/``INFO``,
a reply in a thread or a chat, a mail whose subject names a ticket.

:class:`Commands` is the router's half for these (``Router`` inherits it): each ends in a reply, a citizen
response on an open complaint (:mod:`gateway.worker.answers` finds which and whether the sender may), or a
complaint of its own (a follow-up, or held for review when someone else's ticket is named).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from channels.message import InboundMessage
from channels.registry import spec_for
from gateway.store.ports import RouterStore
from gateway.store.records import (
    ANSWER_FROM_OTHER_CONTACT,
    ANSWER_TO_UNKNOWN_ID,
    STRANGERS_ANSWER,
    Event,
    InboundOutcome,
    ReceiptRow,
)
from gateway.worker.answers import Answered, find_answer, is_closed, masked_contact, response_row
from gateway.worker.templates import Templates
from normalizer.keywords import Command
from normalizer.pipeline import Normalizer, TextRead

# a message that is only one of these asks for help, on any channel (citizens type /start in an SMS too);
# a chat's own command syntax (/start@<bot>) is undone by its channel before the worker reads it
HELP_WORDS = {"/start", "/help", "help", "bantuan", "menu", "info"}
StatusLookup = Callable[[str], Awaitable[dict[str, Any] | None]]
_EMPTY_ANSWER = ("Tanggapan Anda kosong. Kirim BALAS, nomor tiket, lalu tanggapan Anda.",
                 "Your answer is empty. Send BALAS, the ticket number, then your answer.")
# an answer_refused event's detail: why (the intake log showed the bare state, with nothing to go on)
_REFUSED = {"missing_id": "BALAS without a ticket number", "missing_text": "BALAS with no text after the number",
            "empty": "an empty answer (no text, no attachment)"}


class Commands:
    """The router's decisions for commands and answers, and the short replies (also the router's
    request for details); a complaint is built by the router's own ``_complaint``."""

    journal: RouterStore
    normalizer: Normalizer
    templates: Templates
    central_status: StatusLookup

    async def _complaint(self, inbound_id: int, msg: InboundMessage, text: str | None, follow_up_of: str | None,
                         review: list[str], hold: str | None = None, *, read: TextRead | None = None,
                         ) -> InboundOutcome:
        raise NotImplementedError  # the router's

    def _reply(
        self, inbound_id: int, msg: InboundMessage, key: str, values: dict[str, Any], what: str,
        tracking_id: str | None = None, style: str | None = None,
    ) -> InboundOutcome:
        events = [Event(msg.channel, what, tracking_id)]
        if not msg.sender or msg.suppress_receipt:
            return InboundOutcome(inbound_id, "answered", events=events)
        style = style or spec_for(msg.channel).short_reply_style
        receipt = ReceiptRow(
            dedup_key=f"reply:{inbound_id}",
            kind="reply",
            channel=msg.channel,
            target={"to": msg.sender, "account": msg.account, "reply_context": msg.reply_context},
            body={"text": self.templates.render(style, key, **values), "public": False},
            tracking_id=tracking_id,  # the ticket it answers about: listed under it, sent after its receipt
        )
        return InboundOutcome(inbound_id, "answered", receipts=[receipt], events=events)

    async def converse(self, inbound_id: int, msg: InboundMessage, read: TextRead,
                       command: Command | None) -> InboundOutcome:
        """Help, a status query, an answer to a complaint, or a complaint that names (or fails to name) one."""
        if read.body.lower() in HELP_WORDS:
            return self._reply(inbound_id, msg, "help", {}, "help")
        if command is not None and command.verb == "cek":
            return await self._status_query(inbound_id, msg, command)
        answer = await find_answer(self.journal, self.normalizer, msg, command)
        if answer is not None:
            return await self._answer(inbound_id, msg, answer)
        text = None
        review: list[str] = []
        if command is not None and command.verb == "balas" and command.error in ("missing_id", "missing_text"):
            reason = self.templates.pick(command.message_id, command.message_en)
            out = self._reply(inbound_id, msg, "bad_answer", {"reason": reason}, "answer_refused")
            out.events[0].detail = _REFUSED[command.error]  # why, for the operator (no ticket: it may be anyone's)
            return out
        if command is not None and command.verb in ("info", "balas") and command.error:
            # the whole text stays the complaint: nothing the citizen wrote is lost
            review.append("follow_up_id_invalid")
        elif command is not None and command.verb == "info":
            text = command.text or ""  # INFO <id> with no text (a valid id is an answer: find_answer)
        elif msg.follow_up_hint:  # e.g. a mail whose subject names a ticket
            named = await self._lookup(msg.follow_up_hint)
            if named is None or not self._is_reporter(named, msg):
                # an id we never issued or someone else's: the same receipt and state either way, held
                review.append(STRANGERS_ANSWER)
                hold = ANSWER_TO_UNKNOWN_ID if named is None else ANSWER_FROM_OTHER_CONTACT
                return await self._complaint(inbound_id, msg, text, None, review, hold, read=read)
        return await self._complaint(inbound_id, msg, text, None, review, read=read)

    async def _answer(self, inbound_id: int, msg: InboundMessage, answer: Answered) -> InboundOutcome:
        """A message that answers a complaint: a citizen response on it when it is open and the sender is its
        reporter; a new complaint following it up when it is closed; held when someone else names it."""
        tid = answer.tracking_id
        if answer.complaint is None:
            # an id we never issued: its own complaint, held as someone else's would be (the receipt, and CEK
            # of the new ticket later, must not tell a stranger which tracking IDs exist)
            return await self._complaint(inbound_id, msg, answer.text, tid, [STRANGERS_ANSWER],
                                         ANSWER_TO_UNKNOWN_ID)
        if not answer.owner:
            # someone else's ticket: answered exactly as an unknown ID, and held for a person
            return await self._complaint(inbound_id, msg, answer.text, tid, [STRANGERS_ANSWER],
                                         ANSWER_FROM_OTHER_CONTACT)
        if answer.complaint["state"] == "awaiting_details":
            # the ticket waits for its details (never forwarded): this answer is them, as a plain message would be
            details = msg.model_copy(update={"text": answer.text, "kind": "complaint", "follow_up_hint": None})
            return await self._complaint(inbound_id, details, None, None, [])
        remote = await self.central_status(tid)  # as CEK asks: the store knows whether it is closed
        if is_closed((remote or {}).get("status"), answer.complaint["state"]):
            return await self._complaint(inbound_id, msg, answer.text, tid, [])
        if not answer.text.strip() and not msg.attachments:
            reason = self.templates.pick(*_EMPTY_ANSWER)
            out = self._reply(inbound_id, msg, "bad_answer", {"reason": reason}, "answer_refused", tid)
            out.events[0].detail = _REFUSED["empty"]
            return out
        row = response_row(self.normalizer, msg, answer)
        out = self._reply(inbound_id, msg, "response_received", {"tracking_id": tid}, "citizen_response", tid)
        out.events[0].contact = masked_contact(msg, row.anonymous)
        out.response = row
        return out

    async def _lookup(self, tracking_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.journal.complaint_by_tracking, tracking_id)

    def _is_reporter(self, complaint: dict[str, Any], msg: InboundMessage) -> bool:
        return bool(complaint["reporter_ref"]) and complaint["reporter_ref"] in self.normalizer.refs_of(msg)

    async def _status_query(self, inbound_id: int, msg: InboundMessage, command: Any) -> InboundOutcome:
        if command.error:
            reason = self.templates.pick(command.message_id, command.message_en)  # in the receipts' language
            return self._reply(inbound_id, msg, "bad_tracking_id", {"reason": reason}, "status_query")
        tid = command.tracking_id
        local = await self._lookup(tid)
        if local is None or (local["confidential"] and not self._is_reporter(local, msg)):
            # a stranger asking about a confidential complaint learns exactly what an unknown ID tells
            return self._reply(inbound_id, msg, "status_unknown", {"tracking_id": tid}, "status_query", tid)
        remote = await self.central_status(tid)
        status = (remote or {}).get("status") or local["state"]
        due = ((remote or {}).get("due") or {}).get("verify_by")
        values = {
            "tracking_id": tid,
            "status": self.templates.status_name(status),
            "due": self.templates.due_suffix(due[:10] if due else None),
        }
        return self._reply(inbound_id, msg, "status", values, "status_query", tid)
