"""``lapor-gateway run`` polling a real Dovecot mailbox: LDA delivery, IDLE, Processed, restarts on both sides."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.e2e.email.conftest import ProctitleDovecot, fixture_bytes, mail, start_gateway
from tests.e2e_helpers import assert_absent, intake_log, metrics_text, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = [pytest.mark.peer, pytest.mark.slow]

ANON_MID = "1873264.998877.1741784709@mail.yahoo.com"  # [ANONIM], photo attached
SECRET_MID = "000001db93c2$4a5b6c70$df0e4550$@hotmail.com"  # body starts with RAHASIA


def inbound_total(gw: GatewayProcess) -> int:
    """Messages in the journal, whatever their state (the lapor_inbound gauge)."""
    return sum(int(n) for n in re.findall(r'^lapor_inbound\{state="[^"]*"\} (\d+)$', metrics_text(gw), re.M))


def test_mailbox_idle_processed_and_restarts(
    dovecot: ProctitleDovecot, email_gateway: Callable[..., GatewayProcess]
) -> None:
    dovecot.deliver(fixture_bytes("complaint__anonim_photo"))  # waiting before the gateway starts
    # idle_seconds is long: a mail delivered during IDLE arrives in time only if IDLE works
    gw = email_gateway({**dovecot.settings_env(), "LAPOR_IMAP__IDLE_SECONDS": "600", "LAPOR_IMAP__POLL_SECONDS": "600"})
    anon = wait_record(gw, ANON_MID)
    assert anon["channel"] == "email.imap" and anon["account"] == f"{dovecot.user}@127.0.0.1"
    assert anon["privacy"]["anonymous"] is True and anon.get("reporter") is None
    assert len(anon["attachments"]) == 1 and anon["attachments"][0]["media_type"] == "image/jpeg"

    wait_until(lambda: dovecot.idle_sessions() == 1, what="the gateway's IMAP session in IDLE")
    dovecot.deliver(fixture_bytes("complaint__rahasia_body"))  # LDA, as an MTA: Dovecot pushes EXISTS
    secret = wait_record(gw, SECRET_MID)
    assert secret["privacy"]["confidential"] is True and secret["body_public"] is None

    wait_until(lambda: dovecot.count("Processed") == 2 and dovecot.count("INBOX") == 0,
               what="both mails moved to Processed")  # fmt: skip
    assert set(dovecot.message_ids("Processed")) == {ANON_MID, SECRET_MID}
    assert inbound_total(gw) == 2

    # gateway restart: reconnects, drains (nothing new) and idles again; nothing is ingested twice
    gw.stop()
    wait_until(lambda: dovecot.idle_sessions() == 0, what="the old IMAP session gone")
    start_gateway(gw)
    wait_until(lambda: dovecot.idle_sessions() == 1, what="the restarted gateway in IDLE")
    assert inbound_total(gw) == 2
    assert len(gw.central_records()) == 2

    # Dovecot restarts under the running gateway: it reconnects and a new mail still arrives
    dovecot.restart()
    wait_until(
        lambda: dovecot.idle_sessions() == 1, timeout=30, what="the gateway back in IDLE after Dovecot's restart"
    )
    dovecot.deliver(mail("setelah-restart@warga-contoh.id", "Joko <joko@warga-contoh.id>", "Sampah belum diangkut",
                         "Sampah di TPS Jl. Flamboyan belum diangkut seminggu."))  # fmt: skip
    after = wait_record(gw, "setelah-restart@warga-contoh.id")
    assert after["reporter"]["email"] == "joko@warga-contoh.id"
    wait_until(lambda: dovecot.count("Processed") == 3 and dovecot.count("INBOX") == 0, what="the third mail processed")
    assert inbound_total(gw) == 3 and len(gw.central_records()) == 3
    log_view = intake_log(gw)
    assert sum("received" in line.split() for line in log_view.splitlines()) == 3, log_view

    gw.stop()
    logs = gw.log_text()
    assert "reconnecting" in logs  # the outage was seen and survived
    assert_absent(["rahmat.hidayat.canary", "Rahmat Hidayat", "RAHASIA-CANARY-7731", "mobil pribadi kepala desa"],
                  {"process logs": logs, "intake log": log_view})  # fmt: skip


def test_tls_expected_on_a_plain_mailbox_is_one_line_at_start_up(
    dovecot: ProctitleDovecot, email_gateway: Callable[..., GatewayProcess]
) -> None:
    want = (
        f"imap: the server at 127.0.0.1:{dovecot.port} speaks plain IMAP, not implicit TLS:"
        " set imap.ssl = false (STARTTLS is used when offered)"
    )
    gw = email_gateway({**dovecot.settings_env(), "LAPOR_IMAP__SSL": "true"})
    wait_until(lambda: want in gw.log_text(), what="the TLS mismatch explained")
    gw.stop()
    logs = gw.log_text()
    complaints = [line for line in logs.splitlines() if " ERROR " in line or " WARNING " in line]
    assert [line for line in complaints if "imap" in line.lower() and want not in line] == [], logs
    assert "Traceback" not in logs and "SSLError" not in logs
