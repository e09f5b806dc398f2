"""Message-IDs of our receipts and how a reply or a bounce leads back to its complaint.

Our receipt's Message-ID is ``<lapor.{tracking_id}.{random}@{domain}>``: any
reply (In-Reply-To/References) or bounce (returned headers) that carries it
names the tracking ID without a lookup. A tracking ID in the subject
(``Re: [LAPOR 1234567890] …``) counts too. Tracking IDs are 10 digits whose
last one is a Damm check digit (python-stdnum), so random 10-digit numbers rarely match.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable

from stdnum import damm

__all__ = [
    "damm_valid",
    "derived_message_id",
    "make_message_id",
    "our_message_id",
    "receipt_message_id",
    "references_chain",
    "returned_message_id",
    "tracking_from_message_ids",
    "tracking_from_subject",
    "tracking_in_text",
]

_OUR_ID = re.compile(r"<lapor\.(\d{10})\.[A-Za-z0-9_-]+@[^>\s]+>")
_SUBJECT_ID = re.compile(r"\[\s*LAPOR[\s#:-]*(\d{10})\s*\]", re.IGNORECASE)


def damm_valid(digits: str) -> bool:
    """True when ``digits`` is a string of ASCII digits whose Damm checksum is 0 (as ``normalizer.tracking``)."""
    return digits.isascii() and digits.isdigit() and damm.is_valid(digits)


def make_message_id(tracking_id: str, domain: str) -> str:
    """A fresh Message-ID for a receipt about ``tracking_id``."""
    return f"<lapor.{tracking_id}.{secrets.token_urlsafe(9)}@{domain}>"


def receipt_message_id(tracking_id: str, parent: str | None, domain: str) -> str:
    """The Message-ID of our receipt for ``tracking_id`` answering the citizen's mail ``parent``.

    Derived, not random: every later mail about the ticket (an update, sent from the same reply
    context) names it in ``References`` without a lookup, and a receipt sent again after a crash
    keeps its id, so the citizen's mail program shows it once.
    """
    return f"<lapor.{tracking_id}.{_token('receipt', tracking_id, parent or '', domain)}@{domain}>"


def derived_message_id(tracking_id: str, key: str, domain: str) -> str:
    """A Message-ID about ``tracking_id`` that is the same for the same ``key`` (one update to one address)."""
    return f"<lapor.{tracking_id}.{_token('mail', tracking_id, key, domain)}@{domain}>"


def _token(*parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def tracking_in_text(text: str) -> str | None:
    """The tracking ID of the last of our Message-IDs found in ``text`` (last = nearest in a References chain)."""
    found = [m for m in _OUR_ID.findall(text or "") if damm_valid(m)]
    return found[-1] if found else None


_RETURNED_ID = re.compile(r"^[ \t>]*Message-ID:[ \t]*(<lapor\.(\d{10})\.[A-Za-z0-9_-]+@[^>\s]+>)",
                          re.IGNORECASE | re.MULTILINE)


def returned_message_id(text: str) -> str | None:
    """Our Message-ID on a ``Message-ID:`` header line of ``text``: the mail a bounce returns.

    Not any of our ids in the bounce: a returned update names our receipt in ``References`` too, and the
    bounce is about the update. The last such line (the returned headers come after the bounce's own), quoted
    with ``>`` or indented too (bounces that copy the mail into their text).
    """
    found = [m.group(1) for m in _RETURNED_ID.finditer(text or "") if damm_valid(m.group(2))]
    return found[-1] if found else None


def our_message_id(header: str | None) -> str | None:
    """The first of our Message-IDs in ``header`` (an In-Reply-To value: the mail answered)."""
    for m in _OUR_ID.finditer(header or ""):
        if damm_valid(m.group(1)):
            return m.group(0)
    return None


def tracking_from_message_ids(*headers: str | None) -> str | None:
    """Tracking ID from In-Reply-To / References values, In-Reply-To first."""
    for value in headers:
        if value and (tid := tracking_in_text(value)):
            return tid
    return None


def tracking_from_subject(subject: str | None) -> str | None:
    m = _SUBJECT_ID.search(subject or "")
    return m.group(1) if m and damm_valid(m.group(1)) else None


def references_chain(references: str | None, message_id: str | None, keep: int = 20) -> str:
    """The References value for a reply: the parent's References plus its Message-ID (RFC 5322 3.6.4)."""
    ids: list[str] = re.findall(r"<[^<>\s]+>", references or "")
    if message_id:
        ids.append(message_id.strip())
    return " ".join(_dedupe(ids)[-keep:])


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]
