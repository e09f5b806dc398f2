"""The real gateway (``lapor-gateway run``) with its email channels: SMTP listener, IMAP poller, receipts.

Receipts go to a :class:`~tests.e2e_helpers.ThreadedSmtpSink`; the IMAP mailbox is a private
Dovecot (:class:`~tests.peers.dovecot.DovecotPeer`) started with ``verbose_proctitle`` so a test
can see from the outside when the gateway's IMAP session is in IDLE.
"""

from __future__ import annotations

import json
import os
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e_helpers import ThreadedSmtpSink, intake_log
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers import dovecot as dovecot_peer
from tests.peers.ports import port_open
from tests.unit.channels.email.conftest import FIXTURES

DOMAIN = "lapor.localhost"
RCPT = f"pengaduan@{DOMAIN}"
FROM = f"pengaduan@{DOMAIN}"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def mail(mid: str, sender: str, subject: str, body: str, extra: str = "") -> bytes:
    """A small RFC 5322 mail (CRLF, UTF-8) with the given Message-ID (without <>)."""
    return (
        f"From: {sender}\r\nTo: {RCPT}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
        f"Date: Thu, 13 Mar 2025 10:44:31 +0700\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n{extra}\r\n{body}\r\n"
    ).encode()


def start_gateway(gw: GatewayProcess) -> GatewayProcess:
    """Start (or restart) ``gw`` and wait for its SMTP listener too: /healthz answers before SMTP is bound."""
    gw.start()
    if json.loads(gw.env.get("LAPOR_SMTP__DOMAINS", "[]")):
        wait_until(lambda: port_open(gw.smtp_port), 15, interval=0.05, what="the gateway's SMTP listener")
    return gw


def send(gw: GatewayProcess, raw: bytes, mail_from: str = "warga@contoh.id", rcpt: str = RCPT) -> None:
    """One SMTP session; returns after the gateway's 250 (raises on any refusal)."""
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
        s.sendmail(mail_from, [rcpt], raw)


def log_has(gw: GatewayProcess, *words: str) -> bool:
    """Some intake-log line holds all ``words`` (e.g. a tracking ID and a state)."""
    return any(all(w in line.split() for w in words) for line in intake_log(gw).splitlines()[1:])


@pytest.fixture
def email_gateway(
    gateway_factory: Callable[..., GatewayProcess], sink: ThreadedSmtpSink
) -> Callable[..., GatewayProcess]:
    """``email_gateway(env)`` → a started gateway whose SMTP listener takes ``DOMAIN``; receipts go to ``sink``."""

    def make(env: dict[str, str] | None = None, name: str = "gw", start: bool = True) -> GatewayProcess:
        gw = gateway_factory({
            "LAPOR_SMTP__DOMAINS": json.dumps([DOMAIN]),
            "LAPOR_MAIL__FROM": FROM,
            "LAPOR_MAIL__RECEIPT_RATE_PER_HOUR": "50",
            **sink.env(),
            **(env or {}),
        }, name)  # fmt: skip
        return start_gateway(gw) if start else gw

    return make


class ProctitleDovecot(dovecot_peer.DovecotPeer):
    """Dovecot whose imap processes show their state (``… [user ip IDLE]``) in the process title."""

    def _write_config(self) -> None:
        super()._write_config()
        self.conf.write_text(self.conf.read_text() + "verbose_proctitle = yes\n")

    def idle_sessions(self) -> int:
        """imap processes of this instance currently in IDLE (read from /proc, like ``ps``)."""
        marker = f"dovecot-peer-{self.port}/imap ["
        n = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in title and title.rstrip().endswith("IDLE]"):
                n += 1
        return n

    def settings_env(self) -> dict[str, str]:
        return {
            "LAPOR_IMAP__HOST": "127.0.0.1",
            "LAPOR_IMAP__PORT": str(self.port),
            "LAPOR_IMAP__SSL": "false",
            "LAPOR_IMAP__USERNAME": self.user,
            "LAPOR_IMAP__PASSWORD": self.password,
        }


@contextmanager
def running_dovecot() -> Iterator[ProctitleDovecot]:
    """A private Dovecot, started, and destroyed after; the test is skipped (failed under CI) without dovecot."""
    if not dovecot_peer.available():
        if os.environ.get("CI"):
            pytest.fail("dovecot (dovecot-imapd) is not installed but CI is set")
        pytest.skip("dovecot (Debian dovecot-imapd) is not installed")
    peer = ProctitleDovecot.create()
    peer.start()
    try:
        yield peer
    finally:
        peer.destroy()


@pytest.fixture
def dovecot() -> Iterator[ProctitleDovecot]:
    with running_dovecot() as peer:
        yield peer
