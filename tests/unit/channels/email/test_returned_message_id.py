"""Which of our mails a bounce returns, and which one an auto-responder answered (issue 15, delivery failures)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from channels.email.thread_ids import (
    derived_message_id,
    our_message_id,
    receipt_message_id,
    returned_message_id,
    tracking_in_text,
)
from normalizer.tracking import new_tracking_id

DOMAIN = "pemkot-contoh.go.id"


def test_the_returned_updates_own_id_not_the_receipt_it_references() -> None:
    tid = new_tracking_id()
    receipt = receipt_message_id(tid, "<asli@contoh.id>", DOMAIN)
    update = derived_message_id(tid, "update|r1|7", DOMAIN)
    returned = (f"Message-ID: <bounce@mx.contoh.id>\r\n\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                f"Message-ID: {update}\r\nIn-Reply-To: <asli@contoh.id>\r\nReferences: <asli@contoh.id>\r\n {receipt}\r\n")
    assert tracking_in_text(returned) == tid  # the ticket either way
    assert returned_message_id(returned) == update
    assert our_message_id(f"{update} {receipt}") == update


def test_a_bounce_that_quotes_the_mail_in_its_text() -> None:
    tid = new_tracking_id()
    update = derived_message_id(tid, "update|r2|9", DOMAIN)
    assert returned_message_id(f"--- copy of the message ---\n> From: x\n> Message-ID: {update}\n") == update
    assert returned_message_id(f"    Message-ID: {update}\r\n") == update


def test_someone_elses_message_ids_and_bad_check_digits_are_not_ours() -> None:
    tid = new_tracking_id()
    wrong = tid[:-1] + str((int(tid[-1]) + 1) % 10)
    assert returned_message_id("Message-ID: <abc@contoh.id>\r\n") is None
    assert returned_message_id(f"Message-ID: <lapor.{wrong}.x@{DOMAIN}>\r\n") is None
    assert returned_message_id(f"X-Note: Message-ID: <lapor.{tid}.x@{DOMAIN}>\r\n") is None  # not a header line
    assert our_message_id(None) is None


def test_a_megabyte_of_near_misses_is_read_quickly_and_finds_nothing() -> None:
    junk = ("Message-ID: <lapor.12345" + "6" * 40 + "\r\n") * 20_000
    assert returned_message_id(junk) is None


@given(st.text(max_size=2000))
def test_any_text_gives_none_or_one_of_our_ids_it_contains(text: str) -> None:
    found = returned_message_id(text)
    assert found is None or (found in text and tracking_in_text(found) is not None)
    answered = our_message_id(text)
    assert answered is None or (answered in text and tracking_in_text(answered) is not None)
