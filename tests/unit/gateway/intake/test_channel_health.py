"""ChannelHealth: a failed start-up check leaves the channel on (degraded) and is tried again; only Refused
switches it off; /healthz and /metrics are told, in safe words (issue 13 item 14)."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

import pytest

from channels.message import ChannelError, PeerUnavailable, Refused
from channels.retry import Backoff
from gateway.intake.channel_health import ChannelHealth

TOKEN = "7000000001:AAsecret-token-in-an-exception"


class Scripted:
    """A channel whose check answers from a script: an exception to raise, or a line to return."""

    def __init__(self, name: str, *answers: object) -> None:
        self.name = name
        self.answers = list(answers)
        self.calls = 0

    async def check(self) -> str:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)


def fast() -> ChannelHealth:
    return ChannelHealth(retry=Backoff(0.01, 0.05, spread=0.2), timeout=1.0, zone=ZoneInfo("Asia/Makassar"))


async def until(cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


async def test_a_passing_failure_stays_on_degraded_and_recovers_by_itself(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wa = Scripted("social.whatsapp", PeerUnavailable("whatsapp: Graph API answered 200 with something else than JSON"),
                  PeerUnavailable("whatsapp: Graph API answered 200 with something else than JSON"),
                  "whatsapp: on for LAPOR! 1708")
    health = fast()
    assert await health.first_checks([wa]) == []  # nothing to switch off
    assert not health.is_off(wa)
    view = health.view()["social.whatsapp"]
    assert view["state"] == "degraded" and "something else than JSON" in view["error"]
    assert view["since"].endswith("+08:00")  # in the service's zone (WITA here)
    assert health.problems() == ["social.whatsapp: degraded (whatsapp: Graph API answered 200 with something else"
                                 " than JSON)"]
    assert 'lapor_channel_up{channel="social.whatsapp"} 0.5' in health.metrics()

    offs: list[object] = []
    tasks = health.retries(offs.append)
    await until(lambda: health.view()["social.whatsapp"]["state"] == "ok")
    await asyncio.gather(*tasks)
    assert wa.calls == 3 and offs == []
    assert health.problems() == [] and health.view()["social.whatsapp"]["error"] is None
    assert 'lapor_channel_up{channel="social.whatsapp"} 1' in health.metrics()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "the same failure is said once"  # the second one at DEBUG
    assert any("on for LAPOR! 1708 (again, after 2 failed checks)" in r.getMessage() for r in caplog.records)


async def test_only_a_refusal_switches_off_at_start_up() -> None:
    x = Scripted("social.x", Refused("x: bearer token rejected (401 Unauthorized)"))
    tg = Scripted("social.telegram", ChannelError("telegram: Bot API refused (BadRequest)"))
    sms = object()
    health = fast()
    health.add([sms])
    assert await health.first_checks([x, tg]) == [x]
    assert health.is_off(x) and not health.is_off(tg) and not health.is_off(sms)
    view = health.view()
    assert view["social.x"] == {"state": "off", "error": "x: bearer token rejected (401 Unauthorized)",
                                "since": view["social.x"]["since"]}
    assert view["social.telegram"]["state"] == "degraded"
    assert view["object"]["state"] == "ok"
    assert 'lapor_channel_up{channel="social.x"} 0' in health.metrics()
    tasks = health.retries(lambda obj: None)
    assert len(tasks) == 1  # only the degraded one is checked again, never the refused one
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert x.calls == 1


async def test_a_refusal_while_degraded_switches_off_later() -> None:
    tg = Scripted("social.telegram", PeerUnavailable("telegram: Bot API unreachable or refused (NetworkError)"),
                  Refused("telegram: token rejected (401 Unauthorized)"))
    health = fast()
    await health.first_checks([tg])
    offs: list[object] = []
    await asyncio.gather(*health.retries(offs.append))
    assert offs == [tg] and health.is_off(tg)
    assert health.problems() == ["social.telegram: off (telegram: token rejected (401 Unauthorized))"]


async def test_a_foreign_exception_or_a_hang_is_degraded_by_type_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.intake.channel_health")

    class Hangs:
        name = "social.x"

        async def check(self) -> str:
            await asyncio.sleep(60)
            return "never"

    garbled = Scripted("email.imap", KeyError(f"token {TOKEN}"))
    health = ChannelHealth(retry=Backoff(10, 10), timeout=0.2)
    assert await health.first_checks([garbled, Hangs()]) == []
    view = health.view()
    assert view["email.imap"] == {"state": "degraded", "error": "email.imap: start-up check failed (KeyError)",
                                  "since": view["email.imap"]["since"]}
    assert view["social.x"]["error"] == "social.x: start-up check timed out after 0.2s"
    said = "\n".join(r.getMessage() for r in caplog.records) + str(view) + "\n".join(health.metrics())
    assert TOKEN not in said and "AAsecret" not in said


async def test_a_reason_that_changes_is_said_again(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.intake.channel_health")
    wa = Scripted("social.whatsapp", PeerUnavailable("whatsapp: Graph API unreachable (ClientConnectorError)"),
                  PeerUnavailable("whatsapp: Graph API failed (503, code None)"), "whatsapp: on")
    health = fast()
    await health.first_checks([wa])
    await asyncio.gather(*health.retries(lambda obj: None))
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2 and "ClientConnectorError" in warned[0] and "503" in warned[1]
    assert "stays on (degraded), checked again in" in warned[0]
