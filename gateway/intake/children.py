"""Child processes of ``lapor-gateway run``: the worker, delivery, the embedded central store, the console.

Why processes and not tasks: one Python process is one core. The intake
process answers webhooks and journals them; the worker normalises; delivery
forwards and sends receipts. Those two and the embedded reference store run at
the lowest priority (:data:`BACKGROUND_NICE`). They share only the SQLite journal
(WAL, one writer at a time) and wake-up pipes: intake → worker, worker and
intake → delivery.
Children die with their parent (PR_SET_PDEATHSIG), also on kill -9.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PR_SET_PDEATHSIG = 1
# The worker, delivery and the embedded store run at the lowest priority: what they do can wait (the
# journal holds it), the acknowledgement a caller waits on cannot. The kernel still gives them every cycle
# intake leaves idle, so they drain at full speed once a burst ends. At nice 5 they took a third of the
# intake's core share during a burst (acknowledgements 0.27 of the no-op, p99 19 ms); at 19 intake keeps
# its core (0.37, p99 13 ms) and nothing stalls: intake is one thread of Python and leaves a core to them.
BACKGROUND_NICE = 19


def _die_with_parent(nice: int) -> None:
    # Ctrl-C reaches the whole process group: a child still importing would die of it with a traceback.
    # Ignored until the child sets its own handler; the parent stops its children with SIGTERM anyway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if nice:
        os.nice(nice)


class Child:
    """A child process of the gateway, restarted by :meth:`ensure_running` when it dies."""

    def __init__(self, name: str, args: list[str], *, nice: int = 0, pass_fds: tuple[int, ...] = ()) -> None:
        self.name = name
        self.args = args
        self.nice = nice
        self.pass_fds = pass_fds
        self.restarts = 0
        self.proc = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        nice = self.nice
        # the parent's folder, so a relative data.dir (or any relative path in the settings) means the same
        # to every process; the repository on the import path, so a checkout that is not installed runs too
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        return subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *self.args],
            cwd=os.getcwd(),
            env=env,
            pass_fds=self.pass_fds,
            preexec_fn=lambda: _die_with_parent(nice),
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ensure_running(self) -> int | None:
        """Start it again if it died; returns the exit code it died with (None when it was running)."""
        code = self.proc.poll()
        if code is None:
            return None
        self.restarts += 1
        self.proc = self._spawn()
        return code

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def wait_http(url: str, proc: subprocess.Popen[bytes], name: str, timeout: float = 30.0) -> None:
    """Until ``url`` answers (any HTTP status), or raise when ``proc`` died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer on {url}")


def child_pid(parent: int, role: str) -> int:
    """The pid of the gateway's child process running ``role`` (worker, central)."""
    for kid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        if role.encode() in Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0"):
            return int(kid)
    raise RuntimeError(f"no {role} child under {parent}")
