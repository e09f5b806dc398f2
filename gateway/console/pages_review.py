"""``/console/review``: what waits for a person; approve, reject (with a reason) or correct from the complaint
page. The decisions are the CLI's (``review`` through the ``ReviewStore`` port, ``gateway.cli.review.corrected``
for a correction, :func:`gateway.worker.rejections.reject` for a rejection and its notice to the citizen); the
console adds the audit entry with the reviewer's name and reason.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from gateway.cli.review import _confidential, _excerpt, _page_images, _pages, corrected
from gateway.console.app import audit, console_of, page
from gateway.console.keys import FLASH
from gateway.console.pages_complaint import tracking_of
from gateway.console.render import render
from gateway.worker import rejections
from gateway.worker.templates import REJECT_CHOICES, Templates


def _queue(journal: Any) -> list[dict[str, Any]]:
    items = []
    for item in journal.review_queue():
        row = journal.complaint_by_tracking(item["tracking_id"]) or {}
        record = json.loads(row.get("record") or "{}")
        items.append({**item, "reasons": json.loads(item["reasons"] or "[]"),
                      "pages": _pages(record, _page_images(record)),
                      "excerpt": _excerpt(record, _confidential(row, record))})
    return items


@page("operator")
async def review_page(request: web.Request) -> web.StreamResponse:
    journal = console_of(request).open_journal()
    if request.query.get("done") in ("approved", "rejected", "rejected_silent"):
        request[FLASH] = request.query["done"]
    return render(request, "review.html", items=await asyncio.to_thread(_queue, journal))


def _text(form: Any, name: str, limit: int = 20_000) -> str | None:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else None


@page("operator")
async def approve(request: web.Request) -> web.StreamResponse:
    tid = tracking_of(request)
    journal = console_of(request).open_journal()
    if not await asyncio.to_thread(journal.review_decide_sync, tid, True):
        request[FLASH] = "not_waiting"
        raise web.HTTPSeeOther(f"/console/complaints/{tid}")
    await audit(request, "review_approved", tracking_id=tid)
    raise web.HTTPSeeOther("/console/review?done=approved")


@page("operator")
async def reject(request: web.Request) -> web.StreamResponse:
    """Reject with a reason from the fixed list (``because``: what the citizen is told, in their words; refused
    when missing or unknown) and the reviewer's own note (``reason``: kept and audited, never sent)."""
    tid = tracking_of(request)
    form = await request.post()
    because = _text(form, "because", 40)
    if because not in REJECT_CHOICES:
        return render(request, "message.html", status=400, message_key="reject_needs_because")
    note = _text(form, "reason", 500) or None
    c = console_of(request)
    templates = Templates(c.settings.sms.receipt_language, timezone=c.settings.service.timezone)
    done = await asyncio.to_thread(rejections.reject, c.open_journal(), templates, tid, because, note)
    if not done.decided:
        request[FLASH] = "not_waiting"
        raise web.HTTPSeeOther(f"/console/complaints/{tid}")
    await audit(request, "review_rejected", tracking_id=tid, reason=f"{because}: {note}" if note else because)
    raise web.HTTPSeeOther(f"/console/review?done={'rejected' if done.told else 'rejected_silent'}")


@page("operator")
async def correct(request: web.Request) -> web.StreamResponse:
    """A person's text and fields (and the Anonim/Rahasia flags, set by an operator) for a held complaint."""
    tid = tracking_of(request)
    form = await request.post()
    journal = console_of(request).open_journal()
    row = await asyncio.to_thread(journal.complaint_by_tracking, tid)
    if row is None or row["state"] != "review":
        raise web.HTTPSeeOther(f"/console/complaints/{tid}")
    record = json.loads(row["record"])
    was_confidential = _confidential(row, record)  # its text was not on the page: a body field is not from it
    privacy = dict(record.get("privacy") or {})
    anonymous, confidential = form.get("anonymous") == "1", form.get("confidential") == "1"
    if (anonymous, confidential) != (bool(privacy.get("anonymous")), bool(privacy.get("confidential"))):
        privacy.update(anonymous=anonymous or bool(privacy.get("anonymous")),
                       confidential=confidential or bool(privacy.get("confidential")), source="operator")
        record["privacy"] = privacy
        if privacy["anonymous"]:
            record["reporter"] = None  # the forwarded record never carries an anonymous reporter
    fields = {k: v for k in ("subject", "location", "category") if (v := _text(form, k, 300)) is not None}
    body = _text(form, "body")
    if body is None or was_confidential:
        body = record.get("body") or ""
    new = corrected(record, fields, body) if body else record
    await asyncio.to_thread(journal.review_correct_sync, tid, json.dumps(new, ensure_ascii=False))
    await audit(request, "review_corrected", tracking_id=tid)
    raise web.HTTPSeeOther(f"/console/complaints/{tid}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/review", review_page)
    app.router.add_post("/console/complaints/{tracking_id}/approve", approve)
    app.router.add_post("/console/complaints/{tracking_id}/reject", reject)
    app.router.add_post("/console/complaints/{tracking_id}/correct", correct)
