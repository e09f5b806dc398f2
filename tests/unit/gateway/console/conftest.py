"""The console's own app in process (:mod:`tests.unit.gateway.console.console_env`), one per test.

A module that needs more adds to these: settings by overriding ``console_settings``, users by overriding
``env`` (``def env(env: Env) -> Env``: add them and return it); ``operator_env`` has the operator ``ops``
signed in."""

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
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, console_settings: dict[str, str]) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, monkeypatch, **console_settings)
    yield e
    await close_env(e)


@pytest.fixture
async def operator_env(env: Env) -> Env:
    env.add_user("ops", "operator")
    await env.login("ops")
    return env
