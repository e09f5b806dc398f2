"""Normalizer.contact: the refs worked out once per sender are those the HMAC of contact_key gives,
and whatever contact_key reads (channel, sender, reporter) is part of what they are kept under."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from channels.message import InboundMessage, ReporterInfo
from normalizer.pipeline import Normalizer, contact_key

KEY = "ref-key"


def _expected(msg: InboundMessage, anonymous: bool) -> str | None:
    key = contact_key(msg)
    if key is None:
        return None
    key = ("anonymous|" + key) if anonymous else key
    return hmac.new(KEY.encode(), key.encode(), hashlib.sha256).hexdigest()


def _msg(channel: str, sender: str | None, **reporter: str) -> InboundMessage:
    return InboundMessage(channel=channel, account="a", external_id="e", sender=sender,
                          reporter=ReporterInfo(**reporter))


def test_asked_again_the_same_and_each_input_counts() -> None:
    n = Normalizer(KEY)
    msgs = [
        _msg("sms.kannel", "6281299990001"), _msg("sms.kannel", "081299990001"), _msg("sms.kannel", "6281299990002"),
        _msg("email.smtp", "Warga@Mail.Example"), _msg("desk", None, nik="3201234567890001"),
        _msg("desk", None, phone="081299990001"), _msg("desk", None, email="warga@mail.example"),
        _msg("telegram.bot", "612345678"), _msg("x.dm", "612345678"), _msg("desk", None),
    ]
    for _ in range(3):  # the second and third time from the cache
        for m in msgs:
            assert n.reporter_ref(m) == _expected(m, False)
            assert n.reporter_ref(m, anonymous=True) == _expected(m, True)
            assert n.refs_of(m) == {r for r in (_expected(m, False), _expected(m, True)) if r}
            assert n.contact(m).key == contact_key(m)
    # a different number on the same channel is a different reporter; 0812... and 62812... are one
    assert n.reporter_ref(msgs[0]) == n.reporter_ref(msgs[1]) != n.reporter_ref(msgs[2])
    assert n.reporter_ref(msgs[7]) != n.reporter_ref(msgs[8])  # the same id on two chat channels


@given(st.lists(st.tuples(st.sampled_from(["sms.kannel", "desk", "telegram.bot"]),
                          st.one_of(st.none(), st.from_regex(r"\+?(62|0)8[0-9]{6,11}", fullmatch=True)),
                          st.one_of(st.none(), st.from_regex(r"08[0-9]{8,10}", fullmatch=True))), max_size=30))
def test_any_senders_in_any_order(entries: list[tuple[str, str | None, str | None]]) -> None:
    n = Normalizer(KEY)
    for channel, sender, phone in entries * 2:
        m = _msg(channel, sender, **({"phone": phone} if phone else {}))
        assert (n.reporter_ref(m), n.reporter_ref(m, anonymous=True)) == (_expected(m, False), _expected(m, True))
