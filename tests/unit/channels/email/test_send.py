"""Receipts through a local SMTP sink: thread headers, Auto-Submitted, tracking ID, no receipt for loops."""

from __future__ import annotations

import asyncio

import pytest

from channels.base import OutboundReceipt
from channels.email.complete import MailCompleter, raw_message
from channels.email.send import EmailReceiptSender
from channels.email.thread_ids import tracking_from_message_ids
from channels.message import PeerUnavailable, Rejected
from gateway.store.blobs import BlobStore
from tests.peers.ports import free_port
from tests.peers.smtp_sink import SmtpSink
from tests.unit.channels.email.conftest import FIXTURES, fixture_bytes

FROM = "pengaduan@lapor.pemkot-contoh.go.id"
TEMPLATE = "Laporan Anda telah kami terima dengan nomor {tid}.\nBalas email ini untuk menambahkan informasi."


def receipt_for(msg, tid: str) -> OutboundReceipt:  # type: ignore[no-untyped-def]
    """What the gateway will build from a completed message (templates are the gateway's)."""
    return OutboundReceipt(
        channel=msg.channel, account=msg.account, to=msg.sender, text=TEMPLATE.format(tid=tid),
        reply_context={**msg.reply_context, "tracking_id": tid},
    )  # fmt: skip


async def test_receipts_only_where_allowed_with_thread_headers(blobs: BlobStore) -> None:
    completer = MailCompleter(blobs)
    async with SmtpSink() as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM, rate_per_hour=50)
        expected = 0
        for i, path in enumerate(sorted(FIXTURES.glob("*.eml"))):
            raw = path.read_bytes()
            msg = completer.fill(raw_message("email.smtp", "pengaduan@x", raw, blobs), raw)
            if msg.kind not in ("complaint", "reply") or msg.suppress_receipt:
                continue  # the gateway's rule: auto-replies, bounces and list posts get nothing
            expected += 1
            tid = ["4829157367", "7301442692", "6159083429"][i % 3]
            provider_id = await sender.send(receipt_for(msg, tid))
            got = (await sink.wait_for(expected))[-1].message
            assert got["Message-ID"] == provider_id
            assert tracking_from_message_ids(provider_id) == tid
            assert got["Auto-Submitted"] == "auto-replied"
            assert got["To"] == msg.sender
            assert tid in got.get_body(("plain",)).get_content()
            assert tid in got.get_body(("html",)).get_content()
            if msg.reply_context["message_id"]:
                assert got["In-Reply-To"] == msg.reply_context["message_id"]
                assert got["References"].split()[-1] == msg.reply_context["message_id"]
                assert got["Subject"].startswith("Re: ")
        recipients = {c.rcpt_tos[0] for c in sink.messages}
        assert not any(r.startswith(("dewi.", "agus.", "tidak.", "mailer-daemon")) for r in recipients)
        assert expected == 8 and len(sink.messages) == 8
        assert all(c.mail_from == FROM for c in sink.messages)


async def test_reply_to_receipt_is_a_follow_up(blobs: BlobStore) -> None:
    """The citizen answers our receipt: the reply's In-Reply-To leads back to the tracking ID."""
    completer = MailCompleter(blobs)
    raw = fixture_bytes("complaint__latin1_rfc2047")
    first = completer.fill(raw_message("email.smtp", "pengaduan@x", raw, blobs), raw)
    async with SmtpSink() as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM)
        mid = await sender.send(receipt_for(first, "7301442692"))
        receipt = (await sink.wait_for(1))[0].message
    reply = (
        f"From: {first.sender}\r\nTo: {FROM}\r\nSubject: {receipt['Subject']}\r\nMessage-ID: <r1@yahoo.co.id>\r\n"
        f"In-Reply-To: {mid}\r\nReferences: {receipt['References']} {mid}\r\n\r\nLampu masih mati.\r\n\r\n"
        f"Pada Kam, 6 Mar 2025 Layanan Pengaduan <{FROM}> menulis:\r\n> Laporan Anda telah kami terima\r\n"
    ).encode()
    follow = completer.fill(raw_message("email.smtp", "pengaduan@x", reply, blobs), reply)
    assert follow.follow_up_hint == "7301442692"
    assert follow.text == "Lampu masih mati."
    assert follow.suppress_receipt is None


async def test_rate_limit_per_address_and_failures(blobs: BlobStore) -> None:
    r = OutboundReceipt(channel="email.smtp", account="x", to="warga.canary@contoh.id", text="t",
                        reply_context={"tracking_id": "4829157367"})  # fmt: skip
    async with SmtpSink() as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM, rate_per_hour=2)
        await sender.send(r)
        await sender.send(r)
        with pytest.raises(Rejected) as err:
            await sender.send(r)
        assert err.value.status == 429
        sink.fail_with = "550 5.1.1 no such user"
        other = EmailReceiptSender("127.0.0.1", sink.port, FROM)
        with pytest.raises(Rejected):
            await other.send(r)
        sink.fail_with = "451 4.3.0 try later"
        with pytest.raises(PeerUnavailable):
            await other.send(r)
    down = EmailReceiptSender("127.0.0.1", free_port(), FROM, rate_per_hour=1)
    for _ in range(2):  # a failed attempt does not use up the quota
        with pytest.raises(PeerUnavailable):
            await down.send(r)


def _receipt(i: int) -> OutboundReceipt:
    return OutboundReceipt(channel="email.smtp", account="x", to=f"warga{i}@contoh.id", text="t",
                           reply_context={"tracking_id": "4829157367"})  # fmt: skip


async def test_a_burst_of_receipts_opens_at_most_max_sessions() -> None:
    """Every receipt is its own SMTP session: a burst of them must not open one each at once."""
    async with SmtpSink(hold_data=0.2) as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM, max_sessions=3)
        ids = await asyncio.gather(*(sender.send(_receipt(i)) for i in range(12)))
        assert len(ids) == 12 and all(ids)
        assert len(await sink.wait_for(12)) == 12
        assert {c.rcpt_tos[0] for c in sink.messages} == {f"warga{i}@contoh.id" for i in range(12)}
        assert 1 <= sink.most_in_data <= 3


async def test_behind_a_relay_that_hangs_a_waiting_receipt_fails_in_its_timeout() -> None:
    """The wait for a session counts against the timeout: a receipt queued behind a hung relay is retried
    later (PeerUnavailable), it does not hold its slot for as long as the queue ahead of it."""
    async with SmtpSink(hold_data=30.0) as sink:
        sender = EmailReceiptSender("127.0.0.1", sink.port, FROM, timeout=0.5, max_sessions=1)
        results = await asyncio.gather(*(sender.send(_receipt(i)) for i in range(3)), return_exceptions=True)
        assert all(isinstance(r, PeerUnavailable) for r in results), results
        assert sink.most_in_data == 1
        assert sink.messages == []
