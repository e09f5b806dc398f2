"""The SMTP side of ``lapor-gateway bench smtp`` (run by :mod:`gateway.bench`).

:func:`smtp_load` is the load: ``clients`` threads, each with one persistent
smtplib session sending MAIL, RCPT, DATA in a loop; messages answered in the
measuring window count (a warm-up second before it does not). The baseline is a
do-nothing handler served by the same :class:`~channels.email.smtp.SmtpListener`
in its own process (``python -m gateway.bench.smtp noop PORT``).

:func:`bench_smtp` is the in-process variant (both handlers on the caller's loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from channels.base import Accept, BlobSink
from channels.email.smtp import IntakeHandler, SmtpListener

__all__ = ["DOMAIN", "BenchResult", "LoadResult", "bench_smtp", "smtp_load", "wait_smtp"]

DOMAIN = "bench.invalid"


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


def wait_smtp(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
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


def _serve_noop(port: int) -> None:
    """``python -m gateway.bench.smtp noop PORT``: the baseline server (same listener, handler does nothing)."""
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
        raise SystemExit("usage: python -m gateway.bench.smtp noop PORT")
