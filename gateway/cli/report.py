"""``lapor-gateway report --month YYYY-MM [--csv]``: the monthly report, as tables for 80 columns or as CSV.

The numbers and what they mean come from :mod:`gateway.store.reports` (the console's report page shows the same).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table

from channels.citizen_time import zone_label
from gateway.cli.display import safe_cell
from gateway.settings import Settings
from gateway.store.reports import Month, MonthlyReport, ReportRow, report_csv, share

WIDTH = 80
DEFINITIONS = (
    "A complaint counts in the month it was received ({tz}). On time: forwarded to the central store within "
    "3 working days of receipt; resolved within 5 working days of reaching the agency (8 after receipt when "
    "the store did not report that step). Working days: Monday to Friday without national holidays."
)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                 padding=(0, 1, 0, 0))


def _numbers_table(title: str, first: str, rows: list[ReportRow], total: ReportRow) -> Table:
    t = _table(title)
    t.add_column(first, min_width=15)
    for name in ("received", "forwarded", "on\ntime", "in\nreview", "resolved", "on\ntime"):
        t.add_column(name, justify="right", no_wrap=True)
    for r in [*rows, total]:
        label = getattr(r, "channel" if first == "channel" else "category") or "total"
        t.add_row(safe_cell(label), str(r.received), str(r.forwarded), share(r.forwarded_on_time, r.forwarded),
                  str(r.in_review), str(r.resolved), share(r.resolved_on_time, r.resolved),
                  end_section=r is rows[-1] if rows else False)
    return t


def _grid_table(report: MonthlyReport) -> Table:
    t = _table("channel × category (counts; on time: of those forwarded, resolved)")
    t.add_column("channel", min_width=15)
    t.add_column("category", min_width=12)
    for name in ("re-\nceived", "for-\nwarded", "on\ntime", "in\nreview", "re-\nsolved", "on\ntime"):
        t.add_column(name, justify="right", no_wrap=True)
    for r in report.rows:
        t.add_row(safe_cell(r.channel), safe_cell(r.category), str(r.received), str(r.forwarded),
                  str(r.forwarded_on_time), str(r.in_review), str(r.resolved), str(r.resolved_on_time))
    return t


def print_report(report: MonthlyReport, console: Console) -> None:
    total = report.total()
    console.print(f"Monthly report {report.month} ({report.timezone}, {zone_label(report.timezone)})", style="bold")
    if not report.rows:
        console.print("no complaints were received in this month")
        return
    console.print(f"received {total.received}, in review now {total.in_review}")
    console.print(f"forwarded {total.forwarded} ({share(total.forwarded_on_time, total.forwarded)} on time), "
                  f"resolved {total.resolved} ({share(total.resolved_on_time, total.resolved)} on time)")
    console.print(_numbers_table("by channel", "channel", report.by("channel"), total))
    console.print(_numbers_table("by category", "category", report.by("category"), total))
    states = _table("by state")
    states.add_column("state")
    states.add_column("complaints", justify="right")
    for state, n in report.by_state.items():
        states.add_row(safe_cell(state), str(n))
    console.print(states)
    console.print(_grid_table(report))
    console.print(DEFINITIONS.format(tz=report.timezone), style="dim", highlight=False)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.store import open_journal

    tz = settings.service.timezone
    try:
        month = Month.parse(args.month) if args.month else Month.containing(datetime.now(UTC), tz)
    except ValueError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    journal = open_journal(settings)
    try:
        report = journal.monthly_report(month, tz)
    finally:
        journal.close()
    if args.csv:
        sys.stdout.write(report_csv(report))
        return 0
    print_report(report, Console(width=min(WIDTH, Console().width), highlight=False))
    return 0


def register(add: Callable[..., argparse.ArgumentParser], load: Callable[..., Settings]) -> None:
    rp = add("report", lambda args: cmd_report(args, load(args)),
             "the monthly report: complaints by channel, category and state, and the share handled in time",
             "The monthly report: complaints received in a month (service.timezone) by channel, by category and\n"
             "by state, how many were forwarded and resolved, and the share of each within SP4N-LAPOR!'s time\n"
             "limits (forwarded within 3 working days of receipt; resolved within 5 working days of reaching the\n"
             "agency). --csv prints one row per channel x category, as the console's download.")
    rp.add_argument("--month", metavar="YYYY-MM", help="which month (default: the current one)")
    rp.add_argument("--csv", action="store_true",
                    help="CSV instead of tables: channel,category,received,forwarded,forwarded_on_time,in_review,"
                         "resolved,resolved_on_time")
