"""The social channels end to end: the real ``lapor-gateway run`` against the fake provider APIs.

The fakes (:mod:`tests.fakes`) are aiohttp apps that live on an event loop; the
gateway is another process, so each fake runs on its own loop in a thread
(:class:`tests.e2e_helpers.InThread`) and the gateway is pointed at its base URL.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e_helpers import InThread
from tests.fakes import FakeGraph, FakeTelegram, FakeX
from tests.gateway_proc import GatewayProcess

TG_SECRET = "tg-webhook-secret-e2e"
WA_VERIFY = "wa-verify-token-e2e"
SERVICE_HANDLE = "lapor1708"


@dataclass
class SocialFakes:
    telegram: InThread[FakeTelegram]
    x: InThread[FakeX]
    graph: InThread[FakeGraph]

    @property
    def tg(self) -> FakeTelegram:
        return self.telegram.inner

    @property
    def fx(self) -> FakeX:
        return self.x.inner

    @property
    def wa(self) -> FakeGraph:
        return self.graph.inner

    def telegram_env(self, mode: str = "webhook") -> dict[str, str]:
        return {"LAPOR_TELEGRAM__TOKEN": self.tg.token, "LAPOR_TELEGRAM__WEBHOOK_SECRET": TG_SECRET,
                "LAPOR_TELEGRAM__MODE": mode, "LAPOR_TELEGRAM__API_BASE_URL": self.tg.base_url}

    def x_env(self, poll_seconds: float = 0.3) -> dict[str, str]:
        return {"LAPOR_X__BEARER_TOKEN": self.fx.token, "LAPOR_X__USER_ID": self.fx.user_id,
                "LAPOR_X__POLL_SECONDS": str(poll_seconds), "LAPOR_X__API_BASE_URL": self.fx.base_url}

    def whatsapp_env(self) -> dict[str, str]:
        return {"LAPOR_WHATSAPP__VERIFY_TOKEN": WA_VERIFY, "LAPOR_WHATSAPP__APP_SECRET": self.wa.app_secret,
                "LAPOR_WHATSAPP__ACCESS_TOKEN": self.wa.access_token,
                "LAPOR_WHATSAPP__PHONE_NUMBER_ID": self.wa.phone_number_id,
                "LAPOR_WHATSAPP__API_BASE_URL": self.wa.base_url}


@pytest.fixture(scope="module")
def social_fakes() -> Iterator[SocialFakes]:
    """The three fakes, shared by the tests of one module (each module starts its own gateway on them)."""
    fakes = SocialFakes(InThread(FakeTelegram()).start(), InThread(FakeX(username=SERVICE_HANDLE)).start(),
                        InThread(FakeGraph()).start())
    try:
        yield fakes
    finally:
        for f in (fakes.telegram, fakes.x, fakes.graph):
            f.stop()


@pytest.fixture(scope="module")
def module_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[dict[str, str]], GatewayProcess]]:
    """Starts one gateway shared by a module's tests (start-up costs seconds; the scenarios do not interfere)."""
    made: list[GatewayProcess] = []

    def make(env: dict[str, str]) -> GatewayProcess:
        gw = GatewayProcess(tmp_path_factory.mktemp("gw"), env)
        made.append(gw)
        return gw.start()

    yield make
    for gw in made:
        if gw.proc is not None and gw.proc.poll() is None:
            with suppress(AssertionError):
                gw.stop()


# --- building what the providers send -----------------------------------------------------------
_update_ids = itertools.count(880000001)
_message_ids = itertools.count(701)


def tg_update(text: str | None, *, user_id: int, username: str | None, first_name: str = "Warga",
              chat_id: int | None = None, chat_type: str = "private", **message: Any) -> dict[str, Any]:
    """A Telegram Update with one message from ``user_id`` (a fresh update_id each time)."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "id"}
    if username:
        user["username"] = username
    chat = {"id": chat_id or user_id, "type": chat_type, "first_name": first_name}
    msg: dict[str, Any] = {"message_id": next(_message_ids), "from": user, "chat": chat, "date": int(time.time()),
                           **message}
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": next(_update_ids), "message": msg}


def wa_payload(phone_number_id: str, *, messages: list[dict[str, Any]] = (),  # type: ignore[assignment]
               statuses: list[dict[str, Any]] = (), contacts: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id}}
    if messages:
        value |= {"messages": list(messages), "contacts": list(contacts)}
    if statuses:
        value["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


_wamids = itertools.count(1)


def wa_message(wa_id: str, kind: str = "text", **part: Any) -> dict[str, Any]:
    return {"from": wa_id, "id": f"wamid.E2E{next(_wamids):08d}{wa_id[-4:]}", "timestamp": str(int(time.time())),
            "type": kind, kind: part}


def blob_bytes(gw: GatewayProcess, sha256: str) -> bytes:
    """An attachment's bytes as the gateway stored them (opened with the vault key when sealed)."""
    from gateway.store.blobs import BlobStore
    from gateway.store.vault import Sealer

    store = BlobStore(gw.data_dir / "blobs", sealer=Sealer(gw.env["LAPOR_PRIVACY__VAULT_KEY"]))
    return store.get(sha256)


# --- talking to the gateway ------------------------------------------------------------------------
def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def post_telegram(gw: GatewayProcess, update: dict[str, Any], secret: str | None = TG_SECRET) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return http("POST", gw.url + "/channels/telegram", json.dumps(update).encode(), headers)


def post_whatsapp(gw: GatewayProcess, payload: dict[str, Any], app_secret: str) -> tuple[int, str]:
    raw = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return http("POST", gw.url + "/channels/whatsapp", raw,
                {"Content-Type": "application/json", "X-Hub-Signature-256": sig})


def word_runs(text: str, n: int = 3) -> set[str]:
    """Every run of ``n`` consecutive words of ``text`` (lower case, punctuation stripped)."""
    words = ["".join(ch for ch in w if ch.isalnum()) for w in text.lower().split()]
    words = [w for w in words if w]
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def quotes_complaint(reply: str, complaint: str, n: int = 3) -> set[str]:
    """The ``n``-word sequences of ``complaint`` that appear in ``reply``."""
    return word_runs(complaint, n) & word_runs(reply, n)
