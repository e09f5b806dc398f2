"""An anonymous reporter's number never on an operator's pages or feeds (canary); a supervisor's reveal asks for a
reason and writes the audit entry first; a hostile message body is escaped everywhere it is shown."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.store.records import Event
from normalizer.tracking import new_tracking_id
from tests.unit.gateway.console.console_env import Env, add_complaint

CANARY_PHONE = "6281299887766"
CANARY_NAME = "Kanari Sutrisno"
CANARY_TEXT = "RAHASIA-KANARI-TEKS-42"
HOSTILE = ('<script>alert(1)</script> "><img src=x onerror=alert(2)> <svg/onload=alert(3)> '
           "＜script＞alert(4)＜/script＞ javascript:alert(5) \u202egnp.exe {{ 7*7 }} {% raw %}")


@pytest.fixture
def console_users() -> list[tuple[str, str]]:
    return [("ana", "operator"), ("sri", "supervisor")]


def anonymous_complaint(env: Env, state: str = "normalized") -> str:
    masked = "62812*****766"
    return add_complaint(
        env, {"body": "Jalan rusak di RT 3 [nomor disamarkan]", "reporter": None}, state=state, anonymous=True,
        vault={"sender": CANARY_PHONE, "reporter": {"phone": CANARY_PHONE, "name": CANARY_NAME},
               "original_body": f"Saya {CANARY_NAME}, HP {CANARY_PHONE}: jalan rusak di RT 3"},
        events=[Event("sms.kannel", "received", contact=masked, flags="anonymous"),
                Event("sms.kannel", "normalized", contact=masked, category="Infrastruktur", flags="anonymous")])


async def _pages(env: Env, tid: str) -> str:
    out = []
    for path in ("/console/", f"/console/complaints/{tid}", "/console/review", "/console/dead-letters",
                 "/console/health", f"/console/?tracking_id={tid}"):
        r = await env.client.get(path)
        assert r.status == 200, path
        out.append(await r.text())
    return "\n".join(out)


async def _feed(env: Env, after: int) -> str:
    """What the live feed sends for events after ``after`` (read until the first row arrives)."""
    r = await env.client.get(f"/console/events?after={after}")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    text = ""
    while "event: row" not in text or not text.endswith("\n\n"):
        text += (await asyncio.wait_for(r.content.readany(), 10)).decode()
    r.close()
    return text


async def test_an_operators_pages_and_feed_never_hold_an_anonymous_reporters_number(env: Env) -> None:
    tid = anonymous_complaint(env)
    review_tid = anonymous_complaint(env, state="review")
    await env.login("ana")
    text = await _pages(env, tid) + await _pages(env, review_tid) + await _feed(env, 0)
    assert tid in text and review_tid in text
    for canary in (CANARY_PHONE, CANARY_PHONE[2:], "081299887766", CANARY_NAME):
        assert canary not in text
    assert "Anonim" in text
    assert "/reveal" not in text  # an operator is not offered the reveal


async def test_a_supervisors_reveal_needs_a_reason_and_is_audited(env: Env) -> None:
    tid = anonymous_complaint(env)
    await env.login("sri")
    page = await (await env.client.get(f"/console/complaints/{tid}")).text()
    assert CANARY_PHONE not in page and f'action="/console/complaints/{tid}/reveal"' in page
    token = await env.csrf(f"/console/complaints/{tid}")
    r = await env.client.post(f"/console/complaints/{tid}/reveal", data={"csrf_token": token, "reason": "  "})
    assert CANARY_PHONE not in await r.text()
    assert not [a for a in env.store.audit_entries() if a["action"] == "reveal"]
    before = env.clock.now
    r = await env.client.post(f"/console/complaints/{tid}/reveal",
                              data={"csrf_token": token, "reason": "Permintaan Inspektorat no. 12"})
    page = await r.text()
    assert r.status == 200 and CANARY_PHONE in page and CANARY_NAME in page
    (entry,) = [a for a in env.store.audit_entries() if a["action"] == "reveal"]
    assert entry["user"] == "sri" and entry["tracking_id"] == tid
    assert entry["reason"] == "Permintaan Inspektorat no. 12" and entry["at"] == before
    audit_page = await (await env.client.get("/console/audit")).text()
    assert "Permintaan Inspektorat no. 12" in audit_page and tid in audit_page
    assert CANARY_PHONE not in audit_page
    # the audit log is append-only, even for the adapter's own connection
    with pytest.raises(Exception, match="append-only"):
        env.store._write("DELETE FROM audit")


async def test_an_operator_cannot_post_a_reveal(env: Env) -> None:
    tid = anonymous_complaint(env)
    await env.login("ana")
    token = await env.csrf("/console/")
    r = await env.client.post(f"/console/complaints/{tid}/reveal", data={"csrf_token": token, "reason": "x"})
    assert r.status == 403 and CANARY_PHONE not in await r.text()


async def test_a_confidential_text_is_shown_only_when_revealed(env: Env) -> None:
    tid = add_complaint(env, {"body": CANARY_TEXT, "subject": "s"}, confidential=True,
                        events=[Event("sms.kannel", "normalized", flags="confidential")])
    await env.login("ana")
    assert CANARY_TEXT not in await _pages(env, tid)
    env.client.session.cookie_jar.clear()
    await env.login("sri")
    token = await env.csrf(f"/console/complaints/{tid}")
    r = await env.client.post(f"/console/complaints/{tid}/reveal", data={"csrf_token": token, "reason": "audit"})
    assert CANARY_TEXT in await r.text()


async def test_a_hostile_body_is_escaped_on_every_page_and_in_the_feed(env: Env) -> None:
    tid = add_complaint(env, {"body": HOSTILE, "subject": HOSTILE[:60],
                              "category_suggestion": [{"category": "<b>x</b>", "confidence": 0.5}],
                              "attachments": [{"sha256": "a" * 64, "media_type": "image/svg+xml", "size": 3,
                                               "filename": '"><script>alert(6)</script>.svg'}]},
                        state="review", events=[Event("sms.kannel", "normalized", detail=HOSTILE,
                                                      category="<i>c</i>")])
    await env.login("ana")
    text = await _pages(env, tid)
    for raw in ("<script>alert", "<img src=x", "<svg/onload", "<b>x</b>", "<i>c</i>", "\u202e"):
        assert raw not in text, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\u202e" in text  # a bidi override is shown, not obeyed
    assert "{{ 7*7 }}" in text  # text, never evaluated as a template
    # the feed is JSON (text/event-stream, never parsed as HTML); the page's script sets it with textContent only
    rows = [json.loads(line[6:]) for line in (await _feed(env, 0)).splitlines() if line.startswith("data: ")]
    assert rows[0]["detail"].startswith("<script>") and "\u202e" not in rows[0]["detail"]
    script = await (await env.client.get("/console/static/console.js")).text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "textContent" in script


async def test_the_live_feed_sends_new_events_and_honours_filters(env: Env) -> None:
    await env.login("ana")
    page = await (await env.client.get("/console/?channel=email")).text()
    assert 'data-feed="/console/events?channel=email"' in page
    tid = new_tracking_id()
    add_complaint(env, {"body": "b", "tracking_id": tid},
                  events=[Event("sms.kannel", "received", tid, contact="62812*****001")])
    add_complaint(env, {"body": "b", "channel": "email.smtp"},
                  events=[Event("email.smtp", "received", contact="a***@example.org")])
    text = await _feed(env, 0)
    assert tid in text and "62812*****001" in text
    email_only = await (env.client.get("/console/events?after=0&channel=email"))
    chunk = ""
    while "event: row" not in chunk:
        chunk += (await asyncio.wait_for(email_only.content.readany(), 10)).decode()
    email_only.close()
    assert "email.smtp" in chunk and "sms.kannel" not in chunk
