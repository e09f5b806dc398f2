"""Paper letters and the complaint box through the real gateway (``lapor-gateway run``).

The gateway runs as a child process (:class:`~tests.gateway_proc.GatewayProcess`) with a fast hot
folder (``letters.poll_seconds``), the upload endpoint on, SMS receipts going to a
:class:`SendsmsRecorder` (a stand-in for Kannel's ``/cgi-bin/sendsms``) and email receipts to a
:class:`~tests.e2e_helpers.ThreadedSmtpSink`. Tesseract is the real one. Pages come from the
shared renderers (``gateway.bench.synth``, ``tests.unit.channels.letters.render``), built once per session.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.bench.synth import LetterSpec, ScanLook, letter_page
from tests.e2e_helpers import ThreadedSmtpSink
from tests.gateway_proc import GatewayProcess, wait_until
from tests.unit.channels.letters.render import FormValues, filled_form, image_pdf, png_bytes, text_pdf

if shutil.which("tesseract") is None:  # pragma: no cover - `make test` installs it
    if os.environ.get("CI"):
        pytest.fail("tesseract-ocr is not installed but CI is set", pytrace=False)
    pytest.skip("tesseract-ocr is not installed", allow_module_level=True)

UPLOAD_TOKEN = "unggah-token-uji-7f3a9c"


# --- an SMS centre that records the receipts (Kannel's sendsms, as the gateway speaks to it) ------


class SendsmsRecorder:
    """``GET /cgi-bin/sendsms?to=…&text=…`` → 202 ``0: Accepted for delivery``; ``sent`` keeps the queries."""

    def __init__(self) -> None:
        recorder = self
        self.sent: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                recorder.sent.append(q)
                body = b"0: Accepted for delivery"
                self.send_response(202)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="sendsms", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/sendsms"

    def to(self, number: str) -> list[str]:
        return [q.get("text", "") for q in list(self.sent) if q.get("to") == number]


@contextmanager
def sendsms_recorder() -> Iterator[SendsmsRecorder]:
    """A started :class:`SendsmsRecorder`, shut down and its socket closed on the way out."""
    rec = SendsmsRecorder()
    rec.thread.start()
    try:
        yield rec
    finally:
        rec.server.shutdown()
        rec.server.server_close()


@pytest.fixture
def sendsms() -> Iterator[SendsmsRecorder]:
    with sendsms_recorder() as rec:
        yield rec


@pytest.fixture
def letters_gateway(
    gateway_factory: Callable[..., GatewayProcess], sendsms: SendsmsRecorder, sink: ThreadedSmtpSink
) -> Callable[..., GatewayProcess]:
    """``letters_gateway(env)`` → a started gateway with a fast hot folder and the upload endpoint on."""

    def make(env: dict[str, str] | None = None, name: str = "gw", start: bool = True) -> GatewayProcess:
        gw = gateway_factory({
            "LAPOR_LETTERS__POLL_SECONDS": "0.2",
            "LAPOR_LETTERS__UPLOAD_TOKEN": UPLOAD_TOKEN,
            "LAPOR_SMS__KANNEL__SENDSMS_URL": sendsms.url,
            "LAPOR_MAIL__FROM": "pengaduan@lapor.localhost",
            **sink.env(),
            "COLUMNS": "220",  # rich tables (`scan`, `review`) print whole tracking IDs on one line
            **(env or {}),
        }, name)  # fmt: skip
        if start:
            gw.start()
        return gw

    return make


# --- the hot folder -------------------------------------------------------------------------------


def inbox(gw: GatewayProcess) -> Path:
    return Path(gw.env.get("LAPOR_LETTERS__INBOX") or gw.data_dir / "inbox" / "letters")


def drop(gw: GatewayProcess, name: str, data: bytes) -> Path:
    """A scanner writing a file into the hot folder (the gateway must wait until it is complete)."""
    folder = inbox(gw)
    wait_until(folder.exists, 15, what="the hot folder")
    path = folder / name
    path.write_bytes(data)
    return path


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} if folder.exists() else {}


def wait_moved(gw: GatewayProcess, names: list[str], timeout: float = 60.0) -> None:
    """Every one of ``names`` has left the inbox (to processed/ or failed/)."""
    box = inbox(gw)
    wait_until(lambda: not any((box / n).exists() for n in names), timeout, interval=0.1,
               what=f"{len(names)} file(s) to leave the hot folder")  # fmt: skip


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- printable receipts ---------------------------------------------------------------------------


def receipt_pdf(gw: GatewayProcess, tracking_id: str) -> Path:
    return gw.data_dir / "receipts" / f"{tracking_id}.pdf"


def receipt_pdf_text(gw: GatewayProcess, tracking_id: str, timeout: float = 20.0) -> str:
    """The text of the printable receipt (``pdftotext -layout``), once the receipt worker wrote it."""
    path = receipt_pdf(gw, tracking_id)
    wait_until(lambda: path.exists() and path.stat().st_size > 0, timeout, what=f"receipt PDF {tracking_id}")
    wait_until(lambda: _pdf_text(path), timeout, what="a complete receipt PDF")
    return _pdf_text(path)


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=20)
    return out.stdout if out.returncode == 0 else ""


# --- pages (rendered once per session: rendering costs more than reading) -------------------------

LETTER = LetterSpec(
    name="Bambang Wicaksono",
    nik="3273011508800005",
    phone="0812-4455-6677",
    email="bambang.wicaksono@contoh.id",
    subject="Pengaduan Lampu Jalan Padam di Jalan Kenanga",
    body=(
        "dengan ini menyampaikan pengaduan bahwa lampu penerangan jalan di",
        "Jalan Kenanga sudah padam sejak awal bulan. Pada malam hari jalan",
        "menjadi gelap dan warga khawatir akan keamanan anak-anak sekolah.",
        "",
        "Kami mohon agar dinas terkait segera memperbaiki lampu tersebut.",
    ),
)


@cache
def letter_png(spec: LetterSpec = LETTER, seed: int = 11) -> bytes:
    return png_bytes(letter_page(spec, ScanLook(seed=seed)).image)


@cache
def letter_image_pdf(spec: LetterSpec = LETTER, seed: int = 12) -> bytes:
    """A scanner's PDF: the page as a JPEG, no text layer (OCR needed), about 2.3 MB."""
    return image_pdf([letter_page(spec, ScanLook(seed=seed)).image])


@cache
def letter_text_pdf(spec: LetterSpec = LETTER) -> bytes:
    """A typed letter saved as PDF: read from its text layer, no OCR."""
    return text_pdf(spec.lines())


def form_png(values: FormValues, seed: int = 1708) -> bytes:
    """A complaint-box form filled with ``values`` (block capitals, ticks as an X), scanned."""
    return png_bytes(filled_form(values, ScanLook(seed=seed)))
