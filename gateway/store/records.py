"""What the worker and the store hand each other: plain rows, no SQL (every adapter takes and gives these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from channels.message import InboundMessage

# A message naming a ticket that is not its sender's (or one never issued) is held for a person: its review
# reason, and the held_for_review event's detail for each case. A rejection of it tells nobody.
STRANGERS_ANSWER = "follow_up_of_unknown"
ANSWER_TO_UNKNOWN_ID = "answer_to_unknown_id"
ANSWER_FROM_OTHER_CONTACT = "answer_from_other_contact"
STRANGER_HOLDS = (ANSWER_TO_UNKNOWN_ID, ANSWER_FROM_OTHER_CONTACT)


@dataclass
class Event:
    """One intake-log entry; holds nothing a log may not hold (masked contact, no body)."""

    channel: str
    state: str
    tracking_id: str | None = None
    contact: str | None = None
    category: str | None = None
    flags: str | None = None
    detail: str | None = None
    at: float | None = None  # when it happened, if not when it is written

    def row(self, now: float) -> tuple[Any, ...]:
        return (self.at or now, *(_storable(v) for v in (self.channel, self.tracking_id, self.state, self.contact,
                                                         self.category, self.flags, self.detail)))


@dataclass
class DueInbound:
    id: int
    msg: InboundMessage | None  # None: the sealed payload could not be opened (quarantined at once)
    attempts: int
    created_at: float
    conflict: bool = False  # its channel id was reused by a message with other content
    error: str | None = None


@dataclass
class ReceiptRow:
    """A reply to send: ``target`` and ``body`` are sealed at rest."""

    dedup_key: str
    kind: str
    channel: str
    target: dict[str, Any]
    body: dict[str, Any]
    complaint_id: str | None = None
    tracking_id: str | None = None
    state: str = "pending"


@dataclass
class ComplaintRow:
    id: str
    tracking_id: str
    inbound_id: int
    channel: str
    record_json: str
    reporter_ref: str | None
    anonymous: bool
    confidential: bool
    vault: dict[str, Any]
    state: str = "normalized"
    # the complaint (same id) waits in this state for the citizen's details: this row completes it
    completes: str | None = None


@dataclass
class ResponseRow:
    """A citizen's answer on a complaint, for the store (``payload``: text, received_at, channel,
    attachments metadata; sealed at rest)."""

    id: str  # also the Idempotency-Key of its POST
    complaint_id: str
    tracking_id: str
    channel: str
    payload: dict[str, Any]
    anonymous: bool = False
    confidential: bool = False
    sealed: bytes | None = None  # set by the adapter before it writes


@dataclass
class InboundOutcome:
    """What the normaliser decided for one inbound message; written in one transaction."""

    inbound_id: int
    state: str  # normalized | answered | recorded | needs_review | failed | deferred (to the heavy lane)
    complaint: ComplaintRow | None = None
    receipts: list[ReceiptRow] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    delivery: tuple[str, str, str] | None = None  # (receipt id, status, channel family) from a DLR/status callback
    attempts: int = 0  # tries before this one: an outcome that cannot be written counts as a failed try
    channel: str = ""  # for the quarantine event when it cannot be written
    failure: str | None = None  # this try failed, for this reason: again later, or quarantined
    final: bool = False  # the failure is a refusal: quarantined at once
    response: ResponseRow | None = None  # a citizen's answer on an open complaint, to post to the store


@dataclass(frozen=True)
class RateCheck:
    """One send quota a send must pass: at most ``limit`` sends under ``key`` in any ``window`` seconds."""

    name: str  # the rule, as the receipt's last_error and the event's detail name it
    key: str  # what is counted: the rule's name, or name:keyed hash of the recipient
    limit: int
    window: float
    event: str  # intake-log state written once per key and window when it bites
    defer: bool = False  # over it: wait for a free slot (True) or do not send at all (False)


@dataclass
class Claim:
    """What the limiter decided for one due receipt."""

    outcome: Literal["send", "limited", "deferred", "gone"]
    rule: str | None = None
    next_at: float = 0.0
    counted: list[int] = field(default_factory=list)  # rate_sends ids, given back if nothing left


def _storable(value: str | None) -> str | None:
    """Text SQLite can bind: a lone surrogate becomes U+FFFD (an event must never fail its batch)."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    return value

