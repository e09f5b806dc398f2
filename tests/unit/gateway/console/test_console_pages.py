"""Desk entry through the intake's real desk route, review decisions with their audit entries, and a retry that
queues what gave up and says what became of it; in process (the intake's web app, no worker)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gateway.intake.process import Gateway
from gateway.store.records import ComplaintRow, InboundOutcome
from gateway.store.sqlite.journal import Journal
from normalizer.tracking import new_tracking_id
from tests.unit.gateway.cli.cli_data import journal as open_journal
from tests.unit.gateway.console.console_env import Env, add_complaint, loop_runner

TRACKING = re.compile(r'id="tracking-id">(\d{10})<')


@pytest.fixture
def console_settings() -> dict[str, str]:
    from tests.peers.ports import free_port

    return {"LAPOR_HTTP__PORT": str(free_port())}


@pytest.fixture
def console_users() -> list[tuple[str, str]]:
    return [("rina", "scanner"), ("tono", "scanner"), ("ana", "operator")]


@pytest.fixture
async def intake(env: Env) -> AsyncIterator[Gateway]:
    """The intake's own web app (its desk route) on http.port, without children or pollers."""
    gw = Gateway(env.settings, children=False)
    runner = web.ServerRunner(gw.web_server())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", env.settings.http.port).start()
    yield gw
    await runner.cleanup()
    gw.journal.close()


def _journaled(j: Journal) -> list[dict]:
    return [{"id": d.id, "msg": d.msg} for d in j.due_inbound(0, 100)]


def _as_worker(env: Env, inbound_id: int, channel: str) -> str:
    """What the worker writes for a journaled message: a complaint with a tracking ID."""
    tid = new_tracking_id()
    j = open_journal(env.gw)

    async def go() -> None:
        row = ComplaintRow(id=f"c-{tid}", tracking_id=tid, inbound_id=inbound_id, channel=channel,
                           record_json=json.dumps({"tracking_id": tid, "channel": channel, "account": "rina",
                                                   "body": "Lampu jalan mati", "privacy": {}}),
                           reporter_ref=None, anonymous=False, confidential=False, vault={})
        assert await j.record_outcomes([InboundOutcome(inbound_id, "normalized", row)], cursor=inbound_id) == [True]

    loop_runner(go)
    j.close()
    return tid


async def test_a_desk_entry_is_journaled_then_shows_its_tracking_id_and_receipt(env: Env, intake: Gateway,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.console.pages_desk as pages_desk

    monkeypatch.setattr(pages_desk, "WAIT_FOR_TRACKING", 0.3)  # no worker here: each wait runs to its end
    await env.login("rina")
    token = await env.csrf("/console/new")
    r = await env.client.post("/console/new", allow_redirects=False, data={
        "csrf_token": token, "channel": "desk.phone", "subject": "Lampu", "body": "Lampu jalan mati",
        "reporter_name": "Budi", "reporter_phone": "081234567890", "anonymous": "1"})
    assert r.status == 200  # answered at once; no worker here, so: being registered, with the entry's address
    entry_url = re.search(r'data-url="(/console/new/[^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
    assert "Lampu" not in entry_url
    (journaled,) = await asyncio.to_thread(_journaled, intake.journal)
    msg = journaled["msg"]
    assert (msg.channel, msg.account, msg.text) == ("desk.phone", "rina", "Lampu jalan mati")
    assert msg.privacy.anonymous and msg.privacy.source == "operator" and msg.reporter.name == "Budi"
    page = await (await env.client.get(entry_url)).text()  # no worker yet: being registered, refreshing
    assert 'http-equiv="refresh"' in page and not TRACKING.search(page)
    tid = await asyncio.to_thread(_as_worker, env, journaled["id"], "desk.phone")
    page = await (await env.client.get(entry_url)).text()
    assert TRACKING.search(page).group(1) == tid  # type: ignore[union-attr]
    pdf = await env.client.get(f"/console/complaints/{tid}/receipt.pdf")
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")
    assert (await env.client.get(f"/console/complaints/{tid}")).status == 200  # a scanner's own entry
    assert tid in await (await env.client.get("/console/mine")).text()
    env.client.session.cookie_jar.clear()
    await env.login("tono")  # another scanner: not theirs
    assert (await env.client.get(f"/console/complaints/{tid}", allow_redirects=False)).status == 404
    assert (await env.client.get(entry_url, allow_redirects=False)).status == 404


async def test_a_desk_entry_without_text_or_files_is_refused_and_the_form_kept(env: Env, intake: Gateway) -> None:
    await env.login("rina")
    token = await env.csrf("/console/new")
    r = await env.client.post("/console/new", data={"csrf_token": token, "channel": "desk.walkin", "body": " ",
                                                     "reporter_name": "Budi <b>"})
    page = await r.text()
    assert r.status == 400 and "Budi &lt;b&gt;" in page
    assert await asyncio.to_thread(_journaled, intake.journal) == []


async def test_the_intake_down_says_so_and_registers_nothing(env: Env) -> None:
    await env.login("rina")
    token = await env.csrf("/console/new")
    r = await env.client.post("/console/new", data={"csrf_token": token, "channel": "desk.walkin", "body": "x"})
    assert r.status == 503 and "belum tercatat" in await r.text()


async def test_review_approve_reject_and_correct_are_audited(env: Env) -> None:
    held = add_complaint(env, {"body": "teks OCR slah baca", "needs_review": ["low OCR confidence"]}, state="review")
    other = add_complaint(env, {"body": "b"}, state="review")
    await env.login("ana")
    page = await (await env.client.get("/console/review")).text()
    assert held in page and other in page and "low OCR confidence" in page
    token = await env.csrf(f"/console/complaints/{held}")
    r = await env.client.post(f"/console/complaints/{held}/correct", allow_redirects=False, data={
        "csrf_token": token, "body": "teks OCR salah baca", "subject": "Jalan", "category": "Infrastruktur",
        "confidential": "1"})
    assert r.status == 303
    row = env.console.open_journal().complaint_by_tracking(held)
    record = json.loads(row["record"])
    assert record["body"] == "teks OCR salah baca" and record["privacy"]["confidential"]
    assert record["privacy"]["source"] == "operator" and record["category_suggestion"][0]["category"] == "Infrastruktur"
    r = await env.client.post(f"/console/complaints/{held}/approve", data={"csrf_token": token},
                              allow_redirects=False)
    assert r.status == 303 and env.console.open_journal().complaint_by_tracking(held)["state"] == "normalized"
    r = await env.client.post(f"/console/complaints/{other}/reject", data={"csrf_token": token, "reason": "spam",
                                                                          "because": "do_not_notify"},
                              allow_redirects=False)
    assert env.console.open_journal().complaint_by_tracking(other)["state"] == "rejected"
    entries = {(a["action"], a["tracking_id"]): a for a in env.store.audit_entries()}
    assert entries[("review_rejected", other)]["reason"] == "do_not_notify: spam" and entries[("review_rejected", other)]["user"] == "ana"
    assert ("review_approved", held) in entries and ("review_corrected", held) in entries
    r = await env.client.post(f"/console/complaints/{held}/approve", data={"csrf_token": token},
                              allow_redirects=False)  # not waiting any more: nothing happens
    assert r.status == 303 and r.headers["Location"] == f"/console/complaints/{held}"


async def test_retry_queues_a_dead_forward_and_says_what_became_of_it(env: Env, monkeypatch: pytest.MonkeyPatch
                                                                       ) -> None:
    import gateway.console.pages_dead as pages_dead

    monkeypatch.setattr(pages_dead, "WATCH_SECONDS", 0.3)  # no worker here: it stays queued
    dead = add_complaint(env, {"body": "b"}, state="dead_letter")
    await env.login("ana")
    page = await (await env.client.get("/console/dead-letters")).text()
    assert dead in page
    token = await env.csrf("/console/dead-letters")
    r = await env.client.post("/console/dead-letters/retry", data={"csrf_token": token, "tracking_id": dead})
    page = await r.text()
    assert r.status == 200 and 'data-state="queued"' in page and dead in page
    assert env.console.open_journal().complaint_by_tracking(dead)["state"] == "normalized"
    assert env.store.audit_entries()[0]["action"] == "retry"
    r = await env.client.post("/console/dead-letters/retry", data={"csrf_token": token, "tracking_id": "x1"})
    assert r.status == 400


async def test_attachments_inline_as_images_and_anything_else_as_a_download(env: Env) -> None:
    blobs = env.console.open_blobs()
    png = blobs.put(b"\x89PNG\r\n\x1a\nnot really", "image/png", "foto.png")
    svg = blobs.put(b"<svg onload='alert(1)'/>", "image/svg+xml", "x.svg")
    tid = add_complaint(env, {"body": "b", "attachments": [png.model_dump(), svg.model_dump()]})
    await env.login("ana")
    page = await (await env.client.get(f"/console/complaints/{tid}")).text()
    assert f'<img src="/console/complaints/{tid}/attachments/0"' in page
    assert f'<img src="/console/complaints/{tid}/attachments/1"' not in page
    r = await env.client.get(f"/console/complaints/{tid}/attachments/0")
    assert r.content_type == "image/png" and await r.read() == b"\x89PNG\r\n\x1a\nnot really"
    assert r.headers["Content-Security-Policy"].startswith("sandbox;") and r.headers["X-Content-Type-Options"] == "nosniff"
    r = await env.client.get(f"/console/complaints/{tid}/attachments/1")
    assert r.content_type == "application/octet-stream" and r.headers["Content-Disposition"].startswith("attachment;")
    assert tid in r.headers["Content-Disposition"] and "x.svg" not in r.headers["Content-Disposition"]
    assert (await env.client.get(f"/console/complaints/{tid}/attachments/7")).status == 404
    env.client.session.cookie_jar.clear()
    await env.login("rina")  # a scanner: not an attachment of their own entry
    assert (await env.client.get(f"/console/complaints/{tid}/attachments/0")).status == 403


async def test_the_conversation_shows_the_agencys_updates_and_the_citizens_answers(env: Env,
                                                                                   monkeypatch: pytest.MonkeyPatch
                                                                                   ) -> None:
    tid = add_complaint(env, {"body": "b"})
    journal = env.console.open_journal()
    monkeypatch.setattr(journal, "updates_for", lambda t: [{
        "update_id": 7, "update_kind": "status", "status": "resolved", "channel": "sms.kannel", "state": "sent",
        "text": "Sudah diperbaiki <b>hari ini</b>", "created_at": 1_800_000_100.0}] if t == tid else [])
    monkeypatch.setattr(journal, "responses_for", lambda t: [{
        "channel": "sms.kannel", "text": "Terima kasih", "state": "forwarded", "created_at": 1_800_000_200.0,
        "attachments": []}] if t == tid else [])
    await env.login("ana")
    r = await env.client.get(f"/console/complaints/{tid}")
    page = await r.text()
    assert r.status == 200, page[-2000:]
    conversation = page.split("Percakapan", 1)[1].split("Linimasa", 1)[0]
    assert "Instansi" in conversation and "resolved" in conversation
    assert "Sudah diperbaiki &lt;b&gt;hari ini&lt;/b&gt;" in conversation
    assert conversation.index("Sudah diperbaiki") < conversation.index("Terima kasih")
    assert "Pelapor" in conversation and "Diteruskan" in conversation
