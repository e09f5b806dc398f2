"""SP4N-LAPOR!'s clock: deadlines in working days, Asia/Jakarta.

Rules (decided here, tested in ``tests/unit/forwarder/central/test_workdays.py``):

- Days are Jakarta calendar dates. A working day is Monday–Friday that is not
  an Indonesian national holiday (``holidays.country_holidays("ID")``, the
  ``public`` category). Cuti bersama (the government's joint-leave days, the
  ``government`` category) are off only when ``joint_leave=True``: the service
  rules say "national holidays", so the default follows them.
- The day of the event does not count. The first counted day is the next
  working day after the event's Jakarta date, so a complaint received on a
  Saturday, a Sunday or a holiday counts from the next working day, the same as
  one received after hours on the Friday before.
- A deadline is the *end* of its last day: 23:59:59.999999 Asia/Jakarta. Because
  of that a deadline depends only on the event's date, which lets us cache it.
- Working-day deadlines: ``verify_by`` (3 after receipt),
  ``archive_incomplete_after`` (10 after the complaint entered ``needs_details``),
  ``agency_follow_up_by`` (5 after ``forwarded_to_agency``).
- Calendar-day deadlines: ``citizen_response_within`` (10 days after the agency
  answered, i.e. the complaint entered ``resolved``), ``ombudsman_escalation``
  (14 days after ``forwarded_to_agency`` without an agency response) and
  ``outer_limit`` (60 days after receipt). The service rules state these as "days"
  while they say "working days" for the others; counting them as calendar days
  gives the earlier date, which errs on the citizen's side. A calendar deadline
  is not moved off a weekend or holiday.
- A deadline whose starting event has not happened yet is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

JAKARTA = ZoneInfo("Asia/Jakarta")
END_OF_DAY = time(23, 59, 59, 999999)

Unit = Literal["working", "calendar"]


@dataclass(frozen=True)
class Deadline:
    """One clock rule: ``days`` of ``unit`` after the complaint reached ``anchor``."""

    name: str
    days: int
    unit: Unit
    anchor: str  # "received" or the status whose entry starts the clock


DEADLINES: tuple[Deadline, ...] = (
    Deadline("verify_by", 3, "working", "received"),
    Deadline("archive_incomplete_after", 10, "working", "needs_details"),
    Deadline("agency_follow_up_by", 5, "working", "forwarded_to_agency"),
    Deadline("citizen_response_within", 10, "calendar", "resolved"),
    Deadline("ombudsman_escalation", 14, "calendar", "forwarded_to_agency"),
    Deadline("outer_limit", 60, "calendar", "received"),
)


class WorkdayCalendar:
    """Which Jakarta dates are working days; holiday years are loaded on demand."""

    def __init__(self, *, joint_leave: bool = False) -> None:
        categories = ("public", "government") if joint_leave else ("public",)
        self._holidays = holidays.country_holidays("ID", categories=categories, language="id")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End of the ``n``-th working day after ``start``'s Jakarta date (that date itself never counts)."""
        return _end_of(self._add_working_days(local_date(start), n))

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """End of the Jakarta date ``n`` calendar days after ``start``'s Jakarta date."""
        return _end_of(local_date(start) + timedelta(days=n))

    def deadline(self, rule: Deadline, start: datetime) -> datetime:
        day = local_date(start)
        if rule.unit == "working":
            return _end_of(self._add_working_days(day, rule.days))
        return _end_of(day + timedelta(days=rule.days))

    def due_dates(
        self, received_at: datetime, entered: Mapping[str, datetime] | None = None
    ) -> dict[str, datetime | None]:
        """All deadlines of :data:`DEADLINES`; ``entered`` maps a status to when the complaint last entered it."""
        anchors: dict[str, datetime] = {**(entered or {}), "received": received_at}
        return {
            rule.name: self.deadline(rule, anchors[rule.anchor]) if rule.anchor in anchors else None
            for rule in DEADLINES
        }

    @lru_cache(maxsize=4096)  # noqa: B019 - calendars live as long as the process; the key is (self, day, n)
    def _add_working_days(self, day: date, n: int) -> date:
        if n < 0:
            raise ValueError("n must be >= 0")
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day


def local_date(moment: datetime) -> date:
    """The Jakarta calendar date of ``moment``; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JAKARTA).date()


def _end_of(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=JAKARTA)


DEFAULT_CALENDAR = WorkdayCalendar()


def add_working_days(start: datetime, n: int) -> datetime:
    """End of the ``n``-th working day after ``start`` (national holidays and weekends off)."""
    return DEFAULT_CALENDAR.add_working_days(start, n)


def due_dates(received_at: datetime, entered: Mapping[str, datetime] | None = None) -> dict[str, datetime | None]:
    """Deadlines for a complaint with the default calendar; see the module docstring for the rules."""
    return DEFAULT_CALENDAR.due_dates(received_at, entered)
