"""X mentions through ``lapor-gateway run``: complaints, public replies that never quote, 429s, restarts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.social.conftest import SERVICE_HANDLE, SocialFakes, quotes_complaint
from tests.e2e_helpers import records_by_external_id, tracking_ids_in, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer

DM_NUDGE = re.compile(r"\bDM\b|pesan langsung", re.I)


@pytest.fixture(scope="module")
def gw(social_fakes: SocialFakes, module_gateway: Callable[[dict[str, str]], GatewayProcess]) -> GatewayProcess:
    fx = social_fakes.fx
    for uid, name in (("1601", "warga_bandung"), ("1602", "warga_rahasia"), ("1603", "warga_nik"),
                      ("1604", "warga_hp"), ("1605", "warga_sibuk"), ("1606", "warga_restart")):
        social_fakes.x.call(fx.add_user, uid, name, name.replace("_", " ").title())
    return module_gateway(social_fakes.x_env(poll_seconds=0.3))


def mention(fakes: SocialFakes, author: str, text: str) -> dict[str, Any]:
    return fakes.x.call(fakes.fx.add_mention, author, f"@{SERVICE_HANDLE} {text}")


def reply_to(fakes: SocialFakes, tweet: dict[str, Any]) -> dict[str, Any]:
    def find() -> list[dict[str, Any]]:
        return [t for t in list(fakes.fx.tweets) if (t.get("reply") or {}).get("in_reply_to_tweet_id") == tweet["id"]]

    (reply,) = wait_until(find, 30, what=f"a public reply to mention {tweet['id']}")
    return reply


def test_mention_becomes_complaint_and_public_reply_names_only_the_tracking_id(
    gw: GatewayProcess, social_fakes: SocialFakes
) -> None:
    text = "jalan berlubang di depan SDN 3 Cimahi sudah makan korban motor tadi pagi"
    tweet = mention(social_fakes, "1601", text)
    record = wait_record(gw, tweet["id"])
    assert record["channel"] == "social.x"
    assert record["body"] == text  # our own @handle stripped
    assert record["reporter"]["handle"] == "@warga_bandung"
    reply = reply_to(social_fakes, tweet)
    assert tracking_ids_in(reply["text"]) == [record["tracking_id"]]
    assert not quotes_complaint(reply["text"], text), "the public reply quotes the complaint"
    assert "@warga_bandung" not in reply["text"]
    assert social_fakes.fx.dms == []  # a public mention is answered in public


@pytest.mark.parametrize(
    ("author", "text", "secrets"),
    [
        ("1602", "RAHASIA kepala dinas menerima suap proyek irigasi desa Sukamaju", ["suap", "irigasi"]),
        ("1603", "KTP saya ditahan kelurahan, NIK 3273012501900007 tolong dibantu", ["3273012501900007"]),
        ("1604", "bantuan sosial tidak sampai, hubungi saya di 0812-7788-9900 ya", ["0812-7788-9900", "081277889900"]),
    ],
    ids=["rahasia", "nik", "phone"],
)
def test_sensitive_mention_gets_only_a_move_to_dm_reply(
    gw: GatewayProcess, social_fakes: SocialFakes, author: str, text: str, secrets: list[str]
) -> None:
    tweet = mention(social_fakes, author, text)
    record = wait_record(gw, tweet["id"])
    reply = reply_to(social_fakes, tweet)
    assert DM_NUDGE.search(reply["text"]), reply["text"]
    assert tracking_ids_in(reply["text"]) == [record["tracking_id"]]
    assert not quotes_complaint(reply["text"], text)
    for s in secrets:
        assert s not in reply["text"]
    assert not re.search(r"\d{11,}", reply["text"].replace(record["tracking_id"], ""))


def test_rate_limited_mentions_are_not_lost(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    fx = social_fakes.fx

    def mentions_behind_a_rate_limit() -> list[dict[str, Any]]:
        # one step on the fake's loop: the poll that would see these mentions is answered 429 (twice)
        fx.rate_limit_next(2, 1)  # window resets in ~1 s
        return [fx.add_mention("1605", f"@{SERVICE_HANDLE} aduan antre nomor {i}: lampu taman kota padam")
                for i in range(4)]

    tweets = social_fakes.x.call(mentions_behind_a_rate_limit)
    records = [wait_record(gw, t["id"], timeout=40) for t in tweets]
    assert len({r["tracking_id"] for r in records}) == 4
    assert fx.rate_limited == []  # both 429s were given out
    wait_until(lambda: "x: rate limited (429)" in gw.log_text(), what="the 429 warning in the gateway log")


def test_restart_resumes_after_the_last_mention_seen(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    fx = social_fakes.fx
    before = mention(social_fakes, "1606", "trotoar rusak di Jalan Merdeka dekat alun-alun")
    wait_record(gw, before["id"])
    newest = max(int(t["id"]) for t in fx.mentions)
    wait_until(lambda: any(q.get("since_id") == str(newest) for q in fx.mention_requests()),
               what="a poll with since_id at the newest mention")  # fmt: skip
    count = len(gw.central_records())
    assert gw.stop() == 0
    seen = len(fx.mention_requests())
    after = mention(social_fakes, "1606", "setelah restart: got mampet di Gang Mawar")
    gw.start()
    wait_record(gw, after["id"])
    first_poll = fx.mention_requests()[seen]
    assert first_poll.get("since_id") == str(newest), first_poll
    by_id = records_by_external_id(gw)
    assert all(len(v) == 1 for v in by_id.values()), "a mention was filed twice"
    assert len(gw.central_records()) == count + 1
    reply_to(social_fakes, after)
    assert len([t for t in fx.tweets if (t.get("reply") or {}).get("in_reply_to_tweet_id") == before["id"]]) == 1
