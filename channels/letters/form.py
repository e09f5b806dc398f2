"""The complaint-box form: one layout, used to print it and to read it back.

The printed form (``render_form_pdf``) has four registration marks in its
corners: three solid squares and, bottom right, a square ring. On a scan the
marks give a homography from the layout (millimetres, top-left origin) to the
pixels, whatever the scanner did: offset, scale, skew, a sideways or
upside-down page. The reader then warps the page onto the layout, keeps only
the insides of the field boxes (so the printed lines and labels never reach
tesseract), OCRs that once and assigns each word to the box its centre is in.
A checkbox is ticked when the ink inside it passes a density threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from channels.letters.ocr import OcrResult, Word, read_words, words_to_text

PAGE_MM = (210.0, 297.0)
MARK_MM = 8.0
RING_HOLE_MM = 5.0
MARKS_MM = {"tl": (14.0, 14.0), "tr": (196.0, 14.0), "bl": (14.0, 283.0), "br": (196.0, 283.0)}  # centres
PX_PER_MM = 10.0  # the canonical raster the reader warps onto (254 dpi)
TICK_DENSITY = 0.06  # share of dark pixels inside a checkbox that makes it ticked
TITLE = "FORMULIR PENGADUAN MASYARAKAT"


@dataclass(frozen=True)
class Box:
    key: str
    label: str
    x: float
    y: float
    w: float
    h: float

    def inner(self, inset: float) -> tuple[float, float, float, float]:
        return self.x + inset, self.y + inset, self.x + self.w - inset, self.y + self.h - inset


FIELDS = (
    Box("name", "Nama", 20, 42, 170, 10),
    Box("nik", "NIK (16 digit)", 20, 58, 170, 10),
    Box("address", "Alamat", 20, 74, 170, 18),
    Box("contact", "No. HP / Email", 20, 98, 170, 10),
    Box("location", "Lokasi kejadian", 20, 114, 170, 10),
    Box("date", "Tanggal", 20, 130, 80, 10),
    Box("body", "Isi Pengaduan", 20, 146, 170, 98),
)
# One above the other: side by side, the second box covered the end of the first label and its own label ran
# past the right margin (tests/unit/channels/letters/test_form_layout.py checks every text against every box and the margins).
CHECKBOXES = (
    Box("anonymous", "Anonim — identitas saya tidak diteruskan ke instansi", 20, 249, 6, 6),
    Box("confidential", "Rahasia — isi pengaduan tidak dipublikasikan", 20, 257, 6, 6),
)
MARGIN_MM = (20.0, 190.0)  # left and right edge of everything printed but the registration marks
FOOTER = (
    "Beri tanda X pada kotak bila ingin Anonim dan/atau Rahasia. Tanda terima dikirim ke No. HP /",
    "Email di atas bila diisi dan tidak anonim; cek status: SMS CEK <nomor tiket> ke 1708.",
)
FOOTER_Y_MM = (269.0, 273.0)  # baselines


@dataclass
class FormReading:
    fields: dict[str, str]
    ticks: dict[str, bool]
    densities: dict[str, float]
    ocr: OcrResult


def render_form_pdf(path: str | Path) -> Path:
    """Write the printable form (A4, one page) for ``lapor-gateway form``."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from channels.letters.receipt_pdf import register_fonts

    regular, bold = register_fonts()
    path = Path(path)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Formulir Pengaduan Masyarakat")
    top = A4[1]

    def y(v: float) -> float:
        return top - v * mm

    for key, (cx, cy) in MARKS_MM.items():
        s = MARK_MM / 2
        c.rect((cx - s) * mm, y(cy + s), MARK_MM * mm, MARK_MM * mm, stroke=0, fill=1)
        if key == "br":
            h = RING_HOLE_MM / 2
            c.setFillColorRGB(1, 1, 1)
            c.rect((cx - h) * mm, y(cy + h), RING_HOLE_MM * mm, RING_HOLE_MM * mm, stroke=0, fill=1)
            c.setFillColorRGB(0, 0, 0)
    c.setFont(bold, 16)
    c.drawCentredString(A4[0] / 2, y(24), TITLE)
    c.setFont(regular, 9)
    c.drawCentredString(
        A4[0] / 2, y(30), "Tulis dengan huruf cetak yang jelas di dalam kotak. Masukkan ke kotak pengaduan."
    )
    c.setLineWidth(0.6)
    for b in FIELDS:
        c.setFont(bold, 10)
        c.drawString(b.x * mm, y(b.y - 1.5), b.label)
        c.rect(b.x * mm, y(b.y + b.h), b.w * mm, b.h * mm, stroke=1, fill=0)
    for b in CHECKBOXES:
        c.rect(b.x * mm, y(b.y + b.h), b.w * mm, b.h * mm, stroke=1, fill=0)
        c.setFont(regular, 9)
        c.drawString((b.x + b.w + 2) * mm, y(b.y + b.h - 1.5), b.label)
    c.setFont(regular, 8)
    for line, baseline in zip(FOOTER, FOOTER_Y_MM, strict=True):
        c.drawString(MARGIN_MM[0] * mm, y(baseline), line)
    c.showPage()
    c.save()
    return path


def find_marks(binary: np.ndarray) -> dict[str, tuple[float, float]] | None:
    """Centres (px) of the four registration marks, named by their place on the form; None if not a form."""
    f = 4
    small = cv2.resize(binary, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA) < 128
    n, _, stats, centroids = cv2.connectedComponentsWithStats(small.astype(np.uint8), connectivity=8)
    short = min(small.shape)
    solids, rings = [], []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        side = (w + h) / 2
        if not (0.02 * short <= side <= 0.07 * short and 0.75 <= w / max(h, 1) <= 1.33):
            continue
        fill = area / float(w * h)
        if fill > 0.85:
            solids.append((side, centroids[i]))
        elif 0.45 <= fill <= 0.75:
            ring_patch = small[y : y + h, x : x + w]
            cy, cx = h // 2, w // 2
            if not ring_patch[cy - h // 4 : cy + h // 4 + 1, cx - w // 4 : cx + w // 4 + 1].any():  # a big hole
                rings.append((side, centroids[i]))
    if len(solids) < 3:
        return None
    side = float(np.median([s[0] for s in solids]))
    solids = sorted(solids, key=lambda s: abs(s[0] - side))[:3]
    rings = [r for r in rings if abs(r[0] - side) <= 0.25 * side]
    if len(rings) != 1 or any(abs(s[0] - side) > 0.25 * side for s in solids):
        return None
    ring_c = rings[0][1]
    pts = [np.asarray(s[1], dtype=np.float64) for s in solids]
    br = np.asarray(ring_c, dtype=np.float64)
    tl_i = max(range(3), key=lambda i: np.linalg.norm(pts[i] - br))
    tl = pts[tl_i]
    a, b = (pts[i] for i in range(3) if i != tl_i)
    cross = (a - tl)[0] * (b - tl)[1] - (a - tl)[1] * (b - tl)[0]
    tr, bl = (a, b) if cross > 0 else (b, a)
    return {k: (float(v[0]) * f, float(v[1]) * f) for k, v in {"tl": tl, "tr": tr, "bl": bl, "br": br}.items()}


def rectify(binary: np.ndarray, marks: dict[str, tuple[float, float]]) -> np.ndarray:
    """Warp the page onto the layout raster (``PX_PER_MM``)."""
    keys = ("tl", "tr", "bl", "br")
    src = np.float32([marks[k] for k in keys])
    dst = np.float32([[MARKS_MM[k][0] * PX_PER_MM, MARKS_MM[k][1] * PX_PER_MM] for k in keys])
    m = cv2.getPerspectiveTransform(src, dst)
    size = (round(PAGE_MM[0] * PX_PER_MM), round(PAGE_MM[1] * PX_PER_MM))
    return cv2.warpPerspective(binary, m, size, flags=cv2.INTER_LINEAR, borderValue=255)


def _px(v: float) -> int:
    return round(v * PX_PER_MM)


def tick_density(page: np.ndarray, box: Box, inset: float = 1.0) -> float:
    x0, y0, x1, y1 = (_px(v) for v in box.inner(inset))
    return float((page[y0:y1, x0:x1] < 128).mean())


def field_only(page: np.ndarray, inset: float = 0.9) -> np.ndarray:
    """A white page with only the insides of the text fields copied in."""
    out = np.full_like(page, 255)
    for b in FIELDS:
        x0, y0, x1, y1 = (_px(v) for v in b.inner(inset))
        out[y0:y1, x0:x1] = page[y0:y1, x0:x1]
    return out


def assign(words: list[Word]) -> dict[str, list[Word]]:
    by_field: dict[str, list[Word]] = {b.key: [] for b in FIELDS}
    for w in words:
        cx, cy = w.center
        for b in FIELDS:
            x0, y0, x1, y1 = (_px(v) for v in b.inner(0))
            if x0 <= cx < x1 and y0 <= cy < y1:
                by_field[b.key].append(w)
                break
    return by_field


def read_form(binary: np.ndarray, marks: dict[str, tuple[float, float]]) -> FormReading:
    page = rectify(binary, marks)
    densities = {b.key: tick_density(page, b) for b in CHECKBOXES}
    ticks = {k: d >= TICK_DENSITY for k, d in densities.items()}
    ocr = read_words(field_only(page), dpi=round(PX_PER_MM * 25.4), psm=4)
    fields = {}
    for key, words in assign(ocr.words).items():
        text = words_to_text(words)
        fields[key] = text if key == "body" else " ".join(text.split())
    return FormReading(fields, ticks, densities, ocr)
