"""The printable answer letter for a letter complaint's update: where it goes, whom it names, what it says."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from channels.base import OutboundReceipt
from channels.letters.printer import LettersReceiptPrinter
from channels.message import Rejected

TID = "4829157367"
ANSWER = ("Yth. Pelapor,\n\nInstansi memberikan tanggapan atas aduan Anda dengan nomor tiket 4829157367:\n\n"
          "Lampu jalan di Jl. Melati sudah diganti pada 1 Desember 2026.\n\nStatus: selesai.")
IDENTITY = {"sender": None, "reporter": {"name": "Siti Rahayu", "address": "Jl. Melati No. 12, RT 03/RW 05\nBandung 40123",
                                          "phone": "6281200000001"}}


def update(text: str = ANSWER, **context: Any) -> OutboundReceipt:
    ctx = {"tracking_id": TID, "update_id": 7, "update_kind": "response", "status": "resolved", "printable": True,
           "kind": "letter", "receipt_id": "r-1"} | context
    return OutboundReceipt(channel="letters.hotfolder", account="counter", to="", text=text, kind="update",
                           reply_context=ctx)


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def printer(tmp_path: Path, language: str = "id", identity: dict[str, Any] | None = IDENTITY) -> LettersReceiptPrinter:
    async def lookup(tracking_id: str) -> dict[str, Any] | None:
        assert tracking_id == TID
        return identity

    return LettersReceiptPrinter(tmp_path / "receipts", outbox=tmp_path / "outbox" / "letters", language=language,
                                 identity=lookup)


def test_an_update_becomes_an_answer_letter_addressed_from_the_letter(tmp_path: Path) -> None:
    path = Path(asyncio.run(printer(tmp_path).send(update())))
    assert path == tmp_path / "outbox" / "letters" / f"{TID}-7.pdf"
    assert not (tmp_path / "receipts").exists()  # the receipt folder is the receipts'
    text = pdf_text(path)
    for words in ("LAYANAN ASPIRASI DAN PENGADUAN ONLINE RAKYAT", "Kepada Yth.", "Bapak/Ibu Siti Rahayu",
                  "Jl. Melati No. 12, RT 03/RW 05", "Bandung 40123", "Perihal", "4829 157 367", f"LAPOR/{TID}/7",
                  "Lampu jalan di Jl. Melati sudah diganti", "Hormat kami,"):
        assert words in text, words
    assert "6281200000001" not in text  # the phone is for the SMS, not the page
    assert list(path.parent.iterdir()) == [path]  # written whole, then renamed: no part file left


def test_english_letter_and_context_fields_over_the_vault(tmp_path: Path) -> None:
    receipt = update("The agency answers: the street light was replaced.", reporter_name="Bambang",
                     reporter_address="Jl. Mawar 3, Surabaya")
    text = pdf_text(Path(asyncio.run(printer(tmp_path, "en").send(receipt))))
    assert "PUBLIC ASPIRATIONS AND COMPLAINTS SERVICE" in text and "Answer to complaint, ticket no. 4829 157 367" in text
    assert "Bambang" in text and "Jl. Mawar 3, Surabaya" in text and "Siti" not in text
    assert "the street light was replaced" in text


def test_no_name_or_address_known_still_prints_for_the_counter(tmp_path: Path) -> None:
    text = pdf_text(Path(asyncio.run(printer(tmp_path, identity=None).send(update()))))
    assert "Bapak/Ibu Pelapor" in text and "4829 157 367" in text


def test_a_long_answer_runs_onto_more_pages_each_naming_the_ticket(tmp_path: Path) -> None:
    path = Path(asyncio.run(printer(tmp_path).send(update("Jawaban panjang. " * 800))))
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) >= 2
        assert all("4829 157 367" in (p.extract_text() or "") for p in pdf.pages)


@pytest.mark.parametrize("context", [{"update_id": None}, {"update_id": "../../etc"}, {"tracking_id": "/"}])
def test_no_path_tricks_and_no_letter_without_its_ids(tmp_path: Path, context: dict[str, Any]) -> None:
    p = printer(tmp_path)
    try:
        out = Path(asyncio.run(p.send(update(**context))))
    except Rejected as exc:
        assert exc.status == 400
        return
    assert out.parent == tmp_path / "outbox" / "letters" and ".." not in out.name


def test_hostile_text_in_the_answer_and_the_address_is_printed_as_text(tmp_path: Path) -> None:
    identity = {"reporter": {"name": "<b>Siti</b> & co", "address": "Jl. <font size=90>Melati</font>\x00"}}
    text = pdf_text(Path(asyncio.run(printer(tmp_path, identity=identity).send(update("<para>a & b</para> <br/>")))))
    assert "<b>Siti</b> & co" in text and "<para>a & b</para>" in text
