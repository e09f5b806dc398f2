"""Durable send quotas (gateway.worker.rate_limits) through the receipt worker, with a fake sender and clock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from channels.base import OutboundReceipt
from channels.message import PeerUnavailable
from channels.retry import Backoff
from gateway.settings import Settings
from gateway.store.records import InboundOutcome, ReceiptRow
from gateway.store.sqlite.journal import Journal
from gateway.worker.rate_limits import RateLimits, Rule, default_rules, normalise_address
from gateway.worker.receipts import ReceiptWorker
from tests.unit.journals import open_journal

SECRET = "test-reporter-hmac-key"
PHONE = "6281298765432"


class Clock:
    """A clock the test moves; far behind the real one, so every row the test defers is 'due' to the journal."""

    def __init__(self) -> None:
        self.now = time.time() - 1_000_000

    def __call__(self) -> float:
        return self.now


class FakeSender:
    def __init__(self, family: str = "sms") -> None:
        self.family = family
        self.sent: list[OutboundReceipt] = []
        self.down = 0  # this many sends raise PeerUnavailable first

    async def send(self, receipt: OutboundReceipt) -> str:
        if self.down:
            self.down -= 1
            raise PeerUnavailable("fake peer down")
        self.sent.append(receipt)
        return f"p{len(self.sent)}"


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def worker(j: Journal, sender: FakeSender, clock: Clock, rules: list[Rule]) -> ReceiptWorker:
    return ReceiptWorker(j, [sender], limits=RateLimits(j, rules, secret=SECRET, clock=clock))


async def queue(j: Journal, n: int, *, kind: str = "reply", to: str = PHONE, channel: str = "sms.kannel",
                first: int = 1) -> None:
    outcomes = [
        InboundOutcome(i, "answered", receipts=[ReceiptRow(
            dedup_key=f"{kind}:{i}", kind=kind, channel=channel, target={"to": to, "account": "1708"},
            body={"text": f"jawaban {i}", "public": False}, complaint_id=f"c{i}" if kind == "receipt" else None,
        )])
        for i in range(first, first + n)
    ]
    await j.record_outcomes(outcomes)


def due_now(j: Journal, clock: Clock) -> list[dict[str, Any]]:
    ready = {r[0] for r in j.reader.rows("SELECT id FROM receipts WHERE state='pending' AND next_at<=?", (clock(),))}
    return [r for r in j.due_receipts(10_000) if r["id"] in ready]


async def deliver_all(w: ReceiptWorker, rows: list[dict[str, Any]]) -> list[str]:
    """All at once, as the worker's concurrent sends are: the limit must hold under the race."""
    return list(await asyncio.gather(*(w.deliver(r) for r in rows)))


def states(j: Journal) -> dict[str, int]:
    return j.counts()["receipts"]


def events(j: Journal, state: str) -> list[dict[str, Any]]:
    return [e for e in j.events_after(0, 10_000) if e["state"] == state]


async def test_a_reply_flood_sends_at_most_the_limit_and_logs_once(journal: Journal,
                                                                   sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(10, 1000))
    await queue(journal, 200)
    result = await deliver_all(w, due_now(journal, clock))
    assert len(sender.sent) == 10
    assert result.count("sent") == 10 and result.count("rate_limited") == 190
    assert states(journal) == {"sent": 10, "rate_limited": 190}
    (event,) = events(journal, "reply_rate_limited")
    assert PHONE[2:] not in str(event) and event["contact"] is None
    assert due_now(journal, clock) == []  # terminal: nothing comes back


async def test_spellings_of_one_number_share_one_quota(journal: Journal, sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(3, 1000))
    for i, spelling in enumerate(["+62 812-9876-5432", "081298765432", "0062812 9876 5432", PHONE]):
        await queue(journal, 2, to=spelling, first=10 * i + 1)
    await deliver_all(w, due_now(journal, clock))
    assert len(sender.sent) == 3


async def test_receipts_are_never_dropped_by_the_reply_limit(journal: Journal,
                                                             sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(1, 1000))
    await queue(journal, 20, kind="receipt")
    await queue(journal, 3, kind="reply", first=100)
    await deliver_all(w, due_now(journal, clock))
    assert states(journal) == {"sent": 21, "rate_limited": 2}
    assert sum(1 for r in sender.sent if r.text in {"jawaban 100", "jawaban 101", "jawaban 102"}) == 1


async def test_other_senders_are_not_limited_by_one_flood(journal: Journal, sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(2, 1000))
    await queue(journal, 50)
    await queue(journal, 2, to="6281311112222", first=1000)
    await deliver_all(w, due_now(journal, clock))
    assert sorted(r.to for r in sender.sent).count("6281311112222") == 2
    assert len(sender.sent) == 4


async def test_a_restart_keeps_the_count(tmp_path: Path) -> None:
    clock = Clock()
    j, sender = open_journal(tmp_path), FakeSender()
    await queue(j, 6)
    await deliver_all(worker(j, sender, clock, default_rules(10, 1000)), due_now(j, clock))
    assert len(sender.sent) == 6
    j.close()

    clock.now += 600  # ten minutes later, a new process on the same files
    j2, sender2 = open_journal(tmp_path), FakeSender()
    await queue(j2, 10, first=100)
    await deliver_all(worker(j2, sender2, clock, default_rules(10, 1000)), due_now(j2, clock))
    assert len(sender2.sent) == 4
    assert states(j2) == {"sent": 10, "rate_limited": 6}

    clock.now += 3000  # an hour after the first six: their slots are free again
    await queue(j2, 10, first=200)
    await deliver_all(worker(j2, sender2, clock, default_rules(10, 1000)), due_now(j2, clock))
    assert len(sender2.sent) == 4 + 6
    assert states(j2) == {"sent": 16, "rate_limited": 10}
    assert len(events(j2, "reply_rate_limited")) == 1  # once per key and hour, across the restart
    j2.close()


async def test_the_sms_cap_defers_and_later_sends_everything(journal: Journal,
                                                             sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(100, 5))
    await queue(journal, 9, kind="receipt")
    await queue(journal, 3, kind="reply", to="6281311112222", first=100)
    # a letter's SMS goes through the same sender
    await queue(journal, 2, kind="receipt", channel="sms.letters", first=200)
    start = clock.now
    result = await deliver_all(w, due_now(journal, clock))
    assert result.count("sent") == 5 and result.count("pending") == 9
    assert due_now(journal, clock) == []  # deferred to the next window, not retried at once
    rows = journal.reader.rows("SELECT next_at, attempts FROM receipts WHERE state='pending'")
    assert {r[0] for r in rows} == {start + 60} and {r[1] for r in rows} == {0}  # a deferral is no failed attempt

    clock.now += 30
    assert due_now(journal, clock) == []
    clock.now += 30
    await deliver_all(w, due_now(journal, clock))
    assert len(sender.sent) == 10
    clock.now += 60
    await deliver_all(w, due_now(journal, clock))
    assert len(sender.sent) == 14 and states(journal) == {"sent": 14}
    assert sorted(r.text for r in sender.sent) == sorted(f"jawaban {i}"
                                                         for i in [*range(1, 10), 100, 101, 102, 200, 201])
    assert len(events(journal, "sms_rate_limited")) == 2  # the two windows it bit in, not nine messages


async def test_the_sms_cap_is_rolling(journal: Journal, sender: FakeSender, clock: Clock) -> None:
    """Sends spread over the minute free their slots one by one, a minute after each."""
    w = worker(journal, sender, clock, default_rules(100, 2))
    await queue(journal, 1, kind="receipt")
    await deliver_all(w, due_now(journal, clock))
    clock.now += 40
    await queue(journal, 3, kind="receipt", first=10)
    assert (await deliver_all(w, due_now(journal, clock))).count("sent") == 1
    clock.now += 20  # the first send is a minute old: one slot
    assert (await deliver_all(w, due_now(journal, clock))).count("sent") == 1
    assert len(sender.sent) == 3


async def test_the_sms_cap_does_not_touch_other_families(journal: Journal, clock: Clock) -> None:
    sms, mail = FakeSender(), FakeSender("email")
    w = ReceiptWorker(journal, [sms, mail],
                      limits=RateLimits(journal, default_rules(100, 1), secret=SECRET, clock=clock))
    await queue(journal, 3, kind="receipt", channel="email.smtp", to="warga@contoh.id")
    await queue(journal, 3, kind="receipt", first=10)
    await deliver_all(w, due_now(journal, clock))
    assert (len(mail.sent), len(sms.sent)) == (3, 1)


async def test_the_last_slot_goes_to_one_of_two_racing_sends(journal: Journal,
                                                             sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(1, 1000))
    await queue(journal, 2)
    for _ in range(5):  # and again: a second pass over the same rows changes nothing
        await deliver_all(w, journal.due_receipts(10))
    assert len(sender.sent) == 1


async def test_a_send_that_did_not_happen_gives_its_slot_back(journal: Journal,
                                                              sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(2, 2))
    w.backoff = Backoff(0.0, 0.0)  # the retry is due at once (the worker's backoff runs on the real clock)
    sender.down = 3
    await queue(journal, 1)
    for _ in range(3):
        assert await w.deliver(journal.due_receipts(10)[0]) == "pending"
    await queue(journal, 1, first=2)
    assert await deliver_all(w, journal.due_receipts(10)) == ["sent", "sent"]


async def test_email_per_address_limit_is_durable_too(journal: Journal, clock: Clock) -> None:
    """``mail.receipt_rate_per_hour``, the email sender's in-memory limit, as a durable rule."""
    mail = FakeSender("email")
    w = ReceiptWorker(journal, [mail],
                      limits=RateLimits(journal, default_rules(100, 100, 2), secret=SECRET, clock=clock))
    await queue(journal, 2, kind="receipt", channel="email.smtp", to="Warga@Contoh.id")
    await queue(journal, 2, kind="receipt", channel="email.smtp", to="warga@contoh.id ", first=10)
    await deliver_all(w, due_now(journal, clock))
    assert len(mail.sent) == 2 and states(journal) == {"sent": 2, "rate_limited": 2}
    assert len(events(journal, "email_rate_limited")) == 1


async def test_no_address_reaches_the_rate_tables(journal: Journal, sender: FakeSender, clock: Clock) -> None:
    w = worker(journal, sender, clock, default_rules(3, 1000, 3))
    await queue(journal, 20)
    await queue(journal, 5, kind="reply", channel="email.smtp", to="warga.canary@contoh.id", first=100)
    w.senders.append(FakeSender("email"))
    await deliver_all(w, due_now(journal, clock))
    journal.close()
    conn = sqlite3.connect(journal.state_path)
    dump = "\n".join(
        line for line in conn.iterdump() if line.startswith(('INSERT INTO "rate_', "INSERT INTO rate_"))
    )
    conn.close()
    assert dump.count("INSERT") > 0
    digest = {hashlib.sha256(s.encode()).hexdigest()[:16] for s in (PHONE, "sms\0" + PHONE, "warga.canary@contoh.id")}
    forms = {PHONE[2:], "warga.canary", base64.b64encode(PHONE.encode()).decode()[:12], PHONE.encode().hex()[:12],
             *digest}
    lowered = dump.lower()
    assert not [f for f in forms if f.lower() in lowered]


def test_spellings_normalise_to_one() -> None:
    spellings = {normalise_address("sms", s) for s in ("+62 812-9876-5432", "081298765432", "0062812.9876.5432")}
    assert spellings == {PHONE}
    assert normalise_address("email", " Warga@Contoh.ID") == "warga@contoh.id"


def test_per_recipient_rules_need_a_secret(journal: Journal) -> None:
    with pytest.raises(ValueError, match="secret"):
        RateLimits(journal, default_rules(1, 1))
    RateLimits(journal, [Rule("overall", 1, 60.0, "x_rate_limited")])  # an overall rule needs none


def test_from_settings_reads_the_limits(journal: Journal) -> None:
    s = Settings(privacy={"reporter_hmac_key": SECRET}, sms={"max_per_minute": 7},
                 receipts={"replies_per_sender_per_hour": 4, "updates_per_recipient_per_hour": 5,
                           "citizen_responses_per_complaint_per_hour": 6},
                 mail={"receipt_rate_per_hour": 3})
    limits = {r.name: (r.limit, r.window, r.defer) for r in RateLimits.from_settings(journal, s).rules}
    assert limits == {"replies_per_sender": (4, 3600.0, False), "sms_per_minute": (7, 60.0, True),
                      "email_per_address": (3, 3600.0, False), "updates_per_recipient": (5, 3600.0, False),
                      "responses_per_complaint": (6, 3600.0, False)}
    assert Settings().receipts.replies_per_sender_per_hour == 10 and Settings().sms.max_per_minute == 6000


async def test_without_rules_every_send_passes(journal: Journal, sender: FakeSender) -> None:
    w = ReceiptWorker(journal, [sender])
    await queue(journal, 30)
    await deliver_all(w, journal.due_receipts(100))
    assert len(sender.sent) == 30


async def test_a_row_settled_meanwhile_is_not_sent(journal: Journal, sender: FakeSender, clock: Clock) -> None:
    """A delivery report or a review decision came between the fetch and the claim: nothing goes out."""
    w = worker(journal, sender, clock, default_rules(10, 10))
    await queue(journal, 1)
    (row,) = journal.due_receipts(10)
    await journal.set_receipt_state(row["id"], "sent")
    assert await w.deliver(row) == "gone" and sender.sent == []


async def test_a_claim_our_storage_could_not_write_leaves_the_row_pending(journal: Journal, sender: FakeSender) -> None:
    """A full disk is our fault, not the citizen's: the receipt is not marked failed, it is tried again."""

    class FailingOnce(RateLimits):
        failures = 1

        async def claim(self, r: dict[str, Any], family: str, address: str) -> Any:
            if self.failures:
                self.failures -= 1
                raise sqlite3.OperationalError("database or disk is full")
            return await super().claim(r, family, address)

    w = ReceiptWorker(journal, [sender], limits=FailingOnce(journal), idle_seconds=0)
    await queue(journal, 1)
    assert await w.deliver(journal.due_receipts(10)[0]) == "pending"
    assert states(journal) == {"pending": 1} and events(journal, "receipt_failed") == []
    assert await w.deliver(journal.due_receipts(10)[0]) == "sent"
