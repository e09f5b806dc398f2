"""The console's guards over plain HTTP against the running gateway: signed out means 303 to the login page (401
for data), no CSRF token means 403, wrong passwords slow the next tries down, an operator never sees an anonymous
reporter's number, and a supervisor's reveal is in the audit log with its reason."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from gateway.store.reports import Month
from tests.e2e.console.conftest import ConsoleRig
from tests.e2e_helpers import wait_record
from tests.gateway_proc import wait_until

pytestmark = pytest.mark.peer
CANARY = "6281277788899"  # an anonymous reporter's number: never on an operator's page
CANARY_FORMS = (CANARY, "081277788899", "+62 812-7778-8899", "812777888")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
MONTH = str(Month.containing(datetime.now(UTC), "Asia/Jakarta"))


def _token(html: str) -> str:
    m = TOKEN.search(html)
    assert m, html[:1000]
    return m.group(1)


def _client(rig: ConsoleRig) -> httpx.Client:
    return httpx.Client(base_url=rig.url, follow_redirects=False, timeout=20)


def _sign_in(rig: ConsoleRig, name: str) -> httpx.Client:
    c = _client(rig)
    token = _token(c.get("/console/login").text)
    form = {"username": name, "password": rig.passwords[name], "csrf_token": token}
    if name in rig.totp_secrets:
        form["otp"] = rig.otp(name)
    r = c.post("/console/login", data=form)
    assert r.status_code == 303, r.text[:2000]
    if r.headers["location"].startswith("/console/enrol"):
        page = c.get("/console/enrol")
        r = c.post("/console/enrol", data={"otp": rig.otp(name), "csrf_token": _token(page.text)})
        assert r.status_code == 303, r.text[:2000]
    assert not r.headers["location"].startswith(("/console/login", "/console/enrol", "/console/password"))
    return c


@pytest.fixture(scope="module", autouse=True)
def users(rig: ConsoleRig) -> None:
    rig.add_users({"sec-operator": "operator", "sec-slow": "operator", "sec-supervisor": "supervisor"})


@pytest.fixture(scope="module")
def anonymous_tid(rig: ConsoleRig) -> str:
    ext = rig.sms(CANARY, "ANONIM pungutan liar di kantor kelurahan Sendangmulyo saat mengurus KTP")
    return wait_record(rig.gw, ext)["tracking_id"]


@pytest.fixture(scope="module")
def operator(rig: ConsoleRig) -> Iterator[httpx.Client]:
    rig.add_user("sec-operator", "operator")
    c = _sign_in(rig, "sec-operator")
    try:
        yield c
    finally:
        c.close()


PAGES = ("/console/", "/console/review", "/console/dead-letters", "/console/new", "/console/scan", "/console/mine",
         "/console/health", f"/console/reports?month={MONTH}", "/console/audit", "/console/users",
         "/console/password")


def test_signed_out_pages_go_to_the_login_page_and_data_answers_401(rig: ConsoleRig, anonymous_tid: str) -> None:
    with _client(rig) as c:
        for path in (*PAGES, f"/console/complaints/{anonymous_tid}"):
            r = c.get(path)
            assert (r.status_code, r.headers.get("location")) == (303, "/console/login"), path
        for path in ("/console/events", f"/console/reports.csv?month={MONTH}",
                     f"/console/complaints/{anonymous_tid}/attachments/0",
                     f"/console/complaints/{anonymous_tid}/receipt.pdf"):
            assert c.get(path).status_code in (401, 303), path
        assert c.get("/console/events").status_code == 401
        assert c.get(f"/console/reports.csv?month={MONTH}").status_code == 401


def test_a_post_without_the_csrf_token_is_refused(rig: ConsoleRig, operator: httpx.Client) -> None:
    desk = {"channel": "desk.walkin", "body": "Tanpa token CSRF: tidak boleh tercatat sebagai pengaduan"}
    before = operator.get("/console/mine").text
    for path, form in (("/console/new", desk), ("/console/dead-letters/retry", {}), ("/console/logout", {})):
        assert operator.post(path, data=form).status_code == 403, path
        assert operator.post(path, data={**form, "csrf_token": "0" * 64}).status_code == 403, path
    with _client(rig) as fresh:
        fresh.get("/console/login")
        r = fresh.post("/console/login", data={"username": "sec-operator",
                                               "password": rig.passwords["sec-operator"]})
        assert r.status_code == 403 and "lapor_session" not in r.cookies
    assert operator.get("/console/").status_code == 200  # still signed in: the refused logout did nothing
    assert operator.get("/console/mine").text.count("Tanpa token") == before.count("Tanpa token") == 0


def test_repeated_wrong_passwords_slow_the_next_tries_down(rig: ConsoleRig) -> None:
    rig.add_user("sec-slow", "operator")
    with _client(rig) as c:
        token = _token(c.get("/console/login").text)
        answers = []
        for _ in range(6):
            r = c.post("/console/login", data={"username": "sec-slow", "password": "wrong password 1234",
                                               "csrf_token": token})
            answers.append(r.status_code)
            if r.status_code == 429:
                break
        assert answers[:3] == [401, 401, 401] and answers[-1] == 429, answers
        assert int(r.headers["Retry-After"]) >= 1 and "Coba lagi dalam" in r.text
        # once the wait is over, one more wrong password doubles the next wait (2 s, then 4 s)
        time.sleep(int(r.headers["Retry-After"]) + 0.2)
        again = c.post("/console/login", data={"username": "sec-slow", "password": "wrong password 5678",
                                               "csrf_token": token})
        assert again.status_code == 401
        # while slowed down, even the right password does not get in
        right = c.post("/console/login", data={"username": "sec-slow", "password": rig.passwords["sec-slow"],
                                               "csrf_token": token})
        assert right.status_code == 429 and "lapor_session" not in right.cookies


def test_an_operators_pages_never_show_an_anonymous_reporters_number(
    operator: httpx.Client, anonymous_tid: str
) -> None:
    seen: dict[str, str] = {}
    for path in (*PAGES, f"/console/complaints/{anonymous_tid}", f"/console/reports.csv?month={MONTH}",
                 f"/console/?tracking_id={anonymous_tid}"):
        r = operator.get(path)
        assert r.status_code in (200, 403), path
        seen[path] = r.text
    assert anonymous_tid in seen[f"/console/complaints/{anonymous_tid}"]
    assert "pungutan liar" in seen[f"/console/complaints/{anonymous_tid}"]  # anonymous, not confidential
    with operator.stream("GET", "/console/events?after=1") as feed:  # the live log from its first event
        text, deadline = "", time.monotonic() + 10
        for chunk in feed.iter_text():
            text += chunk
            if anonymous_tid in text or time.monotonic() > deadline:
                break
    seen["/console/events"] = text
    assert anonymous_tid in text
    for path, body in seen.items():
        for form in CANARY_FORMS:
            assert form not in body, f"{form} on {path}"
    assert operator.post(f"/console/complaints/{anonymous_tid}/reveal",
                         data={"reason": "ingin tahu", "csrf_token": _token(seen["/console/"])}).status_code == 403


def test_a_supervisors_reveal_shows_the_number_and_is_audited(rig: ConsoleRig, anonymous_tid: str) -> None:
    rig.add_user("sec-supervisor", "supervisor")
    assert "sec-supervisor" in rig.totp_secrets  # user add printed the otpauth:// URI
    reason = "Permintaan Ombudsman no. 17/XII untuk klarifikasi pelapor"
    c = _sign_in(rig, "sec-supervisor")
    try:
        page = c.get(f"/console/complaints/{anonymous_tid}")
        assert page.status_code == 200 and CANARY not in page.text
        token = _token(page.text)
        no_reason = c.post(f"/console/complaints/{anonymous_tid}/reveal", data={"reason": " ", "csrf_token": token})
        assert CANARY not in no_reason.text
        shown = c.post(f"/console/complaints/{anonymous_tid}/reveal", data={"reason": reason, "csrf_token": token})
        assert shown.status_code == 200 and CANARY in shown.text
        audit = wait_until(lambda: (a := c.get("/console/audit").text) and reason in a and a, what="the audit entry")
    finally:
        c.close()
    row = next(line for line in audit.split("<tr") if reason in line)
    assert "sec-supervisor" in row and anonymous_tid in row and "reveal" in row
    assert CANARY not in audit
