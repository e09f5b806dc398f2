"""Printable receipts, letter-field parsing, and the benchmark's shape."""

from __future__ import annotations

from datetime import date, datetime

import pdfplumber
import pytest

from channels.letters.fields import extract_letter_fields, normalize_nik, normalize_phone, parse_date
from channels.letters.receipt_pdf import render_receipt_pdf
from gateway.bench.ocr import cer, run_ocr_bench


def test_receipt_pdf(tmp_path):
    path = render_receipt_pdf(tmp_path / "r.pdf", "1234567890", datetime(2024, 11, 23, 14, 5), "Surat (loket)", None)
    with pdfplumber.open(path) as pdf:
        text = pdf.pages[0].extract_text()
    assert "Tanda Terima Pengaduan" in text
    assert "1234 567 890" in text
    assert "CEK 1234567890 ke 1708" in text
    assert "23 November 2024, 14:05" in text and "Surat (loket)" in text


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("0812-3456-7890", "6281234567890"),
        ("+62 812 3456 7890", "6281234567890"),
        ("62857.1122.3344", "6285711223344"),
        ("0812-345", None),
        ("021-555-1234", None),
        ("O812-3456-789O", "6281234567890"),
    ],
)
def test_normalize_phone(raw, phone):
    assert normalize_phone(raw) == phone


def test_nik_and_dates():
    assert normalize_nik("3273 0123 0485 0002") == "3273012304850002"
    assert normalize_nik("32730123048500") is None
    assert parse_date("Bandung, 5 Agustus 2025") == date(2025, 8, 5)
    assert parse_date("Tanggal: 12/03/2025") == date(2025, 3, 12)


def test_hal_and_email_in_free_text():
    f = extract_letter_fields(
        "Hal : Sampah menumpuk\n\nDengan hormat,\n\nSampah di pasar menumpuk sejak seminggu.\n"
        "Hubungi saya di warga@contoh.id\n\nHormat saya,\nAni"
    )
    assert f.subject == "Sampah menumpuk"
    assert f.email == "warga@contoh.id"
    assert f.body.startswith("Sampah di pasar menumpuk")
    assert "Hormat" not in f.body


def test_cer():
    assert cer("abc def", "abc  def\n") == 0
    assert cer("abcd", "abxd") == 0.25


def test_bench_runs_on_one_page():
    r = run_ocr_bench(pages=1)
    assert r["pages"] == 1
    assert r["gateway"]["cer"] <= r["raw_tesseract"]["cer"]
    assert r["raw_tesseract"]["s_per_page"] > 0 and r["gateway"]["s_per_page"] > 0
