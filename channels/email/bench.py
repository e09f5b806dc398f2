"""``lapor-gateway bench smtp``: durable SMTP intake against an aiosmtpd handler that does nothing.

Both runs use the same :class:`~channels.email.smtp.SmtpListener` and the same
client: ``clients`` concurrent connections, each sending its share of
``messages`` sequentially (MAIL, RCPT, DATA) over one session. The ratio is
what the goal (≥ 1,000 msg/s accepted, 250 only once durable) is judged by.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

from channels.base import Accept, BlobSink
from channels.email.smtp import IntakeHandler, SmtpListener

__all__ = ["BenchResult", "bench_smtp"]

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
