"""A private, real Kannel (bearerbox + smsbox + fakesmsc) for SMS integration tests.

Topology (all on 127.0.0.1, ports picked free at start)::

    inject() ─fakesmsc -m 1─▶ smsc "fakemo" ─▶ bearerbox ─▶ smsbox ─HTTP GET/POST─▶ webhook
    gateway ─HTTP─▶ smsbox /cgi-bin/sendsms ─▶ bearerbox ─▶ smsc "fakemt" ─▶ fakesmsc (long-running)
                                                                   └─▶ STATE/fakesmsc-mt.log ─▶ mt_messages()

Kannel's fake SMSC serves one client at a time, hence two links: ``fakemo`` only
receives (``allowed-smsc-id`` names an id nobody uses, so no MT is routed there),
``fakemt`` is held by a fakesmsc that logs every MT it gets at DEBUG level.

Use it through the ``make_kannel`` fixture (register this module as a pytest
plugin, or import the fixture)::

    peer = make_kannel("http://127.0.0.1:8080/channels/sms/kannel")
    await peer.inject_async("6281234567890", "1708", "Jalan rusak di depan SDN 3")
    mt = await peer.wait_for_mt_async(lambda m: "PGD-" in m.text)

This module is longer than our usual 300 lines: process control, MO encoding
and MT log decoding make up one peer, and the encoding and decoding parts are
pure functions further down, tested without Kannel.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from tests.peers.ports import LOOPBACK, free_ports

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"  # from the kannel-extras package

WEBHOOK_QUERY = "from=%p&to=%P&text=%b&ts=%t&unixtime=%T&id=%I&smsc=%i&coding=%c&charset=%C&udh=%u"
STATUS_PASSWORD = "statuspass"
ADMIN_PASSWORD = "adminpass"

Coding = Literal["auto", "gsm", "ucs2", "raw"]

# urllib honours *_proxy variables; the peer is always local.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class KannelError(RuntimeError):
    """The Kannel peer did not start, or did not take an injected message."""


class _StartFailed(KannelError):
    """One start attempt failed (often a port taken meanwhile); retried with new ports."""


@dataclass(frozen=True)
class MT:
    """One mobile-terminated SMS as the "network" (fakesmsc on fakemt) received it.

    ``coding`` (0 text, 1 8-bit, 2 UCS-2, as far as the log tells) and ``parts``
    are informative and not part of equality, so ``MT("1708", to, text) in peer.mt_messages()`` works.
    """

    sender: str
    receiver: str
    text: str
    coding: int = field(default=0, compare=False)
    parts: int = field(default=1, compare=False)


@dataclass
class _Ports:
    admin: int
    box: int
    sendsms: int
    mo: int
    mt: int

    @classmethod
    def pick(cls) -> _Ports:
        return cls(*free_ports(5))


class KannelPeer:
    """bearerbox + smsbox + an MT-logging fakesmsc with their own config in ``state_dir``.

    Each MO goes to ``webhook_url`` with the query ``WEBHOOK_QUERY`` (``?`` or ``&``
    added as needed), by GET or by POST (body = message bytes, X-Kannel-* headers).
    The webhook's HTTP reply is never sent back as an SMS (``reply_max_messages=0``).
    ``http_retry``/``http_queue_delay`` make smsbox re-queue a failed webhook call,
    so a briefly down gateway loses nothing. ``log_level`` is Kannel's (0 debug ..
    4 panic); at 1 (info) smsbox still logs every webhook call and its outcome.
    """

    def __init__(
        self,
        state_dir: Path | str,
        webhook_url: str,
        *,
        method: Literal["get", "post"] = "get",
        http_retry: int = 3,
        http_queue_delay: int = 1,
        mo_recode: bool = False,
        reply_max_messages: int = 0,
        username: str = "tester",
        password: str = "foobar",
        sender: str = "1708",
        log_level: int = 1,
        start_timeout: float = 15.0,
    ) -> None:
        if method not in ("get", "post"):
            raise ValueError("method must be 'get' or 'post'")
        if '"' in webhook_url or "\n" in webhook_url:
            raise ValueError("webhook_url must not contain quotes or newlines")
        self.state_dir = Path(state_dir).resolve()
        self.webhook_url = webhook_url
        self.method = method
        self.http_retry = http_retry
        self.http_queue_delay = http_queue_delay
        self.mo_recode = mo_recode
        self.reply_max_messages = reply_max_messages
        self.username = username
        self.password = password
        self.sender = sender
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.ports = _Ports.pick()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._inject_lock = threading.Lock()
        self._udh_refs = itertools.count(random.randrange(256))

    # --- addresses the gateway and tests need --------------------------------

    @property
    def sendsms_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.sendsms}/cgi-bin/sendsms"

    @property
    def service_url(self) -> str:
        """The get-url / post-url pattern smsbox calls for every MO."""
        url = self.webhook_url
        sep = "" if url.endswith(("?", "&")) else ("&" if "?" in url else "?")
        return f"{url}{sep}{WEBHOOK_QUERY}"

    @property
    def mt_log(self) -> Path:
        return self.state_dir / "fakesmsc-mt.log"

    def settings_env(self) -> dict[str, str]:
        """``LAPOR_SMS__KANNEL__*`` variables pointing the gateway's receipts at this peer."""
        return {
            "LAPOR_SMS__KANNEL__SENDSMS_URL": self.sendsms_url,
            "LAPOR_SMS__KANNEL__USERNAME": self.username,
            "LAPOR_SMS__KANNEL__PASSWORD": self.password,
            "LAPOR_SMS__KANNEL__SENDER": self.sender,
        }

    # --- config -----------------------------------------------------------------

    def config(self) -> str:
        """kannel.conf for bearerbox and smsbox (one file, as Kannel expects)."""
        p, state = self.ports, self.state_dir
        service = f'get-url = "{self.service_url}"'
        if self.method == "post":
            service = f'post-url = "{self.service_url}"\nsend-sender = true'
        return f"""\
# generated by tests/peers/kannel.py
group = core
admin-port = {p.admin}
admin-interface = {LOOPBACK}
admin-password = {ADMIN_PASSWORD}
status-password = {STATUS_PASSWORD}
admin-allow-ip = "{LOOPBACK}"
smsbox-port = {p.box}
smsbox-interface = {LOOPBACK}
box-allow-ip = "{LOOPBACK}"
log-file = "{state}/bearerbox.log"
log-level = {self.log_level}
access-log = "{state}/access.log"
dlr-storage = internal
sms-combine-concatenated-mo = true

group = smsc
smsc = fake
smsc-id = fakemo
port = {p.mo}
our-host = {LOOPBACK}
connect-allow-ip = {LOOPBACK}
allowed-smsc-id = no-mt-on-this-link

group = smsc
smsc = fake
smsc-id = fakemt
port = {p.mt}
our-host = {LOOPBACK}
connect-allow-ip = {LOOPBACK}

group = smsbox
bearerbox-host = {LOOPBACK}
bearerbox-port = {p.box}
sendsms-port = {p.sendsms}
sendsms-interface = {LOOPBACK}
log-file = "{state}/smsbox.log"
log-level = {self.log_level}
access-log = "{state}/smsbox-access.log"
mo-recode = {"true" if self.mo_recode else "false"}
http-request-retry = {self.http_retry}
http-queue-delay = {self.http_queue_delay}

group = sms-service
keyword = default
catch-all = true
max-messages = {self.reply_max_messages}
omit-empty = true
concatenation = true
{service}

group = sendsms-user
username = {self.username}
password = {self.password}
default-smsc = fakemt
concatenation = true
max-messages = 10
user-allow-ip = "{LOOPBACK}"
"""

    # --- life cycle ------------------------------------------------------------

    def start(self, attempts: int = 3) -> KannelPeer:
        """Start all three processes; return once fakemt and smsbox are online.

        A start that fails (typically a port taken by someone else since we picked
        it) is stopped and retried with fresh ports.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return self
            except _StartFailed as exc:
                self.stop()
                if attempt == attempts:
                    raise KannelError(f"Kannel did not start in {self.state_dir}: {exc}") from None
                self.ports = _Ports.pick()
        raise AssertionError("unreachable")

    def _start_once(self) -> None:
        (self.state_dir / "kannel.conf").write_text(self.config())
        conf = str(self.state_dir / "kannel.conf")
        self._spawn("bearerbox", [BEARERBOX, conf])
        self._wait("bearerbox", "its status page", lambda: "Status: running" in self._status_or_empty())
        self._spawn("smsbox", [SMSBOX, conf])
        self._wait("smsbox", "attaching to bearerbox", lambda: _SMSBOX_ONLINE.search(self._status_or_empty()))
        # -m 0: send nothing, just log every MT received ("Got message N: <...>").
        # The never-sent message argument names the state dir, so `ps` tells instances apart.
        self._spawn(
            "fakesmsc-mt",
            [FAKESMSC, "-H", LOOPBACK, "-r", str(self.ports.mt), "-m", "0", f"0 0 text kannel-peer:{self.state_dir}"],
            log=self.mt_log,
        )
        self._wait("fakesmsc-mt", "link fakemt online", lambda: _FAKEMT_ONLINE.search(self._status_or_empty()))

    def _spawn(self, name: str, argv: list[str], log: Path | None = None) -> None:
        out = log or self.state_dir / f"{name}.stdout"
        with open(out, "wb") as sink:  # the child keeps its own descriptor
            self._procs[name] = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )

    def _wait(self, name: str, what: str, ready: Callable[[], object]) -> None:
        proc = self._procs[name]
        deadline = time.monotonic() + self.start_timeout
        while not ready():
            if proc.poll() is not None:
                raise _StartFailed(f"{name} exited ({proc.returncode}) while waiting for {what}{self._tail(name)}")
            if time.monotonic() > deadline:
                raise _StartFailed(f"timed out after {self.start_timeout:.0f}s waiting for {what}{self._tail(name)}")
            time.sleep(0.05)

    def _tail(self, name: str, lines: int = 8) -> str:
        """Last lines of a process's output: start-up logs only, no message traffic yet."""
        path = self.mt_log if name == "fakesmsc-mt" else self.state_dir / f"{name}.stdout"
        try:
            text = path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n  " + "\n  ".join(text) if text else ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop fakesmsc, smsbox, bearerbox (in that order) and reap them. Idempotent."""
        for name in ("fakesmsc-mt", "smsbox", "bearerbox"):
            proc = self._procs.pop(name, None)
            if proc is not None:
                _stop_group(proc, timeout)
        self._procs.clear()

    @property
    def running(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs.values())

    @property
    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self._procs.items()}

    def __enter__(self) -> KannelPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- status -------------------------------------------------------------------

    def status_text(self) -> str:
        """bearerbox's plain-text status page."""
        url = f"http://{LOOPBACK}:{self.ports.admin}/status.txt?password={STATUS_PASSWORD}"
        with _LOCAL.open(url, timeout=2) as resp:
            return resp.read().decode("utf-8", "replace")

    def _status_or_empty(self) -> str:
        try:
            return self.status_text()
        except OSError:
            return ""

    def mo_received(self) -> int:
        """SMS parts bearerbox has received on the fakemo link so far."""
        match = _FAKEMO_RCVD.search(self.status_text())
        if not match:
            raise KannelError("bearerbox status page has no fakemo link")
        return int(match.group(1))

    # --- MO: handset -> Kannel -> webhook -------------------------------------------

    def inject(
        self,
        sender: str,
        receiver: str,
        text: str,
        coding: Coding = "auto",
        *,
        split: bool = True,
        timeout: float = 10.0,
    ) -> int:
        """Deliver one MO SMS the way an SMSC would; return the number of parts sent.

        Returns once bearerbox counts every part as received on fakemo (the webhook
        call follows asynchronously). Thread-safe: calls are serialised, because
        the fake SMSC takes one client at a time and the count must be ours.
        """
        lines = fakesmsc_lines(sender, receiver, text, coding, split=split, ref=next(self._udh_refs) % 256)
        with self._inject_lock:
            before = self.mo_received()
            for count, line in enumerate(lines, start=1):
                self._send_one(line, before + count, timeout)
        return len(lines)

    async def inject_async(
        self,
        sender: str,
        receiver: str,
        text: str,
        coding: Coding = "auto",
        *,
        split: bool = True,
        timeout: float = 10.0,
    ) -> int:
        """``inject`` in a worker thread, so a webhook served by the same event loop keeps running."""
        return await asyncio.to_thread(self.inject, sender, receiver, text, coding, split=split, timeout=timeout)

    def _send_one(self, line: str, want: int, timeout: float) -> None:
        """Run one fakesmsc for one part; stop it once bearerbox has counted ``want`` parts."""
        log = self.state_dir / "inject.log"  # fakesmsc's own chatter, no message text
        argv = [FAKESMSC, "-H", LOOPBACK, "-r", str(self.ports.mo), "-m", "1", line]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            if not _read_until(proc, b"sent message 1", log):
                raise KannelError(f"fakesmsc did not send the part (exit {proc.poll()}); see {log}")
            self._wait_mo_count(want, timeout)
        finally:
            watchdog.cancel()
            _interrupt(proc)

    def _wait_mo_count(self, want: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (got := self.mo_received()) < want:
            if time.monotonic() > deadline:
                raise KannelError(f"bearerbox counted {got} MO parts on fakemo, expected {want}")
            time.sleep(0.01)

    # --- MT: gateway -> sendsms -> network -------------------------------------------

    def mt_messages(self) -> list[MT]:
        """Every complete MT received on fakemt since start, parts reassembled."""
        try:
            data = self.mt_log.read_bytes()
        except FileNotFoundError:
            return []
        return parse_mt_log(data.decode("utf-8", "replace"))

    def wait_for_mt(self, predicate: Callable[[MT], bool], timeout: float = 10.0) -> MT:
        """The first MT matching ``predicate``, polling the log until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.mt_messages()
            for mt in messages:
                if predicate(mt):
                    return mt
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching MT after {timeout:.0f}s ({len(messages)} MT received)")
            time.sleep(0.05)

    async def wait_for_mt_async(self, predicate: Callable[[MT], bool], timeout: float = 10.0) -> MT:
        """``wait_for_mt`` without blocking the event loop (the gateway may live in it)."""
        return await asyncio.to_thread(self.wait_for_mt, predicate, timeout)


_SMSBOX_ONLINE = re.compile(r"smsbox:.*on-line")
_FAKEMT_ONLINE = re.compile(r"fakemt\[fakemt\].*\(online")
_FAKEMO_RCVD = re.compile(r"fakemo\[fakemo\].*?rcvd: sms (\d+)")


def _read_until(proc: subprocess.Popen[bytes], marker: bytes, log: Path) -> bool:
    """Copy ``proc``'s output to ``log`` until a line holds ``marker`` (True) or output ends (False)."""
    assert proc.stdout is not None
    with open(log, "ab") as keep:
        for out in proc.stdout:
            keep.write(out)
            if marker in out:
                return True
    return False


def _interrupt(proc: subprocess.Popen[bytes], tries: int = 20) -> None:
    """SIGINT fakesmsc until it exits, then reap it (SIGKILL as a last resort).

    fakesmsc checks its SIGINT flag only when its poll() returns, so a signal that
    lands just before the poll is missed until the link wakes it; hence repeated.
    """
    for _ in range(tries):
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    else:
        proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _stop_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group, SIGKILL after ``timeout``, and reap the leader."""
    pgid = proc.pid  # start_new_session: the child leads its own group
    if proc.poll() is None:
        _killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _killpg(pgid, signal.SIGKILL)
            proc.wait()
    _killpg(pgid, signal.SIGKILL)  # anything the leader left behind in its group


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# --- MO encoding: what a handset would send, as fakesmsc message lines ----------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€")  # two septets each (escape + char)
SINGLE_SMS_SEPTETS = 160
PART_SEPTETS = 153  # 160 minus the 6-octet concatenation UDH (7 septets)


def is_gsm7(text: str) -> bool:
    """True when a handset would send ``text`` as GSM 7-bit (no newline: fakesmsc lines can't carry one)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) and "\n" not in text and "\r" not in text


def split_gsm7(text: str) -> list[str]:
    """Split into parts of at most 153 septets, as handsets do above 160 septets."""
    cost = [2 if c in GSM7_EXTENSION else 1 for c in text]
    if sum(cost) <= SINGLE_SMS_SEPTETS:
        return [text]
    parts, current, used = [], "", 0
    for char, septets in zip(text, cost, strict=True):
        if used + septets > PART_SEPTETS:
            parts.append(current)
            current, used = "", 0
        current += char
        used += septets
    parts.append(current)
    return parts


def fakesmsc_lines(
    sender: str, receiver: str, text: str, coding: Coding = "auto", *, split: bool = True, ref: int = 0
) -> list[str]:
    """fakesmsc message arguments (``"sender receiver type [udh] data"``), one per SMS part.

    - ``gsm``: type ``text``; above 160 septets ``udh-text`` parts with an 8-bit-reference
      concatenation UDH, which bearerbox reassembles (``sms-combine-concatenated-mo``).
    - ``ucs2``: ONE ``ucs2`` part even when long: this fakesmsc cannot mark UDH parts
      as UCS-2, and one part is what bearerbox hands on after reassembling real ones.
    - ``raw``: the UTF-8 bytes in one 7-bit ``text`` part, as some aggregators do.
    - ``auto``: ``gsm`` when every char is in the GSM 7-bit alphabet and there is no newline, else ``ucs2``.
    """
    for number in (sender, receiver):
        if not number or any(c.isspace() for c in number):
            raise ValueError("sender and receiver must be non-empty and without whitespace")
    if coding == "auto":
        coding = "gsm" if is_gsm7(text) else "ucs2"
    head = f"{sender} {receiver}"
    if coding == "ucs2":
        return [f"{head} ucs2 {_quote(text.encode('utf-16-be'))}"]
    if coding not in ("gsm", "raw"):
        raise ValueError(f"unknown coding {coding!r}")
    if "\n" in text or "\r" in text:
        raise ValueError("a 7-bit fakesmsc message cannot contain a newline; use coding='ucs2'")
    parts = split_gsm7(text) if coding == "gsm" and split else [text]
    if len(parts) == 1:
        return [f"{head} text {text}"]
    if len(parts) > 255:
        raise ValueError("too many parts for one concatenated SMS")
    return [
        f"{head} udh-text {_quote(bytes([5, 0, 3, ref, len(parts), seq]))} {part}"
        for seq, part in enumerate(parts, start=1)
    ]


def _quote(data: bytes) -> str:
    return urllib.parse.quote_from_bytes(data, safe="")


# --- MT decoding: fakesmsc's "Got message N: <...>" log lines ------------------------------

_GOT = re.compile(r"Got message \d+: <(.*)>$", re.S)
_HEAD = re.compile(r"^(\S+) (\S+) (text|data|ucs-2|ucs2|udh) (.*)$", re.S)


def parse_mt_log(log: str) -> list[MT]:
    """Decode fakesmsc's MT log into messages, in arrival order.

    ``text`` lines are literal; ``data``, ``ucs-2`` and ``udh … data …`` payloads are
    url-encoded. Concatenated parts are joined by UDH reference before decoding (a
    UCS-2 part may end inside a surrogate pair). A 7-bit MT with a newline reaches
    fakesmsc as two lines; a line that is not ``SENDER RECEIVER TYPE …`` is glued
    back onto the previous 7-bit message. Incomplete concatenations are left out.
    """
    messages: list[MT | None] = []
    pending: dict[tuple[str, str, int, int], tuple[int, dict[int, bytes]]] = {}
    for line in log.splitlines():
        got = _GOT.search(line)
        if not got:
            continue
        body = got.group(1)
        head = _HEAD.match(body)
        if not head:
            last = messages[-1] if messages else None
            if last is not None and last.coding == 0:
                messages[-1] = MT(last.sender, last.receiver, f"{last.text}\n{body}", 0, last.parts)
            continue
        sender, receiver, kind, rest = head.groups()
        if kind == "text":
            messages.append(MT(sender, receiver, rest, 0))
        elif kind == "data":
            messages.append(MT(sender, receiver, *_decode_payload(_unquote(rest))))
        elif kind in ("ucs-2", "ucs2"):
            messages.append(MT(sender, receiver, _unquote(rest).decode("utf-16-be", "replace"), 2))
        else:
            udh_field, _, payload = rest.partition(" data ")
            concat = _concat_info(_unquote(udh_field))
            data = _unquote(payload)
            if concat is None:
                messages.append(MT(sender, receiver, *_decode_payload(data)))
                continue
            ref, total, seq = concat
            key = (sender, receiver, ref, total)
            if key not in pending:
                messages.append(None)  # keeps the arrival order of the first part
                pending[key] = (len(messages) - 1, {})
            index, parts = pending[key]
            parts[seq] = data
            if len(parts) == total:
                joined = b"".join(parts[k] for k in sorted(parts))
                text, coding = _decode_payload(joined)
                messages[index] = MT(sender, receiver, text, coding, total)
                del pending[key]
    return [m for m in messages if m is not None]


def _unquote(value: str) -> bytes:
    return urllib.parse.unquote_to_bytes(value.replace("+", " "))


def _concat_info(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from a UDH's concatenation element (IEI 0 or 8), if any."""
    i = 1  # udh[0] is the UDH length
    while i + 1 < len(udh):
        iei, length = udh[i], udh[i + 1]
        value = udh[i + 2 : i + 2 + length]
        if iei == 0 and length == 3:
            return value[0], value[1], value[2]
        if iei == 8 and length == 4:
            return value[0] << 8 | value[1], value[2], value[3]
        i += 2 + length
    return None


def _decode_payload(data: bytes) -> tuple[str, int]:
    """Text and likely coding of a payload whose coding the log does not state.

    fakesmsc logs 7-bit parts as UTF-8 and UCS-2 parts as UTF-16BE, both under
    ``data``. NUL bytes only occur in UTF-16BE here; otherwise valid UTF-8 wins.
    """
    if len(data) % 2 == 0 and b"\x00" in data:
        return data.decode("utf-16-be", "replace"), 2
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    if len(data) % 2 == 0:
        return data.decode("utf-16-be", "replace"), 2
    return data.decode("latin-1"), 1


# --- pytest fixtures ------------------------------------------------------------------------


def require_kannel() -> None:
    """Skip when Kannel is not installed; fail instead on CI, where it must be."""
    missing = [path for path in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(path, os.X_OK)]
    if not missing:
        return
    reason = f"Kannel peer not available ({', '.join(missing)} missing); apt-get install kannel kannel-extras"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def short_state_dir(factory: pytest.TempPathFactory, name: str = "kannel") -> Path:
    """A fresh directory directly under pytest's base temp (short path), world-traversable.

    Peers that drop privileges need every parent directory searchable; pytest
    makes its directories 0700, so add the search bit (not read) up to /tmp.
    """
    path = factory.mktemp(name)
    path.chmod(0o755)
    for parent in path.parents:
        if parent == Path(parent.anchor) or parent == Path("/tmp"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)
    return path


@pytest.fixture
def make_kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., KannelPeer]]:
    """Factory fixture: ``make_kannel(webhook_url, **KannelPeer options)`` starts a peer.

    Every peer made is stopped (and its processes reaped) when the test ends.
    """
    require_kannel()
    peers: list[KannelPeer] = []

    def make(webhook_url: str, **options: object) -> KannelPeer:
        peer = KannelPeer(short_state_dir(tmp_path_factory), webhook_url, **options)  # type: ignore[arg-type]
        peers.append(peer)
        return peer.start()

    yield make
    for peer in reversed(peers):
        peer.stop()
