"""``lapor-gateway bench``: throughput as ratios against a baseline measured in the same run.

``sms``: wrk (64 connections) against an aiohttp no-op handler, then against
the gateway's durable Kannel webhook with the same request shape (unique ids),
then the end-to-end rate until every accepted complaint is acknowledged by the
reference central store. ``smtp`` and ``ocr`` live with their channels.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
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


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, duration: float, connections: int, script: Path) -> WrkResult:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(duration)}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s))", out, re.M))

    def pct(p: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s)", lat[p])
        assert m
        return _ms(m.group(1), m.group(2))

    reqs = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    err = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(err.group(1)) if err else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return WrkResult(rps, pct("50"), pct("99"), reqs, errors)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _metric(url: str, name: str) -> int:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
    return int(m.group(1)) if m else 0


def bench_sms(duration: float, connections: int, console: Console) -> dict[str, float]:
    if not shutil.which("wrk"):
        raise SystemExit("lapor-gateway bench: needs wrk (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="lapor-bench-"))
    script = work / "sms.lua"
    script.write_text(WRK_SCRIPT.replace("@PATH@", SMS_PATH))
    noop_port, gw_port, central_port = _free_port(), _free_port(), _free_port()
    noop = subprocess.Popen([sys.executable, "-m", "gateway.bench_noop", str(noop_port)], cwd=REPO)
    try:
        _wait_http(f"http://127.0.0.1:{noop_port}/healthz")
        console.print(f"[bold]baseline[/]: aiohttp no-op handler, {connections} connections, {duration:.0f}s")
        base = run_wrk(f"http://127.0.0.1:{noop_port}", duration, connections, script)
        env = {
            **os.environ,
            "LAPOR_DATA__DIR": str(work / "data"),
            "LAPOR_HTTP__PORT": str(gw_port),
            "LAPOR_CENTRAL__PORT": str(central_port),
            "LAPOR_CENTRAL__URL": f"http://127.0.0.1:{central_port}",
            "LAPOR_SMTP__ENABLED": "false",
            "LAPOR_SMS__KANNEL__SENDSMS_URL": f"http://127.0.0.1:{noop_port}/cgi-bin/sendsms",
            "LAPOR_CENTRAL__HMAC_KEY": secrets.token_urlsafe(24),
            "LAPOR_CENTRAL__API_TOKEN": secrets.token_urlsafe(24),
            "LAPOR_PRIVACY__REPORTER_HMAC_KEY": secrets.token_urlsafe(24),
            "LAPOR_PRIVACY__VAULT_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "LAPOR_LOG__LEVEL": "WARNING",
        }
        gw = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], cwd=REPO, env=env)
        try:
            url = f"http://127.0.0.1:{gw_port}"
            _wait_http(url + "/healthz")
            console.print("[bold]gateway[/]: durable Kannel webhook (group commit, WAL, synchronous=FULL)")
            t0 = time.monotonic()
            res = run_wrk(url, duration, connections, script)
            accepted = _metric(url, 'lapor_webhook_requests_total{channel="sms.kannel",outcome="accepted"}')
            forwarded = 0
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                forwarded = _metric(url, 'lapor_complaints{state="forwarded"}')
                if forwarded >= accepted:
                    break
                time.sleep(0.2)
            t_e2e = time.monotonic() - t0
        finally:
            gw.send_signal(signal.SIGTERM)
            gw.wait(60)
    finally:
        noop.send_signal(signal.SIGTERM)
        noop.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    figures = {
        "noop_rps": base.rps,
        "gateway_rps": res.rps,
        "ratio": res.rps / base.rps,
        "p50_ms": res.p50_ms,
        "p99_ms": res.p99_ms,
        "noop_p99_ms": base.p99_ms,
        "errors": float(res.errors),
        "accepted": float(accepted),
        "forwarded": float(forwarded),
        "e2e_per_s": forwarded / t_e2e if t_e2e else 0.0,
    }
    table = Table(title="bench sms (same run, same load)")
    for col in ("what", "value", "goal"):
        table.add_column(col)
    table.add_row("no-op handler req/s", f"{base.rps:,.0f}", "baseline")
    table.add_row("durable intake req/s", f"{res.rps:,.0f}", "")
    table.add_row("ratio intake / no-op", f"{figures['ratio']:.2f}", ">= 0.60")
    table.add_row("intake p50 / p99", f"{res.p50_ms:.2f} ms / {res.p99_ms:.2f} ms", "p99 < 10 ms")
    table.add_row("non-2xx or socket errors", f"{res.errors}", "0")
    table.add_row("end to end (webhook → central 201)", f"{figures['e2e_per_s']:,.0f} complaints/s "
                  f"({forwarded}/{accepted} in {t_e2e:.1f}s)", ">= 1,000/s")
    console.print(table)
    return figures


def run_bench(what: str, *, duration: float = 10.0, connections: int | None = None) -> int:
    console = Console()
    if what == "sms":
        bench_sms(duration, connections or 64, console)
        return 0
    if what == "smtp":
        from channels.email.bench import run_smtp_bench

        run_smtp_bench(console=console, duration=duration, clients=connections or 16)
        return 0
    if what == "ocr":
        from channels.letters.bench import run_ocr_bench

        figures = run_ocr_bench()
        table = Table(title="bench ocr")
        table.add_column("what")
        table.add_column("value")
        for k, v in figures.items():
            table.add_row(k, f"{v:.3f}" if isinstance(v, float) else str(v))
        console.print(table)
        return 0
    raise SystemExit(f"unknown benchmark {what!r}")
