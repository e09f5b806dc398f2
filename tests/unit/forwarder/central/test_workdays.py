"""SP4N-LAPOR!'s clock against known 2026 Indonesian holidays and weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from forwarder.central.workdays import JAKARTA, WorkdayCalendar, add_working_days, due_dates

CAL = WorkdayCalendar()


def jkt(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=JAKARTA)


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        (date(2026, 1, 16), "Isra"),
        (date(2026, 3, 21), "Fitri"),
        (date(2026, 8, 17), "Kemerdekaan"),
        (date(2026, 12, 25), "Natal"),
    ],
    ids=["Isra Mikraj", "Idul Fitri", "17 Agustus", "Natal"],
)
def test_holidays_package_knows_2026(day, name_part):
    assert name_part in (CAL.holiday_name(day) or "")
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    ("label", "received", "verify_by"),
    [
        ("Monday counts from Tuesday", jkt(2026, 1, 12), date(2026, 1, 15)),
        ("Friday skips the weekend", jkt(2026, 1, 9), date(2026, 1, 14)),
        ("Saturday counts from Monday", jkt(2026, 1, 10), date(2026, 1, 14)),
        ("Sunday counts from Monday", jkt(2026, 1, 11), date(2026, 1, 14)),
        ("Isra Mikraj Friday is skipped", jkt(2026, 1, 15), date(2026, 1, 21)),
        ("received on 17 August counts from the 18th", jkt(2026, 8, 17), date(2026, 8, 20)),
        ("Christmas Friday is skipped", jkt(2026, 12, 24), date(2026, 12, 30)),
        ("Nyepi then Lebaran weekend", jkt(2026, 3, 18), date(2026, 3, 24)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_verify_by_in_working_days(label, received, verify_by):
    due = add_working_days(received, 3)
    assert due == datetime.combine(verify_by, time(23, 59, 59, 999999), tzinfo=JAKARTA), label
    assert due_dates(received)["verify_by"] == due


def test_the_date_is_taken_in_jakarta_not_utc():
    # Monday 17:30 UTC is Tuesday 00:30 in Jakarta: Wed, Thu, (Fri 16 Jan is Isra Mikraj), Mon 19.
    assert add_working_days(datetime(2026, 1, 12, 17, 30, tzinfo=UTC), 3).date() == date(2026, 1, 19)
    # naive datetimes are UTC
    assert add_working_days(datetime(2026, 1, 12, 17, 30), 3).date() == date(2026, 1, 19)


def test_joint_leave_is_off_only_when_asked():
    # cuti bersama Idul Fitri 2026: Fri 20, Mon 23, Tue 24 March
    joint = WorkdayCalendar(joint_leave=True)
    assert CAL.is_working_day(date(2026, 3, 20))
    assert not joint.is_working_day(date(2026, 3, 20))
    assert joint.add_working_days(jkt(2026, 3, 18), 3).date() == date(2026, 3, 27)


def test_due_dates_before_any_status_change():
    due = due_dates(jkt(2026, 1, 9))
    assert due["verify_by"].date() == date(2026, 1, 14)
    assert due["outer_limit"].date() == date(2026, 3, 10)  # 60 calendar days
    for later in ("archive_incomplete_after", "agency_follow_up_by", "citizen_response_within", "ombudsman_escalation"):
        assert due[later] is None


def test_due_dates_anchored_on_status_entries():
    due = due_dates(
        jkt(2026, 3, 16),
        {
            "needs_details": jkt(2026, 3, 18),  # 10 working days; Nyepi, Good Friday (3 Apr) off
            "forwarded_to_agency": jkt(2026, 8, 14),  # 5 working days; 17 Aug off
            "resolved": jkt(2026, 12, 24),  # 10 calendar days, holidays not skipped
        },
    )
    assert due["archive_incomplete_after"].date() == date(2026, 4, 2)
    assert due["agency_follow_up_by"].date() == date(2026, 8, 24)
    assert due["ombudsman_escalation"].date() == date(2026, 8, 28)  # 14 calendar days
    assert due["citizen_response_within"].date() == date(2027, 1, 3)  # a Sunday: calendar deadlines stay put


def test_zero_and_negative():
    assert add_working_days(jkt(2026, 1, 9), 0).date() == date(2026, 1, 9)
    with pytest.raises(ValueError):
        add_working_days(jkt(2026, 1, 9), -1)
