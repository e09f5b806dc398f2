"""IMAP and TLS: the wrong TLS mode explained in one line, STARTTLS when offered, no password in clear.

Against real Dovecot (plain, and one with a self-signed certificate: STARTTLS on its IMAP
port, implicit TLS on its imaps port) and a fake implicit-TLS server (python ``ssl`` on a
loopback socket). A "non-loopback" peer is simulated with the poller's ``loopback`` check:
nothing here contacts an address off this machine.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.email.imap import ImapPoller, ImapSetupError, from_settings, is_loopback
from gateway.store.blobs import BlobStore
from tests.peers import dovecot as dovecot_peer
from tests.peers.dovecot import DovecotPeer
from tests.unit.channels.email.conftest import fixture_bytes
from tests.unit.channels.email.stores import MemoryAccept, MemoryCursors

PLAIN_NOT_TLS = (
    "imap: the server at 127.0.0.1:{port} speaks plain IMAP, not implicit TLS:"
    " set imap.ssl = false (STARTTLS is used when offered)"
)
TLS_NOT_PLAIN = "imap: the server at 127.0.0.1:{port} speaks implicit TLS, not plain IMAP: set imap.ssl = true"


def poller(port: int, blobs: BlobStore, user: str = "pengaduan", password: str = "secret", **kw: object) -> ImapPoller:
    return ImapPoller("127.0.0.1", port, user, password, blobs, MemoryCursors(),
                      backoff_base=0.1, backoff_max=0.2, idle_tick=0.2, greeting_timeout=0.5, **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per LOGIN the poller sends: was the connection TLS at that moment?"""
    from imapclient import IMAPClient

    seen: list[bool] = []
    real = IMAPClient.login

    def spy(self: IMAPClient, username: str, password: str) -> object:
        seen.append(isinstance(self.socket(), ssl.SSLSocket))
        return real(self, username, password)

    monkeypatch.setattr(IMAPClient, "login", spy)
    return seen


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[DovecotPeer]:
    if not dovecot_peer.available():
        pytest.skip("dovecot (Debian dovecot-imapd) is not installed")
    peer = DovecotPeer.create(tls=True)
    peer.start()
    try:
        yield peer
    finally:
        peer.destroy()


def self_signed(where: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl (a dependency of dovecot-core) is not installed")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def fake_imaps(tmp_path: Path) -> Iterator[int]:
    """An implicit-TLS IMAP server (it greets only after the handshake); its port."""
    cert, key = self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"* OK [CAPABILITY IMAP4rev1] fake imaps ready\r\n")
                    tls.recv(100)
            except OSError:
                pass  # a plain client never says hello; the probe hangs up after the handshake

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(5)
    srv.close()


async def run_for(p: ImapPoller, seconds: float) -> None:
    task = asyncio.create_task(p.run(MemoryAccept()))
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], "a log record carries a traceback"


@pytest.mark.parametrize(
    ("address", "loop"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("10.0.0.5", False), ("192.168.1.10", False), ("2001:db8::1", False), ("::ffff:10.0.0.1", False),
     ("fe80::1%eth0", False), ("localhost", False), ("", False)],
)  # fmt: skip
def test_loopback_is_read_from_the_peer_address_never_resolved(address: str, loop: bool) -> None:
    assert is_loopback(address) is loop


@pytest.mark.peer
async def test_tls_expected_plain_server_says_set_ssl_false(
    dovecot: DovecotPeer, blobs: BlobStore, caplog: pytest.LogCaptureFixture, logins: list[bool]
) -> None:
    caplog.set_level(logging.DEBUG)
    want = PLAIN_NOT_TLS.format(port=dovecot.port)
    p = poller(dovecot.port, blobs, ssl=True)
    with pytest.raises(ImapSetupError) as err:
        await p.check()
    assert str(err.value) == want
    await run_for(p, 1.0)  # several retries, said once
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "channels.email.imap"]
    assert [r.getMessage() for r in errors] == [want]
    assert "\n" not in want and logins == [] and p.connects == 0
    no_traceback(caplog)


async def test_plain_expected_tls_server_says_set_ssl_true(
    fake_imaps: int, blobs: BlobStore, caplog: pytest.LogCaptureFixture, logins: list[bool]
) -> None:
    caplog.set_level(logging.DEBUG)
    want = TLS_NOT_PLAIN.format(port=fake_imaps)
    p = poller(fake_imaps, blobs, ssl=False)
    started = time.monotonic()
    with pytest.raises(ImapSetupError) as err:
        await p.check()
    assert str(err.value) == want
    assert time.monotonic() - started < 5  # the greeting wait, not the 30 s command timeout
    await run_for(p, 1.5)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [want]
    assert logins == []
    no_traceback(caplog)


@pytest.mark.peer
async def test_starttls_is_used_when_offered_and_login_follows_tls(
    tls_dovecot: DovecotPeer, blobs: BlobStore, logins: list[bool]
) -> None:
    p = poller(tls_dovecot.port, blobs, ssl=False, ca_file=tls_dovecot.cert)
    accept = MemoryAccept()
    task = asyncio.create_task(p.run(accept))
    try:
        tls_dovecot.deliver(fixture_bytes("reply__gmail_quote"))
        await accept.wait_for(1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert logins and all(logins), "LOGIN went out before TLS"
    dovecot_log = (tls_dovecot.state / "dovecot.log").read_text()
    ours = [line for line in dovecot_log.splitlines() if "Login: user=<pengaduan>" in line]
    assert ours and all(", TLS," in line for line in ours), ours


@pytest.mark.peer
async def test_starttls_to_a_non_loopback_peer_still_logs_in(
    tls_dovecot: DovecotPeer, blobs: BlobStore, logins: list[bool]
) -> None:
    p = poller(tls_dovecot.port, blobs, ssl=False, ca_file=tls_dovecot.cert, loopback=lambda address: False)
    assert "IDLE" in await p.check()
    assert logins == [True]


@pytest.mark.peer
async def test_implicit_tls_against_dovecot_imaps_and_its_reverse(tls_dovecot: DovecotPeer, blobs: BlobStore) -> None:
    assert "IDLE" in await poller(tls_dovecot.tls_port, blobs, ssl=True, ca_file=tls_dovecot.cert).check()
    with pytest.raises(ImapSetupError) as err:
        await poller(tls_dovecot.tls_port, blobs, ssl=False).check()
    assert str(err.value) == TLS_NOT_PLAIN.format(port=tls_dovecot.tls_port)


@pytest.mark.peer
@pytest.mark.parametrize("ssl_on", [True, False], ids=["implicit TLS", "STARTTLS"])
async def test_an_unknown_certificate_is_refused_in_one_line_unless_verification_is_off(
    tls_dovecot: DovecotPeer, blobs: BlobStore, logins: list[bool], ssl_on: bool
) -> None:
    port = tls_dovecot.tls_port if ssl_on else tls_dovecot.port
    with pytest.raises(ImapSetupError) as err:
        await poller(port, blobs, ssl=ssl_on).check()
    assert str(err.value) == (
        f"imap: the server at 127.0.0.1:{port} presented a certificate that was not accepted"
        " (self-signed certificate): set imap.ca_file to its CA, or imap.tls_verify = false"
    )
    assert logins == []
    assert "IDLE" in await poller(port, blobs, ssl=ssl_on, tls_verify=False).check()


async def test_a_missing_ca_file_is_named(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(ImapSetupError, match=r"imap\.ca_file .*nope\.pem cannot be used"):
        await poller(1, blobs, ssl=True, ca_file=tmp_path / "nope.pem").check()


@pytest.mark.peer
async def test_no_password_in_clear_to_a_non_loopback_peer(
    dovecot: DovecotPeer, blobs: BlobStore, logins: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    asked: list[str] = []

    def remote(address: str) -> bool:
        asked.append(address)
        return False

    p = poller(dovecot.port, blobs, ssl=False, loopback=remote)
    with pytest.raises(ImapSetupError) as err:
        await p.check()
    assert str(err.value) == (
        f"imap: the server at 127.0.0.1:{dovecot.port} offers no STARTTLS and imap.ssl = false: refusing to send"
        " the password in clear to a non-loopback host; set imap.ssl = true, or imap.allow_plaintext = true"
    )
    assert asked == ["127.0.0.1"] and logins == []  # the connected peer's address was checked; no LOGIN sent
    await run_for(p, 0.6)
    assert logins == [] and p.connects == 0
    no_traceback(caplog)
    # allowed explicitly; and a real loopback peer needs no permission
    assert "IDLE" in await poller(dovecot.port, blobs, ssl=False, loopback=remote, allow_plaintext=True).check()
    assert "IDLE" in await poller(dovecot.port, blobs, ssl=False).check()
    assert logins == [False, False]


def test_settings_reach_the_poller(blobs: BlobStore, tmp_path: Path) -> None:
    from gateway.settings import Settings

    s = Settings.model_validate({"imap": {"host": "127.0.0.1", "username": "u", "password": "p", "ssl": False,
                                          "tls_verify": False, "ca_file": str(tmp_path / "ca.pem"),
                                          "allow_plaintext": True}})  # fmt: skip
    p = from_settings(s, blobs, MemoryCursors())
    assert p is not None and (p.ssl, p.tls_verify, p.allow_plaintext) == (False, False, True)
    assert Path(str(p.ca_file)) == tmp_path / "ca.pem"
    d = from_settings(Settings.model_validate({"imap": {"host": "h", "username": "u", "password": "p"}}), blobs,
                      MemoryCursors())  # fmt: skip
    assert d is not None and (d.ssl, d.tls_verify, d.ca_file, d.allow_plaintext) == (True, True, None, False)
