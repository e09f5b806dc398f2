"""`lapor-gateway form` and `lapor-gateway scan` at the service counter, against a running gateway."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest

from gateway.bench.synth import LetterSpec, ScanLook
from tests.e2e.letters.conftest import letter_image_pdf, letter_text_pdf, receipt_pdf_text, sha256
from tests.e2e_helpers import records_by_external_id, tracking_ids_in, wait_record
from tests.gateway_proc import GatewayProcess
from tests.unit.channels.letters import render
from tests.unit.channels.letters.render import FormValues, filled_form, png_bytes

pytestmark = pytest.mark.peer

VALUES = FormValues(
    name="RUDI HARTONO",
    nik="3374012208870003",
    address="JL. SERUNI NO. 8, RT 01/RW 03",
    contact="0812-6060-7070",
    location="TERMINAL BUS KOTA",
    date="03-02-2025",
    body=("Atap ruang tunggu terminal bocor", "dan lantainya licin saat hujan."),
)
SCANNED_LETTER = LetterSpec(name="Lestari Wulandari", nik="3374015107920004", phone="0857-4040-5050",
                            subject="Angkutan Kota Menaikkan Tarif Sepihak")  # fmt: skip


def _rows(stdout: str) -> dict[str, tuple[str, str]]:
    """The `scan` table as {file name: (result, tracking ID)}."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 4 and cells[0] and cells[0] != "file":
            ids = tracking_ids_in(cells[2])
            rows[Path(cells[0]).name] = (cells[1], ids[0] if ids else "")
    return rows


def test_printed_form_filled_and_scanned_then_scanned_again(
    letters_gateway: Callable[..., GatewayProcess], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = letters_gateway()

    # the form as the counter prints it
    out = gw.cli("form", str(tmp_path / "formulir.pdf"))
    assert out.returncode == 0, out.stderr
    pdf_path = tmp_path / "formulir.pdf"
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True).stdout
    assert "FORMULIR PENGADUAN MASYARAKAT" in text and "Anonim" in text and "Rahasia" in text
    with pdfplumber.open(pdf_path) as pdf:
        assert len(pdf.pages) == 1
        printed = pdf.pages[0].to_image(resolution=render.DPI).original.convert("L")
    # a citizen fills in *that* page (the test renderer draws on the blank it is given), staff scan it
    monkeypatch.setitem(render._BLANK, render.DPI, printed)
    form_file = tmp_path / "kotak-01.png"
    form_file.write_bytes(png_bytes(filled_form(VALUES, ScanLook(rotate=-1.2, seed=51))))
    letter_file = tmp_path / "surat-02.pdf"
    letter_file.write_bytes(letter_image_pdf(SCANNED_LETTER, seed=52))

    out = gw.cli("scan", str(form_file), str(letter_file), "--wait", "60", timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = _rows(out.stdout)
    assert rows["kotak-01.png"][0] == "accepted" and rows["surat-02.pdf"][0] == "accepted", out.stdout
    form_tid, letter_tid = rows["kotak-01.png"][1], rows["surat-02.pdf"][1]
    assert form_tid and letter_tid and form_tid != letter_tid, out.stdout

    # read back: the form's fields and the letter's, in the central store under the IDs the table showed
    form_rec = wait_record(gw, sha256(form_file.read_bytes()))
    assert form_rec["tracking_id"] == form_tid and form_rec["account"] == "box"
    assert form_rec["reporter"]["name"] == VALUES.name and form_rec["reporter"]["nik"] == VALUES.nik
    assert form_rec["reporter"]["phone"] == "6281260607070"
    assert form_rec["body"] == " ".join(VALUES.body)
    assert form_rec["location"]["text"] == VALUES.location
    assert form_rec["privacy"] == {"anonymous": False, "confidential": False, "source": None}
    letter_rec = wait_record(gw, sha256(letter_file.read_bytes()))
    assert letter_rec["tracking_id"] == letter_tid and letter_rec["subject"] == SCANNED_LETTER.subject
    for tid in (form_tid, letter_tid):
        pdf_text = receipt_pdf_text(gw, tid)
        assert tid in pdf_text and "CEK" in pdf_text

    # the same form scanned again: a duplicate with the same tracking ID, not a second complaint
    out = gw.cli("scan", str(form_file), "--wait", "30", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _rows(out.stdout)["kotak-01.png"] == ("duplicate", form_tid)
    assert len(records_by_external_id(gw)[sha256(form_file.read_bytes())]) == 1

    # a bad file in the batch: exit code 1, its reason in the table, the other file still accepted
    broken = tmp_path / "rusak.pdf"
    broken.write_bytes(letter_text_pdf()[:250])
    typed = tmp_path / "surat-ketik.pdf"
    typed.write_bytes(letter_text_pdf(SCANNED_LETTER))
    out = gw.cli("scan", str(broken), str(typed), "--wait", "30", timeout=120)
    assert out.returncode == 1
    rows = _rows(out.stdout)
    assert rows["rusak.pdf"] == ("failed", "") and "corrupt" in out.stdout
    assert rows["surat-ketik.pdf"][0] == "accepted" and rows["surat-ketik.pdf"][1]
    assert wait_record(gw, sha256(typed.read_bytes()))["tracking_id"] == rows["surat-ketik.pdf"][1]
    assert len(records_by_external_id(gw)) == 3
