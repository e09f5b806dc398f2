"""Citizens hear back on the channel they used (issue 15), through ``lapor-gateway run`` with the embedded store:
email threaded to the citizen's mail (a real SMTP sink), Telegram to the chat, WhatsApp free text inside the
24-hour window and the template outside it, X only by DM (the local fakes), a letter as a printable answer
letter plus SMS and email to the contacts it gave. A named and an anonymous reporter each; the store never
learns the anonymous one's contact, and the answer text is never posted in public."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.email.thread_ids import tracking_from_message_ids
from tests.e2e.email.conftest import DOMAIN, mail, send
from tests.e2e.letters.conftest import LETTER, SendsmsRecorder, drop, letter_text_pdf, sendsms_recorder
from tests.e2e.return_path.conftest import store_post
from tests.e2e.social.conftest import SocialFakes, post_telegram, post_whatsapp, tg_update, wa_message, wa_payload
from tests.e2e_helpers import (
    ThreadedSmtpSink,
    assert_absent,
    intake_log,
    journal_dump,
    metrics_text,
    threaded_smtp_sink,
    tracking_ids_in,
    wait_record,
)
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers.dsn import dsn_for
from tests.peers.ports import port_open

pytestmark = [pytest.mark.peer, pytest.mark.slow]

TEMPLATE = "lapor_update"
CITIZEN_MAIL, ANON_MAIL = "hendra.jawab@contoh.id", "anon.canary.jawab@contoh.id"
TG_NAMED, TG_ANON = 5100001, 5100002
WA_NAMED, WA_ANON, WA_OLD, WA_LATER = "6281277700001", "6281277799977", "6281277700003", "6281277700004"
X_NAMED, X_ANON = "1701", "1702"


@pytest.fixture(scope="module")
def sink() -> Iterator[ThreadedSmtpSink]:
    with threaded_smtp_sink() as s:
        yield s


@pytest.fixture(scope="module")
def sendsms() -> Iterator[SendsmsRecorder]:
    with sendsms_recorder() as rec:
        yield rec


@pytest.fixture(scope="module")
def gw(social_fakes: SocialFakes, module_gateway: Callable[[dict[str, str]], GatewayProcess],
       sink: ThreadedSmtpSink, sendsms: SendsmsRecorder) -> GatewayProcess:
    for uid in (X_NAMED, X_ANON):
        social_fakes.x.call(social_fakes.fx.add_user, uid, f"warga_{uid}", f"Warga {uid}")
    gw = module_gateway({
        **social_fakes.telegram_env(), **social_fakes.x_env(poll_seconds=0.3), **social_fakes.whatsapp_env(),
        "LAPOR_WHATSAPP__UPDATE_TEMPLATE": TEMPLATE,
        "LAPOR_SMTP__DOMAINS": json.dumps([DOMAIN]), "LAPOR_MAIL__FROM": f"pengaduan@{DOMAIN}",
        "LAPOR_MAIL__RECEIPT_RATE_PER_HOUR": "50", **sink.env(),
        "LAPOR_SMS__KANNEL__SENDSMS_URL": sendsms.url, "LAPOR_LETTERS__POLL_SECONDS": "0.2",
        "LAPOR_CENTRAL__UPDATES_POLL_SECONDS": "0.5",
    })
    wait_until(lambda: port_open(gw.smtp_port), 15, interval=0.05, what="the gateway's SMTP listener")
    return gw


def respond(gw: GatewayProcess, tracking_id: str, text: str, status: str | None = "verifying") -> int:
    """An agency officer's answer, recorded in the store (``POST /v1/complaints/{id}/responses``)."""
    wait_until(lambda: gw.central_get(f"/v1/complaints/{tracking_id}"), 30, what=f"{tracking_id} in the store")
    body = {"kind": "response", "text": text} | ({"status": status} if status else {})
    code, answer = store_post(gw, f"/v1/complaints/{tracking_id}/responses", body)
    assert code == 201
    return int(answer["update_id"])


def store_view(gw: GatewayProcess, tracking_id: str) -> str:
    return json.dumps(gw.central_get(f"/v1/complaints/{tracking_id}"), ensure_ascii=False)


# --- email -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "subject"), [(CITIZEN_MAIL, "Lampu jalan mati"),
                                                  (ANON_MAIL, "[ANONIM] Pungli di kelurahan")], ids=["named", "anonymous"])
def test_email_answer_in_the_citizens_thread(gw: GatewayProcess, sink: ThreadedSmtpSink, address: str,
                                             subject: str) -> None:
    mid = f"jawab-{address.split('@')[0]}@contoh.id"
    send(gw, mail(mid, f"Warga <{address}>", subject, "Sudah dua minggu tidak ada perbaikan di Jl. Kenanga 4."),
         address)
    (receipt,) = sink.wait_to(address)
    tid = tracking_from_message_ids(receipt.message["Message-ID"])
    assert tid
    answer = f"Petugas sudah memperbaiki pada hari Senin ({address.split('.')[0]})."
    respond(gw, tid, answer)
    update = sink.wait_to(address, 2, timeout=40)[1].message
    assert update["In-Reply-To"] == f"<{mid}>"
    assert update["References"].split() == [f"<{mid}>", receipt.message["Message-ID"]]
    assert update["Message-ID"] != receipt.message["Message-ID"]
    assert tracking_from_message_ids(update["Message-ID"]) == tid
    assert update["Subject"].startswith("Re: ") and tid in update["Subject"]
    assert answer in update.get_body(("plain",)).get_content()
    time.sleep(1.5)  # not an assertion: three poll rounds for a second copy to show up
    assert len(sink.to(address)) == 2
    if address == ANON_MAIL:
        assert_absent([ANON_MAIL, "anon.canary"], {"store": store_view(gw, tid)})


def test_a_bounced_email_answer_is_shown_failed_on_that_update(gw: GatewayProcess, sink: ThreadedSmtpSink) -> None:
    """The citizen's mailbox is gone by the time the agency answers: the DSN comes back through the SMTP
    listener and ``show`` marks that update bounced, the receipt that did arrive stays as it was."""
    address = "hilang.jawab@contoh.id"
    send(gw, mail("jawab-hilang@contoh.id", f"Warga <{address}>", "Trotoar rusak", "Trotoar Jl. Melati 9 ambles."),
         address)
    (receipt,) = sink.wait_to(address)
    tid = tracking_from_message_ids(receipt.message["Message-ID"])
    assert tid
    respond(gw, tid, "Trotoar akan diperbaiki bulan ini.")
    update = sink.wait_to(address, 2, timeout=40)[1]
    send(gw, dsn_for(update.raw, f"pengaduan@{DOMAIN}", address), "")

    def bounced() -> dict[str, Any] | None:
        out = json.loads(gw.cli("show", tid, "--json").stdout)
        return out if any(e.get("delivery_status") == "bounce" for e in out["conversation"]) else None

    out = wait_until(bounced, 30, what="the bounce on the update")
    [entry] = [e for e in out["conversation"] if e["what"] == "update"]
    assert entry["delivery_status"] == "bounce"
    assert [r.get("delivery_status") for r in out["receipts"]] == [None]
    assert "bounce" in gw.cli("show", tid).stdout.split("Conversation", 1)[1]


# --- Telegram --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "text"), [(TG_NAMED, "Got mampet di Jl. Anggrek 7 sejak kemarin"),
                                            (TG_ANON, "/anonim pungli parkir di pasar Cibeureum tiap hari")],
                         ids=["named", "anonymous"])
def test_telegram_answer_in_the_chat(gw: GatewayProcess, social_fakes: SocialFakes, user: int, text: str) -> None:
    tg = social_fakes.tg
    update = tg_update(text, user_id=user, username=None)
    assert post_telegram(gw, update)[0] == 200

    def to_chat() -> list[dict[str, Any]]:
        return [m for m in list(tg.sent_messages) if str(m.get("chat_id")) == str(user)]

    (receipt,) = wait_until(to_chat, 30, what="the Telegram receipt")
    [tid] = tracking_ids_in(receipt["text"])
    answer = f"Saluran sudah dibersihkan petugas (regu {1 + (user == TG_ANON)})."
    respond(gw, tid, answer)
    got = wait_until(lambda: [m for m in to_chat() if answer in m["text"]], 40, what="the answer in the chat")
    assert len(got) == 1 and tid in got[0]["text"]
    reply_to = got[0]["reply_parameters"]
    reply_to = json.loads(reply_to) if isinstance(reply_to, str) else reply_to
    assert reply_to["message_id"] == update["message"]["message_id"]  # under the citizen's own message
    if user == TG_ANON:
        assert_absent([str(TG_ANON)], {"store": store_view(gw, tid)})


# --- WhatsApp --------------------------------------------------------------------------------------


def wa_sent_to(fakes: SocialFakes, wa_id: str) -> list[dict[str, Any]]:
    return [m for m in list(fakes.wa.sent_messages) if m.get("to") == wa_id]


def wa_complaint(gw: GatewayProcess, fakes: SocialFakes, wa_id: str, text: str, at: float | None = None) -> str:
    message = wa_message(wa_id, body=text)
    if at is not None:
        message["timestamp"] = str(int(at))
    status, _ = post_whatsapp(gw, wa_payload(fakes.wa.phone_number_id, messages=[message]), fakes.wa.app_secret)
    assert status == 200
    (receipt,) = wait_until(lambda: wa_sent_to(fakes, wa_id), 30, what="the WhatsApp receipt")
    [tid] = tracking_ids_in(receipt["text"]["body"])
    return tid


@pytest.mark.parametrize(("wa_id", "text"), [(WA_NAMED, "Sampah menumpuk di TPS Jl. Melati, bau sekali"),
                                             (WA_ANON, "ANONIM oknum petugas minta uang di loket KTP")],
                         ids=["named", "anonymous"])
def test_whatsapp_fresh_chat_gets_the_answer_as_text(gw: GatewayProcess, social_fakes: SocialFakes,
                                                     wa_id: str, text: str) -> None:
    tid = wa_complaint(gw, social_fakes, wa_id, text)
    answer = f"Sampah sudah diangkut hari ini (truk {1 + (wa_id == WA_ANON)})."
    respond(gw, tid, answer)
    got = wait_until(lambda: wa_sent_to(social_fakes, wa_id)[1:], 40, what="the answer on WhatsApp")
    assert [m["type"] for m in got] == ["text"]
    assert answer in got[0]["text"]["body"] and tid in got[0]["text"]["body"]
    if wa_id == WA_ANON:
        assert_absent([WA_ANON, WA_ANON[2:]], {"store": store_view(gw, tid)})


def test_whatsapp_after_24_hours_gets_the_template(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    """The citizen's message is 30 hours old (Meta's timestamp): only the template may go."""
    tid = wa_complaint(gw, social_fakes, WA_OLD, "Jembatan gantung di Desa Sukamaju putus talinya",
                       at=time.time() - 30 * 3600)
    answer = "Jembatan akan diperbaiki Dinas PU bulan depan."
    respond(gw, tid, answer)
    (got,) = wait_until(lambda: wa_sent_to(social_fakes, WA_OLD)[1:], 40, what="the template on WhatsApp")
    assert got["type"] == "template" and got["template"]["name"] == TEMPLATE
    assert got["template"]["language"] == {"code": "id"}
    params = [p["text"] for p in got["template"]["components"][0]["parameters"]]
    assert params == [tid, "sedang diverifikasi"]
    assert answer not in json.dumps(got)


def test_whatsapp_window_reopened_by_a_later_message_gets_text(gw: GatewayProcess,
                                                               social_fakes: SocialFakes) -> None:
    """The complaint is 30 hours old, but the citizen asked for its status an hour ago: free text again."""
    tid = wa_complaint(gw, social_fakes, WA_LATER, "Drainase di Jl. Cempaka tersumbat, banjir tiap hujan",
                       at=time.time() - 30 * 3600)
    later = wa_message(WA_LATER, body=f"CEK {tid}")
    later["timestamp"] = str(int(time.time() - 3600))
    assert post_whatsapp(gw, wa_payload(social_fakes.wa.phone_number_id, messages=[later]),
                         social_fakes.wa.app_secret)[0] == 200
    wait_until(lambda: wa_sent_to(social_fakes, WA_LATER)[1:], 30, what="the answer to CEK")
    answer = "Saluran Jl. Cempaka dibersihkan besok pagi."
    respond(gw, tid, answer)
    got = wait_until(lambda: [m for m in wa_sent_to(social_fakes, WA_LATER)[2:]], 40, what="the update on WhatsApp")
    assert [m["type"] for m in got] == ["text"] and answer in got[0]["text"]["body"]


# --- X ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("author", "text"), [(X_NAMED, "trotoar di Jl. Braga rusak parah, banyak yang jatuh"),
                                              (X_ANON, "ANONIM ada pungli di terminal Leuwipanjang")],
                         ids=["named", "anonymous"])
def test_x_answer_only_by_dm(gw: GatewayProcess, social_fakes: SocialFakes, author: str, text: str) -> None:
    fx = social_fakes.fx
    tweet = social_fakes.x.call(fx.add_mention, author, f"@{fx.username} {text}")

    def reply() -> list[dict[str, Any]]:
        return [t for t in list(fx.tweets) if (t.get("reply") or {}).get("in_reply_to_tweet_id") == tweet["id"]]

    (public,) = wait_until(reply, 30, what="the public receipt")
    [tid] = tracking_ids_in(public["text"])
    answer = f"Perbaikan sudah dijadwalkan minggu ini (tim {1 + (author == X_ANON)})."
    tweets_before = len(fx.tweets)
    respond(gw, tid, answer)
    got = wait_until(lambda: [d for d in list(fx.dms) if answer in d["text"]], 40, what="the answer by DM")
    assert len(got) == 1 and got[0]["participant_id"] == author and tid in got[0]["text"]
    time.sleep(1.5)  # not an assertion: room for a wrong public reply to show up
    assert not any(answer in t["text"] for t in fx.tweets) and len(fx.tweets) == tweets_before
    if author == X_ANON:
        wait_record(gw, tweet["id"])
        assert_absent([f"warga_{X_ANON}", f"Warga {X_ANON}"], {"store": store_view(gw, tid)})


def test_x_confidential_answer_stays_private(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    """RAHASIA: the answer's words reach the citizen's DMs and nowhere else (no tweet, log, event or metric)."""
    fx = social_fakes.fx
    tweet = social_fakes.x.call(fx.add_mention, X_ANON, f"@{fx.username} RAHASIA kepala desa menjual tanah kas desa")
    record = wait_record(gw, tweet["id"])
    tid = record["tracking_id"]
    canary = "KANARIJAWABAN rahasia sudah ditangani Inspektorat"
    respond(gw, tid, canary)
    wait_until(lambda: [d for d in list(fx.dms) if canary in d["text"]], 40, what="the confidential answer by DM")
    wait_until(lambda: "update_sent" in intake_log(gw), 20, what="update_sent in the intake log")
    assert_absent(["KANARIJAWABAN"], {
        "tweets": json.dumps(list(fx.tweets)), "log": gw.log_text(), "intake log": intake_log(gw),
        "metrics": metrics_text(gw), "journal at rest": journal_dump(gw.data_dir),
    })


# --- letters ---------------------------------------------------------------------------------------


def test_letter_answer_is_a_printable_letter_and_goes_to_its_contacts(
    gw: GatewayProcess, sink: ThreadedSmtpSink, sendsms: SendsmsRecorder
) -> None:
    drop(gw, "surat-jawab.pdf", letter_text_pdf(LETTER))
    phone = "+6281244556677"
    sms = wait_until(lambda: [t for q in list(sendsms.sent) if q.get("to") in (phone, phone[1:])
                              for t in [q.get("text", "")] if tracking_ids_in(t)], 60, what="the letter's SMS receipt")
    [tid] = tracking_ids_in(sms[0])
    answer = "Lampu penerangan di Jalan Kenanga sudah diganti oleh Dinas Perhubungan."
    update_id = respond(gw, tid, answer)
    pdf = gw.data_dir / "outbox" / "letters" / f"{tid}-{update_id}.pdf"
    wait_until(pdf.exists, 40, what="the answer letter PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=20).stdout
    flat = " ".join(text.split())
    for words in (LETTER.name, "Kepada Yth.", "Tanggapan atas Pengaduan", f"{tid[:4]} {tid[4:7]} {tid[7:]}",
                  "Lampu penerangan di Jalan Kenanga sudah diganti"):
        assert words in flat, words
    assert LETTER.address in flat
    wait_until(lambda: [t for q in list(sendsms.sent) if q.get("to") in (phone, phone[1:])
                        for t in [q.get("text", "")] if "sudah diganti" in t], 40, what="the answer by SMS")
    assert LETTER.email
    mails = sink.wait_to(LETTER.email, 2, timeout=40)
    assert answer in mails[1].message.get_body(("plain",)).get_content()
    assert mails[1].message["In-Reply-To"] == mails[0].message["Message-ID"]  # the receipt mail: no letter's own
    assert Path(pdf).stat().st_size > 0
