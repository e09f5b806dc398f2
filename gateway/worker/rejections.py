"""A complaint rejected in review: the citizen is told, once, that it cannot be processed, and why.

The reviewer picks the reason from a fixed list (:data:`gateway.worker.templates.REJECT_CHOICES`; the CLI's
``review --reject ID --because KEY``, the console's Reject form). Unless it is ``do_not_notify`` (spam, abuse),
one notice (a ``receipts`` row of kind ``rejection``) is queued for each address the complaint's own receipts
were for, their sealed targets reused as the return path's updates reuse them: an anonymous reporter's number
never leaves the vault, a letter is answered by a printed letter (and at the phone or email it gave). The rows
are written in the decision's transaction (:meth:`review_decide_sync`); the receipt worker sends them as it
sends receipts (claimed before sending, rate limits, retried, settled by delivery reports). Their words are the
templates' ``rejected`` in the receipts' language with the reason in the citizen's words, never the reviewer's
note. A stranger's answer held for review (a BALAS naming a ticket that is not theirs) is rejected in silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.registry import spec_for
from gateway.store.ports import ReviewStore
from gateway.store.records import ReceiptRow
from gateway.worker.templates import DO_NOT_NOTIFY, REJECT_CHOICES, Templates
from gateway.worker.updates import addresses

KIND = "rejection"


@dataclass(frozen=True)
class Rejection:
    decided: bool  # False: it was not waiting for review (nothing changed)
    told: int = 0  # notices queued for the citizen
    silent: str | None = None  # why nobody is told: do_not_notify | strangers_answer | no_address


def notices(journal: ReviewStore, templates: Templates, complaint: dict[str, Any], because: str) -> list[ReceiptRow]:
    """The notices for a complaint rejected ``because`` (none for do_not_notify; the caller leaves out a
    stranger's answer, which the store keeps silent anyway)."""
    if because == DO_NOT_NOTIFY:
        return []
    tid = complaint["tracking_id"]
    words = templates.rejection(tid, because)
    rows = []
    for original in addresses(journal.receipts_to_reuse(complaint["id"])):
        style = spec_for(original["channel"]).style
        said = words.get(style) or words["chat"]
        target = dict(original["target"] or {})
        context = dict(target.get("reply_context") or {}) | {
            "tracking_id": tid, "complaint_id": complaint["id"], "rejection": because, "status": "rejected",
            "original_receipt_id": original["id"], "original_provider_id": original.get("provider_id"),
        }
        body: dict[str, Any] = {"text": said["text"], "public": False, "rejection": because}  # never a public post
        if "subject" in said and style == "email":
            body["subject"] = said["subject"]
        rows.append(ReceiptRow(dedup_key=f"{KIND}:{complaint['id']}:{original['id']}", kind=KIND,
                               channel=original["channel"], target=target | {"reply_context": context}, body=body,
                               complaint_id=complaint["id"], tracking_id=tid))
    return rows


def reject(journal: ReviewStore, templates: Templates, tracking_id: str, because: str,
           note: str | None = None) -> Rejection:
    """Reject a complaint waiting for review and queue its citizen's notice (``note``: the reviewer's own words,
    kept with the decision, never sent). ValueError for a reason not in the list."""
    if because not in REJECT_CHOICES:
        raise ValueError(f"not a rejection reason: {because!r}")
    complaint = journal.complaint_by_tracking(tracking_id)
    if complaint is None or complaint["state"] not in ("review", "awaiting_details"):
        return Rejection(False)
    # one rule for who is a stranger, the store's (the review reason or the hold it logged), so what is said
    # here is what the store does
    stranger = journal.strangers_answer(tracking_id)
    rows = [] if stranger else notices(journal, templates, complaint, because)
    if not journal.review_decide_sync(tracking_id, False, note, because=because, notices=rows):
        return Rejection(False)
    if because == DO_NOT_NOTIFY:
        return Rejection(True, 0, DO_NOT_NOTIFY)
    if stranger:
        return Rejection(True, 0, "strangers_answer")
    return Rejection(True, len(rows), None if rows else "no_address")
