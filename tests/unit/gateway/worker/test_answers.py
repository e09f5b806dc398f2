"""The router's decision for a message that answers a complaint (issue 15, "the citizen answers back").

The real journal and router on a temporary directory, as tests/adversarial/test_worker_poison.py builds
them; the store's status endpoint is a dict (what CEK would read).
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from channels.message import Attachment, InboundMessage
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.answers import MAX_RESPONSE_CHARS
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer
from normalizer.tracking import new_tracking_id

VAULT_KEY = base64.urlsafe_b64encode(b"c" * 32).decode()
OWNER, STRANGER = "6281299900001", "6281299900002"
FIRST = "Lampu penerangan jalan di Jl. Cempaka mati sejak seminggu, rawan begal malam hari"


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.journal = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
        self.store: dict[str, dict[str, Any]] = {}
        self.asked: list[str] = []
        self.router = Router(self.journal, Normalizer("reporter-key"), Templates("id"), {}, self._status)
        self.n = 0

    async def _status(self, tracking_id: str) -> dict[str, Any] | None:
        self.asked.append(tracking_id)
        return self.store.get(tracking_id)

    def send(self, text: str = "", sender: str | None = OWNER, channel: str = "sms.kannel", **kw: Any) -> int:
        self.n += 1
        msg = InboundMessage(channel=channel, account=kw.pop("account", "1708"),
                             external_id=kw.pop("external_id", f"m{self.n}"), sender=sender, text=text, **kw)
        return asyncio.run(self._send(msg))

    async def _send(self, msg: InboundMessage) -> int:
        result = await self.journal.accept(msg)
        rows = self.journal.due_inbound(self.router.cursor, 100)
        await self.router.process(rows)
        return int(result.message_id)

    def complaint(self, text: str = FIRST, **kw: Any) -> str:
        inbound = self.send(text, **kw)
        return self.journal.tracking_for_inbound([inbound])[inbound]

    def complaints(self) -> dict[str, dict[str, Any]]:
        return {r["tracking_id"]: dict(r) | {"record": json.loads(r["record"])}
                for r in self.journal.reader.rows("SELECT tracking_id, state, record FROM complaints")}

    def replies(self, inbound: int) -> list[str]:
        rows = self.journal.reader.rows("SELECT id, body FROM receipts WHERE dedup_key LIKE ?", (f"%:{inbound}",))
        return [self.journal.open_json(r["body"])["text"] for r in rows]

    def receipt_of(self, tracking_id: str) -> str:
        (r,) = self.journal.reader.rows("SELECT body FROM receipts WHERE tracking_id=? AND kind='receipt'",
                                        (tracking_id,))
        return self.journal.open_json(r["body"])["text"]

    def states(self, inbound: int) -> str:
        return self.journal.reader.one("SELECT state FROM processed WHERE inbound_id=?", (inbound,))[0]


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    r = Rig(tmp_path)
    yield r
    r.journal.close()


def test_balas_by_the_owner_is_a_citizen_response(rig: Rig) -> None:
    tid = rig.complaint()
    inbound = rig.send(f"BALAS {tid} sudah dua minggu, lampunya masih mati")
    (resp,) = rig.journal.responses_for(tid)
    assert resp["text"] == "sudah dua minggu, lampunya masih mati" and resp["state"] == "pending"
    assert resp["channel"] == "sms.kannel" and resp["attachments"] == []
    assert list(rig.complaints()) == [tid]  # not a new complaint
    assert rig.replies(inbound) == [f"LAPOR! Tanggapan Anda untuk {tid} sudah kami terima dan diteruskan. Terima kasih."]
    assert rig.asked == [tid]  # the store was asked whether it is closed
    kinds = [r["kind"] for r in rig.journal.receipts_for(tid)]
    assert kinds == ["receipt", "reply"]  # a reply: the replies-per-sender limit counts it
    events = [e["state"] for e in rig.journal.events_matching(tracking_id=tid)]
    assert "citizen_response" in events


@pytest.mark.parametrize("form", ["INFO {tid} {text}", "/balas {tid} {text}", "balas: {tid}, {text}",
                                  "Balas #{tid} - {text}", "BALAS {spaced} {text}", "/balas@LaporBot {tid} {text}"])
def test_every_form_of_the_command(rig: Rig, form: str) -> None:
    tid = rig.complaint()
    spaced = f"{tid[:3]} {tid[3:6]} {tid[6:]}"
    rig.send(form.format(tid=tid, spaced=spaced, text="jalan masih gelap"))
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["jalan masih gelap"]


def test_a_stranger_is_held_and_answered_as_an_unknown_id(rig: Rig) -> None:
    tid = rig.complaint()
    held_in = rig.send(f"BALAS {tid} tolong abaikan laporan ini, sudah beres", sender=STRANGER)
    unknown = new_tracking_id()
    control_in = rig.send(f"BALAS {unknown} tolong abaikan laporan ini, sudah beres", sender=STRANGER)
    assert rig.journal.responses_for(tid) == []
    held = rig.journal.tracking_for_inbound([held_in])[held_in]
    control = rig.journal.tracking_for_inbound([control_in])[control_in]
    complaints = rig.complaints()
    # both held: a held complaint's CEK reads otherwise than a forwarded one's, which would tell the
    # stranger that the ticket they named exists
    assert complaints[held]["state"] == complaints[control]["state"] == "review"
    # the same kind of answer: a receipt of its own, nothing about the owner's ticket
    assert tid not in rig.receipt_of(held)
    assert rig.receipt_of(held).replace(held, "#") == rig.receipt_of(control).replace(control, "#")
    assert [e["detail"] for e in rig.journal.events_matching(tracking_id=held, states=["held_for_review"])] == [
        "answer_from_other_contact"]
    assert complaints[tid]["state"] == "normalized"  # the owner's complaint is untouched
    assert rig.asked == []  # the store is not even asked about someone else's ticket


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_an_answer_to_a_closed_complaint_is_a_new_one_following_it(rig: Rig, status: str) -> None:
    tid = rig.complaint()
    rig.store[tid] = {"tracking_id": tid, "status": status}
    inbound = rig.send(f"BALAS {tid} lampunya mati lagi sejak kemarin malam")
    new = rig.journal.tracking_for_inbound([inbound])[inbound]
    assert new != tid and rig.journal.responses_for(tid) == []
    rec = rig.complaints()[new]["record"]
    assert rec["follow_up_of"] == tid and rec["body"] == "lampunya mati lagi sejak kemarin malam"
    assert tid in rig.receipt_of(new) and new in rig.receipt_of(new)


def test_a_rejected_complaint_never_reached_the_store_so_an_answer_is_a_new_one(rig: Rig) -> None:
    tid = rig.complaint()
    rig.journal.state_writer.write_sync(lambda c: c.execute("UPDATE complaints SET state='rejected'"))
    inbound = rig.send(f"BALAS {tid} masih mati")
    new = rig.journal.tracking_for_inbound([inbound])[inbound]
    assert rig.complaints()[new]["record"]["follow_up_of"] == tid


def test_an_answer_to_a_ticket_waiting_for_details_completes_it(rig: Rig) -> None:
    tid = rig.complaint("halo")
    assert rig.complaints()[tid]["state"] == "awaiting_details"
    rig.send(f"BALAS {tid} lampu jalan di Jl. Cempaka mati sejak seminggu, rawan begal")
    done = rig.complaints()
    assert list(done) == [tid] and done[tid]["state"] == "normalized"
    assert done[tid]["record"]["body"] == "lampu jalan di Jl. Cempaka mati sejak seminggu, rawan begal"
    assert rig.journal.responses_for(tid) == []


def test_store_unreachable_counts_as_open(rig: Rig) -> None:
    tid = rig.complaint()  # the store answers None: the local state (normalized) decides
    rig.send(f"BALAS {tid} masih mati")
    assert len(rig.journal.responses_for(tid)) == 1


def test_an_anonymous_reporters_answer_carries_nothing_identifying(rig: Rig) -> None:
    tid = rig.complaint("ANONIM " + FIRST)
    text = f"BALAS {tid} nama saya Budi Hartono, hubungi 0812-9990-0001 atau NIK 3273012345670001"
    rig.send(text, attachments=[Attachment(sha256="a" * 64, media_type="image/jpeg; q=1", size=3,
                                           filename="KTP Budi Hartono.jpg")])
    (resp,) = rig.journal.responses_for(tid)
    for canary in ("Budi", "Hartono", "0812", "9990", "3273012345670001"):
        assert canary not in texts_of(resp)
    assert resp["anonymous"] == 1
    assert resp["attachments"] == [{"sha256": "a" * 64, "media_type": "image/jpeg", "size": 3, "filename": None}]
    events = texts_of(rig.journal.events_matching(tracking_id=tid))
    assert "0812" not in events and "6281" not in events and "anonim" in events


def texts_of(value: Any) -> str:
    """Every string in ``value`` (keys too), joined: where an identity could be. Not its numbers, whose
    digits (a timestamp's 1796420812.69) would match a phone number's canary by chance."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(f"{texts_of(k)} {texts_of(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(texts_of(v) for v in value)
    return ""


def test_a_confidential_answer_is_sealed_at_rest(rig: Rig) -> None:
    tid = rig.complaint("RAHASIA oknum petugas minta uang rokok waktu urus KTP di kelurahan")
    rig.send(f"BALAS {tid} petugasnya bernama Canaryono, minta lagi hari ini")
    (resp,) = rig.journal.responses_for(tid)
    assert resp["confidential"] == 1 and "Canaryono" in resp["text"]
    raw = (rig.journal.state_path).read_bytes()
    assert b"Canaryono" not in raw  # sealed as receipts are (WAL too)
    wal = rig.journal.state_path.with_name(rig.journal.state_path.name + "-wal")
    assert not wal.exists() or b"Canaryono" not in wal.read_bytes()


# --- hostile forms: a clear outcome, and nothing else lost ---------------------------------------
def test_balas_without_an_id_is_explained(rig: Rig) -> None:
    tid = rig.complaint()
    inbound = rig.send("BALAS")
    (reply,) = rig.replies(inbound)
    assert "BALAS" in reply and "10 angka" in reply
    assert list(rig.complaints()) == [tid] and rig.journal.responses_for(tid) == []
    assert rig.states(inbound) == "answered"
    (event,) = rig.journal.events_matching(states=["answer_refused"])
    assert event["detail"] == "BALAS without a ticket number" and not event["contact"]


def test_balas_with_an_id_but_no_text_is_explained(rig: Rig) -> None:
    tid = rig.complaint()
    inbound = rig.send(f"BALAS {tid}")
    (reply,) = rig.replies(inbound)
    assert "tanggapan" in reply.lower() and rig.journal.responses_for(tid) == []
    (event,) = rig.journal.events_matching(states=["answer_refused"])  # why, and not whose ticket
    assert event["detail"] == "BALAS with no text after the number" and not event["tracking_id"]


def test_bad_check_digit_keeps_the_whole_text_as_a_complaint_for_review(rig: Rig) -> None:
    tid = rig.complaint()
    wrong = tid[:-1] + str((int(tid[-1]) + 1) % 10)
    inbound = rig.send(f"BALAS {wrong} sekarang juga ada pedagang di trotoar")
    new = rig.journal.tracking_for_inbound([inbound])[inbound]
    rec = rig.complaints()[new]["record"]
    assert "follow_up_id_invalid" in rec["needs_review"] and "pedagang di trotoar" in rec["body"]
    assert rec["follow_up_of"] is None and rig.journal.responses_for(tid) == []


def test_huge_text_is_cut_to_what_the_store_takes(rig: Rig) -> None:
    tid = rig.complaint()
    rig.send(f"BALAS {tid} " + " ".join(f"rumah{i} masih tergenang" for i in range(5_000)))
    (resp,) = rig.journal.responses_for(tid)
    assert len(resp["text"]) == MAX_RESPONSE_CHARS and resp["text"].endswith("[…]")


def test_lone_surrogates_and_nul_are_made_safe(rig: Rig) -> None:
    tid = rig.complaint()
    rig.send(f"BALAS {tid} masih\ud800 mati\x00 juga \udfff")
    (resp,) = rig.journal.responses_for(tid)
    assert "masih" in resp["text"] and "\ud800" not in resp["text"] and "\x00" not in resp["text"]


@pytest.mark.parametrize("verb", ["ВАLАS", "ＢＡＬＡＳ", "BA\u200fLAS", "\u202eBALAS", "B\u200dALAS", "ᏴALAS"])
def test_look_alike_letters_and_hidden_marks_are_the_command(rig: Rig, verb: str) -> None:
    tid = rig.complaint()
    digits = "".join(chr(0x0660 + int(d)) for d in tid)  # Arabic-Indic digits
    rig.send(f"{verb} {digits} masih mati")
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["masih mati"]


def test_rtl_override_inside_the_text_is_kept_out_of_the_forwarded_text(rig: Rig) -> None:
    tid = rig.complaint()
    rig.send(f"BALAS {tid} masih \u202emati\u202c")
    (resp,) = rig.journal.responses_for(tid)
    assert resp["text"] == "masih mati"


# --- replies in a thread or a chat --------------------------------------------------------------
def test_an_email_reply_in_our_thread_from_the_same_address(rig: Rig) -> None:
    tid = rig.complaint(channel="email.smtp", sender="Warga.Canary@Contoh.ID", account="lapor")
    rig.send("Lampunya masih mati sampai hari ini.", channel="email.smtp", sender="warga.canary@contoh.id",
             account="lapor", kind="reply", related=tid, follow_up_hint=tid)
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["Lampunya masih mati sampai hari ini."]


def test_an_email_reply_in_our_thread_from_another_address_is_held(rig: Rig) -> None:
    tid = rig.complaint(channel="email.smtp", sender="warga.canary@contoh.id", account="lapor")
    inbound = rig.send("Ini diteruskan teman saya, tolong tutup saja.", channel="email.smtp",
                       sender="teman@contoh.id", account="lapor", kind="reply", related=tid, follow_up_hint=tid)
    held = rig.journal.tracking_for_inbound([inbound])[inbound]
    assert rig.complaints()[held]["state"] == "review" and rig.journal.responses_for(tid) == []


def test_an_email_reply_to_the_citizens_own_original(rig: Rig) -> None:
    tid = rig.complaint(channel="email.smtp", sender="warga.canary@contoh.id", account="lapor",
                        external_id="asli-1@contoh.id")
    rig.send("Tambahan: tiangnya juga miring.", channel="email.smtp", sender="warga.canary@contoh.id",
             account="lapor", kind="reply", related="asli-1@contoh.id")
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["Tambahan: tiangnya juga miring."]


def test_a_reply_to_an_unrelated_mail_is_a_complaint(rig: Rig) -> None:
    inbound = rig.send("Jembatan di Desa Sukamaju retak, mohon diperiksa.", channel="email.smtp",
                       sender="warga.canary@contoh.id", account="lapor", kind="reply", related="lain@contoh.id")
    assert rig.journal.tracking_for_inbound([inbound])


def _sent(rig: Rig, tracking_id: str, provider_id: str) -> None:
    (receipt,) = [r for r in rig.journal.receipts_for(tracking_id) if r["kind"] == "receipt"]
    asyncio.run(rig.journal.set_receipt_state(receipt["id"], "sent", provider_id=provider_id))


def test_a_telegram_reply_to_our_message_in_the_same_chat(rig: Rig) -> None:
    tid = rig.complaint(channel="social.telegram", sender="5550001", account="bot")
    _sent(rig, tid, "tg:77")
    rig.send("Sudah saya foto, lampunya tetap mati", channel="social.telegram", sender="5550001", account="bot",
             kind="reply", related="tg:77")
    assert len(rig.journal.responses_for(tid)) == 1
    # another chat's message 77 is another message: a complaint of its own, not held, not a response
    inbound = rig.send("Got lampu di gang saya juga mati total", channel="social.telegram", sender="5550002",
                       account="bot", kind="reply", related="tg:77")
    other = rig.journal.tracking_for_inbound([inbound])[inbound]
    assert rig.complaints()[other]["state"] != "review" and len(rig.journal.responses_for(tid)) == 1


def test_a_whatsapp_reply_to_our_receipt(rig: Rig) -> None:
    tid = rig.complaint(channel="social.whatsapp", sender=OWNER, account="pn1")
    _sent(rig, tid, "wamid.OURS1")
    rig.send("Masih mati pak", channel="social.whatsapp", sender=OWNER, account="pn1", kind="reply",
             related="wamid.OURS1")
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["Masih mati pak"]


def test_the_same_number_on_whatsapp_owns_an_sms_complaint(rig: Rig) -> None:
    tid = rig.complaint()
    rig.send(f"BALAS {tid} masih mati", channel="social.whatsapp", sender=OWNER, account="pn1")
    assert len(rig.journal.responses_for(tid)) == 1


def test_cek_in_a_thread_reply_stays_a_status_query(rig: Rig) -> None:
    tid = rig.complaint(channel="email.smtp", sender="warga.canary@contoh.id", account="lapor")
    inbound = rig.send(f"CEK {tid}", channel="email.smtp", sender="warga.canary@contoh.id", account="lapor",
                       kind="reply", related=tid)
    assert rig.journal.responses_for(tid) == [] and tid in rig.replies(inbound)[0]


def test_a_redelivered_answer_is_one_response(rig: Rig) -> None:
    tid = rig.complaint()
    rig.send(f"BALAS {tid} masih mati", external_id="dup")
    rig.send(f"BALAS {tid} masih mati", external_id="dup")
    assert len(rig.journal.responses_for(tid)) == 1
