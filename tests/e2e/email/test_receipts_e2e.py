"""Email receipts from ``lapor-gateway run`` into a local SMTP sink: threading, loop protection, follow-ups."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from channels.email.thread_ids import tracking_from_message_ids, tracking_from_subject
from tests.e2e.email.conftest import FROM, fixture_bytes, log_has, mail, send
from tests.e2e_helpers import ThreadedSmtpSink, records_by_external_id, tracking_ids_in, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer

CITIZEN = "hendra.canary@yahoo.co.id"
CITIZEN_MID = "<1741263723.48213.ymail@web12.mail.sg3.yahoo.com>"


def test_receipt_threads_and_follow_up(email_gateway: Callable[..., GatewayProcess], sink: ThreadedSmtpSink) -> None:
    gw = email_gateway()
    send(gw, fixture_bytes("complaint__latin1_rfc2047"), CITIZEN)
    rec = wait_record(gw, CITIZEN_MID.strip("<>"))
    tid = rec["tracking_id"]

    (receipt,) = sink.wait_to(CITIZEN)
    m = receipt.message
    assert receipt.mail_from == FROM  # bounces come back to our mailbox
    assert m["In-Reply-To"] == CITIZEN_MID
    assert m["References"].split()[-1] == CITIZEN_MID
    assert m["Auto-Submitted"] == "auto-replied"
    assert tracking_from_message_ids(m["Message-ID"]) == tid  # <lapor.{tid}.…@…>: replies find the complaint
    assert tracking_from_subject(m["Subject"]) == tid
    assert tid in m.get_body(("plain",)).get_content() and tid in m.get_body(("html",)).get_content()
    wait_until(lambda: log_has(gw, tid, "receipt_sent"), what="receipt_sent in the intake log")

    # the citizen answers the receipt (their client quotes it): a citizen response on the open complaint
    reply = mail(
        "balasan-1@yahoo.co.id", f"Hendra Gunawan <{CITIZEN}>", f"Re: {m['Subject']}",
        "Lampunya masih mati sampai hari ini, mohon segera.\r\n\r\n"
        f"Pada Kam, 13 Mar 2025 Layanan Pengaduan <{FROM}> menulis:\r\n> Terima kasih, aduan Anda telah kami terima\r\n",
        extra=f"In-Reply-To: {m['Message-ID']}\r\nReferences: {m['References']} {m['Message-ID']}\r\n",
    )  # fmt: skip
    send(gw, reply, CITIZEN)

    def responses() -> list:
        return gw.central_get(f"/v1/complaints/{tid}")["responses"]

    got = wait_until(responses, what="the reply as a citizen response in the store")
    assert [r["text"] for r in got] == ["Lampunya masih mati sampai hari ini, mohon segera."]  # the quote is stripped
    assert "balasan-1@yahoo.co.id" not in records_by_external_id(gw)  # not a new complaint
    second = sink.wait_to(CITIZEN, 2)[1].message
    assert second["In-Reply-To"] == "<balasan-1@yahoo.co.id>"
    assert f"Tanggapan Anda untuk {tid}" in second.get_body(("plain",)).get_content()


def test_no_receipt_for_auto_reply_bounce_or_list(
    email_gateway: Callable[..., GatewayProcess], sink: ThreadedSmtpSink
) -> None:
    gw = email_gateway()
    send(gw, fixture_bytes("complaint__latin1_rfc2047"), CITIZEN)
    (first,) = sink.wait_to(CITIZEN)
    tid = tracking_from_message_ids(first.message["Message-ID"])
    assert tid
    # the citizen's out-of-office answers our receipt; a receipt to a dead address bounces (null sender)
    ooo = fixture_bytes("autoreply__out_of_office").replace(b"7301442692", tid.encode())
    send(gw, ooo, "dewi.lestari.canary@perusahaan-contoh.co.id")
    send(gw, fixture_bytes("bounce__dsn_receipt"), "")
    send(gw, fixture_bytes("list__community_post"), "forum-warga+bncBDcanary@googlegroups.com")
    send(gw, mail("penanda-2@contoh.id", "warga.penanda@contoh.id", "Aduan", "Jembatan retak di Jl. Anggrek."),
         "warga.penanda@contoh.id")  # fmt: skip
    sink.wait_to("warga.penanda@contoh.id")

    wait_until(lambda: log_has(gw, "receipt_auto_reply"), what="the auto-reply recorded")
    wait_until(lambda: log_has(gw, "receipt_bounce"), what="the bounce recorded")
    wait_until(lambda: log_has(gw, "receipt_suppressed", "mailing_list"), what="the list post's receipt suppressed")
    stored = records_by_external_id(gw)
    # the list post is a complaint (a citizen may write via a community list), without a receipt
    assert "CAFk2Lp0dW8xN3qRtY6uJ1vZ@mail.gmail.com" in stored
    # the out-of-office and the bounce are not complaints
    assert "f2a9c1d0-7b3e-4c8a-9e1f-ooo@perusahaan-contoh.co.id" not in stored
    assert "20250310010102.5A1B2C3D4E@mx1.pemkot-contoh.go.id" not in stored
    assert len(stored) == 3
    recipients = sorted(r for c in sink.messages for r in c.rcpt_tos)
    assert recipients == [CITIZEN, "warga.penanda@contoh.id"]


def test_status_by_reply_and_unknown_follow_up(
    email_gateway: Callable[..., GatewayProcess], sink: ThreadedSmtpSink
) -> None:
    gw = email_gateway()
    send(gw, fixture_bytes("complaint__latin1_rfc2047"), CITIZEN)
    tid = wait_record(gw, CITIZEN_MID.strip("<>"))["tracking_id"]
    receipt = sink.wait_to(CITIZEN)[0].message

    # "Untuk cek status, balas dengan CEK <id>": the answer is a status mail, not a new complaint
    cek = mail("cek-1@yahoo.co.id", CITIZEN, f"Re: {receipt['Subject']}", f"CEK {tid}",
               extra=f"In-Reply-To: {receipt['Message-ID']}\r\n")  # fmt: skip
    send(gw, cek, CITIZEN)
    status = sink.wait_to(CITIZEN, 2)[1].message
    assert status["In-Reply-To"] == "<cek-1@yahoo.co.id>" and status["Auto-Submitted"] == "auto-replied"
    assert f"Status tiket {tid}:" in status.get_body(("plain",)).get_content()

    # a reply naming a tracking ID we never issued: a new complaint held for review (as a stranger's reply
    # naming someone else's ticket is, so that the two look alike), not a "merged" follow-up
    send(gw, fixture_bytes("reply__gmail_quote"), "sri.wahyuni.canary@gmail.com")
    text = sink.wait_to("sri.wahyuni.canary@gmail.com")[0].message.get_body(("plain",)).get_content()
    (new,) = [t for t in tracking_ids_in(text) if t != "4829157367"]
    assert "4829157367" not in text
    shown = json.loads(gw.cli("show", new, "--json").stdout)
    assert shown["state"] == "review" and "follow_up_of_unknown" in json.dumps(shown)
    assert "cek-1@yahoo.co.id" not in records_by_external_id(gw)
    assert len(gw.central_records()) == 1


def test_defective_mime_is_answered_and_a_broken_sender_fails_cleanly(
    email_gateway: Callable[..., GatewayProcess], sink: ThreadedSmtpSink
) -> None:
    gw = email_gateway()
    # a multipart whose closing boundary never comes (as some fax gateways send): text read, flagged, answered
    defective = (
        b"From: Faks Kantor <faks.canary@contoh.id>\r\nTo: pengaduan@lapor.localhost\r\nSubject: Aduan via faks\r\n"
        b"Message-ID: <faks-1@contoh.id>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=batas\r\n\r\n"
        b"--batas\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPintu air di Kali Cideng rusak, banjir tiap hujan.\r\n"
        b"--batas\r\nContent-Type: application/pdf; name=faks.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    )  # fmt: skip
    send(gw, defective, "faks.canary@contoh.id")
    rec = wait_record(gw, "faks-1@contoh.id")
    assert "Pintu air di Kali Cideng rusak" in rec["body"]
    assert any(r.startswith("malformed MIME") for r in rec["needs_review"])
    (receipt,) = sink.wait_to("faks.canary@contoh.id")
    assert tracking_from_message_ids(receipt.message["Message-ID"]) == rec["tracking_id"]

    # a From header SMTP cannot answer: the complaint is taken and flagged, the receipt goes to the envelope
    # sender (never to anything read out of a broken From), nothing leaks
    broken = mail("rusak-1@contoh.id", '"Warga Kanari Rusak"@contoh.id>', "Aduan", "Got mampet di Jl. Salak.")
    send(gw, broken, "bounces@contoh.id")
    rec = wait_record(gw, "rusak-1@contoh.id")
    assert "suspicious_from" in rec["needs_review"]
    (receipt,) = sink.wait_to("bounces@contoh.id")
    assert tracking_from_message_ids(receipt.message["Message-ID"]) == rec["tracking_id"]
    gw.stop()
    logs = gw.log_text()
    assert "Traceback" not in logs and "kanari rusak" not in logs.lower()
