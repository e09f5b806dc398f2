"""The console's app in process over a data dir built through the Journal API, for the console's tests."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from channels.message import InboundMessage
from gateway.console.app import Console, build_app
from gateway.console.auth import hash_password, new_totp_secret
from gateway.settings import Settings, load_settings
from gateway.store.records import ComplaintRow, Event, InboundOutcome
from gateway.store.sqlite.console import ConsoleTables, open_console_store
from normalizer.tracking import new_tracking_id
from tests.unit.gateway.cli.cli_data import journal, new_gateway

PASSWORD = "correct horse battery"  # 21 characters
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    settings: Settings
    store: ConsoleTables
    console: Console
    client: TestClient
    clock: Clock
    gw: Any
    totp: dict[str, str] = field(default_factory=dict)

    def add_user(self, name: str, role: str, *, must_change: bool = False, confirmed: bool = True) -> None:
        secret = new_totp_secret() if role in ("supervisor", "admin") else None
        self.store.add_user(name, role, hash_password(PASSWORD, self.settings.console), totp_secret=secret, must_change=must_change)
        if secret:
            self.store.set_totp(name, secret, confirmed=confirmed)
            self.totp[name] = secret

    async def csrf(self, path: str = "/console/login") -> str:
        r = await self.client.get(path, allow_redirects=False)
        m = _CSRF.search(await r.text())
        assert m, f"no csrf_token on {path}"
        return m.group(1)

    async def login(self, name: str, password: str = PASSWORD, otp: str | None = None) -> Any:
        import pyotp

        token = await self.csrf()
        if otp is None and name in self.totp:
            otp = pyotp.TOTP(self.totp[name]).at(self.clock.now)
        form = {"username": name, "password": password, "csrf_token": token}
        if otp:
            form["otp"] = otp
        return await self.client.post("/console/login", data=form, allow_redirects=False)

    async def logout(self) -> None:
        self.client.session.cookie_jar.clear()


async def make_env(tmp_path: Path, monkeypatch: Any, **settings_env: str) -> Env:
    gw = new_gateway(tmp_path)
    for key, value in {**gw.env, **settings_env}.items():
        if key.startswith("LAPOR_"):
            monkeypatch.setenv(key, value)
    settings = load_settings()
    store = open_console_store(settings.data.dir)
    clock = Clock()
    console = Console(settings, store, clock=clock, login_delay=0.0, poll_seconds=0.05)
    client = TestClient(TestServer(build_app(console)))
    await client.start_server()
    return Env(settings, store, console, client, clock, gw)


async def close_env(env: Env) -> None:
    await env.client.close()
    env.console.close()
    env.store.close()


def add_complaint(env: Env, record: dict[str, Any], *, vault: dict[str, Any] | None = None, state: str = "normalized",
                  anonymous: bool = False, confidential: bool = False, events: list[Event] | None = None) -> str:
    """One complaint as the worker writes it, with its sealed identity."""
    tid = record.setdefault("tracking_id", new_tracking_id())
    record.setdefault("channel", "sms.kannel")
    record.setdefault("account", "1708")
    record.setdefault("received_at", "2026-12-02T01:15:02+00:00")
    record.setdefault("privacy", {"anonymous": anonymous, "confidential": confidential, "source": "keyword"})
    j = journal(env.gw)

    async def go() -> None:
        (res,) = await j.accept_many([InboundMessage(channel=record["channel"], account=record["account"],
                                                     external_id=f"ext-{tid}", text="t")])
        inbound = int(res.message_id)
        row = ComplaintRow(id=f"c-{tid}", tracking_id=tid, inbound_id=inbound, channel=record["channel"],
                           record_json=json.dumps(record), reporter_ref=None, anonymous=anonymous,
                           confidential=confidential, vault=vault or {}, state=state)
        out = InboundOutcome(inbound, state, row, events=[e for e in events or []])
        assert await j.record_outcomes([out], cursor=inbound) == [True]

    loop_runner(go)
    j.close()
    return tid


def loop_runner(factory: Any) -> None:
    """Run a coroutine to completion in a thread of its own (the test's loop is running)."""
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]
