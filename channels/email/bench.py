"""``lapor-gateway bench smtp``: durable SMTP intake against an aiosmtpd handler that does nothing.

:func:`run_smtp_bench` (what the CLI runs) measures, in one run and with the same
load, (1) a do-nothing aiosmtpd handler served by the same
:class:`~channels.email.smtp.SmtpListener` in its own process
(``python -m channels.email.bench noop PORT``) and (2) the real gateway,
``lapor-gateway run`` as a subprocess on a temporary data dir with free ports,
SMTP domains set and the embedded central store, whose 250 comes only after the
raw mail is a durable blob and a journal row. The load: ``clients`` threads, each
with one persistent smtplib session sending MAIL, RCPT, DATA in a loop; messages
answered in the measuring window count (a warm-up second before it does not).
It also reports how long the whole pipeline (parse, normalise, forward to the
central store; receipts go to the no-op server) needs to catch up. The goal:
≥ 1,000 msg/s accepted durably.

:func:`bench_smtp` is the in-process variant (both handlers on the caller's loop).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channels.base import Accept, BlobSink
from channels.email.smtp import IntakeHandler, SmtpListener

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["BenchResult", "LoadResult", "bench_smtp", "run_smtp_bench", "smtp_load"]

DOMAIN = "bench.invalid"
REPO = Path(__file__).resolve().parents[2]
GOAL_PER_S = 1000.0


@dataclass
class BenchResult:
    messages: int
    clients: int
    baseline_per_s: float
    durable_per_s: float

    @property
    def ratio(self) -> float:
        return self.durable_per_s / self.baseline_per_s if self.baseline_per_s else 0.0


class _NoopHandler:
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


async def _client(port: int, count: int, offset: int, run: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("server closed")
            if line[3:4] != b"-":
                if line[:1] not in (b"2", b"3"):
                    raise RuntimeError(f"unexpected reply {line[:60]!r}")
                return line

    await reply()
    writer.write(b"EHLO bench\r\n")
    await reply()
    for i in range(offset, offset + count):
        body = (
            f"Message-ID: <{run}.{i}@{DOMAIN}>\r\nFrom: w{i}@{DOMAIN}\r\nSubject: Uji beban {i}\r\n\r\n"
            f"Lampu jalan mati di RT {i % 20}, mohon diperbaiki.\r\n.\r\n"
        ).encode()
        for cmd in (
            f"MAIL FROM:<w{i}@{DOMAIN}>\r\n".encode(),
            f"RCPT TO:<pengaduan@{DOMAIN}>\r\n".encode(),
            b"DATA\r\n",
        ):
            writer.write(cmd)
            await reply()
        writer.write(body)
        await reply()
    writer.write(b"QUIT\r\n")
    with contextlib.suppress(Exception):
        await reply()
    writer.close()


async def _measure(handler: Any, blobs: BlobSink, messages: int, clients: int, run: str) -> float:
    listener = SmtpListener("127.0.0.1", 0, [DOMAIN], blobs)
    task = asyncio.create_task(listener.serve(handler))
    await listener.started.wait()
    assert listener.bound_port is not None
    share = messages // clients
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(listener.bound_port, share, k * share, run) for k in range(clients)))
    elapsed = time.perf_counter() - t0
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return share * clients / elapsed


async def bench_smtp(accept: Accept, blobs: BlobSink, messages: int = 4000, clients: int = 16) -> BenchResult:
    """Messages/s with a no-op handler, then with the real intake (blob + durable ``accept`` before 250)."""
    run = f"{time.time_ns()}"
    baseline = await _measure(_NoopHandler(), blobs, messages, clients, run + ".noop")
    durable = await _measure(IntakeHandler([DOMAIN], accept, blobs), blobs, messages, clients, run)
    return BenchResult(messages, clients, baseline, durable)


# --- lapor-gateway bench smtp: two servers in their own processes, the same threaded smtplib load ----------


@dataclass
class LoadResult:
    per_s: float
    messages: int  # answered 250 inside the measuring window
    total: int  # answered 250 in all (warm-up included)
    errors: int
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _bench_mail(run: str, k: int, i: int) -> tuple[str, bytes]:
    sender = f"w{k}.{i}@{DOMAIN}"
    raw = (
        f"Message-ID: <{run}.{k}.{i}@{DOMAIN}>\r\nFrom: Warga {k} <{sender}>\r\nTo: pengaduan@{DOMAIN}\r\n"
        f"Subject: Uji beban {k}-{i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Lampu jalan mati di RT {i % 20:02d} RW {k % 9:02d} sejak minggu lalu, mohon diperbaiki.\r\n"
    ).encode()
    return sender, raw


def smtp_load(port: int, duration: float, clients: int, run: str, warmup: float = 1.0) -> LoadResult:
    """``clients`` threads, one persistent smtplib session each, sending until ``warmup + duration`` is over."""
    start = time.perf_counter()
    window = (start + warmup, start + warmup + duration)
    done: list[list[tuple[float, float]]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(k: int) -> None:
        i = 0
        s: smtplib.SMTP | None = None
        while time.perf_counter() < window[1]:
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
                    s.ehlo("bench")
                sender, raw = _bench_mail(run, k, i)
                t0 = time.perf_counter()
                s.sendmail(sender, [f"pengaduan@{DOMAIN}"], raw)
                t1 = time.perf_counter()
                done[k].append((t1, t1 - t0))
            except (smtplib.SMTPException, OSError):
                errors[k] += 1
                with contextlib.suppress(Exception):
                    if s is not None:
                        s.close()
                s = None
            i += 1
        if s is not None:
            with contextlib.suppress(Exception):
                s.quit()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(warmup + duration + 60)
    inside = [(t, d) for per in done for (t, d) in per if window[0] <= t < window[1]]
    return LoadResult(
        per_s=len(inside) / duration,
        messages=len(inside),
        total=sum(len(per) for per in done),
        errors=sum(errors),
        latencies_ms=[d * 1000 for _, d in inside],
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_smtp(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered SMTP on port {port}")


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _gauges(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return {m[0]: int(m[1]) for m in re.findall(r"^(lapor_\w+\{[^}]*\}) (\d+)$", text, re.M)}


def _state_total(gauges: dict[str, int], table: str, states: tuple[str, ...] | None = None) -> int:
    out = 0
    for key, n in gauges.items():
        m = re.match(rf'lapor_{table}\{{state="([^"]*)"\}}', key)
        if m and (states is None or m.group(1) in states):
            out += n
    return out


def _stop(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def run_smtp_bench(console: Console | None = None, duration: float = 10.0, clients: int = 16) -> dict[str, float]:
    """The no-op aiosmtpd handler, then ``lapor-gateway run``'s SMTP listener, under the same load; prints a table."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    work = Path(tempfile.mkdtemp(prefix="lapor-bench-smtp-"))
    noop_port, smtp_port, http_port, central_port = (_free_port() for _ in range(4))
    run = f"{time.time_ns():x}"
    noop = subprocess.Popen([sys.executable, "-m", "channels.email.bench", "noop", str(noop_port)], cwd=REPO,
                            start_new_session=True)  # fmt: skip
    gw: subprocess.Popen[bytes] | None = None
    try:
        _wait_smtp(noop_port, noop)
        console.print(f"[bold]baseline[/]: aiosmtpd no-op handler, {clients} smtplib clients, {duration:.0f}s")
        base = smtp_load(noop_port, duration, clients, run + "n")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")},
            "LAPOR_DATA__DIR": str(work / "data"),
            "LAPOR_HTTP__PORT": str(http_port),
            "LAPOR_CENTRAL__PORT": str(central_port),
            "LAPOR_CENTRAL__URL": f"http://127.0.0.1:{central_port}",
            "LAPOR_SMTP__PORT": str(smtp_port),
            "LAPOR_SMTP__DOMAINS": f'["{DOMAIN}"]',
            "LAPOR_MAIL__OUTBOUND_HOST": "127.0.0.1",  # receipts go to the no-op server, as to a real relay
            "LAPOR_MAIL__OUTBOUND_PORT": str(noop_port),
            "LAPOR_CENTRAL__HMAC_KEY": secrets.token_urlsafe(24),
            "LAPOR_CENTRAL__API_TOKEN": secrets.token_urlsafe(24),
            "LAPOR_PRIVACY__REPORTER_HMAC_KEY": secrets.token_urlsafe(24),
            "LAPOR_PRIVACY__VAULT_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "LAPOR_LOG__LEVEL": "WARNING",
        }
        gw = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], cwd=REPO, env=env,
                              start_new_session=True)  # fmt: skip
        url = f"http://127.0.0.1:{http_port}"
        _wait_http(url + "/healthz", gw)
        _wait_smtp(smtp_port, gw)
        console.print("[bold]gateway[/]: lapor-gateway run, SMTP 250 after blob fsync + journal group commit")
        t0 = time.monotonic()
        res = smtp_load(smtp_port, duration, clients, run + "g")
        t_load = time.monotonic() - t0
        journaled = _state_total(_gauges(url), "inbound")
        forwarded = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            forwarded = _state_total(_gauges(url), "complaints", ("forwarded",))
            if forwarded >= res.total:
                break
            time.sleep(0.25)
        t_e2e = time.monotonic() - t0
    finally:
        if gw is not None:
            _stop(gw)
        _stop(noop)
        shutil.rmtree(work, ignore_errors=True)

    ratio = res.per_s / base.per_s if base.per_s else 0.0
    figures = {
        "noop_per_s": base.per_s,
        "gateway_per_s": res.per_s,
        "ratio": ratio,
        "noop_p99_ms": base.pct(99),
        "gateway_p50_ms": res.pct(50),
        "gateway_p99_ms": res.pct(99),
        "errors": float(res.errors + base.errors),
        "accepted": float(res.total),
        "journaled": float(journaled),
        "forwarded": float(forwarded),
        "e2e_per_s": forwarded / t_e2e if t_e2e else 0.0,
        "load_seconds": t_load,
    }
    table = Table(title=f"bench smtp (same run, same load: {clients} smtplib clients, persistent sessions)")
    for col in ("what", "value", "goal"):
        table.add_column(col)
    table.add_row("no-op aiosmtpd handler msg/s", f"{base.per_s:,.0f}", "baseline")
    table.add_row("gateway durable intake msg/s", f"{res.per_s:,.0f}", f">= {GOAL_PER_S:,.0f}")
    table.add_row("ratio gateway / no-op", f"{ratio:.2f}", "")
    table.add_row("gateway p50 / p99 per mail", f"{res.pct(50):.2f} ms / {res.pct(99):.2f} ms",
                  f"no-op p99 {base.pct(99):.2f} ms")  # fmt: skip
    table.add_row("refused or failed sessions", f"{res.errors} (no-op {base.errors})", "0")
    table.add_row("accepted (250) / journaled", f"{res.total} / {journaled}", "equal")
    table.add_row("end to end (250 → central store)", f"{figures['e2e_per_s']:,.0f} complaints/s "
                  f"({forwarded}/{res.total} in {t_e2e:.1f}s)", "")  # fmt: skip
    verdict = "[green]met[/]" if res.per_s >= GOAL_PER_S else "[red]not met[/]"
    table.add_row("goal >= 1,000 msg/s durable", verdict, "")
    console.print(table)
    return figures


def _serve_noop(port: int) -> None:
    """``python -m channels.email.bench noop PORT``: the baseline server (same listener, handler does nothing)."""
    try:
        import uvloop

        uvloop.install()  # the gateway runs on uvloop too
    except ImportError:
        pass

    class _NoBlobs:
        def put(self, data: bytes, media_type: str, filename: str | None = None) -> Any:
            raise NotImplementedError

        def get(self, sha256: str) -> bytes:
            raise NotImplementedError

    async def main() -> None:
        listener = SmtpListener("127.0.0.1", port, [DOMAIN], _NoBlobs())
        await listener.serve(_NoopHandler())

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "noop":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        _serve_noop(int(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m channels.email.bench noop PORT")
