"""The intake log in the terminal: ``lapor-gateway log [--follow] [filters]``.

Events hold only what an operator may see: channel, tracking ID, state, the
masked contact, category, flags and a short reason, never a body. Every field
may still come from a sender (a contact, a reason quoting a header), so each is
printed through :func:`gateway.cli.display.safe_cell`: no markup, no raw controls.

The columns have fixed widths worked out from the terminal's (not from the rows), so the rows of
``--follow`` line up with the header printed first; a cell too long for its column wraps inside it,
and the tracking column is as wide as a tracking ID, which is never split.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from channels.citizen_time import zone, zone_label
from channels.registry import in_family
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
TRACKING_WIDTH = 10  # 9 random digits + the check digit
STATE_WIDTH = len("response_rate_limited")  # the longest state the intake log holds, never wrapped
WIDE = 150  # from here contact, category and flags have columns of their own
SHARED_MIN = 40  # a shared last column narrower than this goes on lines of its own, under the row
REST = "contact · category · flags · detail"
FOLLOW_SECONDS = 0.5
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(value: str, timezone: str, now: float | None = None) -> float:
    """``90s``, ``30m``, ``2h``, ``7d``, ``1w`` back from now, or an ISO date/time (in ``timezone`` unless it
    gives an offset): the moment as epoch seconds. Raises ``ValueError`` with a line an operator can act on."""
    text = value.strip().lower()
    m = _DURATION.fullmatch(text)
    if m:
        return (time.time() if now is None else now) - float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    try:
        moment = datetime.fromisoformat(value.strip()) if len(value.strip()) > 10 else None
        if moment is None:
            d = date.fromisoformat(value.strip())
            moment = datetime(d.year, d.month, d.day)
    except ValueError:
        raise ValueError(
            f"--since {value!r}: give a duration (90s, 30m, 2h, 7d) or an ISO date or time (2026-12-02, "
            "2026-12-02T08:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.timestamp()


@dataclass(frozen=True)
class LogFilter:
    channel: str | None = None  # a channel name or a family (``sms`` takes ``sms.kannel`` and ``sms.json``)
    states: tuple[str, ...] = ()
    tracking_id: str | None = None
    since: float | None = None

    @classmethod
    def from_args(cls, args: Any, timezone: str) -> LogFilter:
        states = tuple(s.strip() for s in (args.state or "").split(",") if s.strip())
        since = parse_since(args.since, timezone) if args.since else None
        return cls(args.channel or None, states, (args.tracking or "").strip() or None, since)

    def query(self, journal: EventLog) -> dict[str, Any]:
        """The arguments of ``events_matching`` (channel names looked up now: new ones may appear later)."""
        channels = None
        if self.channel is not None:
            channels = [c for c in journal.event_channels() if in_family(c, self.channel)]
        return {"channels": channels, "states": self.states, "tracking_id": self.tracking_id, "since": self.since}


@dataclass(frozen=True)
class Column:
    name: str
    width: int


class Layout:
    """Fixed columns for a terminal ``width`` cells wide. From :data:`WIDE` columns every field has its column;
    below, contact, category, flags and detail share the last one."""

    def __init__(self, width: int, timezone: str) -> None:
        self.width = max(width, 60)
        self.timezone = timezone
        self.zone_label = zone_label(timezone)
        self.wide = self.width >= WIDE  # every field its own column
        roomy = self.width >= 100  # the year, and whole channel and state names
        self.gap = 2 if roomy else 1
        # narrow: the time alone, and a line with the date whenever it changes
        self.dated = not roomy
        self.time_format = "%Y-%m-%d %H:%M:%S" if roomy else "%H:%M:%S"
        self._day: str | None = None
        head = [Column(f"time {self.zone_label}", 19 if roomy else 8), Column("channel", 17),
                Column("tracking", TRACKING_WIDTH), Column("state", STATE_WIDTH)]
        if self.wide:
            head += [Column("contact", 16), Column("category", 20), Column("flags", 14)]
        used = sum(c.width for c in head) + self.gap * len(head)
        # narrow (80 columns): the shared cell would be ~20 cells and split words such as
        # answer_from_other_contact; it goes instead on lines of its own, indented under the channel
        self.below = not self.wide and self.width - used < SHARED_MIN
        self.indent = head[0].width + self.gap
        if self.below:
            self.columns = head
            self.rest_width = self.width - self.indent
        else:
            self.columns = [*head, Column("detail" if self.wide else REST, self.width - used)]

    def time_text(self, at: Any) -> str:
        try:
            return datetime.fromtimestamp(float(at), zone(self.timezone)).strftime(self.time_format)
        except (TypeError, ValueError, OverflowError, OSError):
            return str(at)

    def day_line(self, at: Any) -> Text | None:
        """``── 2026-12-02 WIB ──`` before the first event of a day (narrow layout only)."""
        if not self.dated:
            return None
        try:
            day = datetime.fromtimestamp(float(at), zone(self.timezone)).strftime("%Y-%m-%d")
        except (TypeError, ValueError, OverflowError, OSError):
            return None
        if day == self._day:
            return None
        self._day = day
        return Text(f"── {day} {self.zone_label} ──", style="dim")

    def cells(self, e: dict[str, Any]) -> list[Text]:
        """One event as cells, each a literal ``Text`` (rich never parses an event's values)."""
        state = e["state"]
        style = STATE_STYLE.get(state, "") if isinstance(state, str) else ""
        cells = [safe_cell(self.time_text(e["at"])), safe_cell(e["channel"]), safe_cell(e["tracking_id"]),
                 safe_cell(state, style)]
        rest = [e["contact"], e["category"], e["flags"], e["detail"]]
        if self.wide:
            return cells + [safe_cell(v) for v in rest]
        return [*cells, Text(" · ").join(safe_cell(v) for v in rest if v not in (None, ""))]

    def lines(self, cells: list[Text], console: Console) -> list[Text]:
        """The cells side by side, each wrapped inside its column; every line ``width`` cells or less. In the
        narrow layout the last cell follows on lines of its own, indented, wrapped between words."""
        if not self.below:
            return self._side_by_side(cells, console)
        *head, rest = cells
        out = self._side_by_side(head, console)
        for part in [] if not rest.plain.strip() else rest.wrap(console, self.rest_width, overflow="fold"):
            line = Text(" " * self.indent)
            line.append_text(part)
            line.rstrip()
            out.append(line)
        return out

    def _side_by_side(self, cells: list[Text], console: Console) -> list[Text]:
        wrapped = []
        for cell, col in zip(cells, self.columns, strict=True):
            parts = list(cell.wrap(console, col.width, overflow="fold")) or [Text("")]
            wrapped.append(parts)
        out = []
        for i in range(max(len(w) for w in wrapped)):
            line = Text()
            for n, (parts, col) in enumerate(zip(wrapped, self.columns, strict=True)):
                part = parts[i].copy() if i < len(parts) else Text("")
                if n < len(self.columns) - 1:
                    part.align("left", col.width)
                    part.append(" " * self.gap)
                line.append_text(part)
            line.rstrip()
            out.append(line)
        return out

    def header(self, console: Console) -> list[Text]:
        names = [Text(c.name, style="bold") for c in self.columns]
        return self.lines(names + ([Text(REST, style="bold")] if self.below else []), console)


def _console() -> Console:
    import os

    # piped without COLUMNS: wide enough for every column; a terminal or COLUMNS: that width
    return Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)


def print_log(journal: EventLog, *, follow: bool, last: int, console: Console | None = None,
              wanted: LogFilter | None = None, timezone: str = "Asia/Jakarta") -> None:
    console = console or _console()
    wanted = wanted or LogFilter()
    layout = Layout(console.width, timezone)

    def emit(events: list[dict[str, Any]]) -> int:
        seq = 0
        for e in events:
            day = layout.day_line(e["at"])
            for line in ([day] if day else []) + layout.lines(layout.cells(e), console):
                console.print(line, no_wrap=True, overflow="ignore", crop=False, highlight=False)
            seq = e["seq"]
        return seq

    for line in layout.header(console):
        console.print(line, no_wrap=True, overflow="ignore", crop=False, highlight=False)
    # following starts after the newest event, shown or not: nothing printed twice, nothing skipped
    seq = journal.last_event_seq()
    if last > 0:
        seq = max(seq, emit(journal.events_matching(last=last, **wanted.query(journal))))
    while follow:
        time.sleep(FOLLOW_SECONDS)
        seq = emit(journal.events_matching(after=seq, **wanted.query(journal))) or seq
