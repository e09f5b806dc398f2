"""In a Telegram group every member writes from the same chat: only the member who filed may answer.

The router's ownership compares keyed ``reporter_ref`` digests; in a group the digest is of the chat
and the member (``from.id``, which the channel keeps in ``reply_context``), in a private chat of the
chat alone (the chat is the user). Issue 15, a return path finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.gateway.worker.test_answers import Rig, _sent

GROUP, REPORTER, MEMBER = "-1001987654321", 612345678, 612345999
TEXT = "Got sampah menumpuk di RW 05 sudah dua minggu, baunya sampai ke masjid"


def in_group(user: int, message_id: int = 1, **kw: Any) -> dict[str, Any]:
    return dict(channel="social.telegram", sender=GROUP, account="bot", metadata={"chat_type": "supergroup"},
                reply_context={"chat_id": int(GROUP), "message_id": message_id, "from_id": user}, **kw)


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    r = Rig(tmp_path)
    yield r
    r.journal.close()


def _held_as_unknown(rig: Rig, inbound: int, tid: str) -> None:
    held = rig.journal.tracking_for_inbound([inbound])[inbound]
    assert rig.complaints()[held]["state"] == "review"
    assert tid not in rig.receipt_of(held)
    assert [e["detail"] for e in rig.journal.events_matching(tracking_id=held, states=["held_for_review"])] == [
        "answer_from_other_contact"]


def test_another_member_of_the_group_is_held_and_answered_as_an_unknown_id(rig: Rig) -> None:
    tid = rig.complaint(TEXT, **in_group(REPORTER))
    inbound = rig.send(f"/balas {tid} sudah diangkut, tutup saja laporannya", **in_group(MEMBER, 2))
    assert rig.journal.responses_for(tid) == []
    _held_as_unknown(rig, inbound, tid)
    assert rig.asked == []  # the store is not asked about someone else's ticket
    assert rig.complaints()[tid]["state"] == "normalized"


def test_the_reporter_in_the_group_can_answer(rig: Rig) -> None:
    tid = rig.complaint(TEXT, **in_group(REPORTER))
    rig.send(f"/balas {tid} masih menumpuk sampai hari ini", **in_group(REPORTER, 2))
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["masih menumpuk sampai hari ini"]


def test_a_reply_to_our_message_in_the_group_counts_for_its_writer_only(rig: Rig) -> None:
    tid = rig.complaint(TEXT, **in_group(REPORTER))
    _sent(rig, tid, "tg:77")
    inbound = rig.send("Sudah beres kok, abaikan", kind="reply", related="tg:77", **in_group(MEMBER, 3))
    assert rig.journal.responses_for(tid) == []
    assert rig.journal.tracking_for_inbound([inbound])  # a message of its own, not an answer
    rig.send("Belum beres, masih ada dua gerobak", kind="reply", related="tg:77", **in_group(REPORTER, 4))
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["Belum beres, masih ada dua gerobak"]


def test_cek_of_a_confidential_complaint_by_another_member_reads_as_an_unknown_id(rig: Rig) -> None:
    tid = rig.complaint("RAHASIA " + TEXT, **in_group(REPORTER))
    rig.store[tid] = {"status": "in_progress"}
    stranger = rig.send(f"CEK {tid}", **in_group(MEMBER, 2))
    owner = rig.send(f"CEK {tid}", **in_group(REPORTER, 3))
    (asked,), (told,) = rig.replies(stranger), rig.replies(owner)
    assert "tidak ditemukan" in asked, asked
    assert asked != told and rig.asked == [tid]  # only the reporter's CEK read the store


def test_a_private_chat_is_the_user_as_before(rig: Rig) -> None:
    private = dict(channel="social.telegram", sender=str(REPORTER), account="bot",
                   reply_context={"chat_id": REPORTER, "message_id": 1})
    tid = rig.complaint(TEXT, **private)
    # the same chat, with or without the from.id a private chat repeats: the same reporter
    rig.send(f"/balas {tid} masih ada", **private)
    rig.send(f"/balas {tid} masih ada juga", **(private | {"reply_context": {"chat_id": REPORTER, "from_id": REPORTER}}))
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["masih ada", "masih ada juga"]
    # the reporter's private chat does not own what they filed in a group (another chat), nor the reverse
    in_the_group = rig.complaint(TEXT + " (grup)", **in_group(REPORTER, 5))
    rig.send(f"/balas {in_the_group} dari chat pribadi", **private)
    assert rig.journal.responses_for(in_the_group) == []
