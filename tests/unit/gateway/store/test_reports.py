"""The monthly report: which month a complaint is in, what counts as on time, the CSV, read from a real state file."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.store.reports import (
    CSV_COLUMNS,
    ComplaintFacts,
    Month,
    ReportRow,
    build_report,
    classify,
    report_csv,
    share,
)
from tests.unit.gateway.cli.cli_data import add_complaint, journal, new_gateway

TZ = "Asia/Jakarta"


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_month_starts_at_midnight_in_the_service_time_zone() -> None:
    start, end = Month.parse("2026-12").bounds(TZ)
    assert datetime.fromtimestamp(start, UTC).isoformat() == "2026-11-30T17:00:00+00:00"
    assert datetime.fromtimestamp(end, UTC).isoformat() == "2026-12-31T17:00:00+00:00"
    assert Month.parse("2026-12").next() == Month(2027, 1)
    assert str(Month.parse(" 2027-01 ")) == "2027-01"


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-12", "2026/12", "", "2026-12-01", "２０２６-12", "1969-12"])
def test_what_is_not_a_month_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a month"):
        Month.parse(bad)


@given(st.text(max_size=12))
def test_any_text_is_a_month_or_refused(text: str) -> None:
    try:
        m = Month.parse(text)
    except ValueError:
        return
    start, end = m.bounds(TZ)
    assert start < end


def facts(**kw: object) -> ComplaintFacts:
    base: dict[str, object] = {"channel": "sms.kannel", "category": "Infrastruktur", "state": "forwarded",
                               "received_at": at("2026-12-01T09:00:00+07:00")}
    return ComplaintFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_forwarded_on_time_is_within_three_working_days_of_receipt() -> None:
    # received Tuesday 1 December: the 3rd working day after it is Friday 4 December (WIB)
    assert classify(facts(forwarded_at=at("2026-12-04T23:59:00+07:00"))).forwarded_on_time == 1
    late = classify(facts(forwarded_at=at("2026-12-05T00:00:01+07:00")))
    assert (late.forwarded, late.forwarded_on_time) == (1, 0)
    # received on a Saturday: Monday is the first day counted, Wednesday the third
    sat = at("2026-12-05T10:00:00+07:00")
    assert classify(facts(received_at=sat, forwarded_at=at("2026-12-09T20:00:00+07:00"))).forwarded_on_time == 1
    assert classify(facts(received_at=sat, forwarded_at=at("2026-12-10T08:00:00+07:00"))).forwarded_on_time == 0


def test_christmas_is_not_a_working_day() -> None:
    # received Wed 23 Dec 2026; 25 Dec is a national holiday: Thu 24, Mon 28, Tue 29 are the three days
    got = classify(facts(received_at=at("2026-12-23T10:00:00+07:00"), forwarded_at=at("2026-12-29T20:00:00+07:00")))
    assert got.forwarded_on_time == 1


def test_resolved_on_time_counts_from_the_agency_or_else_from_receipt() -> None:
    to_agency = at("2026-12-02T10:00:00+07:00")  # Wednesday: 5 working days end Wednesday 9 December
    kw = {"forwarded_at": at("2026-12-01T09:00:05+07:00"), "store_status": "resolved", "to_agency_at": to_agency}
    assert classify(facts(**kw, resolved_at=at("2026-12-09T22:00:00+07:00"))).resolved_on_time == 1
    late = classify(facts(**kw, resolved_at=at("2026-12-10T01:00:00+07:00")))
    assert (late.resolved, late.resolved_on_time) == (1, 0)
    # no forwarded_to_agency seen: 8 working days after receipt (Tue 1 Dec -> Fri 11 Dec)
    kw.pop("to_agency_at")
    assert classify(facts(**kw, resolved_at=at("2026-12-11T20:00:00+07:00"))).resolved_on_time == 1
    assert classify(facts(**kw, resolved_at=at("2026-12-14T08:00:00+07:00"))).resolved_on_time == 0
    # closed counts as resolved; with no time for it, it is not counted as on time
    closed = classify(facts(store_status="closed"))
    assert (closed.resolved, closed.resolved_on_time) == (1, 0)


def test_rows_are_one_per_channel_and_category_of_the_month_only() -> None:
    month = Month(2026, 12)
    report = build_report(month, TZ, [
        facts(),
        facts(state="review", category=None),
        facts(channel="desk.walkin", category="Kesehatan", state="awaiting_details"),
        facts(received_at=at("2026-11-30T23:59:59+07:00")),  # November in Jakarta
        facts(received_at=at("2027-01-01T00:00:00+07:00")),
        facts(received_at=at("2026-11-30T17:00:00+00:00")),  # 1 December 00:00 WIB
    ])
    assert [(r.channel, r.category, r.received, r.in_review) for r in report.rows] == [
        ("desk.walkin", "Kesehatan", 1, 1), ("sms.kannel", "Infrastruktur", 2, 0), ("sms.kannel", "Lainnya", 1, 1)]
    assert report.total().received == 4
    assert report.by_state == {"forwarded": 2, "review": 1, "awaiting_details": 1}
    assert [r.channel for r in report.by("channel")] == ["sms.kannel", "desk.walkin"]


def test_share_says_dash_when_there_is_nothing() -> None:
    assert (share(0, 0), share(1, 3), share(2, 2)) == ("-", "33%", "100%")


def test_csv_has_the_columns_and_keeps_a_spreadsheet_from_running_a_category() -> None:
    month = Month(2026, 12)
    report = build_report(month, TZ, [facts(), facts(category="=HYPERLINK(\"x\")"), facts(category="Pariwisata ñ")])
    text = report_csv(report)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {"channel", "category", "received", "forwarded", "in_review", "resolved", "resolved_on_time"} <= set(rows[0])
    assert [r["category"] for r in rows] == ["'=HYPERLINK(\"x\")", "Infrastruktur", "Pariwisata ñ"]
    assert text.encode("utf-8").decode("utf-8") == text
    assert ReportRow("a", "b", 1, 1, 1, 0, 0, 0).values() == ("a", "b", 1, 1, 1, 0, 0, 0)


def test_the_state_file_is_read_by_received_at_in_the_service_zone(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    dec = add_complaint(gw, {"received_at": "2026-11-30T17:30:00Z", "body": "jalan rusak",
                             "category_suggestion": [{"category": "Infrastruktur", "confidence": 0.9}]})
    nov = add_complaint(gw, {"received_at": "2026-11-30T16:59:59Z", "body": "x",
                             "category_suggestion": [{"category": "Infrastruktur", "confidence": 0.9}]})
    held = add_complaint(gw, {"channel": "letters.scan", "account": "inbox", "received_at": "2026-12-01T02:00:00Z",
                              "body": "y"}, state="review", outcome="review")
    j = journal(gw)
    conn = sqlite3.connect(j.state_path)
    with conn:  # forwarded an hour after receipt
        conn.execute("UPDATE complaints SET state='forwarded', forwarded_at=? WHERE tracking_id IN (?, ?)",
                     (at("2026-11-30T18:30:00+00:00"), dec, nov))
    conn.close()
    try:
        report = j.monthly_report(Month(2026, 12), TZ)
        november = j.monthly_report(Month(2026, 11), TZ)
        utc_dec = j.monthly_report(Month(2026, 12), "UTC")
    finally:
        j.close()
    assert [(r.channel, r.category, r.received, r.forwarded, r.forwarded_on_time, r.in_review) for r in report.rows] \
        == [("letters.scan", "Lainnya", 1, 0, 0, 1), ("sms.kannel", "Infrastruktur", 1, 1, 1, 0)]
    assert [(r.channel, r.received) for r in november.rows] == [("sms.kannel", 1)]
    assert utc_dec.total().received == 1 and held  # in UTC only the letter is December's


def test_resolved_comes_from_the_statuses_the_poller_read(tmp_path: Path) -> None:
    import asyncio

    gw = new_gateway(tmp_path)
    on_time = add_complaint(gw, {"received_at": "2026-12-01T02:00:00Z", "body": "a"})
    late = add_complaint(gw, {"received_at": "2026-12-01T02:00:00Z", "body": "b"})
    open_ = add_complaint(gw, {"received_at": "2026-12-01T03:00:00Z", "body": "c"})
    j = journal(gw)
    said = [(on_time, "forwarded_to_agency", "2026-12-02T10:00:00+07:00", 1),
            (on_time, "resolved", "2026-12-08T10:00:00+07:00", 2),
            (late, "in_progress", "2026-12-02T10:00:00+07:00", 3), (late, "closed", "2026-12-30T10:00:00+07:00", 4),
            (open_, "in_progress", "2026-12-03T10:00:00+07:00", 5)]
    # update 2 read a second time (a replay after a crash, later): its first time stands
    said.append((on_time, "resolved", "2026-12-30T10:00:00+07:00", 2))
    try:
        asyncio.run(j.record_updates([], [], 5, statuses=[(t, s, at(w), u) for t, s, w, u in said]))
        report = j.monthly_report(Month(2026, 12), TZ)
    finally:
        j.close()
    (row,) = report.rows
    assert (row.received, row.resolved, row.resolved_on_time) == (3, 2, 1)
    assert report.by_state == {"resolved": 1, "closed": 1, "in_progress": 1}
    assert on_time and late and open_
