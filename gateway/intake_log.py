"""The intake log in the terminal: ``lapor-gateway log [--follow]``.

Events hold only what an operator may see: channel, tracking ID, state, the
masked contact, category, flags and a short reason, never a body.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from gateway.journal import Journal

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


def format_event(e: dict[str, Any]) -> tuple[str, ...]:
    at = datetime.fromtimestamp(e["at"]).strftime("%Y-%m-%d %H:%M:%S")
    style = STATE_STYLE.get(e["state"], "")
    state = f"[{style}]{e['state']}[/]" if style else e["state"]
    return (at, e["channel"], e["tracking_id"] or "", state, e["contact"] or "", e["category"] or "",
            e["flags"] or "", e["detail"] or "")


def _table() -> Table:
    t = Table(box=None, pad_edge=False)
    for col in ("time", "channel", "tracking", "state", "contact", "category", "flags", "detail"):
        t.add_column(col, overflow="fold")
    return t


def print_log(journal: Journal, *, follow: bool, last: int, console: Console | None = None) -> None:
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
            console.print("  ".join(format_event(e)), highlight=False)
            seq = e["seq"]
