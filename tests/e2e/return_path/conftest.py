"""The return path through the three real processes: a gateway with a real Kannel, the reference store
run on its own (so it outlives a kill -9 of the gateway) and pushing its wake-up to the gateway."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.gateway_proc import REPO, GatewayProcess, wait_until
from tests.peers.kannel import KannelPeer
from tests.peers.ports import free_port

SHORTCODE = "1708"


@dataclass
class ReturnRig:
    gateway: GatewayProcess
    kannel: KannelPeer
    central: subprocess.Popen[bytes] | None = None
    answers: list[str] = field(default_factory=list)

    def start_central(self) -> None:
        self.central = subprocess.Popen([sys.executable, "-m", "gateway.cli", "central"], cwd=REPO,
                                        env=self.gateway.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.gateway.central_get("/v1/complaints?limit=1") is not None, what="central store up")

    def stop_central(self) -> None:
        if self.central is not None and self.central.poll() is None:
            self.central.terminate()
            self.central.wait(20)

    def store_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.gateway.central_url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.gateway.env['LAPOR_CENTRAL__API_TOKEN']}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def respond(self, tracking_id: str, text: str, **extra: Any) -> int:
        return int(self.store_post(f"/v1/complaints/{tracking_id}/responses",
                                   {"kind": "response", "text": text, **extra})["update_id"])

    def to(self, number: str) -> list[str]:
        return [m.text for m in self.kannel.mt_messages() if m.receiver == number]


@pytest.fixture
def return_rig(make_kannel: Callable[..., KannelPeer], gateway_factory: Callable[..., GatewayProcess]
               ) -> Iterator[ReturnRig]:
    port = free_port()
    # enough smsbox retries for delivery reports to outlive a restart of the gateway
    kannel = make_kannel(f"http://127.0.0.1:{port}/channels/sms/kannel", http_retry=20, http_queue_delay=1)
    gw = gateway_factory({
        "LAPOR_HTTP__PORT": str(port), **kannel.settings_env(),
        "LAPOR_CENTRAL__EMBEDDED": "false",
        "LAPOR_CENTRAL__GATEWAY_URL": f"http://127.0.0.1:{port}",
        # only the store's push (or a start) makes the gateway read the feed in these tests
        "LAPOR_CENTRAL__UPDATES_POLL_SECONDS": "3600",
        "LAPOR_LOG__LEVEL": "DEBUG",
    })
    rig = ReturnRig(gw, kannel)
    rig.start_central()
    gw.start()
    try:
        yield rig
    finally:
        rig.stop_central()
