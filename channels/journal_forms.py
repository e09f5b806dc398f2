"""How the journal's bytes of a message open into an :class:`InboundMessage`.

Most messages are journaled as their model's JSON. A webhook that journals an entry instead
(:class:`channels.base.JournalsEntries`) writes its own form: a tag that no JSON starts with, then the
fields the message is made of, and names here the function that makes the message of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from channels.message import InboundMessage
from channels.sms import kannel

Opener = Callable[[bytes, datetime], InboundMessage]
FORMS: dict[bytes, Opener] = {kannel.JOURNAL_FORM: kannel.message_from_form}


class UnknownForm(ValueError):
    """Journaled bytes of a form this version does not know (written by a newer one)."""


def open_journaled(data: bytes, created_at: float) -> InboundMessage:
    """The message of journaled ``data``; ``created_at``: when the journal took it (a form's receive time
    when its peer gave none)."""
    if data[:1] == b"{":
        return InboundMessage.model_validate_json(data)
    tag = data[: data.find(b"\0", 1) + 1]
    opener = FORMS.get(tag)
    if opener is None:
        raise UnknownForm(f"journal form {tag[:40]!r}")
    return opener(data[len(tag):], datetime.fromtimestamp(created_at, UTC))
