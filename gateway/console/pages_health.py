"""``/console/health``: each channel on/off/failing with its last error, its last message, the receipt paths
and the backlog. The channels' state lives in the intake process: read from its ``/healthz``; the rest from
the journal (``receipt_paths``, ``progress``, ``counts``)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from gateway.console.app import console_of, page
from gateway.console.pages_desk import intake_url
from gateway.console.render import render


def _journal_view(journal: Any) -> dict[str, Any]:
    last = {}
    for ch in journal.event_channels():
        rows = journal.events_matching(last=1, channels=[ch], states=["received"])
        if rows:
            last[ch] = rows[-1]["at"]
    return {"paths": journal.receipt_paths(), "progress": journal.progress(), "counts": journal.counts(),
            "last": last}


@page("operator")
async def health_page(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    healthz: dict[str, Any] | None = None
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
                http.get(intake_url(c.settings, "/healthz")) as answer:
            healthz = await answer.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        healthz = None
    view = await asyncio.to_thread(_journal_view, c.open_journal())
    channels = healthz.get("channels") if isinstance(healthz, dict) else None
    if isinstance(channels, dict):
        channels = [dict(v, name=k) if isinstance(v, dict) else {"name": k, "state": v} for k, v in channels.items()]
    return render(request, "health.html", healthz=healthz, channels=channels or [], **view)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/health", health_page)
