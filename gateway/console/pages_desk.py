"""Desk entry (``/console/new``) and scan upload (``/console/scan``), and a scanner's own entries.

A desk entry is journaled like any channel's message: the console puts its attachments in the blob store and
POSTs the entry, signed, to the intake's ``/channels/desk`` (:mod:`channels.desk.webhook`); the page then waits
briefly for the worker's tracking ID and shows it with the printable receipt, or says it is being registered
and fills it in. Scans go into the letters pipeline: the upload channel when ``letters.upload_token`` is set,
else the hot folder ``letters.inbox`` (written under a hidden name, then renamed: read only when whole).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from typing import Any

import aiohttp
from aiohttp import web

from channels.desk.webhook import CHANNELS, PATH, desk_key, entry_body
from channels.message import Rejected, safe_filename
from channels.signing import sha256_signature
from gateway.console.app import audit, console_of, page
from gateway.console.keys import FLASH, LANG, USER
from gateway.console.render import render

WAIT_FOR_TRACKING = 4.0
LETTER_CHANNEL = "letters.scan"  # what the letters pipeline journals a scan as (its external_id: the file's SHA-256)
LETTER_ACCOUNTS = ("counter", "box")
FIELDS = ("subject", "body", "reporter_name", "reporter_phone", "reporter_email", "reporter_nik", "reporter_address")


def intake_url(settings: Any, path: str) -> str:
    host = settings.http.host
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{host}:{settings.http.port}{path}"


def _files(form: Any, name: str) -> list[web.FileField]:
    return [f for f in form.getall(name, []) if isinstance(f, web.FileField) and f.filename]


@page("scanner")
async def new_form(request: web.Request) -> web.StreamResponse:
    return render(request, "new.html", values={"channel": "desk.walkin"}, channels=CHANNELS)


@page("scanner")
async def new_entry(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    form = await request.post()
    values = {k: (form.get(k) if isinstance(form.get(k), str) else "") for k in FIELDS}
    channel = form.get("channel") if form.get("channel") in CHANNELS else "desk.walkin"
    values.update(channel=channel, anonymous=form.get("anonymous") is not None,
                  confidential=form.get("confidential") is not None)
    files = _files(form, "attachments")
    if not str(values["body"]).strip() and not files:
        return render(request, "new.html", status=400, values=values, channels=CHANNELS,
                      error=("body_required", {}))
    blobs = c.open_blobs()
    attachments = []
    for f in files:
        content = await asyncio.to_thread(f.file.read)
        try:
            att = await asyncio.to_thread(blobs.put, content, f.content_type or "application/octet-stream",
                                          f.filename)
        except Rejected:
            return render(request, "new.html", status=413, values=values, channels=CHANNELS,
                          error=("file_too_large", {"limit": blobs.max_bytes // (1024 * 1024)}))
        attachments.append(att.model_dump())
    user = request[USER]["name"]
    external_id = secrets.token_urlsafe(18)
    entry = {"channel": channel, "external_id": external_id, "user": user, "subject": values["subject"],
             "body": values["body"], "anonymous": values["anonymous"], "confidential": values["confidential"],
             "attachments": attachments,
             "reporter": {k.removeprefix("reporter_"): values[k] for k in FIELDS if k.startswith("reporter_")}}
    body = entry_body(entry)
    assert c.settings.privacy.vault_key
    key = desk_key(c.settings.console.desk_secret, c.settings.privacy.vault_key)
    await c.db.add_desk_entry(external_id, user, channel, c.clock())
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http, \
                http.post(intake_url(c.settings, PATH), data=body,
                          headers={"Content-Type": "application/json", "X-Signature": sha256_signature(key, body)}
                          ) as answer:
            ok = answer.status in (200, 202)
    except (aiohttp.ClientError, TimeoutError):
        ok = False
    if not ok:
        return render(request, "new.html", status=503, values=values, channels=CHANNELS, error=("intake_down", {}))
    await audit(request, "desk_entry")
    # answered at once with the tracking ID (the page's address becomes the entry's own, so a reload asks again
    # for the number and never posts the complaint twice)
    return await _entry_view(request, await c.db.desk_entry(external_id) or {})


async def _tracking(c: Any, entry: dict[str, Any], wait: float) -> str | None:
    if entry.get("tracking_id"):
        return str(entry["tracking_id"])
    journal = c.open_journal()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        tid = await asyncio.to_thread(journal.tracking_for_external, entry["channel"], entry["user"],
                                      entry["external_id"])
        if tid:
            await c.db.set_desk_tracking(entry["external_id"], tid)
            return tid
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(0.2)


async def _entry_view(request: web.Request, entry: dict[str, Any]) -> web.StreamResponse:
    if not entry or entry["user"] != request[USER]["name"]:
        raise web.HTTPNotFound()
    tid = await _tracking(console_of(request), entry, WAIT_FOR_TRACKING)
    if tid:
        request[FLASH] = "registered"
    return render(request, "entry.html", tid=tid, entry=entry)


@page("scanner")
async def entry_page(request: web.Request) -> web.StreamResponse:
    return await _entry_view(request, await console_of(request).db.desk_entry(request.match_info["external_id"][:64])
                             or {})


@page("scanner")
async def mine(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    return render(request, "mine.html", entries=await c.db.desk_entries_by(request[USER]["name"]))


@page("scanner")
async def scan_form(request: web.Request) -> web.StreamResponse:
    return render(request, "scan.html", results=None)


async def _upload(c: Any, name: str, content: bytes, media_type: str, user: str) -> str:
    """Into the letters pipeline; what happened, as a short word for the page."""
    s = c.settings.letters
    if s.upload_token:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http, \
                    http.post(intake_url(c.settings, "/channels/letters"), data=content,
                              params={"filename": name, "station": f"console-{user}"[:40]},
                              headers={"Authorization": f"Bearer {s.upload_token}", "Content-Type": media_type}
                              ) as answer:
                return "ok" if answer.status in (200, 202) else f"HTTP {answer.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    def drop() -> str:
        inbox = s.inbox
        assert inbox is not None
        inbox.mkdir(parents=True, exist_ok=True)
        stem = f"{secrets.token_hex(4)}-{name}"
        part = inbox / f".{stem}.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, inbox / stem)
        return "ok"

    return await asyncio.to_thread(drop)


@page("scanner")
async def scan_upload(request: web.Request) -> web.StreamResponse:
    c = console_of(request)
    form = await request.post()
    files = _files(form, "files")
    if not files:
        return render(request, "scan.html", status=400, results=None, error=("no_files", {}))
    results = []
    for n, f in enumerate(files, start=1):
        name = safe_filename(f.filename) or f"scan-{n}.bin"
        content = await asyncio.to_thread(f.file.read)
        state = await _upload(c, name, content, f.content_type or "application/pdf", request[USER]["name"])
        results.append((name, len(content), state, hashlib.sha256(content).hexdigest()))
    await audit(request, "scan_upload", reason=f"{len(files)} file(s)")
    return render(request, "scan.html", results=results)


@page("scanner")
async def scan_result(request: web.Request) -> web.StreamResponse:
    """Where an upload went: its complaint (operators: the complaint page, with the review controls while it is
    held), or its tracking ID and state in words (a scanner), or "still being read"."""
    from gateway.console.auth import role_at_least
    from gateway.console.i18n import state_label

    sha = request.match_info["sha"]
    journal = console_of(request).open_journal()

    def find() -> tuple[str | None, str | None]:
        for account in LETTER_ACCOUNTS:
            tid = journal.tracking_for_external(LETTER_CHANNEL, account, sha)
            if tid:
                row = journal.complaint_by_tracking(tid) or {}
                return tid, row.get("state")
        return None, None

    tid, state = await asyncio.to_thread(find)
    if tid and role_at_least(request[USER]["role"], "operator"):
        raise web.HTTPSeeOther(f"/console/complaints/{tid}")
    lang = request.get(LANG, "id")
    return render(request, "scan_result.html", tid=tid, state=state_label(state, lang) or state)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/new", new_form)
    app.router.add_post("/console/new", new_entry)
    app.router.add_get("/console/new/{external_id}", entry_page)
    app.router.add_get("/console/mine", mine)
    app.router.add_get("/console/scan", scan_form)
    app.router.add_post("/console/scan", scan_upload)
    app.router.add_get("/console/scan/{sha:[0-9a-f]{64}}", scan_result)
