"""A clerk's day in the console, in real headless Chromium against the real gateway: sign in, watch an SMS arrive
in the live log without reloading, open it, approve a held scan, take a complaint at the desk and print its
receipt, retry a dead letter, download the monthly CSV. Every page looked at is saved as a screenshot."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from gateway.store.reports import Month
from tests.e2e.console.conftest import ConsoleRig, login
from tests.e2e_helpers import wait_record
from tests.gateway_proc import wait_until
from tests.unit.channels.letters.render import blank_page, png_bytes

pytestmark = pytest.mark.peer
Shot = Callable[[Any, str], Path]
TRACKING = re.compile(r"\b\d{10}\b")


@pytest.fixture(scope="module", autouse=True)
def users(rig: ConsoleRig) -> None:
    rig.add_user("opa", "operator")


def _stored(rig: ConsoleRig, tid: str) -> dict[str, Any]:
    return wait_until(lambda: rig.gw.central_get(f"/v1/complaints/{tid}"), timeout=30,
                      what=f"{tid} in the central store")


def test_sign_in_and_watch_an_sms_arrive_without_reload(rig: ConsoleRig, context: Any, shot: Shot) -> None:
    page = context.new_page()
    page.goto(rig.url + "/console/")
    assert page.url.endswith("/console/login")
    shot(page, "login")
    login(page, rig, "opa")
    page.goto(rig.url + "/console/")
    page.wait_for_function("document.getElementById('live-status') !== null")
    page.evaluate("window.__sameDocument = true")
    rig.sms("6281234500001", "Jalan berlubang di depan SD Negeri 3 Tembalang mohon segera diperbaiki")
    row = page.locator("#intake-log tbody tr.new", has_text="sms.kannel").filter(has=page.locator("a"))
    row.first.wait_for()
    assert page.evaluate("window.__sameDocument") is True  # the row came through the feed, not a reload
    assert "6281234500001" not in page.content()  # contacts are masked in the log
    shot(page, "live-log")
    link = row.first.locator("a").first
    tid = link.inner_text()
    assert TRACKING.fullmatch(tid)
    link.click()
    page.wait_for_url(f"**/console/complaints/{tid}")
    assert tid in page.locator("h1").inner_text()
    assert "Jalan berlubang" in page.content()
    shot(page, "complaint")


def test_approve_a_held_scan(rig: ConsoleRig, context: Any, shot: Shot) -> None:
    page = context.new_page()
    login(page, rig, "opa")
    page.goto(rig.url + "/console/scan")
    page.locator("#files").set_input_files(files=[
        {"name": "halaman-kosong.png", "mimeType": "image/png", "buffer": png_bytes(blank_page().reduce(2))}])
    page.locator("#scan-form button[type=submit]").click()  # sent by the page's script, with a progress bar
    page.locator("table[role=status]", has_text="halaman-kosong.png").wait_for()
    shot(page, "scan-uploaded")

    def held() -> str | None:
        page.goto(rig.url + "/console/review")
        links = page.locator("main table a")
        return links.first.inner_text() if links.count() else None

    tid = wait_until(held, timeout=60, interval=0.5, what="the blank scan held for review")
    shot(page, "review-queue")
    page.locator("main table a", has_text=tid).click()
    page.wait_for_url(f"**/console/complaints/{tid}")
    shot(page, "held-scan")
    page.locator(f"form[action='/console/complaints/{tid}/approve'] button").click()
    page.wait_for_load_state()
    shot(page, "approved")
    assert page.locator(f"form[action='/console/complaints/{tid}/approve']").count() == 0
    assert _stored(rig, tid)["record"]["channel"].startswith("letters")


def test_take_a_complaint_at_the_desk_and_print_its_receipt(rig: ConsoleRig, context: Any, shot: Shot) -> None:
    page = context.new_page()
    login(page, rig, "opa")
    page.goto(rig.url + "/console/new")
    shot(page, "desk-form")
    page.locator("input[name=channel][value='desk.walkin']").check()
    page.locator("#body").fill("Lampu penerangan jalan di Jl. Pandanaran mati sejak seminggu, mohon diperbaiki.")
    page.locator("#reporter_name").fill("Sri Wahyuni")
    page.locator("#reporter_phone").fill("081234500002")
    page.locator("form[action='/console/new'] button[type=submit]").click()
    page.locator("#tracking-id").wait_for(timeout=30_000)
    tid = page.locator("#tracking-id").inner_text().strip()
    assert TRACKING.fullmatch(tid)
    shot(page, "desk-tracking-id")
    pdf = context.request.get(rig.url + page.locator("#receipt-link").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(pdf.body())) as doc:
        assert tid in "".join(p.extract_text() or "" for p in doc.pages)
    record = _stored(rig, tid)["record"]
    assert record["channel"] == "desk.walkin" and "Pandanaran" in record["body"]


def test_retry_a_dead_letter_really_sends_it(rig: ConsoleRig, context: Any, shot: Shot) -> None:
    page = context.new_page()
    login(page, rig, "opa")
    rig.stop_central()
    try:
        rig.sms("6281234500003", "Sampah menumpuk di pasar Johar sudah tiga hari tidak diangkut")

        def dead() -> str | None:
            page.goto(rig.url + "/console/dead-letters")
            forwards = page.locator("main > h2").first.locator("xpath=following-sibling::*[1]")  # not receipts
            ids = TRACKING.findall(forwards.inner_text())
            return ids[0] if ids else None

        tid = wait_until(dead, timeout=60, interval=1, what="the forward given up")
    finally:
        rig.start_central()
    shot(page, "dead-letters")
    page.locator(f"form[action='/console/dead-letters/retry']:has(input[value='{tid}']) button").click()
    page.wait_for_load_state()
    outcome = page.locator("section[role=status]")
    outcome.wait_for()
    shot(page, "retried")
    said = outcome.inner_text()
    assert tid in said and ("sent" in said or "queued" in said), said
    assert _stored(rig, tid)["record"]["external_id"]


def test_download_the_monthly_csv(rig: ConsoleRig, context: Any, shot: Shot) -> None:
    ext = rig.sms("6281234500004", "Air PDAM tidak mengalir di Kelurahan Jatingaleh sejak kemarin pagi")
    tid = wait_record(rig.gw, ext)["tracking_id"]
    # the agency resolves it at once: the gateway hears it from the store's updates feed
    rig.store_status(tid, "verifying", "forwarded_to_agency", "resolved")
    month = str(Month.containing(datetime.now(UTC), "Asia/Jakarta"))
    page = context.new_page()
    login(page, rig, "opa")

    def forwarded_sms() -> dict[str, str] | None:
        page.goto(f"{rig.url}/console/reports?month={month}")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("Unduh CSV|Download CSV")).click()
        path = download.value.path()
        rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
        resolved = [r for r in rows if r["channel"] == "sms.kannel" and int(r["resolved"]) >= 1]
        return resolved[0] if resolved else None

    row = wait_until(forwarded_sms, timeout=30, interval=1, what="an SMS resolved in the month's CSV")
    shot(page, "monthly-report")
    assert int(row["received"]) >= int(row["forwarded"]) >= 1 and row["category"]
    assert int(row["resolved_on_time"]) >= 1 and int(row["forwarded_on_time"]) >= 1
    assert {"channel", "category", "received", "forwarded", "in_review", "resolved", "resolved_on_time"} <= set(row)
    assert page.locator("svg.chart").count() == 3
