"""X/Twitter: mention mapping table, then the poller and the replies against the fake X API v2."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from channels.base import OutboundReceipt
from channels.message import ChannelError, PeerUnavailable, Rejected
from channels.social.x import XMentionsPoller, XReceiptSender, message_from_dm, message_from_mention, strip_own_mentions
from channels.social.x_client import make_client, rate_limit_wait
from tests.fakes import FakeX
from tests.unit.channels.social.helpers import JsonCursors, MemoryJournal, fixture

SERVICE = "1500000000000000001"
CITIZEN = "1422222222222222222"


@dataclass
class Case:
    label: str
    fixture: str
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    ignored: bool = False


CASES = [
    Case("mention: service handle stripped, entities unescaped", "mention__text",
         text="jalan berlubang di depan SDN 3 Cimahi & sudah makan korban",
         metadata={"reply_visibility": "public", "conversation_id": "1861000000000000001"}),
    Case("reply in a thread keeps the other handles", "mention__reply_with_others",
         text="@pemkot_bdg sampah tdk diangkut 2 minggu", metadata={"in_reply_to_tweet_id": "1860000000000000009"}),
    Case("long post: the note_tweet's full text", "mention__long_note",
         text="Bantuan sosial tdk sampai ke warga RT 02, sdh lapor ke kelurahan tp tidak ada tindak lanjut selama tiga "
              "bulan terakhir. Mohon dicek."),
    Case("retweet of our own receipt: not a complaint", "mention__retweet", ignored=True),
    Case("our own tweet: never taken", "mention__own_tweet", ignored=True),
]


def users_of(page: dict) -> dict[str, dict]:
    return {u["id"]: u for u in page.get("includes", {}).get("users", [])}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_mention(case: Case) -> None:
    page = fixture("x", case.fixture)
    msg = message_from_mention(page["data"][0], users_of(page), SERVICE)
    if case.ignored:
        assert msg is None
        return
    assert msg is not None
    assert (msg.channel, msg.account, msg.external_id) == ("social.x", SERVICE, page["data"][0]["id"])
    assert msg.sender == CITIZEN
    assert (msg.reporter.handle, msg.reporter.name) == ("@canary_warga", "Siti Kanari")
    assert msg.text == case.text
    assert msg.metadata.items() >= case.metadata.items()
    assert msg.reply_context == {"in_reply_to_tweet_id": page["data"][0]["id"], "author_id": CITIZEN}
    assert msg.received_at.isoformat() == "2026-11-25T05:20:00+00:00"


def test_dm() -> None:
    page = fixture("x", "dm__text")
    msg = message_from_dm(page["data"][0], users_of(page), SERVICE)
    assert msg is not None
    assert msg.external_id == "dm:1861000000000000101"
    assert msg.reply_context["participant_id"] == CITIZEN
    assert msg.metadata["reply_visibility"] == "private"


def test_strip_own_mentions() -> None:
    assert strip_own_mentions("@Lapor1708  @lapor1708 halo @lapor1708", {"lapor1708"}) == "halo @lapor1708"
    assert strip_own_mentions("@a @lapor1708 @b teks", {"lapor1708"}) == "@a @b teks"


def test_rate_limit_wait() -> None:
    assert rate_limit_wait(1_000_010, now=1_000_000.0) == 11.0
    assert rate_limit_wait(999_000, now=1_000_000.0) == 1.0  # reset already passed
    assert rate_limit_wait(1_000_000 + 86_400, now=1_000_000.0) == 900.0  # capped
    assert rate_limit_wait(None, now=0) == 60.0


@pytest.fixture
async def fake():
    async with FakeX() as fake:
        fake.add_user(CITIZEN, "canary_warga", "Siti Kanari")
        yield fake


def poller_for(fake: FakeX, path: Path, **kw: Any) -> XMentionsPoller:
    return XMentionsPoller(make_client(fake.token, fake.base_url), fake.user_id, JsonCursors(path), **kw)


async def test_pagination_over_two_pages_oldest_first(fake: FakeX, tmp_path: Path) -> None:
    tweets = [fake.add_mention(CITIZEN, f"@lapor1708 laporan nomor {i}") for i in range(7)]
    journal = MemoryJournal()
    accepted: list[str] = []

    async def accept(msg):
        accepted.append(msg.external_id)
        return await journal.accept(msg)

    poller = poller_for(fake, tmp_path / "c.json", page_size=5)
    assert await poller.poll_once(accept) == 7
    assert accepted == [t["id"] for t in tweets]  # oldest first across both pages
    assert [q.get("pagination_token") for q in fake.mention_requests()] == [None, "5"]
    assert fake.mention_requests()[0]["expansions"] == "author_id"
    assert await poller.cursors.get("since_id") == tweets[-1]["id"]
    assert journal.messages[0].text == "laporan nomor 0"


async def test_rate_limit_waits_and_loses_nothing(fake: FakeX, tmp_path: Path) -> None:
    tweets = [fake.add_mention(CITIZEN, f"@lapor1708 keluhan {i}") for i in range(6)]
    fake.rate_limit_next(times=1, reset_in=1)  # the very first request is refused
    journal = MemoryJournal()
    poller = poller_for(fake, tmp_path / "c.json", page_size=5)
    first = await poller.poll_mentions(journal.accept)
    assert first == 6
    statuses = [r.path for r in fake.requests]
    assert len(statuses) == 3  # the 429, then both pages
    # a 429 in the middle of the pages: the page is asked again with the same token
    more = [fake.add_mention(CITIZEN, f"@lapor1708 susulan {i}") for i in range(6)]
    fake.rate_limit_page("5")
    assert await poller.poll_mentions(journal.accept) == 6
    tokens = [q.get("pagination_token") for q in fake.mention_requests()[-3:]]
    assert tokens == [None, "5", "5"]
    assert {m.external_id for m in journal.messages} == {t["id"] for t in tweets + more}


async def test_restart_resumes_after_the_last_mention_seen(fake: FakeX, tmp_path: Path) -> None:
    journal = MemoryJournal()
    old = [fake.add_mention(CITIZEN, f"@lapor1708 lama {i}") for i in range(3)]
    await poller_for(fake, tmp_path / "c.json").poll_once(journal.accept)
    new = fake.add_mention(CITIZEN, "@lapor1708 baru")
    restarted = poller_for(fake, tmp_path / "c.json")
    assert await restarted.poll_once(journal.accept) == 1
    assert fake.mention_requests()[-1]["since_id"] == old[-1]["id"]
    assert journal.calls == 4 and journal.messages[-1].external_id == new["id"]


async def test_accept_failure_keeps_the_cursor_before_the_failed_mention(fake: FakeX, tmp_path: Path) -> None:
    tweets = [fake.add_mention(CITIZEN, f"@lapor1708 m{i}") for i in range(3)]
    journal = MemoryJournal()

    async def flaky(msg):
        if msg.external_id == tweets[1]["id"]:
            raise OSError("journal busy")
        return await journal.accept(msg)

    poller = poller_for(fake, tmp_path / "c.json")
    with pytest.raises(OSError):
        await poller.poll_once(flaky)
    assert await poller.cursors.get("since_id") == tweets[0]["id"]
    await poller.poll_once(journal.accept)
    assert [m.external_id for m in journal.messages] == [t["id"] for t in tweets]


async def test_dm_intake(fake: FakeX, tmp_path: Path) -> None:
    dms = [fake.add_dm(CITIZEN, f"pesan {i}") for i in range(3)]
    fake.add_dm(fake.user_id, "balasan kami")  # our own DM is never a complaint
    journal = MemoryJournal()
    poller = poller_for(fake, tmp_path / "c.json", dm_intake=True, page_size=2)
    assert await poller.poll_once(journal.accept) == 3
    assert [m.external_id for m in journal.messages] == [f"dm:{d['id']}" for d in dms]
    later = fake.add_dm(CITIZEN, "pesan baru")
    assert await poller_for(fake, tmp_path / "c.json", dm_intake=True, page_size=2).poll_once(journal.accept) == 1
    assert journal.messages[-1].external_id == f"dm:{later['id']}"


def sender_for(fake: FakeX, token: str | None = None) -> XReceiptSender:
    return XReceiptSender(make_client(token or fake.token, fake.base_url), fake.user_id)


async def test_reply_errors(fake: FakeX) -> None:
    receipt = OutboundReceipt(channel="social.x", account=SERVICE, to=CITIZEN, text="x", public=True,
                              reply_context={"in_reply_to_tweet_id": "1"})
    fake.rate_limit_next()
    with pytest.raises(PeerUnavailable, match="429"):
        await sender_for(fake).send(receipt)
    with pytest.raises(PeerUnavailable, match="401"):
        await sender_for(fake, "wrong").send(receipt)


async def test_reply_when_x_is_down() -> None:
    async with FakeX() as gone:
        sender = sender_for(gone)
    with pytest.raises(PeerUnavailable, match="unreachable"):
        await sender.send(OutboundReceipt(channel="social.x", account=SERVICE, to=CITIZEN, text="x", public=True))


async def test_refused_dm_is_permanent(fake: FakeX) -> None:
    fake.closed_dms.add(CITIZEN)
    with pytest.raises(Rejected) as err:
        await sender_for(fake).send(OutboundReceipt(channel="social.x", account=SERVICE, to=CITIZEN, text="x"))
    assert err.value.status == 403 and CITIZEN not in err.value.reason


async def test_check(fake: FakeX, tmp_path: Path) -> None:
    assert await poller_for(fake, tmp_path / "c.json").check() == (
        "x: on as @lapor1708, polling mentions every 60s, DM intake off")
    bad = XMentionsPoller(make_client("bad-token", fake.base_url), fake.user_id, JsonCursors(tmp_path / "c.json"))
    with pytest.raises(ChannelError) as err:
        await bad.check()
    assert str(err.value) == "x: bearer token rejected (401 Unauthorized)"
    other = XMentionsPoller(make_client(fake.token, fake.base_url), "42", JsonCursors(tmp_path / "c.json"))
    with pytest.raises(ChannelError, match="another account"):
        await other.check()


async def test_base_url_may_include_the_version(fake: FakeX, tmp_path: Path) -> None:
    poller = XMentionsPoller(make_client(fake.token, fake.base_url + "/2/"), fake.user_id, JsonCursors(tmp_path / "c"))
    assert (await poller.check()).startswith("x: on as @lapor1708")
