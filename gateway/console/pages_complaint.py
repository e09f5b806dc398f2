"""``/console/complaints/<tracking_id>``: the record as forwarded, its timeline, receipts and replies,
attachments inline; the review controls while it waits; a supervisor's audited reveal.

The data is ``gateway.cli.show.gather`` (what ``lapor-gateway show`` prints): a confidential text is not in
it, an anonymous reporter is not in the record. Only :func:`reveal` opens either, for a supervisor, with a
reason, and writes the audit entry first.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from channels.registry import spec_for
from gateway.cli.show import gather
from gateway.console.app import audit, console_of, data, page
from gateway.console.auth import role_at_least
from gateway.console.keys import FLASH, USER
from gateway.console.render import render
from gateway.console.words import blank_pages, page_number
from normalizer.tracking import check_tracking_id

INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
REVIEW_STATES = frozenset({"review", "awaiting_details"})
DESK_LABELS = {"desk.walkin": "Loket: datang langsung", "desk.phone": "Loket: telepon",
               "desk.callcentre": "Loket: pusat panggilan"}


def tracking_of(request: web.Request) -> str:
    check = check_tracking_id(request.match_info["tracking_id"][:40])
    if not check.ok:
        raise web.HTTPNotFound(text="not a tracking ID\n")
    return check.tracking_id


def may_see(request: web.Request, tracking_id: str) -> bool:
    """Operators and above see every complaint; a scanner only those they entered at the desk."""
    user = request[USER]
    if role_at_least(user["role"], "operator"):
        return True
    return console_of(request).store.entered_by(tracking_id) == user["name"]  # in _load, off the loop


def _load(request: web.Request, tracking_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    c = console_of(request)
    journal = c.open_journal()
    row = journal.complaint_by_tracking(tracking_id)
    if row is None or not may_see(request, tracking_id):
        raise web.HTTPNotFound(text="no such complaint\n")
    return row, gather(journal, row, c.settings.service.timezone)


def _conversation(out: dict[str, Any]) -> list[dict[str, Any]]:
    """What the agency told the citizen and what the citizen answered (``show`` gathers both, in order)."""
    value = out.get("conversation")
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _view(request: web.Request, row: dict[str, Any], out: dict[str, Any], **extra: Any) -> web.Response:
    record = out["record"]
    privacy = record.get("privacy") or {}
    blank = blank_pages(record.get("needs_review"))  # their cleaned image is all white: said, not shown
    atts = [dict(a, n=n, inline=a.get("media_type") in INLINE_IMAGES, pdf=a.get("media_type") == "application/pdf",
                 page=page_number(a.get("filename")), blank=page_number(a.get("filename")) in blank)
            for n, a in enumerate(record.get("attachments") or [])]
    role = request[USER]["role"]
    return render(
        request, "complaint.html", out=out, record=record, privacy=privacy, attachments=atts,
        conversation=_conversation(out), tid=out["tracking_id"],
        anonymous=bool(row["anonymous"]) or bool(privacy.get("anonymous")),
        confidential=bool(row["confidential"]) or bool(privacy.get("confidential")),
        in_review=row["state"] in REVIEW_STATES and role_at_least(role, "operator"),
        may_reveal=role_at_least(role, "supervisor"), category=(record.get("category_suggestion") or [{}])[0],
        # a channel read by OCR (letters, faxes): the page shows the OCR text and page images
        is_letter=spec_for(str(record.get("channel") or row.get("channel") or "")).hold_when_unsure,
        **extra)


@page("scanner")
async def complaint_page(request: web.Request) -> web.StreamResponse:
    tid = tracking_of(request)
    row, out = await asyncio.to_thread(_load, request, tid)
    return _view(request, row, out)


@page("supervisor")
async def reveal(request: web.Request) -> web.StreamResponse:
    """The sealed identity and the confidential text, shown once to this supervisor; audited before."""
    c = console_of(request)
    tid = tracking_of(request)
    form = await request.post()
    reason = form.get("reason")
    reason = " ".join(reason.split())[:500] if isinstance(reason, str) else ""
    row, out = await asyncio.to_thread(_load, request, tid)
    if not reason:
        return _view(request, row, out, error=("reveal_needs_reason", {}))
    await audit(request, "reveal", tracking_id=tid, reason=reason)
    identity = await asyncio.to_thread(c.open_journal().sealed_identity, tid) or {}
    full = json.loads(row["record"])
    revealed = {
        "reporter": identity.get("reporter") or {},
        "sender": identity.get("sender"),
        "subject": full.get("subject"),
        "body": identity.get("original_body") or full.get("body"),
    }
    request[FLASH] = "revealed"
    return _view(request, row, out, revealed=revealed)


@data("operator")
async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment's bytes: images and PDFs inline (sandboxed), anything else as a download."""
    c = console_of(request)
    tid = tracking_of(request)
    _row, out = await asyncio.to_thread(_load, request, tid)
    try:
        att = (out["record"].get("attachments") or [])[int(request.match_info["n"])]
    except (ValueError, IndexError):
        raise web.HTTPNotFound() from None
    blob = await asyncio.to_thread(c.open_blobs().get, att["sha256"])
    media = att.get("media_type") if att.get("media_type") in INLINE_IMAGES | {"application/pdf"} else None
    # shown in the complaint page (an <img>, a PDF in an <iframe> of this origin), never a page of its own that runs
    # anything; Chromium's PDF viewer does not open in a sandbox, so a PDF gets the policy without it
    sandbox = "" if media == "application/pdf" else "sandbox; "
    headers = {"Content-Security-Policy": f"{sandbox}default-src 'none'; img-src 'self'; "
                                          "frame-ancestors 'self'",
               "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "private, no-store"}
    if media is None:
        headers["Content-Disposition"] = f'attachment; filename="{tid}-{int(request.match_info["n"]) + 1}.bin"'
    return web.Response(body=blob, content_type=media or "application/octet-stream", headers=headers)


@data("scanner")
async def receipt_pdf(request: web.Request) -> web.StreamResponse:
    """The printable receipt (tracking ID, date, how to check; no text, no identity)."""
    from channels.letters.receipt_pdf import render_receipt_pdf

    c = console_of(request)
    tid = tracking_of(request)
    row, _out = await asyncio.to_thread(_load, request, tid)
    label = DESK_LABELS.get(row["channel"], "Surat")
    received = datetime.fromtimestamp(float(row["created_at"]), UTC)

    def make() -> bytes:
        with tempfile.TemporaryDirectory(prefix="lapor-receipt-") as folder:
            path = Path(folder) / f"{tid}.pdf"
            render_receipt_pdf(path, tid, received, label, None, c.settings.service.timezone)
            return path.read_bytes()

    pdf = await asyncio.to_thread(make)
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="tanda-terima-{tid}.pdf"'})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/complaints/{tracking_id}", complaint_page)
    app.router.add_post("/console/complaints/{tracking_id}/reveal", reveal)
    app.router.add_get("/console/complaints/{tracking_id}/attachments/{n:[0-9]{1,3}}", attachment)
    app.router.add_get("/console/complaints/{tracking_id}/receipt.pdf", receipt_pdf)
