"""Bombs in scans and PDFs: each fails alone, with a clear reason, in bounded time and bounded parent memory.

Every case reads through the gateway's own letters reader
(:class:`channels.letters.isolated.IsolatedLettersReader`, the object the hot
folder and the upload completer hold) on an isolated pool of its own, or
through ``pdf_text`` (the mail path's PDF text). The bound on the calling
process: its peak RSS (``VmHWM``, reset before each case through
``/proc/self/clear_refs``) grows by less than ``PARENT_RSS_BOUND``, and each case
ends within ``SECONDS_BOUND``. Each isolated child is bounded by its address-space
limit (1536 MiB, the gateway's default; 700 MiB in the backstop case). With ``-s`` each case prints what it measured.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from channels.email.pdftext import pdf_text
from channels.isolate import IsolatedPool, IsolationFailed, JobLimits
from channels.letters.isolated import IsolatedLettersReader, ReaderConfig
from channels.message import Attachment, Rejected

MiB = 1024 * 1024
PARENT_RSS_BOUND = 64 * MiB
SECONDS_BOUND = 30.0


# --- the bombs -------------------------------------------------------------------------------------------------


def pdf_with_content(chunks: Iterator[bytes], pages: int = 1) -> bytes:
    """A minimal valid PDF whose every page draws one Flate content stream, built from ``chunks``."""
    z = zlib.compressobj(9)
    stream = b"".join(z.compress(c) for c in chunks) + z.flush()
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << >> >>"] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def token_flood_pdf() -> bytes:
    """Millions of drawing operators in a small Flate stream: pdfminer needs minutes to tokenise them."""
    return pdf_with_content(iter([b"0.5 0 0 0.5 1 1 cm 2 2 m\n" * 100_000] * 12))  # 3.6 M tokens


def flate_bomb_pdf() -> bytes:
    """A content stream of 256 MB of zeros in ~250 KB."""
    return pdf_with_content(iter([b"\0" * MiB] * 256), pages=3)


def lying_png(width: int = 7000, height: int = 7000) -> bytes:
    """A PNG whose header promises 49 Mpx (within every limit) and whose data holds a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 99)) + chunk(b"IEND", b"")


def lying_jpeg() -> bytes:
    """A small real JPEG whose frame header is rewritten to claim 7600 x 7400 pixels."""
    buf = io.BytesIO()
    Image.new("L", (64, 64), 200).save(buf, format="JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 7400, 7600)
    return bytes(data)


def png_bomb_real(side: int = 12_000) -> bytes:
    """A genuine PNG of ``side``² zero pixels (144 Mpx), compressed to ~150 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + one byte per pixel
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def g4_tiff(pages: int, side: int) -> bytes:
    """``pages`` white pages of ``side``² pixels, CCITT G4: a few KB a page on disk."""
    page = Image.new("1", (side, side), 1)
    buf = io.BytesIO()
    page.save(buf, format="TIFF", save_all=True, append_images=[page] * (pages - 1), compression="group4",
              dpi=(300, 300))  # fmt: skip
    return buf.getvalue()


@pytest.fixture(scope="module")
def huge_tiff(tmp_path_factory) -> bytes:
    """30 pages of 7700 x 7700 (59.3 Mpx each, under the per-page limit; 1.78 Gpx in all) in ~125 KB."""
    cache = tmp_path_factory.mktemp("bombs") / "huge.tif"
    cache.write_bytes(g4_tiff(30, 7700))
    return cache.read_bytes()


# --- measuring ---------------------------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/self/status")


@dataclass
class Measured:
    seconds: float = 0.0
    parent_peak_growth: int = 0  # bytes


@contextmanager
def bounded(label: str) -> Iterator[Measured]:
    """Time the block and the growth of this process's peak RSS; assert both bounds."""
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS") * 1024
    m = Measured()
    start = time.monotonic()
    yield m
    m.seconds = time.monotonic() - start
    m.parent_peak_growth = _status_kib("VmHWM") * 1024 - before
    # the isolated children are the forkserver's, not ours (RUSAGE_CHILDREN does not see them): RLIMIT_AS bounds them
    print(f"\n{label}: {m.seconds:.1f} s, parent peak RSS +{m.parent_peak_growth / MiB:.1f} MiB")
    assert m.seconds < SECONDS_BOUND, f"{label} took {m.seconds:.1f} s"
    assert m.parent_peak_growth < PARENT_RSS_BOUND, f"{label}: parent peak RSS grew {m.parent_peak_growth / MiB:.0f} MiB"


class Blobs:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, data: bytes, media_type: str, filename: str | None = None) -> Attachment:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        self.data[digest] = data
        return Attachment(sha256=digest, media_type=media_type, size=len(data), filename=filename)

    def get(self, sha256: str) -> bytes:
        return self.data[sha256]


@pytest.fixture(scope="module")
def pool() -> Iterator[IsolatedPool]:
    p = IsolatedPool(workers=1, memory_bytes=1536 * MiB)  # the gateway's default (worker.isolated_memory_mb)
    yield p
    p.close()


@pytest.fixture
def reader(pool: IsolatedPool) -> IsolatedLettersReader:
    return IsolatedLettersReader(ReaderConfig(), Blobs(), run=pool.run)


def refused(reader: IsolatedLettersReader, data: bytes, label: str) -> Rejected:
    with bounded(label), pytest.raises(Rejected) as err:
        reader.read_file(data, "lampiran.bin")
    assert "lampiran" not in err.value.reason
    return err.value


# --- the cases ---------------------------------------------------------------------------------------------------


def test_token_flood_pdf_text_is_skipped_quickly(pool: IsolatedPool) -> None:
    data = token_flood_pdf()
    assert len(data) < 100_000
    pdf_text(flate_bomb_pdf()[:50])  # the in-place call below measures the read, not pdfplumber's import
    with bounded("token flood, pdf_text in place"):
        text, problem = pdf_text(data)
    assert text == "" and problem is not None and "page 1" in problem and "too large" in problem
    with bounded("token flood, pdf_text isolated"):
        assert pool.run(pdf_text, data, limits=JobLimits(seconds=20, cpu_seconds=20)) == (text, problem)


def test_token_flood_pdf_letter_is_not_interpreted_by_pdfminer(reader: IsolatedLettersReader) -> None:
    # too costly for the text layer: rendered by pdfium instead, found blank, sent to review
    with bounded("token flood, letter"):
        msg = reader.read_file(token_flood_pdf(), "surat.pdf")
    assert "page 1: blank" in msg.review_reasons and "no complaint text found" in msg.review_reasons


def test_flate_bomb_pdf(reader: IsolatedLettersReader) -> None:
    data = flate_bomb_pdf()
    assert len(data) < 400_000
    err = refused(reader, data, "Flate bomb PDF, letter")
    assert err.status == 413 and "decompression bomb" in err.reason
    with bounded("Flate bomb PDF, pdf_text"):
        text, problem = pdf_text(data)
    assert text == "" and problem is not None and "decompression bomb" in problem


def test_many_page_huge_g4_tiff_is_refused_from_its_headers(reader: IsolatedLettersReader, huge_tiff: bytes) -> None:
    assert len(huge_tiff) < 200_000
    err = refused(reader, huge_tiff, "30 x 7700² G4 TIFF")
    assert err.status == 413 and "pixels over its pages" in err.reason


def test_huge_tiff_within_raised_limits_fails_in_its_process_not_ours(huge_tiff: bytes) -> None:
    """An operator raised every limit: the address-space limit of the isolated process is the backstop."""
    small = IsolatedPool(workers=1, memory_bytes=700 * MiB)
    config = ReaderConfig(max_total_pixels=10**12, seconds_per_page=5)
    try:
        err = refused(IsolatedLettersReader(config, Blobs(), run=small.run), huge_tiff, "huge TIFF, limits raised")
    finally:
        small.close()
    assert isinstance(err, IsolationFailed) and "needed more than 700 MiB" in err.reason


def test_png_with_a_lying_header(reader: IsolatedLettersReader) -> None:
    err = refused(reader, lying_png(), "lying PNG header")
    assert err.status == 422 and "corrupt or truncated" in err.reason


def test_jpeg_with_a_lying_header(reader: IsolatedLettersReader) -> None:
    # libjpeg pads a truncated scan with grey: a 56 Mpx page of nothing, sent to review, never to tesseract
    with bounded("lying JPEG header"):
        msg = reader.read_file(lying_jpeg(), "surat.jpg")
    assert "page 1: blank" in msg.review_reasons and msg.text == ""


def test_png_decompression_bomb(reader: IsolatedLettersReader) -> None:
    data = png_bomb_real()
    assert len(data) < 300_000
    err = refused(reader, data, "PNG bomb 12000²")
    assert err.status == 413 and "decompression bomb" in err.reason


def _group_members(pgid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(d.name))
    return out


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_read_over_its_time_limit_fails_alone_and_takes_tesseract_with_it() -> None:
    from gateway.bench.synth import ScanLook, letter_page

    buf = io.BytesIO()
    letter_page(look=ScanLook(dust=0)).image.save(buf, format="PNG", dpi=(300, 300))
    slow = IsolatedPool(workers=1, memory_bytes=1024 * MiB)
    # 0.2 s: far below what decoding, preparing and OCR of a 300 dpi page take on any machine (tesseract
    # alone needs half a second), so the limit is met whatever the machine's speed (1.5 s was not, once)
    config = ReaderConfig(start_seconds=0.1, seconds_per_page=0.1)
    reader = IsolatedLettersReader(config, Blobs(), run=slow.run)
    try:
        slow.run(os.getpid)  # start the child; its pid leads the group tesseract runs in
        (child,) = slow.pids()
        with bounded("a real page under a 0.2 s limit"), pytest.raises(IsolationFailed) as err:
            reader.read_file(buf.getvalue(), "surat.png")
        assert "took longer than 0.2 s" in err.value.reason
        time.sleep(0.2)
        assert _group_members(child) == []  # no tesseract left running
        assert slow.run(os.getpid) != child  # a fresh child took its place
    finally:
        slow.close()
