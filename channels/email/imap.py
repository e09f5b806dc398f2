# Over 400 lines: one IMAP connection's whole life (TLS modes, login, IDLE or polling, fetch, move, set aside) on one thread.
"""IMAP mailbox poller (imapclient): IDLE when offered, polling otherwise.

One connection, driven from a single worker thread (imapclient is blocking).
Per round: ``UID SEARCH UID last+1:*``, fetch the raw bytes with
``BODY.PEEK[]``, store each as a blob and ``accept`` it (durable), then
``UID MOVE`` the batch to ``processed`` and only then advance the cursor
(``UIDVALIDITY:last UID`` in the :class:`~channels.base.CursorStore`). A crash
between accept and move re-fetches the mail next time; ``accept`` sees the
same Message-ID and answers ``duplicate``, and the mail is moved then.
A mail that cannot be taken (no bytes, too large, not a mail) is flagged
``$LaporFailed``, moved to ``failed`` and reported to ``on_failed`` with the
reason. A lost connection is retried with exponential backoff and jitter.

TLS: ``ssl = True`` is implicit TLS (993); ``ssl = False`` connects in plain and
upgrades with ``STARTTLS`` whenever the server offers it, with the same verified
context (``tls_verify``, ``ca_file``). Without TLS the password goes only to a
loopback peer, unless ``allow_plaintext``. A configuration that cannot work (the
wrong TLS mode, a refused certificate, a password that would go in clear) raises
:class:`ImapSetupError`: one line saying what happened and what to set, logged
without a traceback; the mode mismatch is found only after a failure, by peeking
at what the server speaks (an ``* OK`` greeting, or a TLS handshake).
"""

from __future__ import annotations

import asyncio
import imaplib
import ipaddress
import logging
import re
import socket
import ssl as tls
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

from channels.base import Accept, BlobSink, CursorStore, OnFailed
from channels.email.complete import MailCompleter, raw_message
from channels.email.mime import Limits
from channels.email.scans import MailScans
from channels.email.scans import from_settings as scans_from_settings
from channels.message import ChannelError, InboundMessage, PeerUnavailable, Refused, Rejected
from channels.quiet import quiet_client_loggers
from channels.retry import Backoff

if TYPE_CHECKING:
    from gateway.settings import Settings

__all__ = ["ImapPoller", "ImapSetupError", "from_settings", "is_loopback"]

log = logging.getLogger(__name__)
T = TypeVar("T")

NETWORK_ERRORS = (imaplib.IMAP4.error, IMAPClientError, OSError, socket.timeout, EOFError, ConnectionError)
FAILED_FLAG = b"$LaporFailed"
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")  # RFC 5322 field name then ':'
# what may follow "* " in a server greeting (RFC 9051 7.1): the server speaks plain IMAP
_PLAIN_GREETINGS = (b"* OK", b"* PREAUTH", b"* BYE")

quiet_client_loggers()  # imapclient logs every command and response (mail bodies included) at DEBUG


class ImapSetupError(Refused):
    """The mailbox cannot work as configured; the message is one line naming the setting to change.

    A :class:`Refused`: at start-up it switches the poller off (said once, on ``/healthz`` too).
    """


def is_loopback(address: str) -> bool:
    """Is ``address`` (a peer IP, as ``getpeername`` gives it) a loopback address? No name resolution."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class ImapPoller:
    """``Poller`` and ``Completer`` for one IMAP folder."""

    name = "email.imap"

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        blobs: BlobSink,
        cursors: CursorStore,
        *,
        ssl: bool = True,
        folder: str = "INBOX",
        processed: str = "Processed",
        failed: str = "Failed",
        poll_seconds: float = 30.0,
        idle_seconds: float = 300.0,
        max_message_bytes: int = 25 * 1024 * 1024,
        limits: Limits | None = None,
        on_failed: OnFailed | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        batch: int = 50,
        idle_tick: float = 1.0,
        timeout: float = 30.0,
        greeting_timeout: float = 10.0,
        tls_verify: bool = True,
        ca_file: Path | str | None = None,
        allow_plaintext: bool = False,
        loopback: Callable[[str], bool] = is_loopback,
        scans: MailScans | None = None,
    ) -> None:
        self.host, self.port, self.ssl = host, port, ssl
        self.greeting_timeout = greeting_timeout
        self.tls_verify, self.ca_file, self.allow_plaintext = tls_verify, ca_file, allow_plaintext
        self._loopback = loopback
        self.username, self._password = username, password
        self.blobs, self.cursors = blobs, cursors
        self.folder, self.processed, self.failed = folder, processed, failed
        self.poll_seconds, self.idle_seconds = poll_seconds, idle_seconds
        self.max_message_bytes = max_message_bytes
        self.on_failed = on_failed
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.batch, self.idle_tick, self.timeout = batch, idle_tick, timeout
        self.account = f"{username}@{host}".lower()
        self.cursor_key = f"{self.name}:{self.account}:{folder}"
        self.completer = MailCompleter(blobs, limits, scans)
        self.connects = 0  # successful logins, for operators and tests
        self.idling = asyncio.Event()  # set while the server is in IDLE for us (tests wait on it)
        self._client: IMAPClient | None = None
        self._in_idle = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap")

    # -- plumbing ---------------------------------------------------------
    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: fn(*args))

    def _connect(self) -> tuple[IMAPClient, int]:
        client = self._open()
        try:
            client.login(self.username, self._password)
            for box in (self.processed, self.failed):
                if not client.folder_exists(box):
                    client.create_folder(box)
            info = client.select_folder(self.folder)
        except Exception:
            _quietly(client.logout)
            raise
        return client, int(info[b"UIDVALIDITY"])

    # -- TLS --------------------------------------------------------------
    @property
    def _where(self) -> str:
        return f"imap: the server at {self.host}:{self.port}"

    def _tls_context(self) -> tls.SSLContext:
        if not self.tls_verify:
            ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = tls.CERT_NONE
            return ctx
        try:
            return tls.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, tls.SSLError) as exc:
            raise ImapSetupError(
                f"imap: imap.ca_file {self.ca_file} cannot be used ({getattr(exc, 'strerror', None) or exc}):"
                " point it at the PEM file of the server's CA"
            ) from exc

    def _cert_refused(self, exc: tls.SSLCertVerificationError) -> ImapSetupError:
        why = exc.verify_message or exc.reason or "verification failed"
        return ImapSetupError(
            f"{self._where} presented a certificate that was not accepted ({why}):"
            " set imap.ca_file to its CA, or imap.tls_verify = false"
        )

    def _open(self) -> IMAPClient:
        """A connected, greeted client, TLS established (implicit or STARTTLS) unless plain is allowed."""
        context = self._tls_context()
        timeout = SocketTimeout(connect=min(self.timeout, self.greeting_timeout), read=self.timeout)
        try:
            client = IMAPClient(self.host, self.port, ssl=self.ssl, ssl_context=context if self.ssl else None,
                                timeout=timeout)  # fmt: skip
        except tls.SSLCertVerificationError as exc:
            raise self._cert_refused(exc) from exc
        except tls.SSLError as exc:
            if self.ssl and _greets_plain(self.host, self.port, self.greeting_timeout):
                raise ImapSetupError(
                    f"{self._where} speaks plain IMAP, not implicit TLS:"
                    " set imap.ssl = false (STARTTLS is used when offered)"
                ) from exc
            raise
        except (TimeoutError, ConnectionResetError, EOFError, imaplib.IMAP4.error) as exc:
            # no greeting (a TLS server waits for our hello) or a garbled one
            if not self.ssl and _handshakes(self.host, self.port, self.greeting_timeout):
                raise ImapSetupError(f"{self._where} speaks implicit TLS, not plain IMAP: set imap.ssl = true") from exc
            raise
        if self.ssl:
            return client
        try:
            if client.has_capability("STARTTLS"):
                client.starttls(context)
                return client
            peer = str(client.socket().getpeername()[0])
            if not (self.allow_plaintext or self._loopback(peer)):
                raise ImapSetupError(
                    f"{self._where}{'' if peer == self.host else f' ({peer})'} offers no STARTTLS and imap.ssl = false: refusing to send the"
                    " password in clear to a non-loopback host; set imap.ssl = true, or imap.allow_plaintext = true"
                )
        except tls.SSLCertVerificationError as exc:
            _quietly(client.shutdown)
            raise self._cert_refused(exc) from exc
        except BaseException:
            _quietly(client.shutdown)
            raise
        return client

    async def _close(self) -> None:
        client, self._client = self._client, None
        self.idling.clear()
        if client is not None:
            # a server in IDLE ignores LOGOUT until DONE: just drop the connection then
            await self._call(self._disconnect, client)

    # -- the loop ---------------------------------------------------------
    async def run(self, accept: Accept) -> None:
        attempt = 0
        told: tuple[str, int] | None = None  # the setup error last logged, and at which connect count
        try:
            while True:
                try:
                    await self._session(accept)
                except ImapSetupError as exc:
                    # a configuration the server cannot meet: retry slowly (the server may change); said once,
                    # not at every retry, and again only if a connection worked in between
                    (log.debug if told == (str(exc), self.connects) else log.error)("%s", exc)
                    told = (str(exc), self.connects)
                    await self._close()
                    await asyncio.sleep(self.backoff_max)
                except NETWORK_ERRORS as exc:
                    if self.connects and self._client is not None:
                        attempt = 0  # we were connected: this is a fresh outage
                    delay = Backoff(self.backoff_base, self.backoff_max, spread=0.2).delay(attempt)
                    attempt += 1
                    log.warning("imap %s: %s; reconnecting in %.1fs", self.host, type(exc).__name__, delay)
                    await self._close()
                    await asyncio.sleep(delay)
        finally:
            await asyncio.shield(self._close())

    async def _session(self, accept: Accept) -> None:
        self._client, uidvalidity = await self._call(self._connect)
        self.connects += 1
        client = self._client
        idle = client.has_capability("IDLE")
        log.info("imap %s: connected (%s)", self.host, "IDLE" if idle else f"polling every {self.poll_seconds}s")
        last = await self._last_uid(uidvalidity)
        while True:
            last = await self._drain(client, accept, uidvalidity, last)
            if idle:
                await self._idle(client)
            else:
                await asyncio.sleep(self.poll_seconds)
                await self._call(client.noop)

    async def _last_uid(self, uidvalidity: int) -> int:
        value = await self.cursors.get(self.cursor_key)
        if value:
            uv, _, uid = value.partition(":")
            if uv == str(uidvalidity) and uid.isdigit():
                return int(uid)
            log.warning("imap %s: UIDVALIDITY changed; rescanning the folder (duplicates are recognised)", self.host)
        return 0

    async def _idle(self, client: IMAPClient) -> None:
        await self._call(self._idle_start, client)
        self.idling.set()
        deadline = time.monotonic() + self.idle_seconds
        try:
            while time.monotonic() < deadline:
                responses = await self._call(client.idle_check, self.idle_tick)
                if any(r and r[0] == b"BYE" for r in responses):
                    raise ConnectionError("server said BYE")
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
        finally:
            self.idling.clear()
        await self._call(self._idle_done, client)

    # _in_idle changes only on the IMAP thread, in order with the commands, so a cancel never races it
    def _idle_start(self, client: IMAPClient) -> None:
        self._in_idle = True
        client.idle()

    def _idle_done(self, client: IMAPClient) -> None:
        client.idle_done()
        self._in_idle = False

    async def _drain(self, client: IMAPClient, accept: Accept, uidvalidity: int, last: int) -> int:
        uids = sorted(u for u in await self._call(client.search, ["UID", f"{last + 1}:*"]) if u > last)
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            sizes = await self._call(client.fetch, chunk, ["RFC822.SIZE"])
            good = [u for u in chunk if sizes.get(u, {}).get(b"RFC822.SIZE", 0) <= self.max_message_bytes]
            bodies = await self._call(client.fetch, good, ["BODY.PEEK[]"]) if good else {}
            taken: list[int] = []
            failed: dict[int, str] = {}
            for uid in chunk:
                if uid not in good:
                    failed[uid] = f"larger than {self.max_message_bytes} bytes"
                    continue
                raw = bodies.get(uid, {}).get(b"BODY[]")
                problem = _unusable(raw)
                if problem:
                    failed[uid] = problem
                    continue
                try:
                    msg = await asyncio.to_thread(
                        raw_message, self.name, self.account, raw, self.blobs, imap_uid=uid, uidvalidity=uidvalidity
                    )
                except Rejected as exc:
                    failed[uid] = exc.reason
                    continue
                await accept(msg)  # durable once it returns; raises → reconnect and retry, nothing moved
                taken.append(uid)
            if taken:
                await self._call(self._move, client, taken, self.processed)
            for uid, reason in failed.items():
                await self._fail(client, uidvalidity, uid, reason)
            last = max(last, *chunk)
            await self.cursors.set(self.cursor_key, f"{uidvalidity}:{last}")
        return last

    async def _fail(self, client: IMAPClient, uidvalidity: int, uid: int, reason: str) -> None:
        log.warning("imap %s: mail uid %d moved to %s: %s", self.host, uid, self.failed, reason)
        await self._call(_quietly, client.add_flags, [uid], [FAILED_FLAG])
        await self._call(self._move, client, [uid], self.failed)
        if self.on_failed is not None:
            await self.on_failed(f"{self.account}/{self.folder}/{uidvalidity}:{uid}", reason)

    def _disconnect(self, client: IMAPClient) -> None:
        _quietly(client.shutdown if self._in_idle else client.logout)
        self._in_idle = False

    @staticmethod
    def _move(client: IMAPClient, uids: list[int], folder: str) -> None:
        if client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        client.delete_messages(uids)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # -- optional protocols ----------------------------------------------
    async def check(self) -> str:
        def probe() -> str:
            client, _ = self._connect()
            try:
                waiting = len(client.search(["ALL"]))
                mode = "IDLE" if client.has_capability("IDLE") else "polling"
            finally:
                _quietly(client.logout)
            return f"imap {self.host}:{self.port} {self.folder}: {waiting} waiting, {mode}"

        # Refused (the poller is not started): the server rejected the login, or cannot work as configured
        # (ImapSetupError); anything else keeps the poller on, reconnecting, while the check is tried again
        try:
            return await self._call(probe)
        except LoginError as exc:
            if b"UNAVAILABLE" in str(exc).encode(errors="replace").upper():  # RFC 5530: try again later
                raise PeerUnavailable(f"imap {self.host}: login unavailable for now (LoginError)") from exc
            raise Refused(f"imap {self.host}: login refused (LoginError): check imap.username and imap.password") from exc
        except imaplib.IMAP4.abort as exc:
            raise PeerUnavailable(f"imap {self.host}:{self.port} dropped the connection ({type(exc).__name__})") from exc
        except imaplib.IMAP4.error as exc:
            raise ChannelError(f"imap {self.host}: login or folder refused ({type(exc).__name__})") from exc
        except (OSError, EOFError, IMAPClientError) as exc:
            raise PeerUnavailable(f"imap {self.host}:{self.port} unreachable ({type(exc).__name__})") from exc

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        return await self.completer.complete(msg)

    def is_heavy(self, msg: InboundMessage) -> bool:
        """Cheap, no MIME parse: see :meth:`MailCompleter.is_heavy`."""
        return self.completer.is_heavy(msg)


def _unusable(raw: bytes | None) -> str | None:
    if not raw:
        return "no message bytes returned by the server"
    if not _HEADER_LINE.match(raw.lstrip(b"\r\n")[:1000]):
        return "not an RFC 5322 message (no header section)"
    return None


def _greets_plain(host: str, port: int, timeout: float) -> bool:
    """Does the server greet in plain IMAP (``* OK``) on a fresh connection? Sends nothing."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return sock.recv(64).startswith(_PLAIN_GREETINGS)
    except OSError:
        return False


def _handshakes(host: str, port: int, timeout: float) -> bool:
    """Does the server complete a TLS handshake on a fresh connection? Unverified, sends no IMAP."""
    ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = tls.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock, ctx.wrap_socket(sock):
            return True
    except OSError:
        return False


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception as exc:
        log.debug("imap cleanup: %s", type(exc).__name__)


def from_settings(settings: Settings, blobs: BlobSink, cursors: CursorStore) -> ImapPoller | None:
    """None unless ``imap.host``, ``imap.username`` and ``imap.password`` are set."""
    s = settings.imap
    if not (s.host and s.username and s.password):
        return None
    return ImapPoller(
        s.host, s.port, s.username, s.password, blobs, cursors,
        ssl=s.ssl, folder=s.folder, processed=s.processed, failed=s.failed,
        poll_seconds=s.poll_seconds, idle_seconds=s.idle_seconds,
        tls_verify=s.tls_verify, ca_file=s.ca_file, allow_plaintext=s.allow_plaintext,
        max_message_bytes=settings.smtp.max_message_bytes,
        limits=Limits(max_attachments=settings.mail.max_attachments,
                      max_attachment_bytes=settings.mail.max_attachment_bytes),
        scans=scans_from_settings(settings, blobs),
    )  # fmt: skip
