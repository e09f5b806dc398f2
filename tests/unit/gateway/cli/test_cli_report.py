"""``lapor-gateway report``: tables that fit 80 columns, the CSV, a bad month refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.unit.gateway.cli.cli_data import add_complaint, cli, new_gateway


def _data(tmp_path: Path):  # type: ignore[no-untyped-def]
    gw = new_gateway(tmp_path)
    for channel, category in (("sms.kannel", "Infrastruktur"), ("sms.kannel", "Infrastruktur"),
                              ("desk.callcentre", "Administrasi Pendaftaran Online")):
        add_complaint(gw, {"channel": channel, "received_at": "2026-12-02T01:15:02+00:00", "body": "b",
                           "category_suggestion": [{"category": category, "confidence": 0.8}]})
    return gw


def test_report_prints_tables_within_80_columns(tmp_path: Path) -> None:
    gw = _data(tmp_path)
    out = cli(gw, "report", "--month", "2026-12", columns=200)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, out.stdout
    assert "Monthly report 2026-12" in lines[0]
    assert any(line.startswith("sms.kannel") and " 2 " in line for line in lines), out.stdout
    assert "desk.callcentre" in out.stdout and "working days" in out.stdout


def test_report_csv_is_one_row_per_channel_and_category(tmp_path: Path) -> None:
    gw = _data(tmp_path)
    out = cli(gw, "report", "--month", "2026-12", "--csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["channel"], r["category"], r["received"]) for r in rows] == [
        ("desk.callcentre", "Administrasi Pendaftaran Online", "1"), ("sms.kannel", "Infrastruktur", "2")]
    assert rows[1]["in_review"] == "0" and rows[1]["resolved_on_time"] == "0"
    empty = cli(gw, "report", "--month", "2026-10", "--csv")
    assert empty.stdout.splitlines() == [
        "channel,category,received,forwarded,forwarded_on_time,in_review,resolved,resolved_on_time"]


def test_a_bad_month_is_refused_in_one_line(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    out = cli(gw, "report", "--month", "2026-13")
    assert out.returncode == 2
    assert out.stderr.strip() == "lapor-gateway: not a month: '2026-13' (expected YYYY-MM, e.g. 2026-12)"
