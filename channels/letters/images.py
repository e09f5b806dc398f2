"""Open a scanned file (JPEG, PNG, TIFF incl. multi-page, or PDF) into pages, within limits.

Everything here treats the file as hostile: the size is checked before
parsing; the page count, each page's pixels and the total pixels over all
pages are read from the headers (every TIFF IFD, without decoding) and checked
before any page is decoded (decompression bombs: a 100 KB G4 TIFF can hold 30
pages of 59 Mpx); PIL's own decompression-bomb guard stays on. The isolated
process the reader runs in (:mod:`channels.letters.isolated`) is the backstop
for what headers do not tell. Refusals are :class:`~channels.message.Rejected` with a reason that
names the limit, never the content: 413 for too big, 415 for a format we do
not take, 422 for a corrupt or password-protected file.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from channels.letters.errors import check_size
from channels.message import Rejected

IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "WEBP": "image/webp",
}
A4_LONG_INCHES = 297 / 25.4


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 30
    max_pixels: int = 60_000_000  # per page
    max_total_pixels: int = 300_000_000  # over all pages: 30 A4 pages at 300 dpi are 261 Mpx


@dataclass
class SourcePage:
    """One page as found in the file: a greyscale image to OCR, or a PDF text layer."""

    gray: np.ndarray | None
    dpi: float
    text: str | None = None  # a PDF's own text, when it has real text


def media_type(data: bytes) -> str:
    if data[:5] == b"%PDF-":
        return "application/pdf"
    for magic, mt in (
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"\x89PNG", "image/png"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"BM", "image/bmp"),
    ):
        if data.startswith(magic):
            return mt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def check_pixels(width: int, height: int, limits: Limits, what: str = "page") -> None:
    if width * height > limits.max_pixels:
        raise Rejected(
            413, f"{what} is {width}x{height} pixels, more than the limit of {limits.max_pixels} pixels per page"
        )


def check_total_pixels(total: int, limits: Limits) -> None:
    if total > limits.max_total_pixels:
        raise Rejected(
            413, f"file has {total} pixels over its pages, more than the limit of {limits.max_total_pixels} pixels"
        )


PIL_BOMB_GUARD = 89_478_485  # Pillow's default MAX_IMAGE_PIXELS


def bomb_guard_on() -> None:
    """Pillow refuses images far above any page scan at open; never let that guard be switched off."""
    if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > PIL_BOMB_GUARD:
        Image.MAX_IMAGE_PIXELS = PIL_BOMB_GUARD


def check_frames(img: Image.Image, limits: Limits) -> None:
    """Every frame's size from its header (a TIFF IFD is read, its strips are not), before any decode."""
    total = 0
    for n, frame in enumerate(ImageSequence.Iterator(img), start=1):
        if n > limits.max_pages:
            raise Rejected(413, f"file has more than {limits.max_pages} pages, the limit")
        w, h = frame.size
        check_pixels(w, h, limits)
        total += w * h
        check_total_pixels(total, limits)
    img.seek(0)


def guess_dpi(img: Image.Image) -> float:
    """The file's dpi when it says, else the dpi an A4 page of this size would have."""
    dpi = img.info.get("dpi")
    if dpi and float(dpi[0]) >= 72:
        return float(dpi[0])
    return max(72.0, min(1200.0, max(img.size) / A4_LONG_INCHES))


def load_image_pages(data: bytes, limits: Limits) -> list[SourcePage]:
    """Decode every frame of an image file into greyscale pages."""
    check_size(len(data), limits.max_file_bytes)
    img = open_image(data)
    with img:
        pages = []
        try:
            n = getattr(img, "n_frames", 1)  # walks every TIFF directory: a cut one raises here
            if n > limits.max_pages:
                raise Rejected(413, f"file has {n} pages, more than the limit of {limits.max_pages}")
            check_frames(img, limits)
            for frame in ImageSequence.Iterator(img):
                check_pixels(*frame.size, limits)
                dpi = guess_dpi(frame)
                gray = frame.convert("L")  # decodes: only now are the bytes trusted with memory
                pages.append(SourcePage(np.asarray(gray), dpi))
        except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:  # TypeError: a cut IFD
            raise Rejected(422, "image data is corrupt or truncated") from exc
    return pages


def open_image(data: bytes) -> Image.Image:
    """Open (headers only) with Pillow's bomb guard on; its warnings count as refusals too."""
    bomb_guard_on()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected(413, "image is a decompression bomb (pixel count far above any page scan)") from exc
    except UnidentifiedImageError as exc:
        raise Rejected(415, "not an image or PDF we can read (JPEG, PNG, TIFF, BMP, WebP or PDF)") from exc
    except OSError as exc:
        raise Rejected(422, "image file is corrupt") from exc
    if img.format not in IMAGE_FORMATS:
        img.close()
        raise Rejected(415, f"image format {img.format} is not accepted (JPEG, PNG, TIFF, BMP, WebP or PDF)")
    return img


def probe_image(data: bytes, limits: Limits) -> int:
    """The page count after every header check, nothing decoded (sizes the isolated job's time limit)."""
    check_size(len(data), limits.max_file_bytes)
    img = open_image(data)
    with img:
        try:
            check_frames(img, limits)
            return int(getattr(img, "n_frames", 1))
        except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:  # TypeError: a cut IFD
            raise Rejected(422, "image data is corrupt or truncated") from exc


def load_pages(data: bytes, limits: Limits) -> tuple[str, list[SourcePage]]:
    """(media type, pages) for any accepted file."""
    from channels.letters.pdf import load_pdf_pages  # pdfplumber is heavy; images do not need it

    check_size(len(data), limits.max_file_bytes)
    mt = media_type(data)
    if mt == "application/pdf":
        return mt, load_pdf_pages(data, limits)
    pages = load_image_pages(data, limits)
    return mt, pages


def probe_pages(data: bytes, limits: Limits) -> int:
    """How many pages the file has, after every check that needs no decoding."""
    from channels.letters.pdf import probe_pdf

    check_size(len(data), limits.max_file_bytes)
    return probe_pdf(data, limits) if media_type(data) == "application/pdf" else probe_image(data, limits)
