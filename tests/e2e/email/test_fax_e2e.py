"""Faxes and scanned attachments through the real gateway: the SMTP listener and a Dovecot mailbox.

One gateway for the module (OCR is slow, CI time is not): its SMTP listener takes ``DOMAIN``, its IMAP
poller reads a private Dovecot (delivery by Dovecot's LDA, as an MTA does), SMS receipts go to a
recorder of Kannel's sendsms and email receipts to an SMTP sink. Each transport gets the same four
mails built here (``tests/unit/channels/email/scan_mails.py``): a two-page G4 TIFF fax, a photo of a letter
with a one-line body, an image-only PDF of a form with Anonim ticked, and a fax whose TIFF is corrupt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.email.conftest import DOMAIN, FROM, RCPT, ProctitleDovecot, running_dovecot, send, start_gateway
from tests.e2e.letters.conftest import (  # skips the module where tesseract is missing
    SendsmsRecorder,
    receipt_pdf_text,
    sendsms_recorder,
)
from tests.e2e_helpers import (
    ThreadedSmtpSink,
    intake_log,
    review_rows,
    threaded_smtp_sink,
    tracking_ids_in,
    wait_record,
)
from tests.gateway_proc import GatewayProcess, wait_until
from tests.unit.channels.email import scan_mails as sm

pytestmark = [pytest.mark.peer, pytest.mark.slow]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_dovecot() as dovecot, sendsms_recorder() as sendsms, threaded_smtp_sink() as sink:
        gw = GatewayProcess(tmp_path_factory.mktemp("fax") / "gw", {
            "LAPOR_SMTP__DOMAINS": json.dumps([DOMAIN]),
            "LAPOR_MAIL__FROM": FROM,
            **sink.env(),
            **dovecot.settings_env(),
            "LAPOR_IMAP__POLL_SECONDS": "0.5",
            "LAPOR_SMS__KANNEL__SENDSMS_URL": sendsms.url,
            "LAPOR_FAX__SENDERS": json.dumps(["@faxmail.contoh.net"]),
            "COLUMNS": "220",
        })  # fmt: skip
        try:
            start_gateway(gw)
            yield {"gw": gw, "sink": sink, "sendsms": sendsms, "dovecot": dovecot}
        finally:
            gw.stop()


def _check(rig: dict[str, Any], via: str, mids: dict[str, str]) -> None:
    gw: GatewayProcess = rig["gw"]
    sink: ThreadedSmtpSink = rig["sink"]
    sendsms: SendsmsRecorder = rig["sendsms"]

    fax = wait_record(gw, mids["fax"], timeout=120)
    assert fax["channel"] == f"email.{via}.fax"
    assert "saluran air di depan rumah kami tersumbat sampah" in fax["body"]  # page 1
    assert "petugas kebersihan segera datang membersihkan saluran" in fax["body"]  # page 2
    assert "You have received" not in fax["body"]
    assert fax["reporter"]["name"] == "Hendra Wijaya" and fax["reporter"]["phone"] == sm.FAX_DIGITS
    assert fax["ocr"]["pages"] == 2 and not fax["needs_review"]
    assert fax["privacy"]["anonymous"] is False

    photo = wait_record(gw, mids["photo"], timeout=120)
    assert photo["channel"] == f"email.{via}.scan" and "Lubang-lubang besar" in photo["body"]
    assert sm.ONE_LINE in photo["body"]  # the mail's own line kept beside the letter
    assert photo["reporter"]["name"] == "Rina Marlina" and photo["reporter"]["phone"] == "6281322446688"
    assert photo["reporter"]["email"] == "rina.marlina@warga-contoh.id"

    form = wait_record(gw, mids["form"], timeout=120)
    assert form["channel"] == f"email.{via}.scan"
    assert form["privacy"]["anonymous"] is True and form.get("reporter") is None  # Anonim ticked: the vault only
    assert "Lampu penerangan jalan di depan pasar sudah mati dua minggu." in form["body"]

    # the corrupt fax: held for a person, with the mail's own text and the reason
    rows = wait_until(lambda: [r for r in review_rows(gw).values() if f"email.{via}.fax" in r], 120,
                      what="the corrupt fax in the review queue")  # fmt: skip
    assert any("corrupt" in r for r in rows), rows

    # answers: SMS to the fax's number and a printable receipt; email only to the citizen who wrote
    sms = wait_until(lambda: sendsms.to(sm.FAX_DIGITS), 30, what="the fax's SMS receipt")
    assert fax["tracking_id"] in tracking_ids_in(" ".join(sms))
    printed = " ".join(receipt_pdf_text(gw, fax["tracking_id"]).split())
    assert fax["tracking_id"] in printed.replace(" ", "") and "Melalui: Faks" in printed
    sink.wait_to("rina.marlina@warga-contoh.id", 1 if via == "smtp" else 2)
    assert sink.to(sm.FAX_SERVICE) == [], "a receipt was mailed back to the fax service"


def _mails(tag: str) -> tuple[dict[str, str], dict[str, bytes]]:
    mids = {k: f"{k}-{tag}@e2e.contoh" for k in ("fax", "photo", "form", "corrupt")}
    raws = {"fax": sm.fax_mail(mids["fax"], rcpt=RCPT), "photo": sm.photo_mail(mids["photo"], RCPT),
            "form": sm.form_mail(mids["form"], RCPT), "corrupt": sm.corrupt_fax_mail(mids["corrupt"], RCPT)}  # fmt: skip
    return mids, raws


def test_faxes_and_scans_through_the_smtp_listener(rig: dict[str, Any]) -> None:
    mids, raws = _mails("smtp")
    senders = {"fax": sm.FAX_SERVICE, "corrupt": sm.FAX_SERVICE, "photo": "rina.marlina@warga-contoh.id",
               "form": "tu@kel-rawasari.contoh.id"}  # fmt: skip
    for kind, raw in raws.items():
        send(rig["gw"], raw, mail_from=senders[kind])
    _check(rig, "smtp", mids)


def test_faxes_and_scans_through_dovecot(rig: dict[str, Any]) -> None:
    dovecot: ProctitleDovecot = rig["dovecot"]
    mids, raws = _mails("imap")
    for raw in raws.values():
        dovecot.deliver(raw, envelope_from="postmaster@mta.contoh")
    _check(rig, "imap", mids)
    wait_until(lambda: dovecot.count("Processed") == 4, 60, what="the four mails moved to Processed")
    log = intake_log(rig["gw"])
    assert sm.FAX_DIGITS not in log and "Hendra Wijaya" not in log  # contacts masked in the intake log
