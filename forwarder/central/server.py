"""Starting the central store: in-process next to the gateway, or alone (``lapor-gateway central``).

Settings arrive duck-typed (:class:`CentralConfig` is the shape of
``gateway.settings.CentralSettings``) because ``forwarder`` may not import
``gateway`` beyond its leaf modules.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web

from .app import build_central_app

log = logging.getLogger("lapor.central")


class CentralConfig(Protocol):
    host: str
    port: int
    hmac_key: str | None
    api_token: str | None
    db: Path | None
    gateway_url: str | None  # where the store pushes its wake-up (optional)


@dataclass
class CentralServer:
    """A running store; ``port`` is the bound port (useful with port 0)."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        """Stop accepting, finish in-flight requests, close the store (joins its writer)."""
        await self.runner.cleanup()


async def serve_central(
    db_path: Path | str,
    hmac_key: str,
    api_token: str,
    host: str = "127.0.0.1",
    port: int = 8090,
    *,
    gateway_url: str | None = None,
) -> CentralServer:
    """Start the store on the running loop and return once it listens."""
    app = build_central_app(db_path, hmac_key, api_token, gateway_url=gateway_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    return CentralServer(runner, host, runner.addresses[0][1])


def _require(central: CentralConfig, data_dir: Path | str | None) -> tuple[Path, str, str]:
    """Missing settings stop start-up with one line naming the setting."""
    if not central.hmac_key:
        raise ValueError("missing setting central.hmac_key (LAPOR_CENTRAL__HMAC_KEY)")
    if not central.api_token:
        raise ValueError("missing setting central.api_token (LAPOR_CENTRAL__API_TOKEN)")
    db = central.db or (Path(data_dir) / "central.db" if data_dir is not None else None)
    if db is None:
        raise ValueError("missing setting central.db (or data.dir)")
    return Path(db), central.hmac_key, central.api_token


def _gateway_url(central: CentralConfig) -> str | None:
    url = getattr(central, "gateway_url", None) or None  # older settings objects have no such field
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError("invalid setting central.gateway_url (LAPOR_CENTRAL__GATEWAY_URL): not an http(s) URL")
    return url


async def serve_central_from(central: CentralConfig, data_dir: Path | str | None = None) -> CentralServer:
    """:func:`serve_central` from the ``central`` settings section (embedded mode)."""
    db, key, token = _require(central, data_dir)
    return await serve_central(db, key, token, central.host, central.port, gateway_url=_gateway_url(central))


def run_central(central: CentralConfig, data_dir: Path | str | None = None) -> None:
    """Blocking entry for ``lapor-gateway central``: serve until SIGINT/SIGTERM, then close cleanly."""
    db, key, token = _require(central, data_dir)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    gateway_url = _gateway_url(central)
    app = build_central_app(db, key, token, gateway_url=gateway_url)
    log.info("central store on http://%s:%d (db %s)%s", central.host, central.port, db,
             f", wake-up push to {gateway_url}" if gateway_url else "")
    loop = loop_factory() if loop_factory else asyncio.new_event_loop()
    web.run_app(app, host=central.host, port=central.port, access_log=None, print=None, loop=loop)
