"""Privacy canaries: an [ANONIM] mail's sender and a [RAHASIA] mail's body appear nowhere they must not."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Callable

import pytest

from tests.adversarial.decode import leaks
from tests.e2e.email.conftest import log_has, mail, send
from tests.e2e_helpers import ThreadedSmtpSink, assert_absent, intake_log, journal_dump, metrics_text, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer

ANON_ADDR = "sutrisno.kanari.5521@warga-contoh.id"
ANON_NAME = "Sutrisno Kanari"
ANON_NIK = "3273012501900007"
ANON_PHONE = "0812-7788-9900"
SECRET = "RAHASIA-CANARY-9182"
SECRET_PHRASE = "mobil dinas kepala desa Sukamakmur"
SECRET_ADDR = "wulan.kanari@warga-contoh.id"


def _identity_forms() -> list[str]:
    local = ANON_ADDR.split("@")[0]
    return [ANON_ADDR, local, ANON_NAME, "Sutrisno", ANON_NIK, ANON_PHONE, "081277889900", "6281277889900"]


def test_anonymous_sender_and_confidential_body_never_leak(
    email_gateway: Callable[..., GatewayProcess], sink: ThreadedSmtpSink
) -> None:
    gw = email_gateway()
    anon = mail(
        "anon-1@warga-contoh.id", f"{ANON_NAME} <{ANON_ADDR}>", "[ANONIM] Pungli di loket kelurahan",
        f"Petugas loket minta uang Rp 100.000 untuk surat pindah. NIK saya {ANON_NIK}, hp {ANON_PHONE}.",
    )  # fmt: skip
    secret = mail(
        "rahasia-1@warga-contoh.id", f"Wulan <{SECRET_ADDR}>", "[RAHASIA] Penyalahgunaan dana desa",
        f"Kode {SECRET}: dana perbaikan jembatan dipakai membeli {SECRET_PHRASE}.",
    )  # fmt: skip
    send(gw, anon, ANON_ADDR)
    send(gw, secret, SECRET_ADDR)
    # a refusal in the same session must not echo the anonymous sender either
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
        s.ehlo()
        code, mail_reply = s.mail(ANON_ADDR)
        assert code == 250
        code, rcpt_reply = s.rcpt("someone@elsewhere.example")
        assert code == 550
    anon_rec = wait_record(gw, "anon-1@warga-contoh.id")
    secret_rec = wait_record(gw, "rahasia-1@warga-contoh.id")

    # the forwarded records: no reporter for the anonymous one, no public body for the confidential one
    assert anon_rec["privacy"]["anonymous"] is True and anon_rec["privacy"]["source"] == "keyword"
    assert anon_rec.get("reporter") is None and anon_rec["reporter_ref"]
    assert leaks(anon_rec, _identity_forms()) == []  # decoded too (base64, hex, percent) and hashed
    assert anon_rec["subject"] == "Pungli di loket kelurahan"
    assert secret_rec["privacy"]["confidential"] is True
    assert secret_rec["body_public"] is None
    assert SECRET in secret_rec["body"]  # the store gets the content; only public views must not
    assert secret_rec["reporter"]["email"] == SECRET_ADDR

    # both citizens get their receipt (the anonymous one through the sealed vault), without the content
    anon_receipt = sink.wait_to(ANON_ADDR)[0]
    secret_receipt = sink.wait_to(SECRET_ADDR)[0]
    for tid in (anon_rec["tracking_id"], secret_rec["tracking_id"]):
        wait_until(lambda tid=tid: log_has(gw, tid, "forwarded"), what="forwarded in the intake log")
    log_view = intake_log(gw)
    assert "anonim" in log_view and "rahasia" in log_view  # the flags are shown, the contact masked
    metrics = metrics_text(gw)
    shown_anon = gw.cli("show", anon_rec["tracking_id"]).stdout + gw.cli("show", anon_rec["tracking_id"], "--json").stdout
    shown_secret = gw.cli("show", secret_rec["tracking_id"]).stdout
    assert anon_rec["tracking_id"] in shown_anon and secret_rec["tracking_id"] in shown_secret
    gw.stop()  # flush and close the log files before reading them
    logs = gw.log_text()
    assert "smtp listening" in logs  # we are reading the right logs

    assert_absent(_identity_forms(), {
        "process logs": logs,
        "intake log": log_view,
        "metrics": metrics,
        "SMTP replies": (mail_reply + rcpt_reply).decode(errors="replace"),
        "forwarded record": json.dumps(anon_rec, ensure_ascii=False),
        "show": shown_anon,
        "journal (sqlite iterdump)": journal_dump(gw.data_dir),
    })  # fmt: skip
    assert_absent([SECRET, SECRET_PHRASE, "dana perbaikan jembatan"], {
        "process logs": logs,
        "intake log": log_view,
        "metrics": metrics,
        "receipt": secret_receipt.raw.decode(errors="replace"),
    })  # fmt: skip
    # (the journal keeps the confidential record to forward it: only identity is sealed at rest)
    assert "Pungli" not in anon_receipt.raw.decode(errors="replace")


def test_raw_mail_of_anonymous_sender_not_in_clear_at_rest(email_gateway: Callable[..., GatewayProcess]) -> None:
    gw = email_gateway()
    send(gw, mail("anon-2@warga-contoh.id", f"{ANON_NAME} <{ANON_ADDR}>", "[ANONIM] Pungli parkir",
                  "Juru parkir liar minta Rp 20.000 di depan pasar."), ANON_ADDR)  # fmt: skip
    assert wait_record(gw, "anon-2@warga-contoh.id").get("reporter") is None
    gw.stop()
    at_rest = b"".join(p.read_bytes() for p in (gw.data_dir / "blobs").rglob("*") if p.is_file())
    assert ANON_ADDR.encode() not in at_rest and ANON_NAME.encode() not in at_rest


def test_anonymous_mails_closing_signature_is_not_forwarded(email_gateway: Callable[..., GatewayProcess]) -> None:
    """'Salam, Sutrisno K., Jl. Flamboyan No. 9' under an [ANONIM] mail: the store gets neither, the place stays."""
    gw = email_gateway()
    body = ("Lampu PJU di depan SDN 3 Jl. Cempaka mati sebulan, anak-anak pulang les lewat jalan gelap.\r\n\r\n"
            f"Salam,\r\nSutrisno K.\r\nJl. Flamboyan No. 9 RT 04\r\n{ANON_PHONE}\r\n\r\n"
            "Pada Kam, 13 Mar 2025 pukul 09.00 LAPOR <lapor@example.go.id> menulis:\r\n> Terima kasih\r\n")
    send(gw, mail("anon-sig-1@warga-contoh.id", f"{ANON_NAME} <{ANON_ADDR}>", "[ANONIM] Lampu PJU mati", body),
         ANON_ADDR)
    record = wait_record(gw, "anon-sig-1@warga-contoh.id")
    assert record["privacy"]["anonymous"] is True
    assert leaks(record, [*_identity_forms(), "Flamboyan", "Jl. Flamboyan No. 9"]) == []
    assert "di depan SDN 3 Jl. Cempaka" in record["body"] and "[NAMA]" not in record["body"]
