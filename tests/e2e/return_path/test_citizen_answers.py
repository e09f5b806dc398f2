"""Citizens answer back (issue 15) through the three real processes: ``BALAS <id> <text>`` by SMS through the
real Kannel, and a reply in the mail thread through the real SMTP listener, end as a citizen response in
the store's ``GET /v1/complaints/<id>`` (``responses``, ``by: citizen``); a stranger's ``BALAS`` does not;
with the store down, the answer is posted once it is back."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from channels.email.thread_ids import tracking_from_message_ids
from tests.e2e.email.conftest import mail, send
from tests.e2e.return_path.conftest import ReturnRig, citizen_responses
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

pytestmark = [pytest.mark.peer]

OWNER = "6281366600001"
STRANGER = "6281366600002"
DOWN = "6281366600003"
ANON = "6281366699977"  # the canary: an anonymous reporter's number


def test_balas_from_the_reporters_number_reaches_the_store_and_a_strangers_does_not(return_rig: ReturnRig) -> None:
    rig = return_rig
    tid = rig.complaint(OWNER, "Lampu jalan di Jl. Kenanga mati sejak seminggu, gelap sekali malam hari")

    ack = rig.next_sms(OWNER, f"BALAS {tid} lampunya masih mati, tiangnya juga miring")
    assert f"Tanggapan Anda untuk {tid} sudah kami terima" in ack
    got = wait_until(lambda: citizen_responses(rig.gateway, tid), timeout=30, what="the citizen response in the store")
    assert [(r["kind"], r["text"]) for r in got] == [("citizen_response", "lampunya masih mati, tiangnya juga miring")]

    # someone else's BALAS: answered like an unknown ID (a receipt of its own), held, never posted
    reply = rig.next_sms(STRANGER, f"BALAS {tid} tolong tutup saja laporan ini, sudah beres")
    assert tid not in reply and "Tanggapan" not in reply
    (held,) = tracking_ids_in(reply)
    shown = json.loads(rig.gateway.cli("show", held, "--json").stdout)
    assert shown["state"] == "review"
    rig.next_sms(OWNER, f"CEK {tid}")  # a later message of the same path: the stranger's had its turn
    assert [r["text"] for r in citizen_responses(rig.gateway, tid)] == ["lampunya masih mati, tiangnya juga miring"]
    assert len(rig.gateway.central_get(f"/v1/complaints/{tid}")["responses"]) == 1

    out = json.loads(rig.gateway.cli("show", tid, "--json").stdout)
    (mine,) = [e for e in out["conversation"] if e["by"] == "citizen"]
    assert mine["state"] == "forwarded" and mine["text"] == "lampunya masih mati, tiangnya juga miring"


def test_with_the_store_down_the_answer_waits_and_is_posted_once(return_rig: ReturnRig) -> None:
    rig = return_rig
    tid = rig.complaint(DOWN, "Got mampet di gang Melati RT 03, air meluap ke jalan tiap hujan")
    rig.stop_central()
    ack = rig.next_sms(DOWN, f"BALAS {tid} sudah tiga hari air belum surut")
    assert f"Tanggapan Anda untuk {tid}" in ack  # the citizen is answered while the store is away

    def failed_once() -> bool:
        out = json.loads(rig.gateway.cli("show", tid, "--json").stdout)
        mine = [e for e in out["conversation"] if e["by"] == "citizen"]
        return bool(mine) and mine[0]["state"] == "pending" and (mine[0]["attempts"] or 0) >= 1

    wait_until(failed_once, timeout=30, what="a failed post of the citizen response")
    rig.start_central()
    got = wait_until(lambda: citizen_responses(rig.gateway, tid), timeout=60, what="the response once the store is up")
    assert [r["text"] for r in got] == ["sudah tiga hari air belum surut"]
    rig.next_sms(DOWN, f"CEK {tid}")
    assert len(citizen_responses(rig.gateway, tid)) == 1


def test_an_anonymous_reporters_answer_carries_nothing_identifying(return_rig: ReturnRig) -> None:
    rig = return_rig
    tid = rig.complaint(ANON, "ANONIM pungli di loket kantor kecamatan, diminta uang 100rb untuk KTP")
    text = f"BALAS {tid} petugasnya minta lagi hari ini. Nama saya Sutarno Kanari, hubungi 0{ANON[2:]}"
    ack = rig.next_sms(ANON, text)
    assert f"Tanggapan Anda untuk {tid}" in ack
    (got,) = wait_until(lambda: citizen_responses(rig.gateway, tid), timeout=30, what="the response in the store")
    assert got["text"].startswith("petugasnya minta lagi hari ini.") and "[NO. HP]" in got["text"]
    show = rig.gateway.cli("show", tid, "--json")
    # the store learnt nothing about the anonymous reporter; nothing of theirs in a log, event or metric
    assert_absent([ANON, ANON[2:], "Sutarno", "Kanari"], {
        "store": json.dumps(rig.gateway.central_get(f"/v1/complaints/{tid}")),
        "log": rig.gateway.log_text(), "intake log": intake_log(rig.gateway), "metrics": metrics_text(rig.gateway),
        "show": show.stdout + show.stderr, "journal at rest": journal_dump(rig.gateway.data_dir),
    })


CITIZEN = "rina.canary@contoh.id"


def test_a_reply_in_the_mail_thread_is_a_citizen_response(
    email_gateway: Callable[..., GatewayProcess], sink: ThreadedSmtpSink
) -> None:
    gw = email_gateway()
    send(gw, mail("aduan-1@contoh.id", f"Rina <{CITIZEN}>", "Jembatan retak",
                  "Jembatan di Desa Sukamaju retak di tengah, truk masih lewat setiap hari."), CITIZEN)
    tid = wait_record(gw, "aduan-1@contoh.id")["tracking_id"]
    receipt = sink.wait_to(CITIZEN)[0].message
    assert tracking_from_message_ids(receipt["Message-ID"]) == tid

    # the citizen answers our receipt from the same address (other case), quoting it
    reply = mail(
        "balas-1@contoh.id", f"Rina <{CITIZEN.upper()}>", f"Re: {receipt['Subject']}",
        "Retaknya makin lebar sejak kemarin.\r\n\r\n> Terima kasih, aduan Anda telah kami terima\r\n",
        extra=f"In-Reply-To: {receipt['Message-ID']}\r\nReferences: {receipt['References']} {receipt['Message-ID']}\r\n",
    )
    send(gw, reply, CITIZEN)
    got = wait_until(lambda: citizen_responses(gw, tid), timeout=30, what="the mail reply in the store")
    assert [r["text"] for r in got] == ["Retaknya makin lebar sejak kemarin."]
    ack = sink.wait_to(CITIZEN, 2)[1].message
    assert ack["In-Reply-To"] == "<balas-1@contoh.id>"
    assert f"Tanggapan Anda untuk {tid} sudah kami terima" in ack.get_body(("plain",)).get_content()
    assert len(gw.central_records()) == 1  # not a new complaint
