"""Run the real gateway (``lapor-gateway run``) as a child process for integration tests.

A separate process so tests can SIGKILL it mid-load and restart it on the same
data directory; its stderr/log file are kept for the privacy canaries.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.peers.ports import free_port

REPO = Path(__file__).resolve().parent.parent


def gateway_secrets() -> dict[str, str]:
    return {
        "LAPOR_CENTRAL__HMAC_KEY": secrets.token_urlsafe(24),
        "LAPOR_CENTRAL__API_TOKEN": secrets.token_urlsafe(24),
        "LAPOR_PRIVACY__REPORTER_HMAC_KEY": secrets.token_urlsafe(24),
        "LAPOR_PRIVACY__VAULT_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


class GatewayProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.http_port = int((env or {}).get("LAPOR_HTTP__PORT") or free_port())
        self.central_port = free_port()
        self.smtp_port = free_port()
        self.console_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")},
            **gateway_secrets(),
            "LAPOR_DATA__DIR": str(data_dir),
            "LAPOR_HTTP__PORT": str(self.http_port),
            "LAPOR_CENTRAL__PORT": str(self.central_port),
            "LAPOR_CENTRAL__URL": f"http://127.0.0.1:{self.central_port}",
            "LAPOR_SMTP__PORT": str(self.smtp_port),
            "LAPOR_CONSOLE__PORT": str(self.console_port),
            # argon2id at its cheapest (1 pass, 8 KiB): the same code as the secure default, a hash in microseconds
            "LAPOR_CONSOLE__PASSWORD_TIME_COST": "1",
            "LAPOR_CONSOLE__PASSWORD_MEMORY_COST": "8",
            "LAPOR_CONSOLE__PASSWORD_PARALLELISM": "1",
            "LAPOR_FORWARDER__BACKOFF_BASE_SECONDS": "0.2",
            "LAPOR_FORWARDER__BACKOFF_MAX_SECONDS": "2",
            "LAPOR_LOG__LEVEL": "DEBUG",
            "OMP_THREAD_LIMIT": "1",
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = data_dir / "stderr.log"
        self.runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def central_url(self) -> str:
        return self.env["LAPOR_CENTRAL__URL"]

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.runs += 1
        err = open(self.stderr_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run"], cwd=REPO, env=self.env, stdout=err, stderr=err,
            start_new_session=True,
        )
        err.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.stderr_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gateway did not come up:\n{self.stderr_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            # each child has 20 s to stop gracefully, one after the other: on a loaded CI machine the whole
            # gateway may need more than one child's share
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            alive = _group_cmdlines(self.proc.pid)
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
            raise AssertionError(f"gateway did not stop within 60 s of SIGTERM; still running: {alive}") from None

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def log_text(self) -> str:
        log = self.data_dir / "gateway.log"
        return self.stderr_text() + (log.read_text(errors="replace") if log.exists() else "")

    def healthz(self) -> tuple[int, dict[str, Any]]:
        """``GET /healthz``: its status code and body (503 answers carry the problems too)."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args], cwd=REPO, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )

    # --- the central store, as a test reads it --------------------------------------------
    def central_get(self, path: str) -> Any:
        req = urllib.request.Request(
            self.central_url + path, headers={"Authorization": f"Bearer {self.env['LAPOR_CENTRAL__API_TOKEN']}"}
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def central_records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            q = "/v1/complaints?limit=500" + (f"&cursor={cursor}" if cursor else "")
            page = self.central_get(q)
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def wait_until(predicate: Any, timeout: float = 20.0, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the peer may still be starting
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


@contextmanager
def running_gateway(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(data_dir, env)
    gw.start()
    try:
        yield gw
    finally:
        if gw.proc is not None and gw.proc.poll() is None:
            gw.stop()


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[GatewayProcess] = []

    def make(env: dict[str, str] | None = None, name: str = "gw") -> GatewayProcess:
        gw = GatewayProcess(tmp_path / name, env)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        if gw.proc is not None and gw.proc.poll() is None:
            with suppress(AssertionError):
                gw.stop()


def _group_cmdlines(pgid: int) -> list[str]:
    """What is still running in the gateway's process group (for a failure message)."""
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                if os.getpgid(int(proc.name)) == pgid:
                    out.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120])
    return out
