"""The return path through the three real processes: a gateway with a real Kannel, the reference store
run on its own (so it outlives a kill -9 of the gateway) and pushing its wake-up to the gateway.

The email family's ``email_gateway`` and the social family's fakes and module gateway (``social_fakes``,
``module_gateway``) are offered here to the citizen, chat and channel answer tests."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.email.conftest import email_gateway  # noqa: F401 - a fixture for this folder
from tests.e2e.social.conftest import module_gateway, social_fakes  # noqa: F401 - fixtures for this folder
from tests.e2e_helpers import tracking_ids_in
from tests.gateway_proc import REPO, GatewayProcess, wait_until
from tests.peers.kannel import KannelPeer
from tests.peers.ports import free_port

SHORTCODE = "1708"


def store_post(gw: GatewayProcess, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A POST to the gateway's central store with its API token: (HTTP status, the JSON answer)."""
    req = urllib.request.Request(
        gw.central_url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {gw.env['LAPOR_CENTRAL__API_TOKEN']}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def citizen_responses(gw: GatewayProcess, tid: str) -> list[dict[str, Any]]:
    """The citizen's answers on ``tid`` as the store lists them (``responses``, ``by: citizen``)."""
    return [r for r in gw.central_get(f"/v1/complaints/{tid}")["responses"] if r["by"] == "citizen"]


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

    def respond(self, tracking_id: str, text: str, **extra: Any) -> int:
        status, answer = store_post(self.gateway, f"/v1/complaints/{tracking_id}/responses",
                                    {"kind": "response", "text": text, **extra})
        assert status == 201, answer
        return int(answer["update_id"])

    def to(self, number: str) -> list[str]:
        return [m.text for m in self.kannel.mt_messages() if m.receiver == number]

    def complaint(self, number: str, text: str) -> str:
        """An SMS complaint: its tracking ID from the receipt, once the store has it."""
        self.kannel.inject(number, SHORTCODE, text)
        mt = self.kannel.wait_for_mt(lambda m: m.receiver == number, timeout=30)
        [tid] = tracking_ids_in(mt.text)
        wait_until(lambda: self.gateway.central_get(f"/v1/complaints/{tid}"), timeout=30,
                   what="complaint in the store")
        return tid

    def next_sms(self, number: str, text: str) -> str:
        """``text`` from ``number``, and the next SMS the gateway sends back to it."""
        before = len(self.to(number))
        self.kannel.inject(number, SHORTCODE, text)
        wait_until(lambda: len(self.to(number)) > before, timeout=30, what=f"an SMS to {number}")
        return self.to(number)[before]


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
