"""Which social channels run under ``lapor-gateway run``: off unless configured, a bad token drops only its channel."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable

import pytest

from tests.e2e.social.conftest import TG_SECRET, SocialFakes, http, post_telegram, tg_update
from tests.e2e_helpers import wait_record
from tests.gateway_proc import GatewayProcess

pytestmark = pytest.mark.peer


def lines_with(text: str, pattern: str) -> list[str]:
    return [line for line in text.splitlines() if re.search(pattern, line)]


def test_every_social_channel_is_off_unless_configured_with_one_line_each(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    gw = gateway_factory({})
    gw.start()
    assert http("POST", gw.url + "/channels/telegram", b"{}")[0] == 404
    assert http("GET", gw.url + "/channels/whatsapp")[0] == 404
    assert gw.stop() == 0
    stderr = gw.stderr_text()  # one run: each line once (gateway.log repeats stderr)
    for name, setting in (("telegram", "telegram.token"), ("x", "x.bearer_token"), ("whatsapp", "whatsapp.")):
        found = lines_with(stderr, rf"\b{name}: off \({re.escape(setting)}")
        assert len(found) == 1, f"{name}: {found}"


def test_all_three_configured_say_so_at_start_up(
    social_fakes: SocialFakes, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    gw = gateway_factory({**social_fakes.telegram_env(), **social_fakes.x_env(poll_seconds=30),
                          **social_fakes.whatsapp_env()})
    gw.start()
    assert gw.stop() == 0
    stderr = gw.stderr_text()
    assert len(lines_with(stderr, r"telegram: on as @lapor1708_bot, webhook mode")) == 1
    assert len(lines_with(stderr, r"x: on as @lapor1708")) == 1
    assert len(lines_with(stderr, r"whatsapp: on for ")) == 1
    assert not lines_with(stderr, r"(telegram|x|whatsapp): off")
    for token in (social_fakes.tg.token, social_fakes.fx.token, social_fakes.wa.access_token, TG_SECRET):
        assert token not in gw.log_text()


def test_bad_telegram_token_is_one_clear_error_and_the_rest_keeps_working(
    social_fakes: SocialFakes, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    bad_token = "7000000001:AAWrongTokenWrongTokenWrongToken_xyz"
    gw = gateway_factory({**social_fakes.telegram_env(), "LAPOR_TELEGRAM__TOKEN": bad_token})
    gw.start()
    # the Telegram webhook is not served…
    status, _ = post_telegram(gw, tg_update("tidak akan diterima", user_id=5300001, username="x"))
    assert status == 404
    # …the SMS Kannel webhook is
    q = urllib.parse.urlencode({"from": "6281355550001", "to": "1708", "id": "tg-bad-token-sms-1",
                                "text": "Jalan desa rusak parah di Kampung Cibodas"})
    assert http("GET", f"{gw.url}/channels/sms/kannel?{q}")[0] == 200
    record = wait_record(gw, "tg-bad-token-sms-1")
    assert record["channel"].startswith("sms")
    assert gw.stop() == 0
    errors = lines_with(gw.stderr_text(), r"telegram: token rejected \(401 Unauthorized\)")
    assert len(errors) == 1 and "ERROR" in errors[0], errors
    assert bad_token not in gw.log_text() and bad_token.split(":")[1] not in gw.log_text()
