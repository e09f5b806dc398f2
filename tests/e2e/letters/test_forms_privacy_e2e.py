"""Complaint-box forms (Anonim / Rahasia ticks) and an ordinary letter, end to end, with privacy canaries.

One gateway reads three scans from the hot folder: an ordinary signed letter, a form with *Anonim*
ticked and a form with *Rahasia* ticked. The forwarded records carry what each asked for, each gets
a printable receipt, the letter and the Rahasia form get an SMS (and the letter an email) receipt,
the anonymous form none; and the anonymous reporter's identity and the Rahasia body show up in no
log line, intake-log event, metric, receipt or (for the identity) the journal at rest.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

import pytest

from tests.adversarial.decode import leaks
from tests.e2e.letters.conftest import LETTER, SendsmsRecorder, drop, form_png, letter_png, receipt_pdf_text, sha256
from tests.e2e_helpers import (
    ThreadedSmtpSink,
    assert_absent,
    intake_log,
    journal_dump,
    metrics_text,
    tracking_ids_in,
    wait_record,
)
from tests.gateway_proc import GatewayProcess, wait_until
from tests.unit.channels.letters.render import FormValues

pytestmark = pytest.mark.peer

ANON = FormValues(
    name="WAHYU HIDAYAT",
    nik="3578101708750009",
    address="JL. CEMPAKA NO. 12, RT 04/RW 01",
    contact="0813-9090-1212",
    location="KANTOR KELURAHAN SUKASARI",
    body=("Petugas loket kelurahan meminta", "uang Rp 200.000 untuk surat", "keterangan usaha tanpa kuitansi."),
    ticks={"anonymous": True},
)
ANON_PHONE = "6281390901212"
SECRET = FormValues(
    name="DEWI ANGGRAINI",
    nik="3578106002930008",
    contact="0857-2020-3030",
    location="BALAI DESA SUKAMULYA",
    body=("Bendahara desa memakai dana", "bansos untuk membeli motor", "pribadi anaknya bulan lalu."),
    ticks={"confidential": True},
)
SECRET_PHONE = "6285720203030"
SECRET_CANARIES = ["bansos untuk membeli motor", "pribadi anaknya", "Bendahara desa memakai dana"]


def _identity_forms() -> list[str]:
    local = "0" + ANON_PHONE[2:]
    return [
        ANON.name, "Wahyu Hidayat", "HIDAYAT", ANON.nik, ANON.contact, local, ANON_PHONE, "+" + ANON_PHONE,
        ANON_PHONE[2:], "CEMPAKA NO. 12",
    ]  # fmt: skip


def _receipt_channels(gw: GatewayProcess, tracking_id: str) -> list[str]:
    db = sqlite3.connect(gw.data_dir / "gateway-state.db")
    try:
        return sorted(r[0] for r in db.execute("SELECT channel FROM receipts WHERE tracking_id=?", (tracking_id,)))
    finally:
        db.close()


def test_forms_and_letter_privacy_receipts_and_canaries(
    letters_gateway: Callable[..., GatewayProcess], sendsms: SendsmsRecorder, sink: ThreadedSmtpSink
) -> None:
    gw = letters_gateway()
    letter, anon, secret = letter_png(), form_png(ANON, seed=41), form_png(SECRET, seed=42)
    drop(gw, "surat-warga.png", letter)
    drop(gw, f"{ANON.name} {ANON.nik}.png", anon)  # staff named the scan after what the form says
    drop(gw, "kotak-2.png", secret)

    # --- the ordinary letter: identity and subject as written --------------------------------------
    rec_letter = wait_record(gw, sha256(letter), timeout=60)
    assert rec_letter["privacy"] == {"anonymous": False, "confidential": False, "source": None}
    assert rec_letter["subject"] == LETTER.subject
    assert rec_letter["reporter"]["name"] == LETTER.name
    assert rec_letter["reporter"]["nik"] == LETTER.nik
    assert rec_letter["reporter"]["phone"] == "6281244556677"
    assert rec_letter["reporter"]["email"] == LETTER.email
    assert "lampu penerangan jalan" in rec_letter["body"] and rec_letter["body_public"]
    assert rec_letter["ocr"]["engine"].startswith("tesseract") and not rec_letter["needs_review"]

    # --- Anonim: no reporter, NIK and phone nowhere in the record ----------------------------------
    rec_anon = wait_record(gw, sha256(anon), timeout=60)
    assert rec_anon["account"] == "box"
    assert rec_anon["privacy"] == {"anonymous": True, "confidential": False, "source": "form"}
    assert rec_anon.get("reporter") is None and rec_anon["reporter_ref"]
    assert leaks(rec_anon, [ANON.nik, ANON_PHONE, ANON.name]) == []  # decoded too (base64, hex) and hashed
    assert "Rp 200.000" in rec_anon["body"] and rec_anon["location"]["text"] == ANON.location

    # --- Rahasia: identity kept, body_public null ----------------------------------------------------
    rec_secret = wait_record(gw, sha256(secret), timeout=60)
    assert rec_secret["privacy"] == {"anonymous": False, "confidential": True, "source": "form"}
    assert rec_secret["body_public"] is None
    assert rec_secret["reporter"]["name"] == SECRET.name and rec_secret["reporter"]["phone"] == SECRET_PHONE
    assert all(c in rec_secret["body"] for c in SECRET_CANARIES), "the canaries were not read"

    tids = {k: r["tracking_id"] for k, r in (("letter", rec_letter), ("anon", rec_anon), ("secret", rec_secret))}

    # --- receipts: a printable PDF for each; SMS/email where a contact was given and not anonymous --
    pdf_texts = {k: receipt_pdf_text(gw, tid) for k, tid in tids.items()}
    for k, tid in tids.items():
        assert tid in pdf_texts[k] and f"CEK {tid}" in pdf_texts[k]
    sms_letter = wait_until(lambda: sendsms.to("6281244556677"), 20, what="the letter's SMS receipt")
    sms_secret = wait_until(lambda: sendsms.to(SECRET_PHONE), 20, what="the Rahasia form's SMS receipt")
    assert tracking_ids_in(sms_letter[0]) == [tids["letter"]]
    assert tracking_ids_in(sms_secret[0]) == [tids["secret"]]
    mail = sink.wait_to(LETTER.email)[0]
    assert tids["letter"] in mail.message["Subject"] and tids["letter"] in mail.message.get_body().get_content()
    assert _receipt_channels(gw, tids["anon"]) == ["letters.scan"]  # only the printable one
    assert _receipt_channels(gw, tids["secret"]) == ["letters.scan", "sms.letters"]
    assert sorted(_receipt_channels(gw, tids["letter"])) == ["email.letters", "letters.scan", "sms.letters"]
    assert sendsms.to(ANON_PHONE) == []

    # --- privacy canaries ---------------------------------------------------------------------------
    wait_until(lambda: intake_log(gw).count("receipt_sent") >= 3, 20, what="receipt events")
    log_view = intake_log(gw)
    assert "anonim" in log_view and "rahasia" in log_view  # flags shown, contact masked
    metrics = metrics_text(gw)
    shown_anon = gw.cli("show", tids["anon"]).stdout + gw.cli("show", tids["anon"], "--json").stdout
    shown_secret = gw.cli("show", tids["secret"], "--json").stdout
    gw.stop()  # flush and close the log files
    process_logs = gw.log_text()
    assert "letter " in process_logs  # the hot folder did log, by tag
    assert_absent(_identity_forms(), {
        "process logs": process_logs,
        "intake log": log_view,
        "metrics": metrics,
        "forwarded record": json.dumps(rec_anon, ensure_ascii=False),
        "show output": shown_anon,
        "printable receipt": pdf_texts["anon"],
        "SMS receipts": json.dumps(sendsms.sent),
        "journal at rest": journal_dump(gw.data_dir),
    })  # fmt: skip
    assert_absent(SECRET_CANARIES, {
        "process logs": process_logs,
        "intake log": log_view,
        "metrics": metrics,
        "printable receipt": pdf_texts["secret"],
        "SMS receipt": sms_secret[0],
        "show output (body_public)": json.dumps(json.loads(shown_secret or "{}").get("record", {}).get("body_public")),
    })  # fmt: skip
