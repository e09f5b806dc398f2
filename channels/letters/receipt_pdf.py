"""Printable receipt for a letter or form: tracking ID, date, how to check the status.

Staff post it or hand it over at the counter. It carries no complaint text and
no identity, so it can be printed and filed without privacy concerns.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from channels.citizen_time import DEFAULT_TIMEZONE, citizen_datetime

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def register_fonts() -> tuple[str, str]:
    """DejaVu when present (full Unicode: names with diacritics), else the PDF core fonts."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" in pdfmetrics.getRegisteredFontNames():
        return "DejaVuSans", "DejaVuSans-Bold"
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    except Exception:  # fonts-dejavu-core missing: ASCII-only core fonts still print a receipt
        return "Helvetica", "Helvetica-Bold"
    return "DejaVuSans", "DejaVuSans-Bold"




def format_tracking_id(tracking_id: str) -> str:
    """10 digits read easier in groups: 1234 567 890."""
    t = tracking_id.strip()
    return f"{t[:4]} {t[4:7]} {t[7:]}" if len(t) == 10 and t.isdigit() else t


def render_receipt_pdf(
    path: str | Path,
    tracking_id: str,
    received_at: datetime,
    channel_label: str,
    status_hint_text: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Path:
    """Write an A5 receipt. ``status_hint_text`` overrides the default how-to-check lines.

    ``received_at`` is shown in ``timezone`` (``service.timezone``) with its zone, ``2 Desember 2026, 01:19 WIB``;
    a naive time is taken as that zone's.
    """
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    regular, bold = register_fonts()
    path = Path(path)
    w, h = A5
    c = canvas.Canvas(str(path), pagesize=A5)
    c.setTitle(f"Tanda Terima Pengaduan {tracking_id}")
    c.setFont(bold, 16)
    c.drawCentredString(w / 2, h - 25 * mm, "Tanda Terima Pengaduan")
    c.setFont(regular, 9)
    c.drawCentredString(w / 2, h - 31 * mm, "Layanan Aspirasi dan Pengaduan Online Rakyat")
    c.line(15 * mm, h - 36 * mm, w - 15 * mm, h - 36 * mm)
    c.setFont(regular, 11)
    c.drawString(15 * mm, h - 48 * mm, "Nomor tiket:")
    c.setFont(bold, 24)
    c.drawString(15 * mm, h - 60 * mm, format_tracking_id(tracking_id))
    c.setFont(regular, 11)
    rows = (("Diterima", citizen_datetime(received_at, "id", timezone)), ("Melalui", channel_label))
    for i, (k, v) in enumerate(rows):
        c.drawString(15 * mm, h - (74 + 7 * i) * mm, f"{k}:")
        c.drawString(45 * mm, h - (74 + 7 * i) * mm, v)
    hint = status_hint_text or (
        "Cara cek status pengaduan:\n"
        f"• SMS CEK {tracking_id} ke 1708\n"
        "• atau tanyakan di loket layanan dengan menunjukkan tanda terima ini.\n"
        "Pengaduan diverifikasi paling lambat 3 hari kerja."
    )
    text = c.beginText(15 * mm, h - 98 * mm)
    text.setFont(regular, 10)
    text.setLeading(14)
    for line in hint.splitlines():
        text.textLine(line)
    c.drawText(text)
    c.setFont(regular, 8)
    c.drawString(15 * mm, 15 * mm, "Simpan tanda terima ini. Nomor tiket diperlukan untuk menanyakan status.")
    c.showPage()
    c.save()
    return path
