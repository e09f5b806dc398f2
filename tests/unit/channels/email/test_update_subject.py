"""The subject and thread ids of an update mail, with hostile citizen subjects."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from channels.email.send import update_subject
from channels.email.thread_ids import derived_message_id, receipt_message_id, tracking_from_message_ids

TID = "4829157367"


def test_the_citizens_subject_with_the_ticket_once() -> None:
    assert update_subject("Lampu mati", TID) == f"Re: [LAPOR {TID}] Lampu mati"
    assert update_subject("RE: re: Aw: Lampu mati", TID) == f"Re: [LAPOR {TID}] Lampu mati"
    assert update_subject(f"Re: [LAPOR {TID}] Aduan Anda", TID) == f"Re: [LAPOR {TID}] Aduan Anda"
    assert update_subject(None, TID) == f"Re: [LAPOR {TID}] Tanggapan atas laporan Anda"
    assert update_subject("   ", TID) == f"Re: [LAPOR {TID}] Tanggapan atas laporan Anda"


@given(st.text(max_size=500))
def test_any_subject_gives_one_line_naming_the_ticket(subject: str) -> None:
    s = update_subject(subject, TID)
    assert s.startswith("Re: ") and TID in s
    assert not any(c in s for c in "\r\n")


@given(st.one_of(st.none(), st.text(max_size=200)), st.text(max_size=60))
def test_derived_ids_are_ours_stable_and_distinct(parent: str | None, key: str) -> None:
    domain = "lapor.pemkot-contoh.go.id"
    receipt = receipt_message_id(TID, parent, domain)
    assert receipt == receipt_message_id(TID, parent, domain)
    assert tracking_from_message_ids(receipt) == TID
    update = derived_message_id(TID, key, domain)
    assert tracking_from_message_ids(update) == TID and update != receipt
    assert update != derived_message_id(TID, key + "x", domain)
