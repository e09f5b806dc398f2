"""The journal's own guarantees, without a gateway around it."""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import AcceptResult
from channels.message import Attachment, InboundMessage, PrivacyHint, ReporterInfo
from gateway.store.records import ComplaintRow, InboundOutcome
from gateway.store.sqlite.inbound import journal_bytes
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "gateway.db", Sealer(base64.urlsafe_b64encode(os.urandom(32)).decode()))


def _msg(ext: str, text: str = "x") -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id=ext, sender="6281200000001", text=text)


def _outcome(inbound_id: int, tracking: str) -> InboundOutcome:
    row = ComplaintRow(id=f"c-{tracking}", tracking_id=tracking, inbound_id=inbound_id, channel="sms.kannel",
                       record_json='{"body": "x"}', reporter_ref=None, anonymous=False, confidential=False, vault={})
    return InboundOutcome(inbound_id, "normalized", row)


def test_redelivery_in_one_batch_and_later_is_one_row(tmp_path: Path) -> None:
    j = _journal(tmp_path)

    async def go() -> None:
        first, again = await j.accept_many([_msg("a"), _msg("a")])
        later = await j.accept(_msg("a"))
        other = await j.accept(_msg("b"))
        assert (first.duplicate, again.duplicate, later.duplicate, other.duplicate) == (False, True, True, False)
        assert first.message_id == again.message_id == later.message_id != other.message_id

    asyncio.run(go())
    assert [d.msg.external_id for d in j.due_inbound(0, 10)] == ["a", "b"]
    j.close()


def test_a_message_decided_twice_keeps_the_first_decision(tmp_path: Path) -> None:
    """After a crash a message can be read again; writing its outcome again changes nothing."""
    j = _journal(tmp_path)

    async def go() -> None:
        (res,) = await j.accept_many([_msg("c")])
        inbound = int(res.message_id)
        assert await j.record_outcomes([_outcome(inbound, "1111111111")], cursor=inbound) == [True]
        assert await j.record_outcomes([_outcome(inbound, "2222222222")], cursor=inbound) == [True]

    asyncio.run(go())
    assert j.complaint_by_tracking("1111111111") is not None
    assert j.complaint_by_tracking("2222222222") is None
    assert j.worker_cursor() == 1
    j.close()


def test_each_caller_of_a_batch_gets_the_id_its_message_was_journaled_under(tmp_path: Path) -> None:
    """New messages take the one-statement way (ids worked out from the statement's last rowid): every id
    a caller is given must open to that caller's message, however the callers were batched."""
    j = _journal(tmp_path)

    async def go() -> list[list[AcceptResult]]:
        return await asyncio.gather(*(j.accept_many([_msg(f"m{i}"), _msg(f"n{i}")]) for i in range(60)))

    got = asyncio.run(go())
    by_id = {str(d.id): d.msg.external_id for d in j.due_inbound(0, 500) if d.msg is not None}
    j.close()
    assert [[by_id[r.message_id] for r in pair] for pair in got] == [[f"m{i}", f"n{i}"] for i in range(60)]
    assert not any(r.duplicate for pair in got for r in pair)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6), min_size=1, max_size=8),
       reused=st.sets(st.sampled_from("abcdefgh"), max_size=3))
def test_accepting_matches_a_model_of_first_comes_new_the_rest_are_its_redeliveries(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]], reused: set[str]
) -> None:
    """Whatever the mix of new ids, redeliveries (in one batch or later) and ids reused for other content,
    every message is told whether it is new, and a redelivery is told the id of the first."""
    j = _journal(tmp_path_factory.mktemp("j"))
    first_id: dict[tuple[str, str], str] = {}
    seen_ext: set[str] = set()

    async def go() -> None:
        for n, batch in enumerate(batches):
            # an id in ``reused`` says other things in odd batches: a reuse of the id, not a redelivery
            msgs = [_msg(ext, text="other" if ext in reused and n % 2 else "x") for ext in batch]
            results = await asyncio.gather(*(j.accept(m) for m in msgs))
            for m, r in zip(msgs, results, strict=True):
                key = (m.external_id, m.text)
                if key in first_id:
                    assert r.duplicate and r.message_id == first_id[key]
                else:
                    assert not r.duplicate and r.message_id not in first_id.values()
                    first_id[key] = r.message_id
                seen_ext.add(m.external_id)

    asyncio.run(go())
    due = j.due_inbound(0, 1000)
    j.close()
    assert len(due) == len(first_id)
    assert {(d.msg.external_id, d.msg.text) for d in due if d.msg is not None} == set(first_id)


_text = st.text(max_size=40)
_json = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | _text,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=8)
_fields = st.fixed_dictionaries({"channel": st.sampled_from(["sms.kannel", "email.imap", "letters.scan"]),
                                 "account": _text, "external_id": _text}, optional={
    "sender": st.none() | _text,
    "received_at": st.datetimes(timezones=st.just(UTC)),
    "subject": st.none() | _text,
    "text": _text,
    "attachments": st.lists(st.builds(Attachment, sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
                                      media_type=st.just("image/png"), size=st.integers(0, 10**7),
                                      filename=st.none() | _text), max_size=2),
    "reporter": st.builds(ReporterInfo, name=st.none() | _text, phone=st.none() | _text),
    "privacy": st.none() | st.builds(PrivacyHint, anonymous=st.booleans(), confidential=st.booleans()),
    "follow_up_hint": st.none() | _text,
    "reply_context": st.dictionaries(_text, _json, max_size=3),
    "metadata": st.dictionaries(_text, _json, max_size=3),
    "suppress_receipt": st.none() | _text,
    "review_reasons": st.lists(_text, max_size=2),
    "raw": st.none() | st.binary(max_size=64),
    "kind": st.sampled_from(["complaint", "reply", "status", "malformed"]),
    "related": st.none() | _text,
})


@settings(max_examples=200, deadline=None)
@given(fields=_fields)
def test_what_the_journal_keeps_opens_to_the_message_it_was_given(fields: dict) -> None:
    """The journal writes the fields a channel set (and the receive time): reading it back gives the same
    message as the full dump it replaced, whichever fields were set, to their defaults or not."""
    msg = InboundMessage(**fields)
    kept = InboundMessage.model_validate_json(journal_bytes(msg))
    assert kept == msg == InboundMessage.model_validate_json(msg.model_dump_json(exclude_defaults=True))
    assert kept.received_at == msg.received_at  # never a new "now" on reading
