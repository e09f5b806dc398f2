"""A complaint rejected in review tells its citizen once that it cannot be processed, and why, on the channel
they used (gateway/worker/rejections.py): the real journal, router and receipt worker on a temporary
directory; the senders are stand-ins, except the letters printer, which prints."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from channels.base import OutboundReceipt
from channels.letters.printer import LettersReceiptPrinter
from channels.message import InboundMessage, PeerUnavailable
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.receipts import ReceiptWorker
from gateway.worker.rejections import reject
from gateway.worker.router import Router
from gateway.worker.templates import REJECTION_REASONS, Templates
from normalizer.pipeline import Normalizer
from normalizer.tracking import new_tracking_id
from tests.fakes.receipt_sender import RecordingSender

VAULT_KEY = base64.urlsafe_b64encode(b"r" * 32).decode()
PHONE = "6281277700042"
STRANGER = "6285712345678"
MAIL = "warga.sukamaju@contoh.id"
TEXT = "Jalan berlubang di depan SD Negeri 2 Sukamaju sudah sebulan, motor sering jatuh"
LOW_OCR = ["page 1: low OCR confidence (41 < 60)"]


async def no_status(_tid: str) -> dict[str, Any] | None:
    return None


class World:
    """A journal on ``folder`` with its router and a receipt worker (made again by :meth:`restart`)."""

    def __init__(self, folder: Path, language: str = "id") -> None:
        self.folder, self.language = folder, language
        self.sms, self.email = RecordingSender("sms", "sms-"), RecordingSender("email", "email-")
        self.open()

    def open(self) -> None:
        self.journal = Journal(self.folder / "gateway.db", Sealer(VAULT_KEY))
        self.templates = Templates(self.language)
        self.router = Router(self.journal, Normalizer("ref-key"), self.templates, {}, no_status)

        async def identity(tid: str) -> dict[str, Any] | None:
            return await asyncio.to_thread(self.journal.sealed_identity, tid)

        self.printer = LettersReceiptPrinter(self.folder / "receipts", language=self.language, identity=identity)
        self.worker = ReceiptWorker(self.journal, [self.sms, self.email, self.printer])

    def restart(self) -> None:
        self.journal.close()
        self.open()

    async def feed(self, n: int, text: str, *, channel: str = "sms.kannel", sender: str = PHONE,
                   review: list[str] | None = None, **extra: Any) -> str:
        """A message through the router: the tracking ID of the complaint it made."""
        await self.journal.accept(InboundMessage(channel=channel, account="1708", external_id=f"m{n}", sender=sender,
                                                 text=text, review_reasons=review or [], **extra))
        await self.router.process(self.journal.due_inbound(self.router.cursor, 100))
        return self.journal.reader.one("SELECT tracking_id FROM complaints ORDER BY created_at DESC LIMIT 1")[0]

    async def send_due(self) -> list[str]:
        """What the receipt worker does with everything due now: the states it left them in."""
        return [await self.worker.deliver(r) for r in self.journal.due_receipts(100)]

    def rows(self, tid: str, kind: str = "rejection") -> list[dict[str, Any]]:
        return [r for r in self.journal.receipts_for(tid) if r["kind"] == kind]

    def everything_sent(self) -> list[OutboundReceipt]:
        return self.sms.sent + self.email.sent


@pytest.fixture
def world(tmp_path: Path) -> Any:
    w = World(tmp_path)
    yield w
    w.journal.close()


async def held_letter(world: World, n: int = 1) -> str:
    tid = await world.feed(n, TEXT, channel="letters.scan", sender="", review=LOW_OCR)
    assert world.journal.complaint_by_tracking(tid)["state"] == "review"
    assert [r["state"] for r in world.journal.receipts_for(tid)] == ["held"]
    return tid


async def held_scanned_mail(world: World, n: int = 1) -> str:
    tid = await world.feed(n, TEXT, channel="email.smtp.scan", sender=MAIL, review=LOW_OCR,
                           reply_context={"message_id": "<surat-1@contoh.id>", "subject": "Pengaduan"})
    assert world.journal.complaint_by_tracking(tid)["state"] == "review"
    return tid


async def waiting_sms(world: World, n: int = 1, text: str = "halo") -> str:
    """An SMS with nothing to go on: it waits for the citizen's details (in the review queue)."""
    tid = await world.feed(n, text)
    assert world.journal.complaint_by_tracking(tid)["state"] == "awaiting_details"
    assert await world.send_due() == ["sent"]  # the request for details went out
    world.sms.sent.clear()
    return tid


@pytest.mark.parametrize("because", REJECTION_REASONS)
async def test_each_reason_reaches_the_sms_reporter_once_in_their_words(world: World, because: str) -> None:
    tid = await waiting_sms(world)
    done = reject(world.journal, world.templates, tid, because, "catatan staf: nomor ini sering iseng")
    assert done.decided and done.told == 1 and done.silent is None
    assert await world.send_due() == ["sent"]
    (sent,) = world.sms.sent
    words = world.templates.data["rejection_reasons"][because]
    assert sent.to == PHONE and sent.kind == "rejection" and not sent.public
    assert tid in sent.text and "tidak dapat diproses" in sent.text and words in sent.text
    assert "catatan" not in sent.text and "iseng" not in sent.text  # never the reviewer's note
    assert await world.send_due() == [] and len(world.sms.sent) == 1
    # a second decision changes nothing and queues nothing
    assert not reject(world.journal, world.templates, tid, because).decided
    assert not world.journal.review_decide_sync(tid, False, because=because)
    assert [r["state"] for r in world.rows(tid)] == ["sent"]
    (event,) = world.journal.events_matching(tracking_id=tid, states=["review_rejected"])
    assert event["detail"].startswith(because) and "iseng" not in event["detail"]
    assert world.journal.events_matching(tracking_id=tid, states=["rejection_sent"])


async def test_a_restart_after_the_decision_sends_the_notice_once(world: World) -> None:
    tid = await held_scanned_mail(world)
    assert reject(world.journal, world.templates, tid, "not_a_complaint").told == 1
    world.restart()  # the console's process died before the worker ran: the notice was written with the decision
    assert await world.send_due() == ["sent"]
    world.restart()
    assert await world.send_due() == []
    (sent,) = world.email.sent
    assert sent.to == MAIL and sent.subject == f"[LAPOR {tid}] Aduan Anda tidak dapat diproses"
    assert sent.reply_context["message_id"] == "<surat-1@contoh.id>"  # in the citizen's own thread
    assert "bukan pengaduan" in sent.text
    # the held receipt ("received, ticket N") never goes: only the notice did
    assert [r["state"] for r in world.journal.receipts_for(tid) if r["kind"] == "receipt"] == ["cancelled"]


async def test_a_crash_while_sending_and_a_peer_down_still_end_in_one_sent_notice(world: World) -> None:
    tid = await waiting_sms(world)
    reject(world.journal, world.templates, tid, "incomplete")
    world.sms.down = PeerUnavailable("kannel down")
    assert await world.send_due() == ["pending"]  # tried later, the claim given back
    world.sms.down = None
    world.journal.state_writer.write_sync(lambda c: c.execute("UPDATE receipts SET next_at=0"))
    # claimed, then the worker dies before it hears back: unsure until a delivery report or the grace period
    world.journal.state_writer.write_sync(lambda c: c.execute(
        "UPDATE receipts SET state='sending' WHERE kind='rejection'"))
    world.restart()
    assert await world.journal.mark_unsure_sending() == 1
    assert await world.send_due() == []  # not sent again while it may have gone
    assert await world.journal.resend_unsure() == 1
    assert await world.send_due() == ["sent"]
    assert await world.send_due() == []
    assert len(world.sms.sent) == 1 and [r["state"] for r in world.rows(tid)] == ["sent"]


async def test_do_not_notify_sends_nothing(world: World) -> None:
    tid = await waiting_sms(world, text="halo")
    done = reject(world.journal, world.templates, tid, "do_not_notify", "spam pinjol")
    assert done.decided and done.told == 0 and done.silent == "do_not_notify"
    assert world.rows(tid) == [] and await world.send_due() == [] and world.everything_sent() == []
    assert world.journal.complaint_by_tracking(tid)["state"] == "rejected"


async def test_an_unknown_reason_is_refused_and_changes_nothing(world: World) -> None:
    tid = await held_letter(world)
    for bad in ("", "spam", "unreadable; DROP TABLE", "UNREADABLE"):
        with pytest.raises(ValueError):
            reject(world.journal, world.templates, tid, bad)
    assert world.journal.complaint_by_tracking(tid)["state"] == "review"


@pytest.mark.parametrize("hold", ["someone_elses_ticket", "unknown_ticket"])
async def test_a_strangers_held_answer_rejected_tells_nobody(world: World, hold: str) -> None:
    owner = await world.feed(1, TEXT)
    assert await world.send_due() == ["sent"]
    named = owner if hold == "someone_elses_ticket" else new_tracking_id()
    assert hold == "someone_elses_ticket" or world.journal.complaint_by_tracking(named) is None
    held = await world.feed(2, f"BALAS {named} lampunya sudah nyala lagi", sender=STRANGER)
    assert held != owner and world.journal.complaint_by_tracking(held)["state"] == "review"
    await world.send_due()  # the stranger's receipt, as for any unknown ID
    before = list(world.sms.sent)
    for because in REJECTION_REASONS:  # whatever the reviewer picks
        done = reject(world.journal, world.templates, held, because)
        if done.decided:
            assert done.told == 0 and done.silent == "strangers_answer"
    assert world.journal.complaint_by_tracking(held)["state"] == "rejected"
    assert world.rows(held) == [] and world.rows(owner) == []
    assert await world.send_due() == [] and world.sms.sent == before
    # the store refuses notices for it too, whoever builds them
    row = world.journal.complaint_by_tracking(held)
    assert "follow_up_of_unknown" in json.loads(row["record"])["needs_review"]


async def test_the_store_keeps_a_strangers_answer_silent_even_when_handed_notices(world: World) -> None:
    from gateway.worker.rejections import notices

    owner = await world.feed(1, TEXT)
    held = await world.feed(2, f"BALAS {owner} ini jawaban orang lain", sender=STRANGER)
    row = world.journal.complaint_by_tracking(held)
    record = json.loads(row["record"])
    record["needs_review"] = [r for r in record["needs_review"] if r != "follow_up_of_unknown"]  # say a bug lost it
    forged = notices(world.journal, world.templates, row | {"record": json.dumps(record)}, "duplicate")
    assert forged  # built as for anyone...
    assert world.journal.review_decide_sync(held, False, because="duplicate", notices=forged)
    assert world.rows(held) == []  # ...but the hold the worker logged keeps it silent
    (event,) = world.journal.events_matching(tracking_id=held, states=["review_rejected"])
    assert "not told" in event["detail"]


async def test_a_strangers_answer_known_by_its_hold_alone_is_reported_as_not_told(world: World) -> None:
    """The worker says what the store does: with the review reason gone from the record (a correction), the
    hold the worker logged still makes it a stranger's answer, and reject() said 'told 1' while the store
    queued nothing."""
    owner = await world.feed(1, TEXT)
    held = await world.feed(2, f"BALAS {owner} ini jawaban orang lain", sender=STRANGER)
    record = json.loads(world.journal.complaint_by_tracking(held)["record"])
    record["needs_review"] = [r for r in record["needs_review"] if r != "follow_up_of_unknown"]
    assert world.journal.review_correct_sync(held, json.dumps(record))
    done = reject(world.journal, world.templates, held, "duplicate")
    assert done.decided and done.told == 0 and done.silent == "strangers_answer"
    assert world.rows(held) == [] and world.rows(owner) == []


async def test_an_anonymous_reporter_is_reached_through_the_vault_and_named_nowhere(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tid = await waiting_sms(world, text="ANONIM")
    assert world.journal.complaint_by_tracking(tid)["anonymous"]
    reject(world.journal, world.templates, tid, "incomplete", "hanya kata ANONIM")
    assert await world.send_due() == ["sent"]
    (sent,) = world.sms.sent
    assert sent.to == PHONE and PHONE not in sent.text
    said = json.dumps([world.journal.events_matching(limit=1000), world.journal.receipt_texts_for(tid),
                       world.journal.receipts_for(tid), world.journal.complaint_by_tracking(tid)], default=str)
    assert PHONE not in said and PHONE[2:] not in said
    assert PHONE not in caplog.text and PHONE[2:] not in caplog.text
    world.journal.close()
    for f in tmp_path.rglob("*"):  # the address is sealed at rest: in no file in clear
        if f.is_file():
            assert PHONE.encode() not in f.read_bytes(), f.name
    world.open()


async def test_a_rejected_letter_is_answered_by_a_printed_letter(world: World) -> None:
    tid = await held_letter(world)
    assert reject(world.journal, world.templates, tid, "unreadable", "hanya bintik").told == 1
    assert await world.send_due() == ["sent"]
    (row,) = world.rows(tid)
    letter = Path(row["provider_id"])
    assert letter.name == f"{tid}-tolak.pdf" and letter.read_bytes().startswith(b"%PDF")
    assert not (world.folder / "receipts" / f"{tid}.pdf").exists()  # no "received" receipt for it
    assert "tidak dapat kami baca" in world.journal.receipt_texts_for(tid)[row["id"]]


async def test_english_receipts_get_an_english_notice(tmp_path: Path) -> None:
    world = World(tmp_path, language="en")
    try:
        tid = await waiting_sms(world)
        reject(world.journal, world.templates, tid, "out_of_scope")
        assert await world.send_due() == ["sent"]
        (sent,) = world.sms.sent
        assert sent.text == (f"LAPOR! Your complaint, ticket {tid}, cannot be processed: this matter is outside the "
                             "LAPOR! service. You may send a new complaint to 1708.")
    finally:
        world.journal.close()


def test_every_reason_is_worded_in_both_languages_and_an_sms_fits_one_part() -> None:
    from channels.sms.gsm import is_gsm7, sms_parts

    for language in ("id", "en"):
        t = Templates(language)
        for because in REJECTION_REASONS:
            words = t.rejection("4829157367", because)
            assert set(words) == {"sms", "email", "chat", "letter"} and words["email"]["subject"]
            assert all("4829157367" in w["text"] for w in words.values())
            assert is_gsm7(words["sms"]["text"]) and sms_parts(words["sms"]["text"]) == 1, (language, because)
        with pytest.raises(ValueError):
            t.rejection("4829157367", "do_not_notify")
