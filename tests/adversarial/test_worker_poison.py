"""A message fails alone, the worker never stops, storage faults are waited out (issue 11, items 1, 2, 4, 9).

The real journal and normalising worker on a temporary directory; only the
channels' completers are stand-ins that misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from channels.message import InboundMessage, Rejected
from gateway.store.records import ComplaintRow, InboundOutcome
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer

VAULT_KEY = base64.urlsafe_b64encode(b"p" * 32).decode()
GOOD = "Lampu penerangan jalan di Jl. Cempaka mati sejak seminggu, rawan begal malam hari"


async def no_central(_tracking_id: str) -> dict[str, Any] | None:
    return None


def sms(ext: str, text: str = GOOD, sender: str = "6281299900001") -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id=ext, sender=sender, text=text)


def mail(ext: str) -> InboundMessage:
    return InboundMessage(channel="email.smtp", account="lapor", external_id=ext, sender="warga@example.org",
                          text=GOOD, raw=b"Subject: x\r\n\r\nbody")


class Poisoned:
    """A completer that raises for mails whose id says so, like a parser meeting a hostile mail."""

    name = "email"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def is_heavy(self, msg: InboundMessage) -> bool:
        return False

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        self.calls += 1
        if "poison" in msg.external_id:
            raise self.exc
        return msg


def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))


def worker(j: Journal, completers: dict[str, Any] | None = None, **kw: Any) -> Router:
    return Router(j, Normalizer("reporter-key"), Templates("id"), completers or {}, no_central, **kw)


async def drain(w: Router, rounds: int = 20) -> None:
    """What the loop does, without its waits: process whatever is due (retries made due at once)."""
    for _ in range(rounds):
        w.journal.state_writer.write_sync(lambda c: c.execute("UPDATE processed SET next_at=0 WHERE state='retry'"))
        rows = w.journal.due_inbound(w.cursor, 100, deferred=w.heavy_capacity, busy=set(w.heavy_busy))
        if not rows and not w.heavy_busy:
            return
        if rows:
            await w.process(rows)
        await asyncio.sleep(0.01)


def states(j: Journal) -> dict[int, tuple[str, int]]:
    return {r[0]: (r[1], r[2]) for r in j.reader.rows("SELECT inbound_id, state, attempts FROM processed")}


def events(j: Journal, state: str) -> list[dict[str, Any]]:
    return [e for e in j.events_after(0) if e["state"] == state]


@pytest.mark.parametrize("exc", [RecursionError(), UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogate"),
                                 MemoryError(), ValueError("x")], ids=lambda e: type(e).__name__)
def test_a_poison_message_is_retried_then_quarantined_while_the_rest_flow(tmp_path: Path, exc: BaseException) -> None:
    j = journal(tmp_path)
    w = worker(j, {"email": Poisoned(exc)}, max_attempts=3)

    async def go() -> None:
        await j.accept_many([sms("s1"), mail("<poison@x>"), sms("s2"), mail("<ok@x>"), sms("s3")])
        await drain(w)

    asyncio.run(go())
    s = states(j)
    assert [s[i][0] for i in (1, 3, 4, 5)] == ["normalized"] * 4
    assert s[2] == ("failed", 3)  # three tries, then set aside for an operator
    (q,) = events(j, "failed")
    assert q["detail"].startswith("inbound 2 quarantined:") and type(exc).__name__ in q["detail"]
    assert j.worker_cursor() == 5
    j.close()


def test_a_refusal_is_quarantined_at_once(tmp_path: Path) -> None:
    j = journal(tmp_path)
    w = worker(j, {"email": Poisoned(Rejected(422, "took longer than 30 s"))})

    async def go() -> None:
        await j.accept_many([mail("<poison-1@x>"), sms("s1")])
        await drain(w)

    asyncio.run(go())
    assert states(j)[1] == ("failed", 1) and states(j)[2][0] == "normalized"
    assert "took longer than 30 s" in events(j, "failed")[0]["detail"]
    j.close()


def test_an_outcome_the_database_refuses_fails_alone(tmp_path: Path) -> None:
    """One outcome that cannot be written never aborts its batch's transaction."""
    j = journal(tmp_path)

    def row(inbound_id: int, tracking: str, record: str) -> InboundOutcome:
        c = ComplaintRow(id=f"c{inbound_id}", tracking_id=tracking, inbound_id=inbound_id, channel="sms.kannel",
                         record_json=record, reporter_ref=None, anonymous=False, confidential=False,
                         vault={"sender": "\udce9 lone"})  # sealed all the same
        return InboundOutcome(inbound_id, "normalized", c, channel="sms.kannel")

    async def go() -> list[bool]:
        await j.accept_many([sms("a"), sms("b"), sms("c")])
        return await j.record_outcomes([row(1, "1000000001", "{}"), row(2, "1000000002", '{"b": "\udcff"}'),
                                        row(3, "1000000003", "{}")], cursor=3)

    assert asyncio.run(go()) == [True, False, True]
    s = states(j)
    assert s[1][0] == s[3][0] == "normalized" and s[2] == ("retry", 1)
    assert j.complaint_by_tracking("1000000002") is None and j.worker_cursor() == 3
    j.close()


def test_a_damaged_journal_row_is_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    j = journal(tmp_path)
    w = worker(j)

    async def go() -> None:
        await j.accept_many([sms("a"), sms("b"), sms("c")])
        j.intake_writer.write_sync(lambda c: c.execute("UPDATE inbound SET payload=x'00ff' WHERE id=2"))
        await drain(w)

    asyncio.run(go())
    s = states(j)
    assert s[1][0] == s[3][0] == "normalized" and s[2][0] == "failed"
    assert "unreadable" in events(j, "failed")[0]["detail"]
    j.close()


def test_the_loop_waits_out_a_full_disk_and_then_forwards_everything_once(tmp_path: Path) -> None:
    """SQLITE_FULL in the worker: reported as a fault, retried with backoff, no message skipped."""
    j = journal(tmp_path)
    w = worker(j, idle_seconds=0.05)
    faults: list[str | None] = []
    w.on_fault.append(faults.append)
    real = j.record_outcomes
    failures = {"left": 3}

    async def full_disk(*args: Any, **kw: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return await real(*args, **kw)

    j.record_outcomes = full_disk  # type: ignore[method-assign]

    async def go() -> None:
        await j.accept_many([sms(f"m{i}") for i in range(10)])
        task = asyncio.create_task(w.run())
        for _ in range(400):
            if len([1 for st, _ in states(j).values() if st == "normalized"]) == 10 and w.fault is None:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert [st for st, _ in states(j).values()] == ["normalized"] * 10
    assert j.reader.one("SELECT count(*) FROM complaints")[0] == 10  # once each
    assert faults[0] is not None and "storage fault" in faults[0] and faults[-1] is None
    j.close()


def test_a_reused_channel_id_with_other_content_is_kept_and_shown(tmp_path: Path) -> None:
    j = journal(tmp_path)
    w = worker(j)

    async def go() -> list[Any]:
        results = [await j.accept(sms("k-7")),
                   await j.accept(sms("k-7")),  # a redelivery: the same message
                   await j.accept(sms("k-7", "Tolong hapus laporan sebelumnya", sender="6281299900777")),
                   await j.accept(sms("k-7", "Tolong hapus laporan sebelumnya", sender="6281299900777"))]
        await drain(w)
        return results

    first, again, other, other_again = asyncio.run(go())
    assert again.duplicate and again.message_id == first.message_id
    assert not other.duplicate and other.message_id != first.message_id
    assert other_again.duplicate and other_again.message_id == other.message_id
    assert j.reader.one("SELECT count(*) FROM complaints")[0] == 2
    (conflict,) = events(j, "external_id_conflict")
    assert conflict["detail"].startswith(f"inbound {other.message_id}:")
    # the channel id is not kept in clear (a WhatsApp wamid embeds the sender's number)
    assert all("k-7" not in r[0] for r in j.intake_reader.rows("SELECT external_id FROM inbound"))
    j.close()


class Slow:
    """A heavy completer (OCR, a PDF) that takes as long as the test says."""

    name = "letters"

    def __init__(self) -> None:
        self.release = asyncio.Event()

    def is_heavy(self, msg: InboundMessage) -> bool:
        return True

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        await self.release.wait()
        return msg


def letter(ext: str) -> InboundMessage:
    return InboundMessage(channel="letters.upload", account="desk", external_id=ext, text=GOOD)


def test_a_heavy_job_never_delays_light_messages_and_survives_a_restart(tmp_path: Path) -> None:
    j = journal(tmp_path)
    slow = Slow()
    w = worker(j, {"letters": slow}, heavy_concurrency=1)

    async def first_run() -> None:
        await j.accept_many([letter("scan-1"), letter("scan-2"), sms("s1"), sms("s2")])
        rows = j.due_inbound(w.cursor, 100, deferred=w.heavy_capacity)
        await w.process(rows)
        await asyncio.sleep(0.05)
        s = states(j)
        assert s[3][0] == s[4][0] == "normalized"  # the SMS did not wait for the scans
        assert s[1][0] == s[2][0] == "deferred"
        await w.stop()  # the process dies with the scans unread

    asyncio.run(first_run())

    w2 = worker(j, {"letters": Slow()}, heavy_concurrency=1)
    w2.cursor = j.worker_cursor()

    async def second_run() -> None:
        w2.completers["letters"].release.set()
        await drain(w2)

    asyncio.run(second_run())
    assert [st for st, _ in states(j).values()] == ["normalized"] * 4
    assert j.reader.one("SELECT count(*) FROM complaints")[0] == 4
    j.close()


def test_a_malformed_batch_entry_is_quarantined_for_an_operator(tmp_path: Path) -> None:
    j = journal(tmp_path)
    w = worker(j)
    bad = InboundMessage(channel="social.whatsapp", account="pn", external_id="malformed:ab12", raw=b'"x"',
                         metadata={"kind": "malformed", "reason": "entry is not an object"})

    async def go() -> None:
        await j.accept_many([bad, sms("s1")])
        await drain(w)

    asyncio.run(go())
    assert states(j)[1][0] == "failed" and states(j)[2][0] == "normalized"
    assert "entry is not an object" in events(j, "failed")[0]["detail"]
    j.close()
