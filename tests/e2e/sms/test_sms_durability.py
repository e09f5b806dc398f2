"""Nothing acknowledged is lost: kill -9 under load, and the central store down for a while."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from gateway.intake.children import BACKGROUND_NICE, child_pid
from tests.e2e.sms.conftest import SHORTCODE, SmsRig
from tests.e2e_helpers import tracking_ids_in
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = [pytest.mark.peer, pytest.mark.slow]


async def _fire(url: str, numbers: list[str], run_id: str, concurrency: int, acked: dict[str, int]) -> None:
    """Send one Kannel-shaped MO per number; record in ``acked`` the ones that got 200."""
    sem = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=10)

    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def one(i: int, number: str) -> None:
            q = urllib.parse.urlencode({"from": number, "to": SHORTCODE, "text": f"Got mampet di gang {i} RT 0{i % 9}",
                                        "id": f"{run_id}-{i}", "coding": "0", "charset": "UTF-8"})
            async with sem:
                try:
                    async with session.get(f"{url}/channels/sms/kannel?{q}") as r:
                        await r.read()
                        if r.status == 200:
                            acked[number] = r.status
                except (aiohttp.ClientError, TimeoutError):
                    pass  # the gateway died under us: this one was never acknowledged

        await asyncio.gather(*(one(i, n) for i, n in enumerate(numbers)))


def test_kill9_under_load_loses_nothing_acknowledged(make_sms_rig: Callable[..., SmsRig]) -> None:
    # enough smsbox retries for delivery reports to outlive the restart
    rig = make_sms_rig({"LAPOR_LOG__LEVEL": "INFO"}, http_retry=20, http_queue_delay=1)
    gw = rig.gateway
    run_id = uuid.uuid4().hex[:8]
    numbers = [f"62857{i:08d}" for i in range(2000)]
    acked: dict[str, int] = {}

    async def load_and_kill() -> None:
        task = asyncio.create_task(_fire(gw.url, numbers, run_id, 48, acked))
        while len(acked) < 400:  # mid-way: some acknowledged, some in flight, some not yet sent
            await asyncio.sleep(0.005)
        gw.kill9()
        await task

    asyncio.run(load_and_kill())
    assert 0 < len(acked) < len(numbers), f"kill landed outside the load ({len(acked)} acked)"
    gw.start()

    def store_has_all() -> list[dict[str, Any]] | None:
        recs = [r for r in gw.central_records() if r["record"]["external_id"].startswith(run_id)]
        return recs if len({r["record"]["external_id"] for r in recs}) >= len(acked) else None

    records = wait_until(store_has_all, timeout=90, interval=0.5, what="every acknowledged MO in the store")
    by_phone = Counter(r["record"]["reporter"]["phone"] for r in records)
    assert all(by_phone[n] == 1 for n in acked), "an acknowledged message is missing or stored twice"
    assert len(records) == len(by_phone), "a message was stored twice"

    def receipts_complete() -> Counter[str] | None:
        got = Counter(m.receiver for m in rig.kannel.mt_messages() if m.receiver.startswith("62857"))
        return got if all(got[n] >= 1 for n in by_phone) else None

    got = wait_until(receipts_complete, timeout=90, interval=0.5, what="a receipt for every complaint")
    # let any late duplicate (a resend of an 'unsure' receipt) surface before counting
    rig.kannel.inject("6289900000001", SHORTCODE, "penanda akhir")
    rig.kannel.wait_for_mt(lambda m: m.receiver == "6289900000001", timeout=30)
    got = Counter(m.receiver for m in rig.kannel.mt_messages() if m.receiver.startswith("62857"))
    doubles = {n: c for n, c in got.items() if c != 1}
    assert not doubles, f"receipts sent more than once: {len(doubles)}"
    texts = {m.receiver: m.text for m in rig.kannel.mt_messages()}
    assert all(r["record"]["tracking_id"] in tracking_ids_in(texts[r["record"]["reporter"]["phone"]]) for r in records)


def test_central_store_down_then_back(
    make_sms_rig: Callable[..., SmsRig], gateway_factory: Callable[..., GatewayProcess]
) -> None:
    # the store is a separate process that is not running yet
    rig = make_sms_rig({"LAPOR_CENTRAL__EMBEDDED": "false"})
    gw = rig.gateway
    for i in range(5):
        rig.kannel.inject(f"6281300000{i:03d}", SHORTCODE, f"Sampah menumpuk di pasar blok {i}")
    # receipts do not wait for the store
    for i in range(5):
        rig.kannel.wait_for_mt(lambda m, i=i: m.receiver == f"6281300000{i:03d}", timeout=20)
    wait_until(lambda: "forward of" in gw.log_text(), what="failed forward attempts in the log")
    central = _start_central(gw)
    try:
        recs = wait_until(lambda: len(gw.central_records()) >= 5 and gw.central_records(), timeout=30,
                          what="all complaints delivered once the store is back")
        assert sorted(r["record"]["reporter"]["phone"] for r in recs) == [f"6281300000{i:03d}" for i in range(5)]
        assert len({r["record"]["tracking_id"] for r in recs}) == 5
    finally:
        central.terminate()
        central.wait(10)


def _start_central(gw: GatewayProcess) -> Any:
    import subprocess
    import sys

    from tests.gateway_proc import REPO

    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "central"], cwd=REPO, env=gw.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: gw.central_get("/v1/complaints?limit=1") is not None, what="central store up")
    return proc


def test_dead_letter_then_retry_dead(make_sms_rig: Callable[..., SmsRig]) -> None:
    rig = make_sms_rig({"LAPOR_CENTRAL__EMBEDDED": "false", "LAPOR_FORWARDER__MAX_ATTEMPTS": "2",
                        "LAPOR_FORWARDER__BACKOFF_MAX_SECONDS": "0.3"})
    gw = rig.gateway
    rig.kannel.inject("6281300000900", SHORTCODE, "Parkir liar di trotoar depan pasar baru")
    mt = rig.kannel.wait_for_mt(lambda m: m.receiver == "6281300000900", timeout=20)
    (tid,) = tracking_ids_in(mt.text)
    wait_until(lambda: "dead_letter" in gw.cli("log", "-n", "100").stdout, what="the dead letter in the intake log")
    assert json.loads(gw.cli("show", tid, "--json").stdout)["state"] == "dead_letter"
    central = _start_central(gw)
    try:
        out = gw.cli("retry-dead")
        # issue 13 item 2: what it queued, per kind (was "1 dead letter(s) queued again")
        assert out.returncode == 0 and f"{tid}  forward to the central store queued again" in out.stdout
        assert "queued again: 1 forward(s), 0 receipt(s)" in out.stdout
        rec = wait_until(lambda: gw.central_get(f"/v1/complaints/{tid}"), what="the retried complaint in the store")
        assert rec["record"]["tracking_id"] == tid
    finally:
        central.terminate()
        central.wait(10)


def test_a_dead_worker_is_restarted_and_catches_up(sms_rig: SmsRig) -> None:
    import os
    import signal
    import urllib.error
    import urllib.request

    gw = sms_rig.gateway
    assert gw.proc is not None
    worker = child_pid(gw.proc.pid, "worker")
    os.kill(worker, signal.SIGKILL)

    def health() -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(gw.url + "/healthz", timeout=2) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    status, body = wait_until(lambda: (h := health())[0] == 503 and h, what="/healthz reporting the dead worker")
    assert body["children"]["worker"]["alive"] is False
    # accepted while the worker is down: durable, answered once it is back
    sms_rig.kannel.inject("6281300000777", SHORTCODE, "Kabel listrik putus di depan masjid Al-Ikhlas")
    mt = sms_rig.kannel.wait_for_mt(lambda m: m.receiver == "6281300000777", timeout=40)
    (tid,) = tracking_ids_in(mt.text)
    wait_until(lambda: gw.central_get(f"/v1/complaints/{tid}"), what="the complaint in the store")
    status, body = health()
    assert status == 200 and body["children"]["worker"] == {"alive": True, "restarts": 1}
    assert child_pid(gw.proc.pid, "worker") != worker
    assert "worker exited with -9; restarting it" in gw.log_text()
    # the restarted one is as background as the first: intake keeps priority under a burst
    background = min(19, os.getpriority(os.PRIO_PROCESS, gw.proc.pid) + BACKGROUND_NICE)
    for role in ("worker", "delivery", "central"):
        assert os.getpriority(os.PRIO_PROCESS, child_pid(gw.proc.pid, role)) == background, role
