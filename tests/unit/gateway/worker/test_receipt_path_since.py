"""A receipt path's "since" on /healthz and the console's health page is its first failure, kept across gateway
restarts while the path stays down (a restarted worker, and the start-up check, said "since now")."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from channels.message import PeerUnavailable
from gateway.intake.receipt_paths import ReceiptPaths
from gateway.settings import Settings
from gateway.worker.receipts import ReceiptWorker
from tests.fakes.receipt_sender import RecordingSender
from tests.peers.ports import free_port
from tests.unit.gateway.worker.test_receipt_failures import first_attempt_fails, make_due, queue
from tests.unit.journals import open_journal

HOUR_AGO = time.time() - 3600


def _shown(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo("Asia/Jakarta")).isoformat(timespec="seconds")


async def test_a_restarted_worker_keeps_the_first_failure_time_while_the_path_stays_down(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    await j.set_receipt_path("sms", False, HOUR_AGO, "kannel sendsms unreachable")  # before the restart
    j.close()
    j, sender = open_journal(tmp_path), RecordingSender()  # the restart: a new worker that has not tried the path yet
    w = ReceiptWorker(j, [sender])
    await first_attempt_fails(j, w, sender, PeerUnavailable("kannel sendsms unreachable: ClientConnectorError"))
    paths = ReceiptPaths(j, Settings(mail={"outbound_host": None}))
    assert paths.view()["sms"]["since"] == _shown(HOUR_AGO)
    assert paths.problems() == [f"receipts: sms failing since {_shown(HOUR_AGO)} (1 waiting)"]
    # it works, then fails again: a new outage, a new since
    sender.down = None
    make_due(j)
    assert await w.deliver(j.due_receipts(10)[0]) == "sent"
    assert paths.view()["sms"] == {"up": True, "since": paths.view()["sms"]["since"], "reason": None, "waiting": 0,
                                   "failed": 0}
    await queue(j, 2, tracking_id="1234567820")
    sender.down = PeerUnavailable("kannel sendsms unreachable: ClientConnectorError")
    before = time.time()
    await w.deliver(j.due_receipts(10)[0])
    since = j.receipt_paths()["sms"]["since"]
    assert since >= before - 1 and since > HOUR_AGO + 60
    j.close()


async def test_the_start_up_check_of_a_path_still_down_keeps_its_first_failure(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    await j.set_receipt_path("sms", False, HOUR_AGO, "kannel sendsms unreachable")
    closed = free_port()
    paths = ReceiptPaths(j, Settings(sms={"kannel": {"sendsms_url": f"http://127.0.0.1:{closed}/cgi-bin/sendsms"}},
                                     mail={"outbound_host": "127.0.0.1", "outbound_port": closed}))
    await paths.check_at_start()
    view = paths.view()
    assert view["sms"]["since"] == _shown(HOUR_AGO) and view["sms"]["up"] is False
    assert view["email"]["since"] == _shown(paths.checked_at)  # never recorded down before: since this check
    j.close()


async def test_a_path_recorded_up_before_the_restart_fails_since_the_start_up_check(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    await j.set_receipt_path("sms", True, HOUR_AGO)
    paths = ReceiptPaths(j, Settings(sms={"kannel": {"sendsms_url": f"http://127.0.0.1:{free_port()}/x"}},
                                     mail={"outbound_host": None}))
    await paths.check_at_start()
    assert paths.view()["sms"]["since"] == _shown(paths.checked_at)
    j.close()
