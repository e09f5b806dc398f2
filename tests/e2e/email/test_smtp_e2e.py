"""Real SMTP sessions (smtplib) against ``lapor-gateway run``'s listener: 250 means durable, 550/552 refuse."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Callable

import pytest

from tests.e2e.email.conftest import DOMAIN, RCPT, fixture_bytes, mail, send, start_gateway
from tests.e2e_helpers import metrics_text, records_by_external_id, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer


def test_accepted_mail_becomes_one_complaint(email_gateway: Callable[..., GatewayProcess]) -> None:
    gw = email_gateway()
    latin1 = fixture_bytes("complaint__latin1_rfc2047")
    send(gw, latin1, "hendra.canary@yahoo.co.id")
    send(gw, latin1, "hendra.canary@yahoo.co.id")  # the MTA delivers it again: still one complaint
    send(gw, fixture_bytes("complaint__pdf_attachment"), "rt05.gangmawar.canary@gmail.com")

    rec = wait_record(gw, "1741263723.48213.ymail@web12.mail.sg3.yahoo.com")
    assert rec["channel"] == "email.smtp" and rec["account"] == RCPT
    assert rec["subject"].startswith("Lampu PJU mati di depan Kafé Nusantara")  # RFC 2047, ISO-8859-1
    assert "lampu PJU di depan Kafé Nusantara" in rec["body"]
    assert rec["reporter"]["email"] == "hendra.canary@yahoo.co.id" and rec["reporter"]["name"] == "Hendra Gunawan"
    assert rec["privacy"] == {"anonymous": False, "confidential": False, "source": None}

    pdf = wait_record(gw, "CAJx8Lm3pQrTf2vH9nB6yKd0wS@mail.gmail.com")
    (att,) = pdf["attachments"]
    assert att["media_type"] == "application/pdf" and len(att["sha256"]) == 64 and att["size"] > 0

    # a marker sent last: once it is stored, the redelivery has long been processed
    send(gw, mail("penanda-akhir@contoh.id", "warga@contoh.id", "Penanda", "Got mampet di Jl. Kenanga."))
    wait_record(gw, "penanda-akhir@contoh.id")
    assert len(records_by_external_id(gw)["1741263723.48213.ymail@web12.mail.sg3.yahoo.com"]) == 1
    assert len(gw.central_records()) == 3
    assert 'lapor_inbound{state="' in metrics_text(gw)


def test_relay_to_foreign_domain_refused_with_550(email_gateway: Callable[..., GatewayProcess]) -> None:
    gw = email_gateway()
    raw = mail("relay-1@contoh.id", "spammer@contoh.id", "Promo", "Beli sekarang")
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
        s.ehlo("spam.example")
        s.mail("spammer@contoh.id")
        code, reply = s.rcpt("korban@gmail.com")
        assert code == 550, reply
        assert b"korban@gmail.com" not in reply  # the refusal does not echo addresses
        s.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            s.sendmail("spammer@contoh.id", [f"someone@sub.{DOMAIN}", "x@gmail.com"], raw)
        assert {c for c, _ in e.value.recipients.values()} == {550}
        # a session with one good recipient among foreign ones goes only to us
        refused = s.sendmail(
            "warga@contoh.id",
            ["x@gmail.com", RCPT],
            mail("mixed-1@contoh.id", "warga@contoh.id", "Aduan", "Trotoar rusak di Jl. Mawar"),
        )
        assert refused["x@gmail.com"][0] == 550
    rec = wait_record(gw, "mixed-1@contoh.id")
    assert rec["account"] == RCPT
    assert "relay-1@contoh.id" not in records_by_external_id(gw)


def test_oversize_refused_with_552(email_gateway: Callable[..., GatewayProcess]) -> None:
    gw = email_gateway({"LAPOR_SMTP__MAX_MESSAGE_BYTES": "4096"})
    big = mail("besar-1@contoh.id", "warga@contoh.id", "Lampiran besar", "\r\n".join(["x" * 76] * 260))
    # a client that declares SIZE is refused at MAIL FROM ...
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        send(gw, big)
    assert e.value.smtp_code == 552
    # ... one that does not, after DATA
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
        s.ehlo()
        assert s.mail("warga@contoh.id")[0] == 250
        assert s.rcpt(RCPT)[0] == 250
        code, _ = s.data(big.replace(b"besar-1", b"besar-2"))
        assert code == 552
        # the session goes on: a mail within the limit is taken
        assert not s.sendmail(
            "warga@contoh.id",
            [RCPT],
            mail("kecil-1@contoh.id", "warga@contoh.id", "Kecil", "Lampu jalan mati di gang 4"),
        )
    wait_record(gw, "kecil-1@contoh.id")
    stored = records_by_external_id(gw)
    assert "besar-1@contoh.id" not in stored and "besar-2@contoh.id" not in stored


def test_every_250_survives_kill_9(email_gateway: Callable[..., GatewayProcess]) -> None:
    """N mails in one session, SIGKILL right after the last 250, restart: all N in the store exactly once."""
    gw = email_gateway({"LAPOR_LOG__LEVEL": "INFO"})
    run = uuid.uuid4().hex[:8]
    acked: list[str] = []
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
        for i in range(25):
            mid = f"kill9-{run}-{i}@contoh.id"
            s.sendmail(
                f"w{i}@contoh.id",
                [RCPT],
                mail(mid, f"w{i}@contoh.id", f"Aduan {i}", f"Saluran air tersumbat di RT {i:02d} RW 03."),
            )
            acked.append(mid)  # sendmail returned: the gateway answered 250
        gw.kill9()  # no clean shutdown, no flush: only what was durable before each 250 survives
    start_gateway(gw)

    def all_stored() -> dict[str, list[dict[str, object]]] | None:
        got = records_by_external_id(gw)
        return got if all(m in got for m in acked) else None

    wait_until(all_stored, timeout=60, interval=0.3, what="every acknowledged mail in the store")
    send(gw, mail(f"after-{run}@contoh.id", "warga@contoh.id", "Penanda", "Penanda setelah restart."))
    wait_record(gw, f"after-{run}@contoh.id")
    got = records_by_external_id(gw)
    assert {m: len(got[m]) for m in acked} == dict.fromkeys(acked, 1)
    assert len(gw.central_records()) == len(acked) + 1
    assert len({r[0]["tracking_id"] for r in got.values()}) == len(acked) + 1
