"""``/console/dead-letters``: forwards, receipts and citizens' answers to the store that gave up, with the reason;
retry one or all.

A retry queues them again exactly as ``lapor-gateway retry-dead`` does (the same store methods), then watches
the running worker send them for a few seconds and says, per item, what happened: sent, or failing again and
why, or still queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from gateway.console.app import audit, console_of, page
from gateway.console.render import render
from normalizer.tracking import check_tracking_id

WATCH_SECONDS = 15.0
SENT_RECEIPT = frozenset({"sent", "delivered", "printed"})


RETRYABLE_RESPONSES = frozenset({"dead_letter", "held"})  # what retry queues again (a rejected one's complaint was)


def _lists(journal: Any) -> dict[str, list[dict[str, Any]]]:
    """What gave up: forwards, receipts and citizens' answers to the store (where the store has them)."""
    dead = getattr(journal, "dead_responses", None)
    responses = [dict(r, retryable=r["state"] in RETRYABLE_RESPONSES) for r in (dead() if dead else [])]
    return {"forwards": journal.dead_forwards(), "receipts": journal.failed_receipts(), "responses": responses}


@page("operator")
async def dead_page(request: web.Request) -> web.StreamResponse:
    journal = console_of(request).open_journal()
    return render(request, "dead.html", **await asyncio.to_thread(_lists, journal), outcome=None)


def _outcomes(journal: Any, forwards: list[str], receipts: list[tuple[str, str, str]],
              responses: Sequence[str] = ()) -> tuple[list[Any], bool]:
    """What became of each queued item now; True when none is still waiting."""
    out, settled = [], True
    for tid in forwards:
        row = journal.complaint_by_tracking(tid) or {}
        state = row.get("state")
        if state == "forwarded":
            out.append((tid, "forward", "sent", None))
        elif state == "dead_letter" or (row.get("attempts") or 0) > 0:
            out.append((tid, "forward", "failing", row.get("last_error")))
        else:
            out.append((tid, "forward", "queued", None))
            settled = False
    for tid, kind, channel in receipts:
        rows = [r for r in journal.receipts_for(tid) if r["kind"] == kind and r["channel"] == channel] if tid else []
        states = {r["state"] for r in rows}
        errors = [r["last_error"] for r in rows if r.get("last_error")]
        if states & SENT_RECEIPT and not states - SENT_RECEIPT:
            out.append((tid, f"{kind} · {channel}", "sent", None))
        elif "failed" in states or errors:
            out.append((tid, f"{kind} · {channel}", "failing", errors[-1] if errors else None))
        else:
            out.append((tid, f"{kind} · {channel}", "queued", None))
            settled = False
    for tid in dict.fromkeys(responses):
        rows = [r for r in journal.responses_for(tid) if r.get("state") != "rejected"]
        states = {r.get("state") for r in rows}
        errors = [r["last_error"] for r in rows if r.get("last_error")]
        if states and states <= {"forwarded"}:
            out.append((tid, "citizen_response", "sent", None))
        elif "dead_letter" in states or (errors and any((r.get("attempts") or 0) > 0 for r in rows)):
            out.append((tid, "citizen_response", "failing", errors[-1] if errors else None))
        else:
            out.append((tid, "citizen_response", "queued", None))
            settled = False
    return out, settled


@page("operator")
async def retry(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    raw = form.get("tracking_id")
    ids: list[str] | None = None
    if isinstance(raw, str) and raw.strip():
        check = check_tracking_id(raw.strip()[:40])
        if not check.ok:
            raise web.HTTPBadRequest(text="not a tracking ID\n")
        ids = [check.tracking_id]
    journal = console_of(request).open_journal()

    def queue() -> tuple[list[str], list[tuple[str, str, str]], list[str]]:
        # citizens' answers to the store that gave up, too, where the store has them (the return path)
        responses = getattr(journal, "retry_dead_responses_sync", None)
        return (journal.retry_dead_forwards_sync(ids), journal.retry_failed_receipts_sync(ids),
                responses(ids) if responses else [])

    forwards, receipts, responses = await asyncio.to_thread(queue)
    await audit(request, "retry", tracking_id=ids[0] if ids else None,
                reason=f"{len(forwards)} forward(s), {len(receipts)} receipt(s), {len(responses)} response(s)")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WATCH_SECONDS
    while True:
        outcome, settled = await asyncio.to_thread(_outcomes, journal, forwards, receipts, responses)
        if settled or loop.time() >= deadline:
            break
        await asyncio.sleep(0.5)
    return render(request, "dead.html", **await asyncio.to_thread(_lists, journal), outcome=outcome,
                  queued=(len(forwards), len(receipts), len(responses)))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/dead-letters", dead_page)
    app.router.add_post("/console/dead-letters/retry", retry)
