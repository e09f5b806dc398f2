"""A start-up check that fails once no longer turns a channel off for the life of the process (issue 13 item 14).

The real ``lapor-gateway run`` against the fake provider APIs: while the Graph, Telegram and X APIs
answer garbage or 503 to the start-up check, every channel keeps accepting (webhooks 200, the X poller
polls), ``/healthz`` shows it ``degraded`` with its reason (still 200) and ``/metrics`` 0.5; then the
check passes by itself and it is ``ok``. A token the API itself rejects switches its channel off, shown.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from tests.e2e.social.conftest import (
    SERVICE_HANDLE,
    TG_SECRET,
    SocialFakes,
    http,
    post_telegram,
    post_whatsapp,
    tg_update,
    wa_message,
    wa_payload,
)
from tests.e2e_helpers import metrics_text, wait_record
from tests.fakes.server import not_json, unavailable
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer


def healthz(gw: GatewayProcess) -> tuple[int, dict[str, Any]]:
    status, body = http("GET", gw.url + "/healthz")
    return status, json.loads(body)


def channel_up(gw: GatewayProcess, channel: str) -> str | None:
    m = re.search(rf'^lapor_channel_up{{channel="{re.escape(channel)}"}} (\S+)$', metrics_text(gw), re.M)
    return m.group(1) if m else None


def graph_refusal() -> web.Response:
    return web.json_response({"error": {"message": "Error validating access token: Session has expired",
                                        "type": "OAuthException", "code": 190, "fbtrace_id": "A1"}}, status=401)


def test_garbled_and_503_checks_keep_every_channel_on_degraded_then_ok_by_themselves(
    social_fakes: SocialFakes, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    f = social_fakes
    # WhatsApp's phone-number lookup answers an HTML page twice, getMe a 503 once, X's /users/me garbage once
    f.graph.call(f.wa.answer_next, f"/{f.wa.phone_number_id}", not_json, 2)
    f.telegram.call(f.tg.answer_next, "/getMe", unavailable)
    f.x.call(f.fx.answer_next, "/2/users/me", lambda: not_json(502))
    gw = gateway_factory({**f.telegram_env(), **f.x_env(poll_seconds=0.3), **f.whatsapp_env()}).start()

    status, body = healthz(gw)
    assert status == 200, body  # still taking every channel: a balancer must not take it out
    channels = body["channels"]
    for name in ("social.whatsapp", "social.telegram", "social.x"):
        assert channels[name]["state"] == "degraded", channels
        assert channels[name]["since"].endswith("+07:00")  # the service zone, Asia/Jakarta by default
    assert channels["social.whatsapp"]["error"] == "whatsapp: Graph API answered 200 with something else than JSON"
    assert channels["social.telegram"]["error"] == "telegram: Bot API unreachable or refused (NetworkError)"
    assert channels["social.x"]["error"] == "x: API failing (502)"
    assert channels["sms.kannel"]["state"] == "ok"
    assert body["status"] == "degraded"  # the body says so; the status code stays 200
    assert "social.whatsapp: degraded (whatsapp: Graph API answered 200 with something else than JSON)" in \
        body["problems"]
    assert channel_up(gw, "social.whatsapp") == "0.5" and channel_up(gw, "sms.kannel") == "1"

    # meanwhile every inbound path works: the two webhooks answer 200 and the X poller polls
    m = wa_message("6281311112222", body="Lampu jalan di Jl. Kenanga mati sejak seminggu")
    assert post_whatsapp(gw, wa_payload(f.wa.phone_number_id, messages=[m]), f.wa.app_secret)[0] == 200
    update = tg_update("Saluran air di RT 04 tersumbat", user_id=5300042, username="warga42")
    assert post_telegram(gw, update)[0] == 200
    tweet = f.x.call(f.fx.add_mention, "1500000000000000777", f"@{SERVICE_HANDLE} jembatan Cikapundung retak")
    assert wait_record(gw, m["id"])["channel"] == "social.whatsapp"
    assert wait_record(gw, str(update["update_id"]))["channel"] == "social.telegram"
    assert wait_record(gw, tweet["id"])["channel"] == "social.x"

    # the checks are tried again in the background and pass: ok, with no restart
    def all_ok() -> dict[str, Any] | None:
        s, b = healthz(gw)
        return b if s == 200 and all(b["channels"][n]["state"] == "ok"
                                     for n in ("social.whatsapp", "social.telegram", "social.x")) else None

    body = wait_until(all_ok, timeout=60, interval=0.5, what="every channel ok again")
    # (no Kannel runs here, so the SMS receipt path may be named too: not a channel's problem)
    assert [p for p in body["problems"] if p.startswith("social.")] == [], body
    assert body["channels"]["social.whatsapp"]["error"] is None
    assert channel_up(gw, "social.whatsapp") == "1"
    assert f.wa.canned_left(f"/{f.wa.phone_number_id}") == 0  # it took both garbled answers
    assert gw.stop() == 0

    stderr = gw.stderr_text()
    said = [line for line in stderr.splitlines() if "whatsapp: Graph API answered" in line and " DEBUG " not in line]
    assert len(said) == 1 and " WARNING " in said[0], said  # said once, not at each retry (those at DEBUG)
    wa_warnings = said
    assert "social.whatsapp stays on (degraded), checked again in" in wa_warnings[0]
    assert len([line for line in stderr.splitlines() if "whatsapp: on for LAPOR! 1708" in line
                and "again, after 2 failed checks" in line]) == 1
    assert "Traceback" not in stderr
    for token in (f.tg.token, f.tg.token.split(":")[1], f.fx.token, f.wa.access_token, TG_SECRET):
        assert token not in gw.log_text()


def test_a_rejected_token_switches_its_channel_off_and_healthz_says_why(
    social_fakes: SocialFakes, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    f = social_fakes
    bad_token = "7000000001:AAWrongTokenWrongTokenWrongToken_off"
    f.graph.call(f.wa.answer_next, f"/{f.wa.phone_number_id}", graph_refusal)
    gw = gateway_factory({**f.telegram_env(), "LAPOR_TELEGRAM__TOKEN": bad_token, **f.whatsapp_env()}).start()

    status, body = healthz(gw)
    assert status == 200, body  # SMS, email and the rest still work
    assert body["channels"]["social.whatsapp"]["state"] == "off"
    assert body["channels"]["social.whatsapp"]["error"] == "whatsapp: access token rejected (401, code 190)"
    assert body["channels"]["social.telegram"] == {"state": "off", "since": body["channels"]["social.telegram"]["since"],
                                                   "error": "telegram: token rejected (401 Unauthorized)"}
    assert "social.telegram: off (telegram: token rejected (401 Unauthorized))" in body["problems"]
    assert channel_up(gw, "social.whatsapp") == "0" and channel_up(gw, "social.telegram") == "0"

    # off: neither webhook is served; SMS is
    m = wa_message("6281311113333", body="tidak akan diterima")
    assert post_whatsapp(gw, wa_payload(f.wa.phone_number_id, messages=[m]), f.wa.app_secret)[0] == 404
    assert post_telegram(gw, tg_update("tidak akan diterima", user_id=5300043, username="y"))[0] == 404
    q = urllib.parse.urlencode({"from": "6281355550002", "to": "1708", "id": "startup-off-sms-1",
                                "text": "Jalan desa rusak parah di Kampung Cibodas"})
    assert http("GET", f"{gw.url}/channels/sms/kannel?{q}")[0] == 200
    wait_record(gw, "startup-off-sms-1")

    # and it is not checked again: still off a while later, the API asked once
    lookups = len([r for r in f.wa.requests if r.path.endswith(f"/{f.wa.phone_number_id}")])
    assert healthz(gw)[1]["channels"]["social.whatsapp"]["state"] == "off"
    assert gw.stop() == 0
    assert len([r for r in f.wa.requests if r.path.endswith(f"/{f.wa.phone_number_id}")]) == lookups
    stderr = gw.stderr_text()
    off = [line for line in stderr.splitlines() if "access token rejected" in line]
    assert len(off) == 1 and "ERROR" in off[0] and "social.whatsapp switched off" in off[0], off
    for secret in (bad_token, bad_token.split(":")[1], f.wa.access_token, "Session has expired"):
        assert secret not in gw.log_text()


def test_a_token_refused_on_a_later_check_switches_the_running_channel_off(
    social_fakes: SocialFakes, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    f = social_fakes
    refusal = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    f.telegram.call(f.tg.answer_next, "/getMe", unavailable)
    f.telegram.call(f.tg.answer_next, "/getMe", lambda: web.json_response(refusal, status=401))
    gw = gateway_factory({**f.telegram_env()}).start()
    assert healthz(gw)[1]["channels"]["social.telegram"]["state"] == "degraded"
    update = tg_update("Sampah menumpuk di pasar", user_id=5300044, username="warga44")
    assert post_telegram(gw, update)[0] == 200  # accepted while degraded
    wait_record(gw, str(update["update_id"]))

    body = wait_until(lambda: (b := healthz(gw)[1])["channels"]["social.telegram"]["state"] == "off" and b,
                      timeout=30, interval=0.3, what="the later refusal switching Telegram off")
    assert body["channels"]["social.telegram"]["error"] == "telegram: token rejected (401 Unauthorized)"
    assert post_telegram(gw, tg_update("sesudah", user_id=5300044, username="warga44"))[0] == 404
    assert channel_up(gw, "social.telegram") == "0"
    assert gw.stop() == 0
    off = [line for line in gw.stderr_text().splitlines() if "token rejected" in line]
    assert len(off) == 1 and " ERROR " in off[0] and "social.telegram switched off" in off[0], off
