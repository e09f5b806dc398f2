"""The monthly report: what came in during one month, by channel and category, and how much was handled in time.

Storage hands :func:`build_report` one :class:`ComplaintFacts` per complaint received in the month (any
adapter: the SQLite one is :mod:`gateway.store.sqlite.reports`); everything the report *means* is decided here.

Definitions (also in ``docs/reports.md`` and on the console's report page):

- A complaint belongs to the month of its ``received_at`` in ``service.timezone``. Only messages that became
  complaints count (a ``CEK`` query, a delivery report or a refused message is not a complaint).
- ``category``: the first of the complaint's suggested categories (``Lainnya`` when it has none).
- ``received``: complaints received in the month. ``forwarded``: of those, the ones the central store has
  accepted. ``in_review``: the ones held for a person now (a scan to check, or waiting for the citizen's
  details). ``resolved``: the ones the central store has reported ``resolved`` or ``closed`` in its updates feed.
- ``forwarded_on_time``: forwarded to the central store by the end of the 3rd working day after receipt
  (SP4N-LAPOR!'s verification limit: the store can only verify what it has).
- ``resolved_on_time``: reported resolved by the end of the 5th working day after the store reported it
  ``forwarded_to_agency`` (SP4N-LAPOR!'s follow-up limit); when the feed never showed that step, by the end
  of the 8th working day after receipt (verification and follow-up together).
- Working days: Monday to Friday that are not Indonesian national holidays, counted in Asia/Jakarta, the day of
  the event itself not counted (:mod:`forwarder.central.workdays`, the same clock the reference store keeps).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from forwarder.central.workdays import DEFAULT_CALENDAR

VERIFY_DAYS = 3  # working days the store has to verify a complaint
FOLLOW_UP_DAYS = 5  # working days the agency has after the complaint is forwarded to it
FALLBACK_CATEGORY = "Lainnya"
RESOLVED_STATUSES = frozenset({"resolved", "closed"})
REVIEW_STATES = frozenset({"review", "awaiting_details"})
CSV_COLUMNS = ("channel", "category", "received", "forwarded", "forwarded_on_time", "in_review", "resolved",
               "resolved_on_time")

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, e.g. ``Month.parse("2026-12")``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH.fullmatch(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1970:
            raise ValueError(f"not a month: {text[:20]!r} (expected YYYY-MM, e.g. 2026-12)")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def containing(cls, moment: datetime, timezone: str) -> Month:
        local = moment.astimezone(ZoneInfo(timezone))
        return cls(local.year, local.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def bounds(self, timezone: str) -> tuple[float, float]:
        """Epoch seconds of the month's first instant and of the next month's, in ``timezone``."""
        tz = ZoneInfo(timezone)
        nxt = self.next()
        return (datetime(self.year, self.month, 1, tzinfo=tz).timestamp(),
                datetime(nxt.year, nxt.month, 1, tzinfo=tz).timestamp())

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class ComplaintFacts:
    """What the report needs of one complaint (times are epoch seconds)."""

    channel: str
    category: str | None
    state: str  # the gateway's: normalized, forwarded, review, awaiting_details, rejected, dead_letter
    received_at: float
    forwarded_at: float | None = None
    store_status: str | None = None  # the latest status the central store's updates feed gave, if any
    to_agency_at: float | None = None  # when the feed first said forwarded_to_agency
    resolved_at: float | None = None  # when the feed first said resolved (or closed)


@dataclass
class ReportRow:
    channel: str
    category: str
    received: int = 0
    forwarded: int = 0
    forwarded_on_time: int = 0
    in_review: int = 0
    resolved: int = 0
    resolved_on_time: int = 0

    def add(self, other: ReportRow) -> None:
        for name in CSV_COLUMNS[2:]:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def values(self) -> tuple[str | int, ...]:
        return tuple(getattr(self, name) for name in CSV_COLUMNS)


@dataclass
class MonthlyReport:
    month: Month
    timezone: str
    rows: list[ReportRow] = field(default_factory=list)  # one per channel × category, sorted
    by_state: dict[str, int] = field(default_factory=dict)  # the gateway's state, or the store's when it told one

    def total(self) -> ReportRow:
        out = ReportRow("", "")
        for r in self.rows:
            out.add(r)
        return out

    def by(self, key: str) -> list[ReportRow]:
        """Rows summed by ``channel`` or ``category``, the largest first."""
        sums: dict[str, ReportRow] = {}
        for r in self.rows:
            name = getattr(r, key)
            row = sums.setdefault(name, ReportRow(name if key == "channel" else "", name if key == "category" else ""))
            row.add(r)
        return sorted(sums.values(), key=lambda r: (-r.received, getattr(r, key)))


def share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage for people (``-`` when there is nothing to share)."""
    return f"{100 * part / whole:.0f}%" if whole else "-"


_JAKARTA_OFFSET = 7 * 3600  # the clock's zone has had no daylight saving since 1964
_deadlines: dict[tuple[int, int], float] = {}


def _deadline(start: float, working_days: int) -> float:
    """End of the ``working_days``-th working day after ``start`` (epoch seconds); one Jakarta date, one answer."""
    key = (int((start + _JAKARTA_OFFSET) // 86400), working_days)
    found = _deadlines.get(key)
    if found is None:
        moment = datetime.fromtimestamp(start, UTC)
        found = _deadlines[key] = DEFAULT_CALENDAR.add_working_days(moment, working_days).timestamp()
    return found


def _counts(f: ComplaintFacts) -> tuple[int, int, int, int, int, int]:
    """received, forwarded, forwarded_on_time, in_review, resolved, resolved_on_time (each 0 or 1)."""
    forwarded = on_time = resolved = resolved_on_time = 0
    if f.forwarded_at is not None:
        forwarded = 1
        on_time = int(f.forwarded_at <= _deadline(f.received_at, VERIFY_DAYS))
    if f.resolved_at is not None or f.store_status in RESOLVED_STATUSES:
        resolved = 1
        if f.resolved_at is not None:
            limit = (_deadline(f.to_agency_at, FOLLOW_UP_DAYS) if f.to_agency_at is not None
                     else _deadline(f.received_at, VERIFY_DAYS + FOLLOW_UP_DAYS))
            resolved_on_time = int(f.resolved_at <= limit)
    return 1, forwarded, on_time, int(f.state in REVIEW_STATES), resolved, resolved_on_time


def classify(f: ComplaintFacts) -> ReportRow:
    """One complaint's row (each count 0 or 1)."""
    return ReportRow(f.channel, f.category or FALLBACK_CATEGORY, *_counts(f))


def build_report(month: Month, timezone: str, facts: Iterable[ComplaintFacts]) -> MonthlyReport:
    """The month's report from its complaints' facts (those outside the month are ignored)."""
    start, end = month.bounds(timezone)
    sums: dict[tuple[str, str], list[int]] = {}
    states: Counter[str] = Counter()
    for f in facts:
        if not start <= f.received_at < end:
            continue
        key = (f.channel, f.category or FALLBACK_CATEGORY)
        total = sums.get(key)
        if total is None:
            total = sums[key] = [0] * 6
        for i, n in enumerate(_counts(f)):
            total[i] += n
        states[f.store_status or f.state] += 1
    rows = [ReportRow(channel, category, *sums[(channel, category)]) for channel, category in sorted(sums)]
    return MonthlyReport(month, timezone, rows, dict(states.most_common()))


def _cell(value: str | int) -> str | int:
    """A CSV cell a spreadsheet will not run as a formula (a category is configurable text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: MonthlyReport) -> str:
    """The report as CSV: UTF-8 text, comma-separated, a header then one row per channel × category."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for row in report.rows:
        w.writerow([_cell(v) for v in row.values()])
    return out.getvalue()
