"""The console's own app in process (:mod:`tests.unit.gateway.console.console_env`), one per test.

A module that needs more overrides ``console_settings`` (settings) or ``console_users`` (users, by role);
``operator_env`` has the operator ``ops`` signed in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.gateway.console.console_env import Env, close_env, make_env


@pytest.fixture
def console_settings() -> dict[str, str]:
    """``LAPOR_…`` settings the console runs with beyond the test gateway's own."""
    return {}


@pytest.fixture
def console_users() -> list[tuple[str, str]]:
    """(name, role) of the users the console starts with."""
    return []


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, console_settings: dict[str, str],
              console_users: list[tuple[str, str]]) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, monkeypatch, **console_settings)
    for name, role in console_users:
        e.add_user(name, role)
    yield e
    await close_env(e)


@pytest.fixture
async def operator_env(env: Env) -> Env:
    env.add_user("ops", "operator")
    await env.login("ops")
    return env
