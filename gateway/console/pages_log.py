"""``/console/``: the intake log with filters as query parameters, and ``/console/events``: its live feed (SSE).

The rows are the intake log's events (``EventLog.events_matching``, the CLI's filter ``LogFilter``): channel,
tracking ID, state, the masked contact, category, flags and a short detail, never a body. The feed sends new
rows as JSON; the page's script adds them with ``textContent`` (never as markup).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from channels.citizen_time import zone
from gateway.cli.display import safe_text
from gateway.cli.log import LogFilter
from gateway.console.app import console_of, data, page
from gateway.console.i18n import STATES, state_label, state_note
from gateway.console.keys import LANG, SESSION_HASH
from gateway.console.render import render

PAGE_ROWS = 200
FILTERS = ("channel", "state", "category", "flags", "date", "tracking_id")
KEEPALIVE_SECONDS = 15.0
FIELDS = ("channel", "tracking_id", "state", "contact", "category", "flags", "detail")


class Wanted:
    """The page's filters: the CLI's (channel or family, states, tracking ID, since) plus category, flags, day."""

    def __init__(self, query: Any, timezone: str) -> None:
        self.values = {k: (query.get(k) or "").strip()[:100] for k in FILTERS}
        v = self.values
        self.day: tuple[float, float] | None = None
        since = None
        if v["date"]:
            try:
                d = date.fromisoformat(v["date"])
            except ValueError:
                v["date"] = ""
            else:
                start = datetime(d.year, d.month, d.day, tzinfo=zone(timezone))
                self.day = (start.timestamp(), (start + timedelta(days=1)).timestamp())
                since = self.day[0]
        states = tuple(s.strip() for s in v["state"].split(",") if s.strip())
        self.log = LogFilter(v["channel"] or None, states, v["tracking_id"] or None, since)

    def keeps(self, e: dict[str, Any]) -> bool:
        v = self.values
        if v["category"] and v["category"].lower() not in str(e.get("category") or "").lower():
            return False
        if v["flags"] and v["flags"].lower() not in str(e.get("flags") or "").lower():
            return False
        return not (self.day and not self.day[0] <= float(e["at"]) < self.day[1])


def row(e: dict[str, Any], when: Any, lang: str = "id") -> dict[str, Any]:
    return {"seq": e["seq"], "at": when(e["at"]), **{k: safe_text(e.get(k)) for k in FIELDS},
            "state_label": state_label(e.get("state"), lang), "note": state_note(e.get("state"), lang)}


def _matching(journal: Any, wanted: Wanted, *, after: int = 0, last: int | None = None) -> list[dict[str, Any]]:
    events = journal.events_matching(after=after, last=last, limit=500, **wanted.log.query(journal))
    return [e for e in events if wanted.keeps(e)]


@page("operator")
async def log_page(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    journal = c.open_journal()
    wanted = Wanted(request.query, c.settings.service.timezone)
    events, last_seq, channels = await asyncio.to_thread(
        lambda: (_matching(journal, wanted, last=PAGE_ROWS), journal.last_event_seq(), journal.event_channels()))
    lang = request.get(LANG, "id")
    states = [(code, state_label(code, lang)) for code in STATES]
    if wanted.values["state"] and wanted.values["state"] not in STATES:  # a list or an unknown code from the URL
        states.append((wanted.values["state"], wanted.values["state"]))
    return render(request, "log.html", events=list(reversed(events)), last_seq=last_seq, filters=wanted.values,
                  channels=sorted(channels), states=states, feed_query=request.query_string)


@data("operator")
async def events_feed(request: web.Request) -> web.StreamResponse:
    """``text/event-stream``: one ``row`` event per new intake-log entry matching the filters."""
    from gateway.console.render import APP_KEY_ENV

    c = console_of(request)
    journal = c.open_journal()
    wanted = Wanted(request.query, c.settings.service.timezone)
    when = request.app[APP_KEY_ENV].filters["when"]
    # after the page's newest row (``after``), or where a reconnecting browser left off; else from now on
    given = request.headers.get("Last-Event-ID") or request.query.get("after")
    seq = int(given) if given and given.isdigit() and len(given) < 19 else await asyncio.to_thread(
        journal.last_event_seq)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await response.write(b"retry: 3000\n\n")
    quiet = 0.0
    session = request.get(SESSION_HASH)
    while request.transport is not None and not request.transport.is_closing():  # until the browser goes
        events = await asyncio.to_thread(journal.events_matching, after=seq, limit=500, **wanted.log.query(journal))
        for e in events:
            seq = e["seq"]
            if wanted.keeps(e):
                body = json.dumps(row(e, when, request.get(LANG, "id")), ensure_ascii=False)
                await response.write(f"id: {seq}\nevent: row\ndata: {body}\n\n".encode())
                quiet = 0.0
        if quiet >= KEEPALIVE_SECONDS:
            if session and await c.db.session(session) is None:  # signed out or expired meanwhile
                break
            await response.write(b": keep-alive\n\n")
            quiet = 0.0
        await asyncio.sleep(c.poll_seconds)
        quiet += c.poll_seconds
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/", log_page)
    app.router.add_get("/console/events", events_feed)
