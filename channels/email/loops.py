"""Mail that must not be answered automatically, and bounces of our own receipts.

Follows RFC 3834 and common practice: no automatic reply to anything with
``Auto-Submitted`` other than ``no``, ``Precedence: bulk|list|junk|auto_reply``,
an empty Return-Path / envelope sender, mailer-daemon or postmaster senders,
mailing-list posts (``List-Id``, ``List-Unsubscribe``, ``List-Post``), or our
own receipts coming back. What the gateway then does:

==============  ============================================================
verdict.kind    meaning
==============  ============================================================
``bounce``      a delivery status notification; ``related`` = tracking ID
                of the receipt that bounced (None when it was not ours).
                Recorded, never a complaint.
``auto_reply``  an out-of-office or our own receipt looping back, about one
                of our receipts (``related``). Recorded, never a complaint.
``complaint``   everything else; ``suppress`` names why no receipt may be
                sent (an auto-reply to someone else, a list post…), or None.
==============  ============================================================

Mailing-list posts stay complaints (a citizen may write via a community
list), only without a receipt: answering a list would mail every member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from channels.email.thread_ids import (
    our_message_id,
    returned_message_id,
    tracking_from_message_ids,
    tracking_from_subject,
    tracking_in_text,
)

__all__ = ["LoopVerdict", "classify"]

_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|noreply-dmarc-support)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status|failure|has failed|notification)|returned mail|failure notice|"
    r"mail delivery|nicht zustellbar|tidak terkirim|gagal terkirim|zustellung",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^(auto(matic)? ?(reply|response)|out of (the )?office|balasan otomatis|sedang cuti|abwesenheit|"
    r"auto:|autoreply|réponse automatique)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LoopVerdict:
    kind: str = "complaint"  # complaint | bounce | auto_reply
    suppress: str | None = None  # reason no automatic receipt may be sent
    related: str | None = None  # tracking ID of our receipt this is about
    # our mail it is about (the update or the receipt that bounced or was auto-answered), when it names it
    message_id: str | None = None


def _h(msg: Message, name: str) -> str:
    try:
        v = msg.get(name)
    except Exception:
        return ""
    return str(v).strip() if v is not None else ""


def _is_dsn(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report" and (msg.get_param("report-type") or "").lower() in (
        "delivery-status",
        "",
    )


def _auto_submitted(msg: Message) -> bool:
    value = _h(msg, "auto-submitted").lower()
    if value and value.split(";")[0].strip() != "no":
        return True
    if _h(msg, "x-autoreply") or _h(msg, "x-autorespond") or _h(msg, "x-autoresponder"):
        return True
    return bool(_h(msg, "x-auto-response-suppress")) and bool(_AUTO_SUBJECT.search(_h(msg, "subject")))


def classify(
    msg: Message,
    raw: bytes,
    sender: str | None,
    null_sender: bool,
    subject: str,
) -> LoopVerdict:
    """Decide how to treat ``msg``; ``sender`` is the From address, ``null_sender`` an empty MAIL FROM/Return-Path."""
    our_ref = tracking_from_message_ids(_h(msg, "in-reply-to"), _h(msg, "references")) or tracking_from_subject(subject)
    from_daemon = bool(sender and _DAEMON.match(sender))
    if _is_dsn(msg) or ((from_daemon or null_sender) and _BOUNCE_SUBJECT.search(subject)):
        # the returned headers (or body) of a bounce carry our receipt's Message-ID
        text = raw.decode("latin-1")
        returned = returned_message_id(text)
        related = tracking_in_text(returned) if returned else our_ref or tracking_in_text(text)
        return LoopVerdict("bounce", "bounce", related, returned)
    own = tracking_in_text(_h(msg, "message-id"))
    if own:
        return LoopVerdict("auto_reply", "own_receipt", own)
    precedence = _h(msg, "precedence").lower()
    if _auto_submitted(msg) or precedence == "auto_reply" or _AUTO_SUBJECT.search(subject):
        if our_ref:
            return LoopVerdict("auto_reply", "auto_reply", our_ref, our_message_id(_h(msg, "in-reply-to")))
        return LoopVerdict(suppress="auto_reply")
    if from_daemon:
        return LoopVerdict(suppress="mailer_daemon")
    if null_sender:
        return LoopVerdict(suppress="null_sender")
    if _h(msg, "list-id") or _h(msg, "list-unsubscribe") or _h(msg, "list-post") or precedence == "list":
        return LoopVerdict(suppress="mailing_list")
    if precedence in ("bulk", "junk"):
        return LoopVerdict(suppress=f"precedence_{precedence}")
    return LoopVerdict()
