"""Which Message-ID a mail answers (``answered_message_id``): In-Reply-To first, else the last reference; bare,
as the journal keeps ids; any header text parses without raising."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email.complete import answered_message_id


def test_in_reply_to_first_then_the_last_reference() -> None:
    assert answered_message_id("<a@x.id>", "<r1@x.id> <r2@x.id>") == "a@x.id"
    assert answered_message_id(None, "<r1@x.id>\r\n <r2@x.id>") == "r2@x.id"
    assert answered_message_id("garbage without brackets", "<r1@x.id>") == "r1@x.id"
    assert answered_message_id("", "") is None and answered_message_id(None, None) is None
    assert answered_message_id("<" + "a" * 600 + "@x>", None) is None  # longer than any id we journal


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=400)), st.one_of(st.none(), st.text(max_size=400)))
def test_any_header_text(in_reply_to: str | None, references: str | None) -> None:
    got = answered_message_id(in_reply_to, references)
    if got is not None:
        assert f"<{got}>" in (in_reply_to or "") + (references or "")
        assert 0 < len(got) <= 500 and not any(c in got for c in "<> \t\r\n")
