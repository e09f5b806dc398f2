"""How each social channel's start-up check classifies a failure (issue 13 item 14): only the API's own
rejection of the token is Refused (the channel is switched off); an outage, a 5xx, an answer that is not
the API's JSON, even a 401 page from something in front of it, is PeerUnavailable (on, degraded, retried)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from channels.message import ChannelError, PeerUnavailable, Refused
from channels.social.telegram_bot import check_bot, make_bot
from channels.social.whatsapp_graph import GraphApi, check_graph
from channels.social.x import XMentionsPoller
from channels.social.x_client import make_client
from tests.fakes import FakeGraph, FakeTelegram, FakeX
from tests.fakes.server import not_json, unavailable
from tests.unit.channels.social.helpers import JsonCursors

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def json_answer(status: int, body: object) -> Callable[[], web.Response]:
    return lambda: web.Response(status=status, text=json.dumps(body), content_type="application/json")


PASSING: list[tuple[str, Callable[[], web.StreamResponse]]] = [
    ("html at 200", not_json),
    ("html at 502", lambda: not_json(502)),
    ("503", unavailable),
    ("html at 401", lambda: not_json(401)),  # a proxy's page: not the API saying the token is wrong
    ("a JSON list", json_answer(200, [1, 2])),
]


@pytest.mark.parametrize(("label", "answer"), PASSING, ids=[p[0] for p in PASSING])
async def test_whatsapp_outages_are_passing(label: str, answer: Callable[[], web.StreamResponse]) -> None:
    async with FakeGraph() as fake:
        graph = GraphApi(fake.access_token, fake.phone_number_id, fake.base_url)
        try:
            fake.answer_next(f"/{fake.phone_number_id}", answer)
            with pytest.raises(PeerUnavailable) as err:
                await check_graph(graph)
            assert not isinstance(err.value, Refused)
            assert (await check_graph(graph)).startswith("whatsapp: on for LAPOR! 1708")  # recovered
        finally:
            await graph.close()
    assert fake.access_token not in str(err.value)


@pytest.mark.parametrize(("status", "code", "error"), [
    (401, 190, "whatsapp: access token rejected (401, code 190)"),
    (403, 200, "whatsapp: access token lacks the permission (403, code 200): check whatsapp.access_token"),
    (400, 10, "whatsapp: access token lacks the permission (400, code 10): check whatsapp.access_token"),
])
async def test_whatsapp_token_refusals_are_refused(status: int, code: int, error: str) -> None:
    body = {"error": {"message": "Invalid OAuth access token EAAfake-access-token", "type": "OAuthException",
                      "code": code}}
    async with FakeGraph() as fake:
        graph = GraphApi(fake.access_token, fake.phone_number_id, fake.base_url)
        fake.answer_next(f"/{fake.phone_number_id}", json_answer(status, body))
        try:
            with pytest.raises(Refused) as err:
                await check_graph(graph)
        finally:
            await graph.close()
    assert str(err.value) == error


async def test_whatsapp_graph_5xx_and_an_unknown_number_id_are_not_refusals() -> None:
    async with FakeGraph() as fake:
        graph = GraphApi(fake.access_token, fake.phone_number_id, fake.base_url)
        fake.answer_next(f"/{fake.phone_number_id}", json_answer(500, {"error": {"type": "OAuthException", "code": 2}}))
        try:
            with pytest.raises(PeerUnavailable, match=r"Graph API failed \(500, code 2\)"):
                await check_graph(graph)
            wrong = GraphApi(fake.access_token, "999", fake.base_url)
            with pytest.raises(ChannelError) as err:
                await check_graph(wrong)
            await wrong.close()
        finally:
            await graph.close()
    assert not isinstance(err.value, Refused) and "not usable (400, code 100)" in str(err.value)


@pytest.mark.parametrize(("label", "answer"), PASSING, ids=[p[0] for p in PASSING])
async def test_telegram_outages_are_passing(label: str, answer: Callable[[], web.StreamResponse],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeTelegram() as fake:
        fake.answer_next("/getMe", answer)
        bot = make_bot(fake.token, fake.base_url)
        with pytest.raises(PeerUnavailable) as err:
            await check_bot(bot, "polling")
        assert await check_bot(bot, "polling") == "telegram: on as @lapor1708_bot, polling mode"
    assert fake.token not in str(err.value) and fake.token.split(":")[1] not in str(err.value)
    # PTB logs a body it cannot parse whole (a garbled getUpdates holds citizens' texts): silenced
    assert "<html>" not in caplog.text and "Can not load invalid JSON" not in caplog.text


@pytest.mark.parametrize("answer", [json_answer(200, {"ok": True, "result": "not a user"}),
                                    json_answer(200, {"ok": True})], ids=["result not a user", "no result"])
async def test_telegram_json_that_is_not_a_user_is_passing(answer: Callable[[], web.StreamResponse]) -> None:
    async with FakeTelegram() as fake:
        fake.answer_next("/getMe", answer)
        with pytest.raises(PeerUnavailable):
            await check_bot(make_bot(fake.token, fake.base_url), "polling")


@pytest.mark.parametrize(("status", "description", "error"), [
    (401, "Unauthorized", "telegram: token rejected (401 Unauthorized)"),
    (404, "Not Found", "telegram: token rejected (401 Unauthorized)"),  # the Bot API's answer to a bad token path
    (403, "Forbidden", "telegram: token refused (403 Forbidden)"),
])
async def test_telegram_api_refusals_are_refused(status: int, description: str, error: str) -> None:
    async with FakeTelegram() as fake:
        fake.answer_next("/getMe", json_answer(status, {"ok": False, "error_code": status,
                                                        "description": description}))
        with pytest.raises(Refused) as err:
            await check_bot(make_bot(fake.token, fake.base_url), "polling")
    assert str(err.value) == error


async def test_telegram_set_webhook_refused_is_not_a_token_refusal() -> None:
    async with FakeTelegram() as fake:
        fake.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        with pytest.raises(ChannelError) as err:
            await check_bot(make_bot(fake.token, fake.base_url), "webhook", "http://gateway.example/x", "s")
    assert not isinstance(err.value, Refused) and str(err.value) == "telegram: Bot API refused (BadRequest)"


def x_poller(fake: FakeX, tmp_path: Path, token: str | None = None, user_id: str | None = None) -> XMentionsPoller:
    return XMentionsPoller(make_client(token or fake.token, fake.base_url), user_id or fake.user_id,
                           JsonCursors(tmp_path / "c.json"))


X_PASSING = [*PASSING, ("no data", json_answer(200, {"errors": [{"detail": "x"}]})),
             ("429", json_answer(429, {"title": "Too Many Requests"}))]


@pytest.mark.parametrize(("label", "answer"), X_PASSING, ids=[p[0] for p in X_PASSING])
async def test_x_outages_are_passing(label: str, answer: Callable[[], web.StreamResponse], tmp_path: Path) -> None:
    async with FakeX() as fake:
        fake.answer_next("/2/users/me", answer)
        poller = x_poller(fake, tmp_path)
        with pytest.raises(PeerUnavailable) as err:
            await poller.check()
        assert (await poller.check()).startswith("x: on as @lapor1708")
    assert fake.token not in str(err.value)


async def test_x_refusals_are_refused(tmp_path: Path) -> None:
    async with FakeX() as fake:
        with pytest.raises(Refused, match=r"401 Unauthorized"):
            await x_poller(fake, tmp_path, token="wrong").check()
        fake.answer_next("/2/users/me", json_answer(403, {"title": "Forbidden", "status": 403}))
        with pytest.raises(Refused, match=r"\(403\)"):
            await x_poller(fake, tmp_path).check()
        with pytest.raises(Refused, match="another account"):
            await x_poller(fake, tmp_path, user_id="42").check()
