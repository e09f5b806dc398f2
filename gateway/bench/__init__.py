"""``lapor-gateway bench``: throughput as ratios against a baseline measured in the same run.

Each benchmark measures a do-nothing server first and then ``lapor-gateway run``
(started here on a temporary data dir with free ports and fresh secrets) under
the same load, then waits until every accepted message is acknowledged by the
reference central store (and, for sms, its receipt sent), for the end-to-end rate.

- ``sms``: wrk, 64 connections, Kannel-shaped GETs with unique ids, against an
  aiohttp no-op handler and the durable Kannel webhook.
- ``smtp``: persistent smtplib sessions against a do-nothing aiosmtpd handler
  and the gateway's SMTP listener (250 only once journaled).
- ``ocr``: the letters pipeline against plain ``tesseract IMAGE - -l ind``.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from gateway.intake.children import child_pid, wait_http

REPO = Path(__file__).resolve().parents[2]
SMS_PATH = "/channels/sms/kannel"
WRK_SCRIPT = r"""
local counter = 0
local texts = {"Jalan rusak parah di depan SDN 3 Cibeureum, sdh 3 bln tdk diperbaiki",
               "Lampu PJU mati di Jl. Merdeka sejak 2 minggu",
               "Sampah menumpuk di pasar Kosambi, bau sekali"}
function setup(thread) thread:set("tid", tostring(math.random(1, 1e9))) end
function request()
  counter = counter + 1
  local text = texts[(counter % 3) + 1]:gsub(" ", "+")
  local path = "@PATH@?from=62812" .. string.format("%08d", counter % 100000000) .. "&to=1708&text=" .. text ..
     "+" .. counter .. "&ts=2026-11-25+10:00:00&unixtime=1795600000&id=" .. tid .. "-" .. counter ..
     "&smsc=fakemo&coding=0&charset=UTF-8&udh="
  return wrk.format("GET", path)
end
"""


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def run_wrk(url: str, duration: float, connections: int, script: Path) -> WrkResult:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(duration)}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s))", out, re.M))
    reqs = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    err = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(err.group(1)) if err else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return WrkResult(rps, _ms(lat["50"]), _ms(lat["99"]), reqs, errors)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def gauges(url: str) -> dict[str, int]:
    """``/metrics`` as {series: value}."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return {m[0]: int(m[1]) for m in re.findall(r"^(lapor_\w+\{[^}]*\}) (\d+)$", text, re.M)}


@dataclass
class BenchGateway:
    proc: subprocess.Popen[bytes]
    url: str
    smtp_port: int

    def metric(self, series: str) -> int:
        return gauges(self.url).get(series, 0)

    def done(self, receipts: bool) -> int:
        """Complaints the central store acknowledged; with ``receipts``, only as many as receipts went out too."""
        seen = gauges(self.url)
        forwarded = seen.get('lapor_complaints{state="forwarded"}', 0)
        return min(forwarded, seen.get('lapor_receipts{state="sent"}', 0)) if receipts else forwarded

    def wait_done(self, count: int, *, receipts: bool, timeout: float = 600) -> int:
        """Until ``count`` complaints are done (:meth:`done`); returns how many were. What it saw on the way
        is kept in ``seen`` as (time, done), for the drain's steadiness."""
        deadline = time.monotonic() + timeout
        done = 0
        self.seen: list[tuple[float, int]] = []
        while time.monotonic() < deadline:
            done = self.done(receipts)
            self.seen.append((time.monotonic(), done))
            if done >= count:
                break
            # each look is a /metrics scrape, whose counts read whole indexes in the gateway: often only
            # near the end, where it sets the end-to-end time, or the bench slows down what it measures
            time.sleep(0.2 if done >= 0.95 * count else 1.0)
        return done


def drain_halves(seen: list[tuple[float, int]]) -> tuple[float, float]:
    """The drain rate in the first and the second half of its time, from (time, forwarded) looks."""
    if len(seen) < 3:
        return 0.0, 0.0
    first, last = seen[0], seen[-1]
    mid = min(seen, key=lambda p: abs(p[0] - (first[0] + last[0]) / 2))

    def rate(a: tuple[float, int], b: tuple[float, int]) -> float:
        return (b[1] - a[1]) / (b[0] - a[0]) if b[0] > a[0] else 0.0

    return rate(first, mid), rate(mid, last)


@contextmanager
def bench_gateway(work: Path, **env: str) -> Iterator[BenchGateway]:
    """``lapor-gateway run`` with the embedded central store, free ports and fresh secrets."""
    http_port, central_port, smtp_port, console_port = free_port(), free_port(), free_port(), free_port()
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")},
        "LAPOR_DATA__DIR": str(work / "data"),
        "LAPOR_HTTP__PORT": str(http_port),
        "LAPOR_CENTRAL__PORT": str(central_port),
        "LAPOR_CENTRAL__URL": f"http://127.0.0.1:{central_port}",
        "LAPOR_SMTP__PORT": str(smtp_port),
        "LAPOR_CONSOLE__PORT": str(console_port),  # not 8081: a gateway of yours may be running beside
        "LAPOR_CENTRAL__HMAC_KEY": secrets.token_urlsafe(24),
        "LAPOR_CENTRAL__API_TOKEN": secrets.token_urlsafe(24),
        "LAPOR_PRIVACY__REPORTER_HMAC_KEY": secrets.token_urlsafe(24),
        "LAPOR_PRIVACY__VAULT_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "LAPOR_LOG__LEVEL": "WARNING",
        **env,
    }
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], cwd=REPO, env=full)
    try:
        url = f"http://127.0.0.1:{http_port}"
        wait_http(url + "/healthz", proc, "gateway")
        yield BenchGateway(proc, url, smtp_port)
    finally:
        stop(proc)


@contextmanager
def paused(*pids: int) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _table(title: str, rows: list[tuple[str, str, str]]) -> Table:
    table = Table(title=title)
    for col in ("what", "value", "goal"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    return table


def bench_sms(duration: float, connections: int, console: Console, work: Path) -> dict[str, float]:
    if not shutil.which("wrk"):
        raise SystemExit("lapor-gateway bench: needs wrk (apt-get install wrk)")
    script = work / "sms.lua"
    script.write_text(WRK_SCRIPT.replace("@PATH@", SMS_PATH))
    noop_port = free_port()
    noop = subprocess.Popen([sys.executable, "-m", "gateway.bench.noop", str(noop_port)], cwd=REPO)
    try:
        wait_http(f"http://127.0.0.1:{noop_port}/healthz", noop, "no-op server")
        console.print(f"[bold]baseline[/]: aiohttp no-op handler, {connections} connections, {duration:.0f}s")
        base = run_wrk(f"http://127.0.0.1:{noop_port}", duration, connections, script)
        # receipts go to the no-op server standing in for Kannel's sendsms, whose SMSC has no throughput cap
        # here: the gateway's own cap (sms.max_per_minute, an operator's promise to the SMSC) is lifted, or it
        # would be what is measured
        sms = {"LAPOR_SMTP__ENABLED": "false",
               "LAPOR_SMS__KANNEL__SENDSMS_URL": f"http://127.0.0.1:{noop_port}/cgi-bin/sendsms",
               "LAPOR_SMS__MAX_PER_MINUTE": str(10**9)}
        with bench_gateway(work, **sms) as gw:
            console.print("[bold]gateway[/]: durable Kannel webhook (group commit, WAL, synchronous=FULL), "
                          "the worker draining at the same time")
            t0 = time.monotonic()
            res = run_wrk(gw.url, duration, connections, script)
            time.sleep(0.5)  # requests wrk abandoned at its deadline may still be journaled
            accepted = gw.metric('lapor_inbound{state="accepted"}')
            t_load, at_load_end = time.monotonic() - t0, gw.done(receipts=True)
            done = gw.wait_done(accepted, receipts=True)
            t_e2e = time.monotonic() - t0
            halves = drain_halves(gw.seen)
        with bench_gateway(work / "alone", **sms) as gw:
            console.print("[bold]gateway[/]: the same, intake alone (worker and delivery paused with SIGSTOP)")
            with paused(child_pid(gw.proc.pid, "worker"), child_pid(gw.proc.pid, "delivery")):
                alone = run_wrk(gw.url, duration, connections, script)
    finally:
        stop(noop)
    e2e = done / t_e2e if t_e2e else 0.0
    drain = (done - at_load_end) / (t_e2e - t_load) if t_e2e > t_load else 0.0
    console.print(_table("bench sms (same run, same load)", [
        ("no-op handler req/s", f"{base.rps:,.0f}", "baseline"),
        ("no-op p50 / p99", f"{base.p50_ms:.2f} ms / {base.p99_ms:.2f} ms", ""),
        ("intake alone req/s (worker paused)", f"{alone.rps:,.0f} ({alone.rps / base.rps:.2f} of no-op)", ">= 0.55"),
        ("intake alone p50 / p99", f"{alone.p50_ms:.2f} ms / {alone.p99_ms:.2f} ms", "p99 < 10 ms"),
        ("intake, worker draining req/s", f"{res.rps:,.0f} ({res.rps / base.rps:.2f} of no-op)", ">= 0.45"),
        ("intake, worker draining p50 / p99", f"{res.p50_ms:.2f} ms / {res.p99_ms:.2f} ms", "p99 < 15 ms"),
        ("non-2xx or socket errors", f"{res.errors + alone.errors}", "0"),
        ("end to end (webhook → central 201 → receipt sent)",
         f"{e2e:,.0f} complaints/s ({e2e / base.rps:.3f} of no-op; {done}/{accepted} in {t_e2e:.1f}s)",
         ">= 0.07, >= 1,000/s"),
        ("backlog after the load, drained at", f"{accepted - at_load_end:,} at {drain:,.0f} complaints/s "
         f"(first half {halves[0]:,.0f}/s, second {halves[1]:,.0f}/s)", "steady"),
    ]))
    return {"noop_rps": base.rps, "gateway_rps": res.rps, "ratio": res.rps / base.rps, "p50_ms": res.p50_ms,
            "p99_ms": res.p99_ms, "alone_rps": alone.rps, "alone_ratio": alone.rps / base.rps,
            "errors": float(res.errors), "e2e_per_s": e2e, "drain_per_s": drain}


def bench_smtp(duration: float, clients: int, console: Console, work: Path) -> dict[str, float]:
    from gateway.bench.smtp import DOMAIN, smtp_load, wait_smtp

    run = f"{time.time_ns():x}"
    noop_port = free_port()
    noop = subprocess.Popen([sys.executable, "-m", "gateway.bench.smtp", "noop", str(noop_port)], cwd=REPO)
    try:
        wait_smtp(noop_port, noop)
        console.print(f"[bold]baseline[/]: aiosmtpd no-op handler, {clients} smtplib clients, {duration:.0f}s")
        base = smtp_load(noop_port, duration, clients, run + "n")
        # receipts go to the no-op server, as to a real relay
        with bench_gateway(work, LAPOR_SMTP__DOMAINS=f'["{DOMAIN}"]', LAPOR_MAIL__OUTBOUND_HOST="127.0.0.1",
                           LAPOR_MAIL__OUTBOUND_PORT=str(noop_port)) as gw:
            console.print("[bold]gateway[/]: lapor-gateway run, SMTP 250 after the journal's group commit")
            t0 = time.monotonic()
            res = smtp_load(gw.smtp_port, duration, clients, run + "g")
            journaled = gw.metric('lapor_inbound{state="accepted"}')
            forwarded = gw.wait_done(res.total, receipts=False)
            t_e2e = time.monotonic() - t0
    finally:
        stop(noop)
    e2e = forwarded / t_e2e if t_e2e else 0.0
    console.print(_table(f"bench smtp (same run, same load: {clients} smtplib clients, persistent sessions)", [
        ("no-op aiosmtpd handler msg/s", f"{base.per_s:,.0f}", "baseline"),
        ("gateway durable intake msg/s", f"{res.per_s:,.0f}", ">= 1,000"),
        ("ratio gateway / no-op", f"{res.per_s / base.per_s:.2f}", ""),
        ("gateway p50 / p99 per mail", f"{res.pct(50):.2f} ms / {res.pct(99):.2f} ms", f"no-op p99 {base.pct(99):.2f} ms"),
        ("refused or failed sessions", f"{res.errors} (no-op {base.errors})", "0"),
        ("accepted (250) / journaled", f"{res.total} / {journaled}", "equal"),
        ("end to end (250 → central store)", f"{e2e:,.0f} complaints/s ({forwarded}/{res.total} in {t_e2e:.1f}s)",
         ""),
    ]))
    return {"noop_per_s": base.per_s, "gateway_per_s": res.per_s, "e2e_per_s": e2e}


def bench_ocr(console: Console) -> dict[str, float]:
    from gateway.bench.ocr import run_ocr_bench

    figures = run_ocr_bench()
    table = Table(title="bench ocr (same pages, same run)")
    table.add_column("what")
    table.add_column("value")
    for k, v in figures.items():
        table.add_row(k, f"{v:.3f}" if isinstance(v, float) else str(v))
    console.print(table)
    return figures


def run_bench(what: str, *, duration: float = 10.0, connections: int | None = None) -> int:
    console = Console()
    work = Path(tempfile.mkdtemp(prefix=f"lapor-bench-{what}-"))
    try:
        if what == "sms":
            bench_sms(duration, connections or 64, console, work)
        elif what == "smtp":
            bench_smtp(duration, connections or 16, console, work)
        elif what == "ocr":
            bench_ocr(console)
        else:
            raise SystemExit(f"unknown benchmark {what!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
