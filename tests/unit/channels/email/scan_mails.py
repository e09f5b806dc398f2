"""Mails whose substance is a scan, built from pages rendered here (never the shared corpus).

A fax-to-email service's mail (two-page CCITT G4 TIFF at fax resolution, its usual boilerplate), a
phone photo of a letter with a one-line body, an image-only PDF of a filled complaint-box form with
Anonim ticked, and a fax whose TIFF is corrupt.
"""

from __future__ import annotations

import base64
import io
import struct

from PIL import Image, ImageDraw, ImageFilter

from gateway.bench.synth import LetterSpec, ScanLook, draw_letter
from tests.unit.channels.letters.render import FormValues, filled_form, typed_letter

FAX_SERVICE = "fax-noreply@faxmail.contoh.net"
FAX_NUMBER = "+62 21 5550 1708"  # as the service writes it
FAX_DIGITS = "622155501708"
# the letter gives no phone of its own ("-"): the fax's number is the one to answer
FAX_LETTER = LetterSpec(name="Hendra Wijaya", nik="3175031208790005", phone="-",
                        address="Jl. Cempaka Putih No. 9, RT 01/RW 04, Kelurahan Rawasari",
                        subject="Pengaduan Saluran Air Tersumbat", city="Jakarta", date="3 Maret 2025",
                        body=("dengan ini menyampaikan pengaduan bahwa saluran air di depan rumah kami",
                              "tersumbat sampah sejak bulan Januari. Setiap hujan air meluap ke jalan",
                              "dan masuk ke rumah warga.", "",
                              "Kami mohon agar petugas kebersihan segera datang membersihkan saluran",
                              "tersebut sebelum musim hujan mencapai puncaknya."))  # fmt: skip
PHOTO_LETTER = LetterSpec(name="Rina Marlina", nik="3273046002910001", phone="0813-2244-6688",
                          subject="Pengaduan Pungutan Liar di Kantor Kelurahan")  # fmt: skip
FORM = FormValues(ticks={"anonymous": True})
ONE_LINE = "Mohon ditindaklanjuti, surat saya terlampir."


def fax_pages() -> list[Image.Image]:
    """A two-page letter as a fax machine sends it: 204×196 dpi ("fine"), black and white, slightly skewed.

    The page breaks before the body's second paragraph, so the complaint is only whole with both pages.
    """
    lines = FAX_LETTER.lines()
    cut = lines.index(FAX_LETTER.body[4])
    out = []
    for n, part in enumerate((lines[:cut], lines[cut:])):
        page = typed_letter(part, spacing=1.2, look=ScanLook(rotate=0.5 - n, dust=60, noise=8, seed=1708 + n))
        small = page.resize((1728, 2339), Image.Resampling.LANCZOS)
        out.append(small.point(lambda v: 255 if v > 150 else 0).convert("1"))
    return out


def g4_tiff(pages: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", compression="group4", save_all=True, append_images=pages[1:], dpi=(204, 196))
    return buf.getvalue()


def corrupt_tiff() -> bytes:
    """A two-page fax TIFF cut short in transfer: the first page's directory is whole, the second page is not."""
    data = g4_tiff(fax_pages())
    first_ifd = struct.unpack("<I", data[4:8])[0]
    entries = struct.unpack("<H", data[first_ifd : first_ifd + 2])[0]
    end = first_ifd + 2 + 12 * entries + 4
    return data[: end + (len(data) - end) // 2]


def photo_jpeg() -> bytes:
    """A phone photo of a printed letter: a colour cast, uneven light, soft focus, a slight turn, JPEG."""
    page = draw_letter(PHOTO_LETTER).resize((1240, 1754), Image.Resampling.LANCZOS)
    page = page.rotate(2.0, resample=Image.Resampling.BICUBIC, fillcolor=235).filter(ImageFilter.GaussianBlur(0.6))
    light = Image.linear_gradient("L").resize(page.size).point(lambda v: 255 - v // 5)  # darker towards the bottom
    lit = Image.eval(Image.composite(page, Image.new("L", page.size, 0), light), lambda v: int(v * 0.8 + 30))
    rgb = Image.merge("RGB", (lit.point(lambda v: min(255, v + 12)), lit, lit.point(lambda v: max(0, v - 18))))
    ImageDraw.Draw(rgb).rectangle((0, 1700, 1240, 1754), fill=(60, 48, 40))  # the table under the page
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def form_pdf() -> bytes:
    """The filled form scanned to an image-only PDF at 200 dpi (what an office's MFP sends by email)."""
    page = filled_form(FORM)
    small = page.resize((page.width * 2 // 3, page.height * 2 // 3), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="PDF", resolution=200, quality=60)
    return buf.getvalue()


def _part(data: bytes, media_type: str, filename: str) -> str:
    b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return (f"Content-Type: {media_type}; name=\"{filename}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{filename}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{b64}")  # fmt: skip


def scan_mail(mid: str, sender: str, subject: str, body: str, files: list[tuple[bytes, str, str]],
              rcpt: str = "pengaduan@lapor.localhost", extra: str = "") -> bytes:  # fmt: skip
    """multipart/mixed: a text/plain body (may be empty) and the ``(data, media type, filename)`` files."""
    parts = [f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"]
    parts += [_part(*f) for f in files]
    joined = "".join(f"--b0undary\r\n{p}\r\n" for p in parts)
    return (f"From: {sender}\r\nTo: {rcpt}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
            f"Date: Mon, 03 Mar 2025 09:15:00 +0700\r\nMIME-Version: 1.0\r\n{extra}"
            f"Content-Type: multipart/mixed; boundary=\"b0undary\"\r\n\r\n{joined}--b0undary--\r\n").encode()  # fmt: skip


def fax_body(pages: int = 2) -> str:
    return (f"You have received a {pages} page fax from {FAX_NUMBER}, on 03/03/2025 09:14.\r\n"
            "The fax is attached as a TIFF file. Do not reply to this message.\r\n"
            "-- FaxMail Contoh, fax to email service")  # fmt: skip


def fax_mail(mid: str, tiff: bytes | None = None, rcpt: str = "pengaduan@lapor.localhost") -> bytes:
    return scan_mail(mid, f"FaxMail Contoh <{FAX_SERVICE}>", f"Fax from {FAX_NUMBER} (2 pages)", fax_body(),
                     [(tiff if tiff is not None else g4_tiff(fax_pages()), "image/tiff", "fax-20250303-0914.tif")],
                     rcpt, "Auto-Submitted: auto-generated\r\n")  # fmt: skip


def photo_mail(mid: str, rcpt: str = "pengaduan@lapor.localhost") -> bytes:
    return scan_mail(mid, "Rina Marlina <rina.marlina@warga-contoh.id>", "Surat pengaduan", ONE_LINE,
                     [(photo_jpeg(), "image/jpeg", "IMG_20250303_081500.jpg")], rcpt)  # fmt: skip


def form_mail(mid: str, rcpt: str = "pengaduan@lapor.localhost") -> bytes:
    return scan_mail(mid, "Kelurahan Rawasari <tu@kel-rawasari.contoh.id>", "Formulir dari kotak pengaduan", "",
                     [(form_pdf(), "application/pdf", "formulir-kotak-0042.pdf")], rcpt)  # fmt: skip


def corrupt_fax_mail(mid: str, rcpt: str = "pengaduan@lapor.localhost") -> bytes:
    return fax_mail(mid, corrupt_tiff(), rcpt)
