"""What citizens read: one style of date and time (with WIB/WITA/WIT) and one word for the ticket, everywhere."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pdfplumber
import pytest

from channels.citizen_time import citizen_date, citizen_datetime, zone_label
from channels.letters.receipt_pdf import render_receipt_pdf
from gateway.worker.templates import Templates
from normalizer.keywords import parse_command
from normalizer.tracking import check_tracking_id

LANGS = ["id", "en"]
MOMENT = datetime(2026, 12, 1, 18, 19, tzinfo=UTC)  # 2 Dec 01:19 in Jakarta


@pytest.mark.parametrize(
    ("zone", "label", "shown"),
    [
        ("Asia/Jakarta", "WIB", "2 Desember 2026, 01:19 WIB"),
        ("Asia/Pontianak", "WIB", "2 Desember 2026, 01:19 WIB"),
        ("Asia/Makassar", "WITA", "2 Desember 2026, 02:19 WITA"),
        ("Asia/Jayapura", "WIT", "2 Desember 2026, 03:19 WIT"),
        ("Europe/Berlin", "CET", "1 Desember 2026, 19:19 CET"),
        ("UTC", "UTC", "1 Desember 2026, 18:19 UTC"),
    ],
)
def test_times_carry_the_service_zone(zone: str, label: str, shown: str) -> None:
    assert zone_label(zone, MOMENT) == label
    assert citizen_datetime(MOMENT, "id", zone) == shown


def test_months_in_each_language() -> None:
    assert citizen_datetime(MOMENT, "en") == "2 December 2026, 01:19 WIB"
    assert [citizen_date(date(2026, m, 7), "id").split()[1] for m in (1, 5, 8, 12)] == [
        "Januari", "Mei", "Agustus", "Desember"]  # fmt: skip
    assert citizen_date("2026-12-07", "en") == "7 December 2026"
    assert citizen_date("2026-12-07T16:59:59.999999+00:00", "id") == "7 Desember 2026"  # the store's deadline, UTC


def test_a_naive_time_is_taken_as_the_service_zones() -> None:
    assert citizen_datetime(datetime(2024, 11, 23, 14, 5), "id", "Asia/Makassar") == "23 November 2024, 14:05 WITA"


@pytest.mark.parametrize(("zone", "label"), [("Asia/Jakarta", "WIB"), ("Asia/Jayapura", "WIT")])
def test_receipt_pdf_time_has_its_zone(tmp_path, zone: str, label: str) -> None:
    path = render_receipt_pdf(tmp_path / "r.pdf", "1234567890", MOMENT, "Surat", timezone=zone)
    with pdfplumber.open(path) as pdf:
        text = pdf.pages[0].extract_text()
    assert citizen_datetime(MOMENT, "id", zone) in text and text.count(label) == 1, text
    assert "Nomor tiket" in text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("id", "LAPOR! Tiket 1234567890: sedang diverifikasi. Batas verifikasi: 7 Desember 2026."),
        ("en", "LAPOR! Ticket 1234567890: being verified. Verification due: 7 December 2026."),
    ],
)
def test_status_sms_due_date_in_the_citizen_style(lang: str, expected: str) -> None:
    t = Templates(lang)
    verify_by = "2026-12-07T16:59:59.999999+00:00"  # what the store's status view carries
    for due in (verify_by[:10], verify_by):  # as the router passes it, and whole
        text = t.render("sms", "status", tracking_id="1234567890", status=t.status_name("verifying"),
                        due=t.due_suffix(due))  # fmt: skip
        assert text == expected
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert t.due_suffix(None) == ""


def _every_text(t: Templates) -> list[str]:
    """Every text as a citizen reads it (placeholders such as ``{tracking_id}`` left out)."""
    return [re.sub(r"\{\w+\}", "", v) for section in t.data.values() for v in section.values()]


@pytest.mark.parametrize("lang", LANGS)
def test_one_word_for_the_ticket_in_every_template(lang: str) -> None:
    other_words = re.compile(r"lacak|pelacakan|tracking|reference|referensi", re.I)
    t = Templates(lang)
    assert [x for x in _every_text(t) if other_words.search(x)] == []


@pytest.mark.parametrize("typed", ["CEK 12345", "CEK 12345abcde", "CEK 1234567891", "CEK", "INFO"])
@pytest.mark.parametrize("lang", LANGS)
def test_bad_id_answers_say_ticket(lang: str, typed: str) -> None:
    command = parse_command(typed)
    assert command is not None and command.error, typed
    t = Templates(lang)
    text = t.render("sms", "bad_tracking_id", reason=t.pick(command.message_id, command.message_en))  # as the router
    assert "lacak" not in text.lower() and "tracking" not in text.lower()
    assert ("tiket" if lang == "id" else "ticket") in text.lower(), text


def test_tracking_check_messages_say_ticket() -> None:
    for typed in ("12345", "12345abcde", "1234567891"):
        check = check_tracking_id(typed)
        assert "Nomor tiket" in check.message_id and "ticket number" in check.message_en
