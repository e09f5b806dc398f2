"""A batch's senders are read once, ahead of its messages, and decide them as the reads one by one did.

The real journal and router on a temporary directory.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

import gateway.worker.router as router_module
import gateway.worker.sender_reads as sender_reads
from channels.message import InboundMessage
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from gateway.worker.router import Router
from gateway.worker.templates import Templates
from normalizer.pipeline import Normalizer

VAULT_KEY = base64.urlsafe_b64encode(b"s" * 32).decode()
TEXT = "Jalan berlubang di depan SD Negeri 2 Sukamaju sudah sebulan, motor sering jatuh"
OTHER = "Lampu jalan di Gg. Mawar mati tiga hari, gelap sekali kalau malam"
A, B = "6281277700001", "6281277700002"


async def no_central(_tracking_id: str) -> dict[str, Any] | None:
    return None


def sms(ext: str, text: str, sender: str) -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id=ext, sender=sender, text=text)


async def batch(j: Journal, w: Router, *msgs: InboundMessage) -> None:
    await j.accept_many(list(msgs))
    await w.process(await asyncio.to_thread(j.due_inbound, w.cursor, 100))


def records(j: Journal) -> list[dict[str, Any]]:
    return [json.loads(r[0]) for r in j.reader.rows("SELECT record FROM complaints ORDER BY inbound_id")]


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    j = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    yield j, Router(j, Normalizer("reporter-key"), Templates("id"), {}, no_central)
    j.close()


@pytest.fixture
def per_message_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions the router sends off the event loop."""
    sent: list[str] = []
    real = asyncio.to_thread

    async def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(fn.__name__)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(router_module.asyncio, "to_thread", spy)
    return sent


async def test_a_resend_in_a_later_batch_is_linked_and_read_once_per_batch(rig: Any, per_message_reads: list[str]) -> None:
    j, w = rig
    await batch(j, w, sms("m1", TEXT, A))
    await batch(j, w, sms("m2", TEXT, A), sms("m3", TEXT, B), sms("m4", OTHER, A))
    first, resend, other_sender, other_text = records(j)
    assert resend["possible_duplicate_of"] == [first["tracking_id"]]
    assert other_sender["possible_duplicate_of"] == [] and other_text["possible_duplicate_of"] == []
    assert per_message_reads.count("read_senders") == 2  # once a batch: no message of it read its sender alone


async def test_details_in_a_later_batch_complete_the_waiting_complaint(rig: Any) -> None:
    j, w = rig
    await batch(j, w, sms("m1", "halo", A))
    (waiting,) = records(j)
    await batch(j, w, sms("m2", OTHER, B), sms("m3", TEXT, A))
    done = {r["tracking_id"]: r for r in records(j)}
    assert done[waiting["tracking_id"]]["body"] == TEXT  # completed under the ticket it was given
    assert len(done) == 2


async def test_when_reading_ahead_fails_each_message_reads_its_own(
    rig: Any, per_message_reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    j, w = rig
    await batch(j, w, sms("m1", TEXT, A))
    real, calls = j.recent_by_reporters, []

    def fails_once(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise OSError("disk gone for a moment")
        return real(*args)

    monkeypatch.setattr(j, "recent_by_reporters", fails_once)
    per_message_reads.clear()
    await batch(j, w, sms("m2", TEXT, A), sms("m3", OTHER, B))
    first, resend, other = records(j)
    assert resend["possible_duplicate_of"] == [first["tracking_id"]] and other["possible_duplicate_of"] == []
    assert per_message_reads.count("read_senders") == 3  # the batch's (failed), then each message's own


async def test_a_message_whose_own_read_fails_is_retried_and_the_others_are_written(
    rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    j, w = rig
    real, calls = j.recent_by_reporters, []

    def fails_twice(*args: Any) -> Any:  # the batch's read, then the first message's own
        calls.append(args)
        if len(calls) <= 2:
            raise OSError("disk gone for a moment")
        return real(*args)

    monkeypatch.setattr(j, "recent_by_reporters", fails_twice)
    await batch(j, w, sms("m1", TEXT, A), sms("m2", OTHER, B))
    assert [r["body"] for r in records(j)] == [OTHER]
    states = [tuple(r) for r in j.reader.rows("SELECT state, attempts, error FROM processed ORDER BY inbound_id")]
    assert states[0] == ("retry", 1, "OSError") and states[1][0] != "retry"


def test_reads_are_only_for_the_messages_and_refs_read_ahead() -> None:
    reads = sender_reads.read_senders(_Fixed(), {7: {"r1", "r2"}, 8: {"r1"}}, 0.0, 0.0)
    assert reads.get(7, {"r1", "r2"}) == (None, {"r1": [("T1", "body r1")], "r2": [("T1", "body r2")]})
    assert reads.get(8, {"r1"}) == (None, {"r1": [("T1", "body r1")]})
    assert reads.get(9, {"r1"}) is None  # not in the batch (the heavy lane's): it reads its own
    assert reads.get(8, {"r3"}) is None  # filed under other refs than were read: reads its own


class _Fixed:
    def awaiting_details_by_reporter(self, reporter_refs: Any, since: float) -> dict[str, dict[str, Any]]:
        return {}

    def recent_by_reporters(self, reporter_refs: Any, since: float) -> dict[str, list[tuple[str, str]]]:
        return {ref: [("T1", f"body {ref}")] for ref in reporter_refs}
