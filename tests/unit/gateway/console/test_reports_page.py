"""The console's report page and CSV (gateway/console/reports_page.py) in the console's own app, in process."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.console.app import SESSION_COOKIE, Console, build_app
from gateway.console.auth import new_token, token_hash
from gateway.settings import load_settings
from gateway.store.sqlite.console import open_console_store
from tests.unit.gateway.cli.cli_data import add_complaint, new_gateway

CANARY_CATEGORY = '<script>alert(1)</script>=cmd'


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = new_gateway(tmp_path)
    for key, value in gw.env.items():
        if key.startswith("LAPOR_"):
            monkeypatch.setenv(key, value)
    for channel, category in (("sms.kannel", "Infrastruktur"), ("sms.kannel", "Infrastruktur"),
                              ("desk.walkin", CANARY_CATEGORY)):
        add_complaint(gw, {"channel": channel, "received_at": "2026-12-02T01:15:02+00:00", "body": "b",
                           "category_suggestion": [{"category": category, "confidence": 0.8}]})


@pytest.fixture
async def client(data: None) -> AsyncIterator[TestClient]:
    settings = load_settings()
    store = open_console_store(settings.data.dir)
    for name, role in (("opa", "operator"), ("scan", "scanner")):
        store.add_user(name, role, "unused-hash")
    console = Console(settings, store)
    client = TestClient(TestServer(build_app(console)))
    await client.start_server()
    client.app_tokens = {}  # type: ignore[attr-defined]
    for name in ("opa", "scan"):
        token = new_token()
        store.create_session(token_hash(token), name, "full", console.clock())
        client.app_tokens[name] = token  # type: ignore[attr-defined]
    yield client
    await client.close()
    console.close()
    store.close()


def as_user(client: TestClient, name: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={client.app_tokens[name]}"}  # type: ignore[attr-defined]


async def test_the_page_shows_tables_charts_and_definitions(client: TestClient) -> None:
    r = await client.get("/console/reports?month=2026-12", headers=as_user(client, "opa"), allow_redirects=False)
    assert r.status == 200
    html = await r.text()
    assert "Laporan bulanan 2026-12" in html
    assert html.count("<svg") == 3 and "<script>alert" not in html and "&lt;script&gt;" in html
    assert re.search(r"<th scope=\"row\">sms.kannel</th><td class=\"num\">2</td>", html)
    assert "hari kerja ke-3" in html  # the definition of on time is on the page
    assert "Diolah <span class=\"help\">(normalized)</span>" in html  # a state in the console's words
    assert 'href="/console/reports.csv?month=2026-12"' in html
    assert 'href="/console/reports?month=2026-11"' in html and 'href="/console/reports?month=2027-01"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing from outside
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    en = await (await client.get("/console/reports?month=2026-12&lang=en", headers=as_user(client, "opa"))).text()
    assert "Monthly report 2026-12" in en and "3rd working day" in en


async def test_an_empty_month_and_a_bad_month_are_said_on_the_page(client: TestClient) -> None:
    empty = await (await client.get("/console/reports?month=2026-10", headers=as_user(client, "opa"))).text()
    assert "Tidak ada pengaduan" in empty and "<svg" not in empty
    bad = await client.get("/console/reports?month=2026-13", headers=as_user(client, "opa"))
    assert bad.status == 200 and "TTTT-BB" in await bad.text()


async def test_the_csv_is_a_download_one_row_per_channel_and_category(client: TestClient) -> None:
    r = await client.get("/console/reports.csv?month=2026-12", headers=as_user(client, "opa"))
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="lapor-report-2026-12.csv"'
    rows = list(csv.DictReader(io.StringIO((await r.read()).decode("utf-8"))))
    assert [(x["channel"], x["category"], x["received"]) for x in rows] == [
        ("desk.walkin", CANARY_CATEGORY, "1"), ("sms.kannel", "Infrastruktur", "2")]
    assert {"channel", "category", "received", "forwarded", "in_review", "resolved", "resolved_on_time"} <= set(rows[0])
    assert (await client.get("/console/reports.csv?month=12-2026", headers=as_user(client, "opa"))).status == 400


async def test_signed_out_and_too_low_roles_are_kept_out(client: TestClient) -> None:
    page = await client.get("/console/reports?month=2026-12", allow_redirects=False)
    assert (page.status, page.headers["Location"]) == (303, "/console/login")
    assert (await client.get("/console/reports.csv?month=2026-12", allow_redirects=False)).status == 401
    low = await client.get("/console/reports?month=2026-12", headers=as_user(client, "scan"))
    assert low.status == 403 and "sms.kannel" not in await low.text()
    assert (await client.get("/console/reports.csv?month=2026-12", headers=as_user(client, "scan"))).status == 403


def test_a_chart_is_plain_svg_with_escaped_labels_and_no_style_or_script() -> None:
    from gateway.console.report_charts import Bar, Series, bar_chart

    svg = str(bar_chart("c1", "judul <b>", [Series("Diterima", "#5b7fa6"), Series("Selesai", "#2e7d32")],
                        [Bar('"><script>x</script>\u202e', (4, 1)), Bar("kosong", (0, 0), "-")]))
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "<script" not in svg and "style=" not in svg and "\u202e" not in svg
    assert "&lt;script&gt;" in svg and "judul &lt;b&gt;" in svg
    assert svg.count("<rect") == 2 + 4  # two legend keys, two bars per row
    assert ">4</text>" in svg and ">-</text>" in svg
