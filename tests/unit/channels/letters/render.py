"""Test-time renderers: filled forms, PDFs with and without a text layer, bad files.

Letters themselves come from ``gateway.bench.synth`` (the benchmark uses the
same pages). Everything is drawn with Pillow/reportlab and Debian's DejaVu fonts.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from channels.letters import form
from gateway.bench.synth import ScanLook, font, scan

DPI = 300


@dataclass(frozen=True)
class FormValues:
    name: str = "SITI RAHMAWATI"
    nik: str = "3174054512900003"
    address: str = "JL. MAWAR NO. 5, RT 02/RW 07"
    contact: str = "0857-1122-3344"
    location: str = "PASAR BARU BLOK C"
    date: str = "12-03-2025"
    body: tuple[str, ...] = (
        "Lampu penerangan jalan di depan",
        "pasar sudah mati dua minggu.",
        "Warga takut lewat pada malam hari.",
    )
    ticks: dict[str, bool] = field(default_factory=dict)


def form_blank(dpi: int = DPI) -> Image.Image:
    """The printed form, rasterised from the real PDF the gateway produces."""
    import tempfile

    import pdfplumber

    with tempfile.TemporaryDirectory() as d:
        p = form.render_form_pdf(Path(d) / "form.pdf")
        with pdfplumber.open(p) as pdf:
            return pdf.pages[0].to_image(resolution=dpi).original.convert("L")


_BLANK: dict[int, Image.Image] = {}


def filled_form(values: FormValues, look: ScanLook | None = None) -> Image.Image:
    """A form filled in block capitals (DejaVu Sans 13 pt), ticks drawn as an X, then scanned."""
    if DPI not in _BLANK:
        _BLANK[DPI] = form_blank()
    page = _BLANK[DPI].copy()
    d = ImageDraw.Draw(page)
    px = DPI / 25.4
    f = font(13, "DejaVuSans.ttf")
    boxes = {b.key: b for b in form.FIELDS}
    for key in ("name", "nik", "address", "contact", "location", "date", "body"):
        value = getattr(values, key)
        lines = list(value) if isinstance(value, tuple) else [value]
        b = boxes[key]
        for i, line in enumerate(lines):
            d.text(((b.x + 3) * px, (b.y + 2.2 + i * 7.5) * px), line, font=f, fill=0)
    for b in form.CHECKBOXES:
        if values.ticks.get(b.key):
            x0, y0, x1, y1 = ((v * px) for v in b.inner(0.8))
            d.line((x0, y0, x1, y1), fill=0, width=7)
            d.line((x0, y1, x1, y0), fill=0, width=7)
    return scan(page, look or ScanLook())


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(DPI, DPI))
    return buf.getvalue()


def tiff_bytes(pages: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    pages[0].save(
        buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate", dpi=(DPI, DPI)
    )
    return buf.getvalue()


def image_pdf(pages: list[Image.Image]) -> bytes:
    """A scanner's PDF: one JPEG image per page, no text layer."""
    buf = io.BytesIO()
    rgb = [p.convert("L") for p in pages]
    rgb[0].save(buf, format="PDF", save_all=True, append_images=rgb[1:], resolution=DPI)
    return buf.getvalue()


def text_pdf(lines: list[str], encrypt_password: str | None = None) -> bytes:
    """A word-processor PDF with a real text layer (optionally password-protected)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from channels.letters.receipt_pdf import register_fonts

    regular, _ = register_fonts()
    buf = io.BytesIO()
    kwargs = {}
    if encrypt_password:
        from reportlab.lib import pdfencrypt

        kwargs["encrypt"] = pdfencrypt.StandardEncryption(encrypt_password, canPrint=0)
    c = canvas.Canvas(buf, pagesize=A4, **kwargs)
    t = c.beginText(25 * mm, A4[1] - 30 * mm)
    t.setFont(regular, 11)
    t.setLeading(16)
    for line in lines:
        t.textLine(line)
    c.drawText(t)
    c.showPage()
    c.save()
    return buf.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims a huge image (the data is a few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def noise_page(seed: int = 3) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(3508, 2480), dtype=np.uint8))


def blank_page() -> Image.Image:
    return scan(Image.new("L", (2480, 3508), 255), ScanLook(rotate=0.0))


def typed_letter(lines: list[str], spacing: float = 1.5, size_pt: float = 12, look: ScanLook | None = None) -> Image.Image:
    """A word-processor letter printed and scanned: ``lines`` exactly as wrapped ("" = an empty line).

    ``spacing`` is the word processor's line spacing: 1.0 is single (the font's
    own line height, 1.17 em for DejaVu Serif), 1.5 and 2.0 are what offices pick.
    """
    f = font(size_pt)
    page = Image.new("L", (2480, 3508), 255)
    d = ImageDraw.Draw(page)
    pt = DPI / 72
    x, y = round(72 * pt), round(72 * pt)
    pitch = round(size_pt * pt * 1.17 * spacing)
    for line in lines:
        if line:
            d.text((x, y), line, font=f, fill=0)
        y += pitch
    return scan(page, look or ScanLook(rotate=0.6, dust=100))
