"""Kannel's calls journaled as an entry (the fields a message is made of), the message built in the worker.

The acknowledging path no longer builds the message: these check that what the worker opens is the message
``parse`` gives for every fixture (the cases' own expectations too), that a redelivery is told from a reused
id exactly as before, whichever way each copy was journaled (a journal written by the previous release holds
messages as JSON), and that no input makes the two disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from channels.base import RawRequest
from channels.journal_forms import UnknownForm, open_journaled
from channels.message import Intake, Rejected
from channels.packed import PackedError, pack, unpack
from channels.sms.kannel import JOURNAL_FORM, KannelAuth, KannelChannel
from gateway.store.sqlite.inbound import message_content
from gateway.store.sqlite.journal import Journal
from tests.unit.channels.harness import _compare, load_request
from tests.unit.channels.sms.test_kannel import OPEN, SECRET
from tests.unit.journals import open_journal

ACCEPTED = [(t, c) for t in (OPEN, SECRET) for c in t.cases if c.rejected is None]


def opened(journal: Journal, after: int = 0) -> list:
    return journal.due_inbound(after, 100)


@pytest.mark.parametrize(("table", "case"), ACCEPTED, ids=[c.label for _t, c in ACCEPTED])
async def test_the_worker_opens_the_message_parse_gives(tmp_path: Path, table, case) -> None:
    channel, raw = table.channel, load_request(table, case)
    expected = channel.parse(raw).messages[0]
    journal = open_journal(tmp_path)
    try:
        (result,) = await journal.accept_entries([channel.entry(raw)])
        (due,) = opened(journal)
    finally:
        journal.close()
    assert due.id == int(result.message_id) and due.error is None
    if b"unixtime=" in raw.query:  # Kannel's time: the same whenever the message is built
        assert due.msg == expected
    else:  # ours: when the journal took it
        assert due.msg.model_copy(update={"received_at": expected.received_at}) == expected
        assert due.msg.received_at == datetime.fromtimestamp(due.created_at, UTC)
    _compare(case, Intake(messages=[due.msg]), channel.name)


@pytest.mark.parametrize("entry_first", [True, False])
async def test_a_redelivery_is_a_duplicate_whichever_way_each_copy_was_journaled(tmp_path: Path,
                                                                                 entry_first: bool) -> None:
    channel = OPEN.channel
    gsm7 = next(c for c in OPEN.cases if c.fixture == "mo__gsm7" and c.rejected is None)
    raw = load_request(OPEN, gsm7)
    journal = open_journal(tmp_path)
    try:
        as_entry = lambda: journal.accept_entries([channel.entry(raw)])  # noqa: E731
        as_message = lambda: journal.accept_many(channel.parse(raw).messages)  # noqa: E731  the previous release
        first, second = (as_entry, as_message) if entry_first else (as_message, as_entry)
        (a,) = await first()
        (b,) = await second()
        (again,) = await as_entry()
        assert (a.duplicate, b.duplicate, again.duplicate) == (False, True, True)
        assert a.message_id == b.message_id == again.message_id
        # the same Kannel id with another text is a message of its own, marked as a conflict
        other = RawRequest(raw.method, raw.path, raw.query.replace(b"text=%4A", b"text=%4B"), raw.headers, raw.body,
                           remote=raw.remote)
        (c,) = await journal.accept_entries([channel.entry(other)])
        assert not c.duplicate and c.message_id != a.message_id
        rows = opened(journal)
        assert [d.conflict for d in rows] == [False, True]
        assert rows[1].msg is not None and rows[1].msg.text.startswith("Kalan")
    finally:
        journal.close()


def _query(**fields: bytes | None) -> bytes:
    return b"&".join(k.encode() + b"=" + quote_from_bytes(v, safe=b"").encode() for k, v in fields.items() if v is not None)


optional = st.none() | st.binary(max_size=30)
texts = st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")) | optional
numbers = st.sampled_from([b"+6281234567890", b"6281234567890", b"+", b"1708"]) | optional
CHARSETS = st.sampled_from([None, b"UTF-8", b"utf-16be", b"UCS-2", b"8-BIT", b"latin-1", b"x-unknown", b""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sender=numbers, receiver=numbers, text=texts, charset=CHARSETS, coding=st.sampled_from([None, b"0", b"2"]),
       ext=optional, unixtime=st.none() | st.sampled_from([b"1795410048", b"-1", b"1e400", b"abc"]),
       ts=st.none() | st.sampled_from([b"2026-11-23 05:00:48", b"yesterday"]), smsc=optional,
       post=st.booleans(), body=st.binary(max_size=40), header_from=st.none() | st.text(max_size=12))
def test_entry_and_parse_never_disagree(sender, receiver, text, charset, coding, ext, unixtime, ts, smsc, post,
                                        body, header_from) -> None:
    """Any call: both refuse it alike, or the entry's keys and content digest are the message's, and opening
    the entry at the receive time ``parse`` used gives its message."""
    query = _query(**{"from": sender, "to": receiver, "text": None if post else text, "charset": charset,
                      "coding": coding, "id": ext, "unixtime": unixtime, "ts": ts, "smsc": smsc})
    headers: CIMultiDict[str] = CIMultiDict()
    if header_from is not None:
        headers["X-Kannel-From"] = header_from
    if post and charset:
        headers["Content-Type"] = "text/plain; charset=" + charset.decode("latin-1")
    raw = RawRequest("POST" if post else "GET", "/channels/sms/kannel", query, headers, body if post else b"",
                     remote="127.0.0.1")
    channel = KannelChannel(KannelAuth(None, []), b"k" * 32)
    try:
        entry = channel.entry(raw)
    except Rejected as exc:
        with pytest.raises(Rejected) as again:
            channel.parse(raw)
        assert again.value.status == exc.status
        return
    msg = channel.parse(raw).messages[0]
    event("accepted")
    assert (entry.channel, entry.account, entry.external_id) == (msg.channel, msg.account, msg.external_id)
    assert entry.content == message_content(msg)
    assert entry.data.startswith(JOURNAL_FORM)
    reopened = open_journaled(entry.data, msg.received_at.timestamp())
    assert reopened == msg


@given(st.lists(st.none() | st.binary(max_size=50), max_size=12))
def test_packed_fields_round_trip(fields: list[bytes | None]) -> None:
    assert unpack(pack(fields), len(fields)) == fields


@given(st.binary(max_size=60), st.integers(0, 12))
def test_unpacking_other_bytes_is_a_clear_error(data: bytes, n: int) -> None:
    try:
        fields = unpack(data, n)
    except PackedError:
        return
    assert pack(fields) == data  # what unpacks at all is exactly what packs into it


async def test_a_form_this_version_does_not_know_is_quarantined_alone(journal: Journal) -> None:
    good = OPEN.channel.entry(load_request(OPEN, OPEN.cases[0]))
    unknown = type(good)(good.channel, good.account, "other-id", b"\0sms.kannel/9\0" + good.data[len(JOURNAL_FORM):],
                         good.content + "x")
    await journal.accept_entries([unknown, good])
    bad, fine = opened(journal)
    assert bad.msg is None and bad.error == "unreadable (UnknownForm)"
    assert fine.msg is not None and fine.msg.text == "Jalan rusak di depan SDN 3"
    with pytest.raises(UnknownForm):
        open_journaled(b"\0no end", 0.0)
    with pytest.raises(PackedError):
        open_journaled(JOURNAL_FORM + b"\0\0\0", 0.0)
