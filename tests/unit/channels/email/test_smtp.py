"""Real SMTP sessions (smtplib on a socket) against the aiosmtpd listener with a durable accept."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from channels.email.smtp import SmtpListener
from gateway.store.blobs import BlobStore
from tests.peers.ports import free_port
from tests.unit.channels.email.conftest import fixture_bytes
from tests.unit.channels.email.stores import SqliteAccept, stored

DOMAIN = "pemkot-contoh.go.id"
ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
async def smtp(tmp_path: Path, blobs: BlobStore) -> AsyncIterator[tuple[SmtpListener, SqliteAccept, Path]]:
    listener = SmtpListener("127.0.0.1", 0, [DOMAIN], blobs, max_message_bytes=200_000)
    accept = SqliteAccept(tmp_path / "journal.db")
    task = asyncio.create_task(listener.run(accept))
    await asyncio.wait_for(listener.started.wait(), 5)
    yield listener, accept, tmp_path / "journal.db"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    accept.close()


def _send(
    port: int, raw: bytes, rcpt: str, mail_from: str = "warga.canary@example.net"
) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        return s.sendmail(mail_from, [rcpt], raw)


async def test_accepted_mail_is_journaled_before_250(smtp: tuple[SmtpListener, SqliteAccept, Path]) -> None:
    listener, _, db = smtp
    assert listener.bound_port
    await asyncio.to_thread(_send, listener.bound_port, fixture_bytes("reply__gmail_quote"), f"pengaduan@{DOMAIN}")
    [msg] = stored(db)  # the 250 came back, so the row is durable now
    assert (msg.channel, msg.account) == ("email.smtp", f"pengaduan@{DOMAIN}")
    assert msg.external_id == "CAH3kq1yZb5Tq0WcRn4uE7pM@mail.gmail.com"
    assert msg.sender == "warga.canary@example.net"  # the envelope until completed
    done = await listener.complete(msg)
    assert done.follow_up_hint == "4829157367" and "pengendara motor" in done.text
    assert done.sender == "sri.wahyuni.canary@gmail.com"


async def test_redelivery_is_one_message(smtp: tuple[SmtpListener, SqliteAccept, Path]) -> None:
    listener, _, db = smtp
    raw = fixture_bytes("complaint__pdf_attachment")
    for _ in range(2):
        await asyncio.to_thread(_send, listener.bound_port, raw, f"pengaduan@{DOMAIN}")
    assert len(stored(db)) == 1


async def test_relay_refused_with_550(smtp: tuple[SmtpListener, SqliteAccept, Path]) -> None:
    listener, _, db = smtp
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        await asyncio.to_thread(_send, listener.bound_port, fixture_bytes("reply__gmail_quote"), "x@elsewhere.example")
    assert err.value.recipients["x@elsewhere.example"][0] == 550
    assert stored(db) == []


async def test_oversize_refused_with_552(smtp: tuple[SmtpListener, SqliteAccept, Path]) -> None:
    listener, _, db = smtp
    big = b"Subject: besar\r\nMessage-ID: <big@x>\r\n\r\n" + (b"x" * 998 + b"\r\n") * 300
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as err:
        await asyncio.to_thread(_send, listener.bound_port, big, f"pengaduan@{DOMAIN}")
    assert err.value.smtp_code == 552
    assert stored(db) == []


async def test_smtputf8_and_8bitmime(smtp: tuple[SmtpListener, SqliteAccept, Path]) -> None:
    listener, _, db = smtp
    msg = EmailMessage()
    msg["From"] = "Warga <wargä.canary@contoh.id>"
    msg["To"] = f"pengaduan@{DOMAIN}"
    msg["Subject"] = "Lampu jalan mati — Jl. Sudirman 😡"
    msg["Message-ID"] = "<utf8-1@contoh.id>"
    msg.set_content("Lampu di depan rumah no. 12 mati 😭", cte="8bit")

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", listener.bound_port, timeout=10) as s:
            s.ehlo()
            assert s.has_extn("smtputf8") and s.has_extn("8bitmime")
            s.send_message(msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"])

    await asyncio.to_thread(send)
    [got] = stored(db)
    done = await listener.complete(got)
    assert done.subject == "Lampu jalan mati — Jl. Sudirman 😡"
    assert done.text == "Lampu di depan rumah no. 12 mati 😭"


async def test_failed_accept_answers_451(tmp_path: Path, blobs: BlobStore, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(_msg: object) -> object:
        raise OSError("disk full")

    listener = SmtpListener("127.0.0.1", 0, [DOMAIN], blobs)
    task = asyncio.create_task(listener.run(broken))  # type: ignore[arg-type]
    await listener.started.wait()
    try:
        with pytest.raises(smtplib.SMTPDataError) as err:
            await asyncio.to_thread(_send, listener.bound_port, fixture_bytes("complaint__rahasia_body"), f"a@{DOMAIN}")
        assert err.value.smtp_code == 451
    finally:
        task.cancel()
    assert "canary" not in caplog.text and "RAHASIA-CANARY" not in caplog.text


def test_every_250_survives_kill_9(tmp_path: Path) -> None:
    """Each 250 is followed at once by SIGKILL; after all, every acknowledged mail is in the journal."""
    db, blob_dir = tmp_path / "j.db", tmp_path / "blobs"
    acked: list[str] = []
    for round_ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.channels.email.smtp_proc", str(db), str(blob_dir), str(port), DOMAIN],
            cwd=ROOT, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stdout.readline().startswith(b"ready")
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                for i in range(5):
                    mid = f"kill9-{round_}-{i}@contoh.id"
                    raw = f"Message-ID: <{mid}>\r\nSubject: uji {i}\r\n\r\nIsi {i}\r\n".encode()
                    s.sendmail("w@contoh.id", [f"pengaduan@{DOMAIN}"], raw)  # returns after 250
                    acked.append(mid)
                proc.send_signal(signal.SIGKILL)  # right after the last 250, no clean shutdown
        finally:
            proc.kill()
            proc.wait()
    assert sorted(m.external_id for m in stored(db)) == sorted(acked)


def test_no_identity_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("channels.email").info("probe")
    assert "canary" not in caplog.text
