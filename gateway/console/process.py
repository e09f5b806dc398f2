"""``lapor-gateway console``: the console's process (``run`` starts it as a child, as it does the worker).

On its first start (no users yet) it makes the ``admin`` user with a random password, written alone on one line
to ``<data.dir>/initial-admin-password`` (0600) and named in one start-up line; the password must be changed at
the first sign-in, which removes the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time

from aiohttp import web

from gateway.console.app import Console, build_app
from gateway.console.auth import hash_password, new_totp_secret
from gateway.console.pages_login import INITIAL_PASSWORD_FILE
from gateway.settings import Settings
from gateway.store.sqlite.console import open_console_store

log = logging.getLogger("gateway.console")
SWEEP_SECONDS = 300.0


def ensure_admin(settings: Settings, store: object) -> bool:
    """The initial ``admin`` when there is no user at all; True when it was made now."""
    if store.user_count():  # type: ignore[attr-defined]
        return False
    password = secrets.token_urlsafe(18)
    if not store.add_user("admin", "admin", hash_password(password, settings.console), totp_secret=new_totp_secret(),  # type: ignore[attr-defined]
                          must_change=True):
        return False
    path = settings.data.dir / INITIAL_PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    os.chmod(path, 0o600)
    log.warning("console: first start, user 'admin' made; its password is in %s (change it at first sign-in)", path)
    return True


async def serve_console(settings: Settings, stop: asyncio.Event) -> None:
    store = open_console_store(settings.data.dir)
    await asyncio.to_thread(ensure_admin, settings, store)
    console = Console(settings, store)
    runner = web.AppRunner(build_app(console), access_log=None, handle_signals=False)
    await runner.setup()
    c = settings.console
    try:
        await web.TCPSite(runner, c.host, c.port, shutdown_timeout=3.0).start()  # open live feeds end at once
        log.info("console on http://%s:%d/console/", c.host, c.port)
        while not stop.is_set():
            now = time.time()
            await asyncio.to_thread(store.end_sessions_before, now - c.session_max_hours * 3600,
                                    now - c.session_minutes * 60)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SWEEP_SECONDS):  # not wait_for: it can drop a cancellation (3.11)
                    await stop.wait()
    finally:
        await runner.cleanup()
        console.close()
        store.close()
