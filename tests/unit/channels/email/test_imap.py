"""The IMAP poller against a real Dovecot (LDA delivery, IDLE, Processed/Failed, restarts)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from channels.email.imap import ImapPoller
from gateway.store.blobs import BlobStore
from tests.peers.dovecot import DovecotPeer
from tests.unit.channels.email.conftest import fixture_bytes
from tests.unit.channels.email.stores import MemoryAccept, MemoryCursors

pytestmark = pytest.mark.peer


def make_poller(peer: DovecotPeer, blobs: BlobStore, cursors: MemoryCursors, **kw: object) -> ImapPoller:
    return ImapPoller(
        "127.0.0.1", peer.port, peer.user, peer.password, blobs, cursors,
        ssl=False, backoff_base=0.2, backoff_max=1.0, idle_tick=0.2, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


async def until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture
async def running(
    dovecot: DovecotPeer, tmp_path: Path
) -> AsyncIterator[Callable[..., tuple[ImapPoller, MemoryAccept, asyncio.Task[None]]]]:
    tasks: list[asyncio.Task[None]] = []

    def start(cursors: MemoryCursors, accept: MemoryAccept | None = None, **kw: object):  # type: ignore[no-untyped-def]
        accept = accept or MemoryAccept()
        poller = make_poller(dovecot, BlobStore(tmp_path / "blobs"), cursors, **kw)
        task = asyncio.create_task(poller.run(accept))
        tasks.append(task)
        return poller, accept, task

    yield start
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_delivery_idle_processed_and_restart(
    dovecot: DovecotPeer, running: Callable[..., tuple[ImapPoller, MemoryAccept, asyncio.Task[None]]],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    before = dovecot.count("Processed")
    dovecot.deliver(fixture_bytes("complaint__anonim_photo"))  # waiting before the gateway starts
    cursors = MemoryCursors()
    poller, accept, task = running(cursors)
    await accept.wait_for(1)
    await asyncio.wait_for(poller.idling.wait(), 10)
    dovecot.deliver(fixture_bytes("complaint__rahasia_body"))  # arrives while in IDLE
    await accept.wait_for(2)
    await until(lambda: dovecot.count("Processed") == before + 2 and dovecot.count("INBOX") == 0)
    ids = {m.external_id for m in accept.messages.values()}
    assert "1873264.998877.1741784709@mail.yahoo.com" in ids
    assert {"1873264.998877.1741784709@mail.yahoo.com", "000001db93c2$4a5b6c70$df0e4550$@hotmail.com"} <= set(
        dovecot.message_ids("Processed")
    )
    msg = next(m for m in accept.messages.values() if "yahoo" in m.external_id)
    assert msg.channel == "email.imap" and msg.account == f"{dovecot.user}@127.0.0.1"
    done = await poller.complete(msg)
    assert done.privacy and done.privacy.anonymous and len(done.attachments) == 1

    # gateway restart: a new poller with the same cursor store ingests nothing again
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    poller2, accept2, _ = running(cursors)
    await asyncio.wait_for(poller2.idling.wait(), 10)
    assert accept2.calls == 0
    assert "canary" not in caplog.text.lower()


async def test_dovecot_restart_reconnects(
    dovecot: DovecotPeer, running: Callable[..., tuple[ImapPoller, MemoryAccept, asyncio.Task[None]]]
) -> None:
    poller, accept, _ = running(MemoryCursors())
    await asyncio.wait_for(poller.idling.wait(), 10)
    connects = poller.connects
    await asyncio.to_thread(dovecot.restart)
    dovecot.deliver(fixture_bytes("list__community_post"))
    await accept.wait_for(1)
    assert poller.connects > connects
    await until(lambda: "CAFk2Lp0dW8xN3qRtY6uJ1vZ@mail.gmail.com" in dovecot.message_ids("Processed"))


async def test_unusable_mail_goes_to_failed_with_reason(
    dovecot: DovecotPeer, running: Callable[..., tuple[ImapPoller, MemoryAccept, asyncio.Task[None]]]
) -> None:
    failures: list[tuple[str, str]] = []

    async def on_failed(ref: str, reason: str) -> None:
        failures.append((ref, reason))

    failed_before = dovecot.count("Failed")
    dovecot.deliver(b"Message-ID: <huge@x>\r\nSubject: besar\r\n\r\n" + b"x" * 5000 + b"\r\n")
    dovecot.deliver(fixture_bytes("reply__gmail_quote"))
    _, accept, _ = running(MemoryCursors(), on_failed=on_failed, max_message_bytes=4000)
    await accept.wait_for(1)
    await until(lambda: len(failures) == 1 and dovecot.count("Failed") == failed_before + 1)
    assert "larger than 4000 bytes" in failures[0][1]
    assert "huge@x" in dovecot.message_ids("Failed")
    assert [m.external_id for m in accept.messages.values()] == ["CAH3kq1yZb5Tq0WcRn4uE7pM@mail.gmail.com"]


async def test_polling_fallback_without_idle(
    dovecot: DovecotPeer, running: Callable[..., tuple[ImapPoller, MemoryAccept, asyncio.Task[None]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from imapclient import IMAPClient

    real = IMAPClient.has_capability
    monkeypatch.setattr(IMAPClient, "has_capability", lambda self, cap: cap.upper() != "IDLE" and real(self, cap))
    poller, accept, _ = running(MemoryCursors(), poll_seconds=0.3)
    await until(lambda: poller.connects == 1)
    dovecot.deliver(fixture_bytes("complaint__forwarded_rfc822"))
    await accept.wait_for(1)
    assert not poller.idling.is_set()


async def test_check_reports_and_refuses_bad_login(dovecot: DovecotPeer, blobs: BlobStore) -> None:
    from channels.message import ChannelError, PeerUnavailable, Refused

    ok = make_poller(dovecot, blobs, MemoryCursors())
    assert "IDLE" in await ok.check()
    bad = ImapPoller("127.0.0.1", dovecot.port, dovecot.user, "wrong", blobs, MemoryCursors(), ssl=False)
    with pytest.raises(ChannelError, match="login") as err:
        await bad.check()
    assert isinstance(err.value, Refused)  # a rejected password switches IMAP off at start-up (issue 13 item 14)
    assert "wrong" not in str(err.value)
    # nobody listening is an outage, not a refusal: the poller runs and reconnects
    gone = ImapPoller("127.0.0.1", 1, dovecot.user, dovecot.password, blobs, MemoryCursors(), ssl=False)
    with pytest.raises(PeerUnavailable, match="unreachable"):
        await gone.check()
