"""The intake log in the terminal: ``lapor-gateway log [--follow]``.

Events hold only what an operator may see: channel, tracking ID, state, the
masked contact, category, flags and a short reason, never a body. Every field
may still come from a sender (a contact, a reason quoting a header), so each is
printed through :func:`gateway.cli.display.safe_cell`: no markup, no raw controls.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gateway.cli.display import safe_cell
from gateway.store.ports import EventLog

STATE_STYLE = {
    "received": "dim",
    "normalized": "cyan",
    "forwarded": "green",
    "receipt_sent": "green",
    "reply_sent": "green",
    "needs_review": "yellow",
    "receipt_suppressed": "yellow",
    "failed": "red",
    "receipt_failed": "red",
    "dead_letter": "bold red",
}


def format_event(e: dict[str, Any]) -> tuple[Text, ...]:
    """One event as table cells, each a literal ``Text`` (rich never parses an event's values)."""
    try:
        at = datetime.fromtimestamp(e["at"]).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        at = str(e["at"])
    state = e["state"]
    style = STATE_STYLE.get(state, "") if isinstance(state, str) else ""
    return (
        safe_cell(at), safe_cell(e["channel"]), safe_cell(e["tracking_id"]), safe_cell(state, style),
        safe_cell(e["contact"]), safe_cell(e["category"]), safe_cell(e["flags"]), safe_cell(e["detail"]),
    )


def _table() -> Table:
    t = Table(box=None, pad_edge=False)
    for col in ("time", "channel", "tracking", "state", "contact", "category", "flags", "detail"):
        t.add_column(col, overflow="fold")
    return t


def print_log(journal: EventLog, *, follow: bool, last: int, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    latest = journal.last_event_seq()
    seq = max(0, latest - last)
    events = journal.events_after(seq, limit=last)
    table = _table()
    for e in events:
        table.add_row(*format_event(e))
        seq = e["seq"]
    console.print(table)
    while follow:
        time.sleep(0.5)
        for e in journal.events_after(seq):
            console.print(Text("  ").join(format_event(e)), highlight=False)
            seq = e["seq"]
