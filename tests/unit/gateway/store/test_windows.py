"""When a WhatsApp citizen last wrote, read back from the sealed inbound journal (the 24-hour window)."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from channels.message import InboundMessage
from gateway.store.sqlite import windows
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer

WA = "social.whatsapp"
NUMBER_ID = "106540352242922"
CITIZEN, OTHER = "6281299990001", "6281299990002"


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "gateway.db", Sealer(base64.urlsafe_b64encode(os.urandom(32)).decode()))


def _wa(ext: str, sender: str | None, at: float, **kw: object) -> InboundMessage:
    return InboundMessage(channel=WA, account=NUMBER_ID, external_id=ext, sender=sender, text="halo",
                          received_at=datetime.fromtimestamp(at, UTC), **kw)  # type: ignore[arg-type]


def test_the_latest_message_of_the_citizen_counts_a_later_reply_too(tmp_path: Path) -> None:
    j = _journal(tmp_path)
    now = time.time()
    asyncio.run(j.accept_many([
        _wa("wamid.1", CITIZEN, now - 20 * 3600),  # the complaint
        _wa("wamid.2", OTHER, now - 60),  # someone else, later
        _wa("wamid.3", CITIZEN, now - 3 * 3600, kind="reply", related="wamid.ours"),  # the citizen again
        InboundMessage(channel=WA, account=NUMBER_ID, external_id="wamid.ours:read", kind="status",
                       related="wamid.ours"),  # a delivery status: nobody wrote
        InboundMessage(channel="sms.kannel", account="1708", external_id="s1", sender=CITIZEN, text="CEK"),
    ]))
    found = j.last_inbound_from(WA, NUMBER_ID, CITIZEN, now - 24 * 3600)
    assert found is not None and abs(found - (now - 3 * 3600)) < 1
    assert j.last_inbound_from(WA, NUMBER_ID, "6281299990003", now - 24 * 3600) is None
    assert j.last_inbound_from(WA, "another-number", CITIZEN, now - 24 * 3600) is None
    j.close()


def test_a_provider_time_in_the_future_never_stretches_the_window(tmp_path: Path) -> None:
    j = _journal(tmp_path)
    now = time.time()
    asyncio.run(j.accept(_wa("wamid.f", CITIZEN, now + 10 * 24 * 3600)))
    found = j.last_inbound_from(WA, NUMBER_ID, CITIZEN, now - 24 * 3600)
    assert found is not None and found <= time.time()
    j.close()


def test_the_walk_stops_at_the_window_and_pages_through_many_rows(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(windows, "PAGE", 7)
    j = _journal(tmp_path)
    now = time.time()
    asyncio.run(j.accept(_wa("wamid.mine", CITIZEN, now - 60)))
    asyncio.run(j.accept_many([_wa(f"wamid.o{i}", OTHER, now) for i in range(40)]))
    found = j.last_inbound_from(WA, NUMBER_ID, CITIZEN, now - 24 * 3600)
    assert found is not None and abs(found - (now - 60)) < 1
    # rows written before ``since`` end the walk: the citizen's message is older than the window asked for
    assert j.last_inbound_from(WA, NUMBER_ID, CITIZEN, time.time() + 1) is None
    j.close()


def test_indexed_once_then_only_what_came_since_and_no_number_at_rest(tmp_path: Path) -> None:
    j = _journal(tmp_path)
    now = time.time()
    asyncio.run(j.accept(_wa("wamid.a", CITIZEN, now - 10 * 3600)))
    first = j.last_inbound_from(WA, NUMBER_ID, CITIZEN, now - 24 * 3600)
    assert first is not None and abs(first - (now - 10 * 3600)) < 1
    asyncio.run(j.accept(_wa("wamid.b", CITIZEN, now - 120, kind="reply", related="wamid.x")))  # wrote again
    later = j.last_inbound_from(WA, NUMBER_ID, CITIZEN, now - 24 * 3600)
    assert later is not None and abs(later - (now - 120)) < 1
    rows = [tuple(r) for r in j.reader.rows("SELECT key, last_at FROM chat_windows")]
    assert len(rows) == 1 and CITIZEN not in repr(rows) and CITIZEN[2:] not in repr(rows)
    j.close()
    # a restart goes on from the durable cursor
    j2 = Journal(tmp_path / "gateway.db", j.sealer)
    assert j2.last_inbound_from(WA, NUMBER_ID, CITIZEN, now - 24 * 3600) == later
    j2.close()
