"""Scanned text assembled as people wrote it: wrapped lines joined into paragraphs, every form field kept.

The joining rules are a table over ``paragraphs``; then letters typed at single,
1.5 and double line spacing are rendered, scanned and read by tesseract, and
filled forms show their Tanggal in what the gateway forwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channels.letters.fields import paragraphs
from gateway.bench.ocr import cer
from gateway.bench.synth import ScanLook
from normalizer.pipeline import Normalizer
from tests.unit.channels.letters.render import FormValues, filled_form, png_bytes, typed_letter


@dataclass(frozen=True)
class Case:
    label: str
    lines: tuple[str, ...]
    expected: str
    wrapped_only: bool = True


WIDE = "x" * 60  # a full line, so the page has a width to compare with

CASES = [
    Case("wrapped lines become one paragraph, a blank line separates",
         ("Lampu jalan di depan pasar sudah mati sejak dua minggu yang lalu dan", "warga takut lewat.", "",
          "Mohon segera diperbaiki."),
         "Lampu jalan di depan pasar sudah mati sejak dua minggu yang lalu dan warga takut lewat.\n\n"
         "Mohon segera diperbaiki."),
    Case("a word broken at the line end is mended",
         ("Setiap pagi di perempatan itu terjadi kemacetan panjang dan terja-", "di antrean kendaraan."),
         "Setiap pagi di perempatan itu terjadi kemacetan panjang dan terjadi antrean kendaraan."),
    Case("reduplication keeps its hyphen",
         ("Jalan itu rusak parah sejak bulan Agustus dan banyak sekali lubang-", "lubang besar di tengahnya."),
         "Jalan itu rusak parah sejak bulan Agustus dan banyak sekali lubang-lubang besar di tengahnya."),
    Case("a hyphen before a capital or a digit is a real one",
         ("Kejadian ini berulang setiap musim hujan, terutama pada tahun 2024-", "2025 di Jalan Sulawesi."),
         "Kejadian ini berulang setiap musim hujan, terutama pada tahun 2024-2025 di Jalan Sulawesi."),
    Case("list items stay one per line",
         (WIDE, "", "Kami mohon agar dinas terkait:", "1. memperbaiki lampu lalu lintas;",
          "2. menempatkan petugas selama perbaikan."),
         f"{WIDE}\n\nKami mohon agar dinas terkait:\n1. memperbaiki lampu lalu lintas;\n"
         "2. menempatkan petugas selama perbaikan."),
    Case("a list item's own wrapped line joins it",
         ("- lampu lalu lintas di perempatan Jalan Kenanga dan Jalan Melati mati", "sejak Senin;",
          "- tidak ada petugas."),
         "- lampu lalu lintas di perempatan Jalan Kenanga dan Jalan Melati mati sejak Senin;\n- tidak ada petugas."),
    Case("labelled lines stay lines",
         (WIDE, "", "Nama : Rina Marlina", "NIK : 3273015507900001", "Alamat : Jl. Kenanga No. 8"),
         f"{WIDE}\n\nNama : Rina Marlina\nNIK : 3273015507900001\nAlamat : Jl. Kenanga No. 8"),
    Case("a letter's address block and closing keep their lines",
         (WIDE, "", "Kepada Yth.", "Kepala Dinas Perhubungan", "di Tempat", "", "Sukamaju, 10 Maret 2025",
          "Hormat saya,"),
         f"{WIDE}\n\nKepada Yth.\nKepala Dinas Perhubungan\ndi Tempat\n\nSukamaju, 10 Maret 2025\nHormat saya,"),
    Case("handwriting in a form's box joins whatever the line lengths",
         ("Lampu penerangan jalan di depan pasar sudah mati", "dua minggu.", "Warga takut lewat."),
         "Lampu penerangan jalan di depan pasar sudah mati dua minggu. Warga takut lewat.", wrapped_only=False),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_paragraphs(case: Case) -> None:
    assert paragraphs(list(case.lines), wrapped_only=case.wrapped_only) == case.expected


# --- typed letters through tesseract --------------------------------------------------------------------------

LETTER = [
    "Kepada Yth.", "Kepala Dinas Perhubungan Kota Sukamaju", "di Tempat", "",
    "Perihal: Lampu Lalu Lintas Mati", "", "Dengan hormat,", "",
    "Saya yang bertanda tangan di bawah ini:", "Nama : Rina Marlina", "NIK : 3273015507900001",
    "Alamat : Jl. Kenanga No. 8, Sukamaju", "Telepon : 0813-2222-4444", "",
    "menyampaikan bahwa lampu lalu lintas di perempatan Jalan Kenanga dan",
    "Jalan Melati sudah mati sejak tanggal 3 Maret 2025. Setiap pagi terja-",
    "di kemacetan panjang dan hampir terjadi kecelakaan. Anak-anak sekolah",
    "terpaksa menyeberang di antara kendaraan yang saling mendahului. Anak-",
    "anak itu sering terlambat masuk sekolah karena kemacetan tersebut.", "",
    "Kami mohon agar dinas terkait:", "1. memperbaiki lampu lalu lintas tersebut;",
    "2. menempatkan petugas selama perbaikan berlangsung.", "",
    "Demikian pengaduan ini saya sampaikan. Atas perhatian Bapak/Ibu, saya", "ucapkan terima kasih.", "",
    "Sukamaju, 10 Maret 2025", "Hormat saya,", "", "Rina Marlina",
]  # fmt: skip
FIRST = (
    "menyampaikan bahwa lampu lalu lintas di perempatan Jalan Kenanga dan Jalan Melati sudah mati sejak tanggal "
    "3 Maret 2025. Setiap pagi terjadi kemacetan panjang dan hampir terjadi kecelakaan. Anak-anak sekolah terpaksa "
    "menyeberang di antara kendaraan yang saling mendahului. Anak-anak itu sering terlambat masuk sekolah karena "
    "kemacetan tersebut."
)
SECOND = (
    "Kami mohon agar dinas terkait:\n1. memperbaiki lampu lalu lintas tersebut;\n"
    "2. menempatkan petugas selama perbaikan berlangsung."
)


@pytest.mark.parametrize(("spacing", "size_pt"), [(1.0, 12), (1.5, 12), (1.5, 11), (2.0, 11)],
                         ids=["single", "1.5 lines", "1.5 lines, 11 pt", "double, 11 pt"])  # fmt: skip
def test_typed_letter_reads_as_paragraphs(channel, spacing: float, size_pt: float) -> None:
    msg = channel.read_file(png_bytes(typed_letter(LETTER, spacing=spacing, size_pt=size_pt)), "surat.png")
    assert msg.subject == "Lampu Lalu Lintas Mati" and msg.reporter.nik == "3273015507900001"
    paras = msg.text.split("\n\n")
    assert len(paras) == 2, msg.text
    assert "\n" not in paras[0] and cer(FIRST, paras[0]) <= 0.02, paras[0]
    assert "terjadi kemacetan" in paras[0] and "Anak-anak itu" in paras[0]
    items = paras[1].split("\n")
    assert [i.split()[0] for i in items] == ["Kami", "1.", "2."], paras[1]
    assert cer(SECOND, paras[1]) <= 0.02, paras[1]


# --- the form's every field ---------------------------------------------------------------------------------------


def _forwarded(msg):
    return Normalizer("k" * 32).build(msg, complaint_id="0190f3a2-0000-7000-8000-000000000009",
                                      tracking_id="8082656733").complaint  # fmt: skip


@pytest.mark.parametrize(
    ("written", "subject", "letter_date"),
    [
        ("12-03-2025", "Formulir pengaduan tanggal 12 Maret 2025", "2025-03-12"),
        ("3 APRIL 2025", "Formulir pengaduan tanggal 3 April 2025", "2025-04-03"),
        ("SENIN PAGI", "Formulir pengaduan tanggal SENIN PAGI", None),  # not a date: kept as written
    ],
    ids=["numeric", "month name", "not a date"],
)
def test_form_tanggal_reaches_the_record(channel, written: str, subject: str, letter_date: str | None) -> None:
    values = FormValues(date=written)
    msg = channel.read_file(png_bytes(filled_form(values, ScanLook(rotate=0.8, seed=21))), "kotak.png")
    assert msg.metadata.get("letter_date") == letter_date
    assert msg.metadata["location"] == values.location and msg.text == " ".join(values.body)
    record = _forwarded(msg)
    assert record.subject == subject
    assert record.location is not None and record.location.text == values.location
    assert record.body == " ".join(values.body)


def test_a_form_without_a_date_has_no_subject(channel) -> None:
    msg = channel.read_file(png_bytes(filled_form(FormValues(date=""), ScanLook(rotate=0, seed=22))), "kotak.png")
    assert msg.subject is None and "letter_date" not in msg.metadata
