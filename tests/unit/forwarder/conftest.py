"""The reference store in process for the response outbox tests (:mod:`tests.unit.forwarder.outbox_rig`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from forwarder.central import build_central_app
from forwarder.outbox import CentralClient
from tests.unit.forwarder.outbox_rig import API_TOKEN, HMAC_KEY


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(build_central_app(tmp_path / "central.db", HMAC_KEY, API_TOKEN))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def up(store: TestServer) -> AsyncIterator[CentralClient]:
    """The gateway's client of that store, signed and with its API token."""
    client = CentralClient(str(store.make_url("")), HMAC_KEY, api_token=API_TOKEN)
    yield client
    await client.close()
