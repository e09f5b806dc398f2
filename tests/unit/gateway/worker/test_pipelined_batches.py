"""The router's loop decides a batch while the one before it is written (Router.run): what that must not
change. A slowed write makes the overlap certain; the real journal and router on a temporary directory."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from channels.message import InboundMessage
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer

VAULT_KEY = base64.urlsafe_b64encode(b"p" * 32).decode()
TEXT = "Jalan berlubang di depan SD Negeri 2 Sukamaju sudah sebulan, motor sering jatuh"
OTHERS = ["Lampu jalan di Gg. Mawar mati tiga hari, gelap sekali kalau malam",
          "Sampah menumpuk di pasar Kosambi sejak minggu lalu, baunya sampai ke rumah warga",
          "Saluran air di Jl. Melati tersumbat, setiap hujan air masuk ke rumah"]
A = "6281277700001"


async def no_central(_tracking_id: str) -> dict[str, Any] | None:
    return None


def sms(ext: str, text: str, sender: str) -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id=ext, sender=sender, text=text)


class SlowWrites:
    """The journal's batch write, slowed (so the next batch is decided meanwhile), failing the first
    ``fail`` times as a full disk would, and logging when each write starts and ends."""

    def __init__(self, journal: Journal, fail: int = 0) -> None:
        self.real = journal.record_outcomes
        self.fail = fail
        self.log: list[str] = []
        self.calls = 0

    async def __call__(self, outcomes: list[Any], cursor: int | None = None, **kw: Any) -> list[bool]:
        self.calls += 1
        n = self.calls
        self.log.append(f"write {n} starts")
        await asyncio.sleep(0.15)
        try:
            if self.fail:
                self.fail -= 1
                raise OSError("database or disk is full")
            return await self.real(outcomes, cursor, **kw)
        finally:
            self.log.append(f"write {n} ends")


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    j = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    yield j
    j.close()


async def run_until_processed(j: Journal, w: Router, count: int) -> None:
    task = asyncio.create_task(w.run())
    try:
        for _ in range(400):
            n = j.reader.one("SELECT count(*) FROM processed WHERE state NOT IN ('retry', 'deferred')")[0]
            in_flight = w._writing
            if n >= count and (in_flight is None or in_flight.task is None or in_flight.task.done()):
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"only {n} of {count} messages decided")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await w.stop()


def records(j: Journal) -> list[dict[str, Any]]:
    return [json.loads(r[0]) for r in j.reader.rows("SELECT record FROM complaints ORDER BY inbound_id")]


async def test_the_next_batch_is_decided_while_the_one_before_is_written(journal: Journal,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    writes = SlowWrites(journal)
    monkeypatch.setattr(journal, "record_outcomes", writes)
    w = Router(journal, Normalizer("reporter-key"), Templates("id"), {}, no_central, batch=1)
    real_decide = w.decide_batch

    async def decide(rows: Any) -> Any:
        writes.log.append(f"decide {rows[0].id}")
        return await real_decide(rows)

    monkeypatch.setattr(w, "decide_batch", decide)
    await journal.accept_many([sms(f"m{i}", text, f"62812777100{i:02d}") for i, text in enumerate(OTHERS)])
    await run_until_processed(journal, w, len(OTHERS))
    assert writes.log.index("decide 2") < writes.log.index("write 1 ends")  # overlapped: senders differ
    assert [r["body"] for r in records(journal)] == OTHERS
    assert journal.worker_cursor() == len(OTHERS)


async def test_details_right_after_an_empty_message_wait_for_its_write_and_complete_it(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = SlowWrites(journal)
    monkeypatch.setattr(journal, "record_outcomes", writes)
    w = Router(journal, Normalizer("reporter-key"), Templates("id"), {}, no_central, batch=1)
    await journal.accept_many([sms("m1", "halo", A), sms("m2", TEXT, A)])
    await run_until_processed(journal, w, 2)
    (done,) = records(journal)  # one complaint: the details completed the one that waited for them
    assert done["body"] == TEXT


async def test_a_failed_write_drops_the_batch_decided_after_it_and_nothing_is_skipped(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = SlowWrites(journal, fail=1)
    monkeypatch.setattr(journal, "record_outcomes", writes)
    w = Router(journal, Normalizer("reporter-key"), Templates("id"), {}, no_central, batch=1)
    faults: list[str | None] = []
    w.on_fault.append(faults.append)
    await journal.accept_many([sms(f"m{i}", text, f"62812777200{i:02d}") for i, text in enumerate(OTHERS)])
    await run_until_processed(journal, w, len(OTHERS))
    assert [r["body"] for r in records(journal)] == OTHERS  # the first, whose write failed, too; each once
    received = [e for e in journal.events_after(0, 1000) if e["state"] == "received"]
    assert len(received) == len(OTHERS)
    assert journal.worker_cursor() == len(OTHERS)
    assert faults and faults[0] is not None and faults[-1] is None  # told, then cleared
