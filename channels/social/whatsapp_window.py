"""WhatsApp's 24-hour customer-service window, and the template an update uses outside it.

Meta lets a business send free text only within 24 hours of the citizen's last message to it; after
that only an approved template goes through (free text is refused with error 131047). An update (the
agency's answer, days later) is therefore sent as text when the citizen wrote within the window, else as
``whatsapp.update_template`` with two body parameters: the tracking ID, then a short status.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

WINDOW_SECONDS = 24 * 3600.0
# kept from the window's end: the send may wait in the queue, and Meta's clock is not ours
WINDOW_MARGIN_SECONDS = 10 * 60.0
OUTSIDE_WINDOW_CODES = {131047, 470}  # "re-engagement message": more than 24 hours since the citizen wrote
MAX_PARAMETER = 60  # a short status; Meta refuses newlines, tabs and runs of spaces in parameters

# (account, wa_id) → the Unix time of the citizen's last message to that number, None when none is known
LastInbound = Callable[[str, str], Awaitable[float | None]]

STATUS_WORDS = {
    "id": {"received": "diterima", "verifying": "sedang diverifikasi", "needs_details": "perlu dilengkapi",
           "forwarded_to_agency": "diteruskan ke instansi", "in_progress": "sedang ditindaklanjuti",
           "resolved": "selesai", "closed": "ditutup", "archived": "diarsipkan",
           "rejected": "tidak dapat diproses"},
    "en": {"received": "received", "verifying": "being verified", "needs_details": "needs more details",
           "forwarded_to_agency": "forwarded to the agency", "in_progress": "in progress",
           "resolved": "resolved", "closed": "closed", "archived": "archived",
           "rejected": "cannot be processed"},
}  # fmt: skip
_SPACES = re.compile(r"\s+")


def last_time(*times: Any) -> float | None:
    """The latest of the known times (Unix seconds); None when none is a number."""
    known = [float(t) for t in times if isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
             and t > 0]
    return max(known) if known else None


def in_window(last_inbound: float | None, now: float | None = None) -> bool:
    """Whether free text may still go: the citizen wrote less than 24 hours (minus a margin) ago."""
    if last_inbound is None:
        return False
    age = (time.time() if now is None else now) - last_inbound
    return age < WINDOW_SECONDS - WINDOW_MARGIN_SECONDS


def short_status(ctx: dict[str, Any], language: str) -> str:
    """The status parameter: the gateway's own words when the update carries them, else the status's name."""
    given = ctx.get("status_text")
    status = str(ctx.get("status") or "in_progress")
    words = given if isinstance(given, str) and given.strip() else \
        STATUS_WORDS.get(language[:2], STATUS_WORDS["id"]).get(status, status.replace("_", " "))
    return parameter(words)


def parameter(text: str) -> str:
    """A template body parameter as Meta takes it: one line, single spaces, not empty, short."""
    one = _SPACES.sub(" ", text).strip()[:MAX_PARAMETER].strip()
    return one or "-"


def template_payload(to: str, name: str, language: str, tracking_id: str, status: str) -> dict[str, Any]:
    """``POST /{phone-number-id}/messages`` for the update template; nothing of the answer's text in it."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": parameter(tracking_id)}, {"type": "text", "text": status},
            ]}],
        },
    }
