"""``/console/reports?month=YYYY-MM`` (the monthly report as tables and charts) and ``/console/reports.csv``.

The numbers come from the journal's :class:`~gateway.store.ports.ReportStore` (what they mean:
:mod:`gateway.store.reports`, the same as ``lapor-gateway report``). For operators and above. A month that is
not ``YYYY-MM`` shows the current month with a notice on the page, and is refused (400) for the CSV.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from gateway.console.app import console_of, data, page
from gateway.console.i18n import add_texts, state_label, translate
from gateway.console.keys import LANG
from gateway.console.render import render
from gateway.console.report_charts import Bar, Series, bar_chart
from gateway.store.reports import Month, MonthlyReport, share

add_texts({
    "report_title": ("Laporan bulanan {month}", "Monthly report {month}"),
    "report_month": ("Bulan", "Month"),
    "report_show": ("Tampilkan", "Show"),
    "report_prev": ("← Bulan sebelumnya", "← Previous month"),
    "report_next": ("Bulan berikutnya →", "Next month →"),
    "report_csv": ("Unduh CSV", "Download CSV"),
    "report_bad_month": ("Bulan harus ditulis TTTT-BB (mis. 2026-12); ditampilkan bulan ini.",
                         "A month is written YYYY-MM (e.g. 2026-12); showing this month."),
    "report_empty": ("Tidak ada pengaduan yang diterima pada bulan ini.", "No complaints were received in this month."),
    "report_summary": ("Ringkasan", "Summary"),
    "report_by_channel": ("Menurut kanal", "By channel"),
    "report_by_category": ("Menurut kategori", "By category"),
    "report_by_state": ("Menurut status", "By state"),
    "report_grid": ("Kanal × kategori", "Channel × category"),
    "report_received": ("Diterima", "Received"),
    "report_forwarded": ("Diteruskan", "Forwarded"),
    "report_forwarded_on_time": ("Diteruskan tepat waktu", "Forwarded on time"),
    "report_in_review": ("Sedang ditinjau", "In review"),
    "report_resolved": ("Selesai", "Resolved"),
    "report_resolved_on_time": ("Selesai tepat waktu", "Resolved on time"),
    "report_complaints": ("Pengaduan", "Complaints"),
    "report_total": ("Jumlah", "Total"),
    "report_chart_channel": ("Pengaduan per kanal: diterima, diteruskan, selesai",
                             "Complaints per channel: received, forwarded, resolved"),
    "report_chart_category": ("Pengaduan per kategori: diterima, diteruskan, selesai",
                              "Complaints per category: received, forwarded, resolved"),
    "report_none_resolved": ("- (belum ada yang selesai)", "- (none resolved yet)"),
    "report_chart_on_time": ("Tepat waktu (persen)", "On time (per cent)"),
    "report_definitions": ("Cara menghitung", "How this is counted"),
    "report_def_month": ("Pengaduan dihitung pada bulan diterimanya (zona waktu {tz}). Hanya pesan yang menjadi "
                         "pengaduan yang dihitung (bukan CEK, laporan kirim, atau jawaban warga).",
                         "A complaint counts in the month it was received (time zone {tz}). Only messages that "
                         "became complaints count (not CEK queries, delivery reports or citizens' answers)."),
    "report_def_forwarded": ("Diteruskan tepat waktu: diterima pusat pengaduan paling lambat akhir hari kerja ke-3 "
                             "setelah diterima (batas verifikasi SP4N-LAPOR!).",
                             "Forwarded on time: the central store had it by the end of the 3rd working day after "
                             "receipt (SP4N-LAPOR!'s verification limit)."),
    "report_def_resolved": ("Selesai tepat waktu: pusat melaporkan selesai paling lambat akhir hari kerja ke-5 "
                            "setelah diteruskan ke instansi (batas tindak lanjut); bila langkah itu tidak "
                            "dilaporkan, paling lambat hari kerja ke-8 setelah diterima.",
                            "Resolved on time: the store reported it resolved by the end of the 5th working day "
                            "after it reached the agency (the follow-up limit); when that step was not reported, "
                            "by the 8th working day after receipt."),
    "report_def_days": ("Hari kerja: Senin–Jumat selain hari libur nasional, dihitung di WIB; hari kejadian tidak "
                        "dihitung. Angka sesuai keadaan saat laporan dibuat.",
                        "Working days: Monday to Friday except national holidays, counted in WIB; the day of the "
                        "event does not count. Numbers are as known when the report is made."),
    # the central store's statuses (the gateway's own states are the console's, i18n.STATES)
    "state_verifying": ("Diverifikasi", "Being verified"),
    "state_needs_details": ("Perlu keterangan", "Needs details"),
    "state_forwarded_to_agency": ("Diteruskan ke instansi", "Forwarded to the agency"),
    "state_in_progress": ("Ditindaklanjuti", "In progress"),
    "state_resolved": ("Selesai", "Resolved"),
    "state_closed": ("Ditutup", "Closed"),
    "state_archived": ("Diarsipkan", "Archived"),
})

COLOURS = {"received": "#5b7fa6", "forwarded": "#0d3b66", "resolved": "#2e7d32"}


def _month(request: web.Request) -> tuple[Month, bool]:
    """The asked month, or this month and ``False`` when the parameter is there and not a month."""
    tz = console_of(request).settings.service.timezone
    raw = request.query.get("month")
    if raw:
        try:
            return Month.parse(raw[:20]), True
        except ValueError:
            return Month.containing(datetime.now(UTC), tz), False
    return Month.containing(datetime.now(UTC), tz), True


async def _report(request: web.Request, month: Month) -> MonthlyReport:
    c = console_of(request)
    journal = c.open_journal()
    return await asyncio.to_thread(journal.monthly_report, month, c.settings.service.timezone)


def _charts(report: MonthlyReport, lang: str) -> list:  # type: ignore[type-arg]
    def t(key: str) -> str:
        return translate(key, lang)

    series = [Series(t("report_received"), COLOURS["received"]), Series(t("report_forwarded"), COLOURS["forwarded"]),
              Series(t("report_resolved"), COLOURS["resolved"])]
    charts = []
    for key, chart in (("channel", "report_chart_channel"), ("category", "report_chart_category")):
        bars = [Bar(getattr(r, key), (r.received, r.forwarded, r.resolved)) for r in report.by(key)]
        charts.append(bar_chart(f"chart-{key}", t(chart), series, bars))
    total = report.total()
    pct = [Bar(t("report_forwarded_on_time"), (_pct(total.forwarded_on_time, total.forwarded),),
               None if total.forwarded else "-"),
           Bar(t("report_resolved_on_time"), (_pct(total.resolved_on_time, total.resolved),),
               None if total.resolved else t("report_none_resolved"))]
    charts.append(bar_chart("chart-on-time", t("report_chart_on_time"),
                            [Series(t("report_chart_on_time"), COLOURS["resolved"])], pct, unit="%"))
    return charts


def _state_name(state: str, lang: str) -> str:
    """The console's word for a gateway state, else this page's for a central store status, else the name."""
    key = f"state_{state}"
    return state_label(state, lang) or (translate(key, lang) if translate(key, lang) != key else state)


def _pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@page("operator")
async def reports_page(request: web.Request) -> web.StreamResponse:
    month, ok = _month(request)
    report = await _report(request, month)
    prev = Month(month.year - 1, 12) if month.month == 1 else Month(month.year, month.month - 1)
    return render(request, "reports.html", month=str(month), prev=str(prev), next=str(month.next()), report=report,
                  total=report.total(), by_channel=report.by("channel"), by_category=report.by("category"),
                  charts=_charts(report, request.get(LANG, "id")) if report.rows else [], share=share,
                  error=None if ok else ("report_bad_month", {}), tz=report.timezone,
                  state_name=lambda state: _state_name(state, request.get(LANG, "id")))


@data("operator")
async def reports_csv(request: web.Request) -> web.StreamResponse:
    from gateway.store.reports import report_csv

    month, ok = _month(request)
    if not ok:
        raise web.HTTPBadRequest(text="400: month must be YYYY-MM\n")
    report = await _report(request, month)
    return web.Response(body=report_csv(report).encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="lapor-report-{month}.csv"'})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/reports", reports_page)
    app.router.add_get("/console/reports.csv", reports_csv)
