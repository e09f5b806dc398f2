"""Citizens hear back by SMS (issue 15): an answer recorded in the central store reaches the reporter's
phone through the real Kannel once, with the tracking ID, for a named and an anonymous reporter; a kill -9
of the gateway between the store recording updates and their delivery sends each one exactly once."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.e2e.return_path.conftest import SHORTCODE, ReturnRig
from tests.e2e_helpers import assert_absent, intake_log, journal_dump, metrics_text, tracking_ids_in
from tests.gateway_proc import wait_until

pytestmark = [pytest.mark.peer, pytest.mark.slow]

NAMED = "6281355500001"
ANON = "6281355599977"  # the canary: an anonymous reporter's number
KILLED = "6281355500003"
SECRET = "6281355500004"
SECRET_ANSWER = "kanari-jawaban-rahasia-5521"  # the canary: a confidential complaint's answer


def flush(rig: ReturnRig, marker: str) -> None:
    """A later message through the same path: anything sent twice would have surfaced before its receipt."""
    rig.kannel.inject(marker, SHORTCODE, "Got mampet di gang Melati RT 03, air meluap ke jalan")
    rig.kannel.wait_for_mt(lambda m: m.receiver == marker, timeout=30)


def test_the_answer_reaches_a_named_and_an_anonymous_reporter_once(return_rig: ReturnRig) -> None:
    rig = return_rig
    named = rig.complaint(NAMED, "Lampu jalan di Jl. Kenanga mati sejak seminggu, gelap sekali malam hari")
    anon = rig.complaint(ANON, "ANONIM pungli di loket kantor kecamatan, diminta uang 100rb untuk KTP")
    rig.respond(named, "Lampu sudah diganti petugas Dishub pada hari Senin. Terima kasih.")
    rig.respond(anon, "Petugas loket sudah diperiksa Inspektorat; pungutan dihentikan.")
    secret = rig.complaint(SECRET, "RAHASIA kepala desa memotong dana bantuan sosial warga RT 02")
    rig.respond(secret, f"Sudah diteruskan ke Inspektorat Kabupaten {SECRET_ANSWER}.")

    for number, tid, words in ((NAMED, named, "Lampu sudah diganti"), (ANON, anon, "Inspektorat"),
                               (SECRET, secret, SECRET_ANSWER)):
        mt = rig.kannel.wait_for_mt(lambda m, n=number, w=words: m.receiver == n and w in m.text, timeout=40)
        assert tid in tracking_ids_in(mt.text)
        assert mt.sender == rig.kannel.sender
    flush(rig, "6281355500099")
    assert sum("Lampu sudah diganti" in t for t in rig.to(NAMED)) == 1
    assert sum("Inspektorat" in t for t in rig.to(ANON)) == 1

    secret_show = rig.gateway.cli("show", secret)
    assert secret_show.returncode == 0 and SECRET_ANSWER not in secret_show.stdout
    show = rig.gateway.cli("show", anon)
    assert show.returncode == 0, show.stderr
    assert "Conversation (1)" in show.stdout and "Inspektorat" in show.stdout
    log = intake_log(rig.gateway)
    assert "update_queued" in log and "update_sent" in log
    # the store learnt nothing about the anonymous reporter; nothing of theirs in a log, event or metric
    assert_absent([ANON, ANON[2:], "0" + ANON[2:], SECRET_ANSWER], {
        "store's record": str(rig.gateway.central_get(f"/v1/complaints/{anon}")),
        "log": rig.gateway.log_text(), "intake log": log, "metrics": metrics_text(rig.gateway),
        "show": show.stdout + show.stderr + secret_show.stdout, "journal at rest": journal_dump(rig.gateway.data_dir),
    })


def test_kill9_between_the_store_and_delivery_sends_each_update_once(return_rig: ReturnRig) -> None:
    rig, gw = return_rig, return_rig.gateway
    tid = rig.complaint(KILLED, "Sampah tidak diangkut tiga minggu di pasar Cibeureum, bau menyengat")
    # the store records answers while the gateway is dead
    gw.kill9()
    for k in range(3):
        rig.respond(tid, f"Jawaban nomor {k} untuk Anda.")
    gw.start()
    # and while it is up: killed again at some point between their recording and their delivery
    for k in range(3, 6):
        rig.respond(tid, f"Jawaban nomor {k} untuk Anda.")
    time.sleep(0.3)  # not an assertion: somewhere in the middle of queueing and sending
    gw.kill9()
    gw.start()

    def all_arrived() -> Counter[int] | None:
        got = Counter(k for t in rig.to(KILLED) for k in range(6) if f"Jawaban nomor {k} " in t)
        return got if len(got) == 6 else None

    wait_until(all_arrived, timeout=90, interval=0.5, what="every answer at the fake SMSC")
    flush(rig, "6281355500098")
    got = all_arrived()
    assert got is not None and all(n == 1 for n in got.values()), f"sent other than once: {dict(got)}"
    assert all(tid in tracking_ids_in(t) for t in rig.to(KILLED) if "Jawaban nomor" in t)
