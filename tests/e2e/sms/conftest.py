"""A gateway wired to a real Kannel (bearerbox + smsbox + fake SMSC) for the SMS tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.gateway_proc import GatewayProcess
from tests.peers.kannel import KannelPeer
from tests.peers.ports import free_port

SHORTCODE = "1708"


@dataclass
class SmsRig:
    gateway: GatewayProcess
    kannel: KannelPeer

    def receipts_to(self, number: str) -> list[str]:
        return [m.text for m in self.kannel.mt_messages() if m.receiver == number]


@pytest.fixture
def sms_rig(make_kannel: Callable[..., KannelPeer], gateway_factory: Callable[..., GatewayProcess]) -> Iterator[SmsRig]:
    yield from _rig(make_kannel, gateway_factory, {})


def _rig(make_kannel: Any, gateway_factory: Any, env: dict[str, str], **kannel_opts: Any) -> Iterator[SmsRig]:
    port = free_port()
    kannel = make_kannel(f"http://127.0.0.1:{port}/channels/sms/kannel", **kannel_opts)
    gw = gateway_factory({"LAPOR_HTTP__PORT": str(port), **kannel.settings_env(), **env})
    gw.start()
    yield SmsRig(gw, kannel)


@pytest.fixture
def make_sms_rig(make_kannel: Callable[..., KannelPeer], gateway_factory: Callable[..., GatewayProcess]) -> Any:
    def make(env: dict[str, str] | None = None, **kannel_opts: Any) -> SmsRig:
        return next(_rig(make_kannel, gateway_factory, env or {}, **kannel_opts))

    return make

