"""The journal's own guarantees, without a gateway around it."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

from channels.message import InboundMessage
from gateway.store.records import ComplaintRow, InboundOutcome
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "gateway.db", Sealer(base64.urlsafe_b64encode(os.urandom(32)).decode()))


def _msg(ext: str) -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id=ext, sender="6281200000001", text="x")


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
