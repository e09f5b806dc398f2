"""Synthetic scanned letters: the benchmark's pages and the tests' ground truth.

A page is an A4 sheet at 300 dpi with an Indonesian complaint letter drawn in
DejaVu Serif (Debian's ``fonts-dejavu-core``), then made to look like a cheap
office scan: rotation, blur, grey paper, Gaussian noise and dark dust specks
(what hurts tesseract most). Everything is seeded, so a page is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
A4_300DPI = (2480, 3508)
DPI = 300


def font(size_pt: float, name: str = "DejaVuSerif.ttf", dpi: int = DPI) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), round(size_pt * dpi / 72))


@dataclass(frozen=True)
class LetterSpec:
    """What a synthetic letter says; the fields double as the test's expected values."""

    name: str = "Budi Santoso"
    nik: str = "3273012304850002"
    address: str = "Jl. Merdeka No. 17, RT 03/RW 05, Kelurahan Sukamaju"
    phone: str = "0812-3456-7890"
    email: str | None = None
    subject: str = "Pengaduan Jalan Rusak di Jalan Merdeka"
    city: str = "Sukamaju"
    date: str = "23 November 2024"
    body: tuple[str, ...] = (
        "dengan ini menyampaikan pengaduan bahwa jalan di depan SDN 3 Sukamaju",
        "rusak parah sejak bulan Agustus 2024. Lubang-lubang besar menyebabkan",
        "banyak pengendara sepeda motor terjatuh, terutama pada saat hujan,",
        "dan genangan air menimbulkan bau tidak sedap bagi warga sekitar.",
        "",
        "Kami mohon agar dinas terkait segera melakukan pemeriksaan dan",
        "perbaikan. Sebagai bahan pertimbangan, bersama surat ini kami",
        "lampirkan foto kondisi jalan serta daftar tanda tangan 45 warga.",
    )

    def lines(self) -> list[str]:
        """The letter's text, line by line, exactly as drawn (the ground truth)."""
        ident = [f"Nama : {self.name}", f"NIK : {self.nik}", f"Alamat : {self.address}", f"Telepon : {self.phone}"]
        if self.email:
            ident.append(f"Email : {self.email}")
        return [
            "Kepada Yth.",
            f"Bapak Wali Kota {self.city}",
            "c.q. Kepala Dinas Pekerjaan Umum dan Penataan Ruang",
            "di Tempat",
            "",
            f"Perihal: {self.subject}",
            "",
            "Dengan hormat,",
            "",
            "Saya yang bertanda tangan di bawah ini:",
            *ident,
            "",
            *self.body,
            "",
            "Demikian surat pengaduan ini saya sampaikan. Atas perhatian dan",
            "tindak lanjut Bapak/Ibu, saya ucapkan terima kasih.",
            "",
            f"{self.city}, {self.date}",
            "Hormat saya,",
            "",
            self.name,
        ]

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"


@dataclass(frozen=True)
class ScanLook:
    """How the scanner mangled the page (defaults: a cheap office scanner's page)."""

    rotate: float = 1.5  # degrees, counter-clockwise
    blur: float = 0.8  # px
    noise: float = 18.0  # grey-level sigma
    dust: int = 300  # dark specks
    quarter_turns: int = 0  # 1 = page fed sideways, 2 = upside down
    border: int = 0  # px of black scanner-lid border on each edge
    seed: int = 1708


@dataclass
class Page:
    image: Image.Image
    truth: str
    spec: LetterSpec | None = None
    extra: dict[str, object] = field(default_factory=dict)


def draw_letter(spec: LetterSpec, size: tuple[int, int] = A4_300DPI) -> Image.Image:
    """The clean page, black on white, before any scanner effects."""
    regular, bold = font(12), font(12, "DejaVuSerif-Bold.ttf")
    page = Image.new("L", size, 255)
    d = ImageDraw.Draw(page)
    pt = DPI / 72
    x0, y, lh = round(72 * pt), round(90 * pt), int(round(12 * pt) * 1.45)
    tab = x0 + round(75 * pt)
    for line in spec.lines():
        if " : " in line:
            label, value = line.split(" : ", 1)
            d.text((x0, y), label, font=regular, fill=0)
            d.text((tab, y), ": " + value, font=regular, fill=0)
        else:
            d.text((x0, y), line, font=bold if line.startswith("Perihal") else regular, fill=0)
        y += lh
    return page


def scan(page: Image.Image, look: ScanLook) -> Image.Image:
    """Apply a scanner's faults to a clean greyscale page."""
    rnd = random.Random(look.seed)
    w, h = page.size
    out = page.rotate(look.rotate, resample=Image.BICUBIC, expand=False, fillcolor=255) if look.rotate else page
    if look.blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(look.blur))
    out = Image.eval(out, lambda v: int(v * 0.88 + 18))  # toner not fully black, paper greyish
    if look.noise > 0:
        noise = Image.effect_noise((w, h), look.noise)  # mean 128
        out = ImageChops.add(out, noise, scale=1.0, offset=-128)
    d = ImageDraw.Draw(out)
    for _ in range(look.dust):
        x, y = rnd.randrange(w), rnd.randrange(h)
        r = rnd.choice((1, 1, 1, 2, 2, 3))
        d.ellipse((x, y, x + r, y + r), fill=rnd.randrange(0, 90))
    if look.border:
        b = look.border
        for box in ((0, 0, w, b), (0, h - b, w, h), (0, 0, b, h), (w - b, 0, w, h)):
            d.rectangle(box, fill=rnd.randrange(10, 40))
    if look.quarter_turns % 4:
        out = out.rotate(90 * look.quarter_turns, expand=True)
    return out


def letter_page(spec: LetterSpec | None = None, look: ScanLook | None = None) -> Page:
    spec = spec or LetterSpec()
    return Page(scan(draw_letter(spec), look or ScanLook()), spec.text(), spec)


BENCH_PEOPLE = (
    ("Budi Santoso", "3273012304850002", "0812-3456-7890"),
    ("Siti Rahmawati", "3174054512900003", "0857-1122-3344"),
    ("Agus Prasetyo", "3578101708750001", "0813-9876-5432"),
    ("Dewi Lestari", "3201026003880004", "0878-2468-1357"),
)


def bench_pages(n: int, dust: int = 300) -> list[Page]:
    """``n`` skewed, specked letters with varied senders, angles and seeds."""
    pages = []
    for i in range(n):
        name, nik, phone = BENCH_PEOPLE[i % len(BENCH_PEOPLE)]
        spec = LetterSpec(name=name, nik=nik, phone=phone)
        angle = (-1) ** i * (1.0 + 0.5 * (i % 3))
        pages.append(letter_page(spec, ScanLook(rotate=angle, dust=dust, seed=1708 + i)))
    return pages
