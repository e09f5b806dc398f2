"""/healthz tells a stalled worker, not only a dead one (issue 11, item 2).

The worker is frozen with SIGSTOP (alive, so a liveness check would say ok)
while SMS keep arriving: after ``worker.stall_seconds`` /healthz answers 503
naming the stall; once it runs again everything flows and /healthz is 200.
"""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from gateway.intake.children import child_pid
from tests.e2e_helpers import records_by_external_id
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = [pytest.mark.slow]


def test_a_stalled_worker_makes_healthz_say_so(tmp_path: Path) -> None:
    gw = GatewayProcess(tmp_path / "data", {"LAPOR_WORKER__STALL_SECONDS": "2"})
    gw.start()
    run = uuid.uuid4().hex[:8]
    worker = child_pid(gw.proc.pid, "worker")  # type: ignore[union-attr]
    try:
        assert gw.healthz()[0] == 200
        os.kill(worker, signal.SIGSTOP)
        for i in range(5):
            q = urllib.parse.urlencode({"from": f"6281330000{i:03d}", "to": "1708", "id": f"{run}-{i}",
                                        "text": f"Air PDAM mati tiga hari di blok {i}"})
            with urllib.request.urlopen(f"{gw.url}/channels/sms/kannel?{q}", timeout=5) as r:
                assert r.status == 200  # intake goes on: durable in the journal
        _, body = wait_until(lambda: (h := gw.healthz())[0] == 503 and h, timeout=20, interval=0.2,
                             what="/healthz to call the worker stalled")
        assert any("no progress" in p for p in body["problems"]), body
        assert body["children"]["worker"]["alive"] is True  # alive, and yet not working: that is what it says
        os.kill(worker, signal.SIGCONT)
        wait_until(lambda: all(f"{run}-{i}" in records_by_external_id(gw) for i in range(5)), timeout=30,
                   what="the SMS forwarded once the worker runs again")
        wait_until(lambda: gw.healthz()[0] == 200, timeout=20, what="/healthz ok again")
    finally:
        os.kill(worker, signal.SIGCONT)
        gw.stop()
