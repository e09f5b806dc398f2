"""A private Dovecot IMAP server for tests (Debian's dovecot-imapd, own config, own port).

Python version of PEERS.md's dovecot-up/deliver/down scripts: a self-contained
``dovecot.conf`` (no /etc/dovecot), ``base_dir`` and Maildir under a short,
world-traversable state dir (Dovecot's auth and mail users must reach it; unix
socket paths must stay short), ``dovecot -F`` as a child we own, delivery with
Dovecot's LDA as an MTA would do it (clients in IDLE see ``EXISTS``).

``DovecotPeer.create(tls=True)`` also serves TLS with a self-signed certificate
made by ``openssl`` into the state dir (``cert`` is its path, the CA for a
client): ``STARTTLS`` offered on ``port``, implicit TLS on ``tls_port``.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.peers.ports import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"


def available() -> bool:
    return os.path.exists(DOVECOT) and os.path.exists(LDA)


CONF = """\
instance_name = dovecot-peer-{port}
base_dir = {state}/run
state_dir = {state}/state
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {state}/dovecot.log
info_log_path = {state}/dovecot.log
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {state}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {state}/users
}}
mail_location = maildir:~/Maildir
first_valid_uid = 1
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
protocol lda {{
  postmaster_address = postmaster@localhost
}}
"""


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


@dataclass
class DovecotPeer:
    """``start()``, ``deliver(bytes)``, ``restart()``, ``stop()``; IMAP at ``127.0.0.1:port``."""

    state: Path
    port: int
    user: str = "pengaduan"
    password: str = "secret"
    folders: tuple[str, ...] = ("Processed", "Failed")
    proc: subprocess.Popen[bytes] | None = None
    tls: bool = False
    tls_port: int = 0  # implicit TLS (imaps) when tls, else off

    @classmethod
    def create(cls, **kw: object) -> DovecotPeer:
        os.makedirs("/tmp/lgw", exist_ok=True)
        os.chmod("/tmp/lgw", 0o755)
        state = Path(tempfile.mkdtemp(prefix="dc-", dir="/tmp/lgw"))
        os.chmod(state, 0o755)
        return cls(state=state, port=free_port(), **kw)  # type: ignore[arg-type]

    @property
    def conf(self) -> Path:
        return self.state / "dovecot.conf"

    @property
    def cert(self) -> Path:
        """The self-signed certificate (for 127.0.0.1 and localhost) when ``tls``: a client's CA file."""
        return self.state / "tls" / "cert.pem"

    def _make_cert(self) -> str:
        key = self.cert.with_name("key.pem")
        if not self.cert.exists():
            self.cert.parent.mkdir(exist_ok=True)
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(self.cert)],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        return f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"

    def _write_config(self) -> None:
        if os.getuid() == 0:
            uid = gid = 65534  # Dovecot refuses mail access as root
        else:
            uid, gid = os.getuid(), os.getgid()
        mailboxes = "".join(f'  mailbox "{f}" {{\n    auto = subscribe\n  }}\n' for f in self.folders)
        if self.tls:
            self.tls_port = free_port()
        ssl = self._make_cert() if self.tls else "ssl = no"
        self.conf.write_text(CONF.format(state=self.state, port=self.port, mailboxes=mailboxes, ssl=ssl,
                                         tls_port=self.tls_port))  # fmt: skip
        home = self.state / "mail" / self.user
        (self.state / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{home}::\n")
        os.chmod(self.conf, 0o644)
        os.chmod(self.state / "users", 0o644)
        (self.state / "state").mkdir(exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            os.chown(home, uid, gid)
        home.chmod(0o700)

    def start(self, timeout: float = 15.0) -> None:
        if not (self.conf.exists()):
            self._write_config()
        for _ in range(3):
            with open(self.state / "dovecot.stdout", "ab") as log:
                self.proc = subprocess.Popen(
                    [DOVECOT, "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=True,
                )  # fmt: skip
            if self._wait_greeting(timeout):
                return
            self.stop()
            if not self._port_taken():
                break
            self.port = free_port()  # someone took our port between free_port() and bind: try another
            self._write_config()
        raise RuntimeError(f"dovecot did not come up; see {self.state}/dovecot.log")

    def _port_taken(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _wait_greeting(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        # The master runs in its own session (start_new_session): signal the whole group, because
        # imap processes outlive a terminated master and would keep serving their connections.
        pgid = self.proc.pid
        if self.proc.poll() is None:
            _killpg(pgid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        _killpg(pgid, signal.SIGKILL)  # leftovers of this instance only (imap, log, stats)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.state, ignore_errors=True)

    def deliver(self, raw: bytes, folder: str | None = None, envelope_from: str = "MAILER-DAEMON") -> None:
        """Local delivery with Dovecot's LDA, like an MTA."""
        args = [LDA, "-c", str(self.conf), "-d", self.user, "-f", envelope_from]
        if folder:
            args += ["-m", folder]
        done = subprocess.run(args, input=raw, capture_output=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"dovecot-lda failed ({done.returncode}): {done.stderr.decode(errors='replace')[:300]}")

    def imap(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port)
        conn.login(self.user, self.password)
        return conn

    def count(self, folder: str) -> int:
        conn = self.imap()
        try:
            typ, data = conn.select(f'"{folder}"', readonly=True)
            return int(data[0]) if typ == "OK" else -1
        finally:
            conn.logout()

    def message_ids(self, folder: str) -> list[str]:
        conn = self.imap()
        try:
            conn.select(f'"{folder}"', readonly=True)
            _, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        except imaplib.IMAP4.error:
            return []
        finally:
            conn.logout()
        out = []
        for item in data:
            if isinstance(item, tuple):
                value = item[1].decode("latin-1").split(":", 1)[-1].strip()
                out.append(value.strip("<>"))
        return out
