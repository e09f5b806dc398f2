"""The complaint-box form: printed by the gateway, filled, scanned, read back with its ticks."""

from __future__ import annotations

import pdfplumber
import pytest

from channels.letters.form import render_form_pdf
from gateway.bench.synth import ScanLook
from tests.unit.channels.letters.render import FormValues, filled_form, image_pdf, png_bytes

CASES = [
    ("no ticks, clean scan", {}, ScanLook(rotate=0, noise=0, dust=0, blur=0)),
    ("Anonim ticked, skewed and specked", {"anonymous": True}, ScanLook(rotate=1.5)),
    ("Rahasia ticked, upside down", {"confidential": True}, ScanLook(quarter_turns=2, rotate=-1.0, seed=5)),
    (
        "both ticked, sideways, dirty glass",
        {"anonymous": True, "confidential": True},
        ScanLook(quarter_turns=1, dust=1000, seed=6),
    ),
]


@pytest.mark.parametrize(("label", "ticks", "look"), CASES, ids=[c[0] for c in CASES])
def test_filled_form(channel, label, ticks, look):
    values = FormValues(ticks=ticks)
    msg = channel.read_file(png_bytes(filled_form(values, look)), "kotak.png")
    assert msg.account == "box"
    assert msg.privacy is not None and msg.privacy.source == "form"
    assert msg.privacy.anonymous is bool(ticks.get("anonymous"))
    assert msg.privacy.confidential is bool(ticks.get("confidential"))
    assert msg.reporter.name == values.name
    assert msg.reporter.nik == values.nik
    assert msg.reporter.phone == "6285711223344"
    assert msg.reporter.address == values.address
    assert msg.metadata["location"] == values.location
    assert msg.metadata["letter_date"] == "2025-03-12"
    assert msg.text == " ".join(values.body)
    assert msg.review_reasons == []


def test_form_email_contact_from_scanned_pdf(channel):
    values = FormValues(contact="warga.ok@contoh.id", ticks={"anonymous": True})
    msg = channel.read_file(image_pdf([filled_form(values, ScanLook(dust=100))]), "kotak.pdf")
    assert msg.reporter.email == "warga.ok@contoh.id" and msg.reporter.phone is None
    assert msg.privacy.anonymous is True


def test_form_pdf_has_every_field(tmp_path):
    path = render_form_pdf(tmp_path / "form.pdf")
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) == 1
        text = pdf.pages[0].extract_text()
    for label in (
        "FORMULIR PENGADUAN",
        "Nama",
        "NIK",
        "Alamat",
        "No. HP / Email",
        "Isi Pengaduan",
        "Lokasi",
        "Tanggal",
        "Anonim",
        "Rahasia",
    ):
        assert label in text
