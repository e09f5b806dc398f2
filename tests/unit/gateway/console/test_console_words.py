"""The console says things in a clerk's words: the log's state filter and details, a held scan's reasons, account,
sizes and blank pages, receipt kinds, scan uploads linked to their result; dead citizen answers with retry; a
rejection's reason kept with the decision (the page and ``show``)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.console.words import human_size, reason_words
from gateway.store.records import Event
from tests.unit.gateway.cli.cli_data import cli
from tests.unit.gateway.console.console_env import Env, add_complaint


@pytest.fixture
def console_settings(tmp_path: Path) -> dict[str, str]:
    return {"LAPOR_LETTERS__INBOX": str(tmp_path / "inbox")}


@pytest.fixture
def console_users() -> list[tuple[str, str]]:
    return [("ana", "operator"), ("rina", "scanner")]


def test_words_for_reasons_and_sizes() -> None:
    assert reason_words("page 2: blank", "id") == "Halaman 2 kosong"
    assert reason_words("page 1: low OCR confidence (41 < 60)", "en").startswith("Page 1: the writing is hard")
    assert reason_words("no complaint text found", "id") == "Isi pengaduan tidak ditemukan"
    assert reason_words("something new", "id") == ""  # shown as it is
    assert human_size(1483265, "id") == "1,4 MB" and human_size(1483265, "en") == "1.4 MB"
    assert human_size(2048, "id") == "2,0 KB" and human_size(512, "en") == "512 B"


async def test_the_log_filters_by_state_from_a_list_and_says_details_plainly(env: Env) -> None:
    error = "kannel sendsms unreachable: ClientConnectorError(127.0.0.1:13013)"
    add_complaint(env, {"body": "b"}, events=[Event("sms.kannel", "receipt_retrying", detail=error)])
    await env.login("ana")
    page = await (await env.client.get("/console/?state=receipt_retrying")).text()
    select = page.split('<select id="f-state" name="state">', 1)[1].split("</select>", 1)[0]
    assert '<option value="">Semua status</option>' in select
    assert '<option value="receipt_retrying" selected>Tanda terima dicoba lagi</option>' in select
    assert '<option value="forwarded">Diteruskan</option>' in select
    row = page.split('<tbody>', 1)[1].split("</tbody>", 1)[0]
    assert "<summary>Tanda terima belum terkirim; dicoba lagi otomatis.</summary>" in row
    assert f'<code class="wrap">{error}</code>' in row  # the technical detail, one click away
    english = await (await env.client.get("/console/?state=receipt_retrying&lang=en")).text()
    assert '<option value="receipt_retrying" selected>Receipt being retried</option>' in english
    # a list from an address typed by hand still filters, and stays selected
    page = await (await env.client.get("/console/?state=received,forwarded")).text()
    assert '<option value="received,forwarded" selected>' in page


async def test_a_held_scan_in_words_its_blank_page_said_not_shown(env: Env) -> None:
    atts = [{"sha256": "a" * 64, "media_type": "application/pdf", "filename": "surat.pdf", "size": 1483265},
            {"sha256": "b" * 64, "media_type": "image/png", "filename": "surat-page1.png", "size": 20480},
            {"sha256": "c" * 64, "media_type": "image/png", "filename": "surat-page2.png", "size": 900}]
    tid = add_complaint(env, {"channel": "letters.scan", "account": "counter", "body": "Jalan rusak",
                              "attachments": atts, "needs_review": ["page 2: blank", "page 1: no readable text"]},
                        state="review")
    await env.login("ana")
    page = await (await env.client.get(f"/console/complaints/{tid}")).text()
    assert "Surat (pindaian) · loket" in page and "letters.scan (counter)" in page  # the code, small, beside
    assert "Halaman 2 kosong</li>" in page and 'title="page 2: blank"' in page
    assert "Halaman 1: tidak ada tulisan yang terbaca" in page
    assert "1,4 MB" in page and "20,0 KB" in page and "1483265 B" not in page
    assert f'/console/complaints/{tid}/attachments/1"' in page  # page 1 shown
    assert f'src="/console/complaints/{tid}/attachments/2"' not in page  # page 2 is white: said instead
    assert "Halaman 2 kosong: tidak ada tulisan" in page
    queue = await (await env.client.get("/console/review")).text()
    assert "Halaman 2 kosong" in queue and "page 2: blank" in queue  # the original as the title


async def test_a_scan_upload_says_its_size_readably_and_links_to_its_result(env: Env) -> None:
    content = b"%PDF-1.4 " + b"x" * 3000
    sha = hashlib.sha256(content).hexdigest()
    await env.login("rina")
    token = await env.csrf("/console/scan")
    form: Any = {"csrf_token": token, "files": content}
    import aiohttp

    data = aiohttp.FormData()
    for k, v in form.items():
        if k == "files":
            data.add_field("files", v, filename="surat.pdf", content_type="application/pdf")
        else:
            data.add_field(k, v)
    r = await env.client.post("/console/scan", data=data)
    page = await r.text()
    assert r.status == 200, page[-1500:]
    assert '<th scope="col" class="num">Ukuran</th>' in page and "2,9 KB" in page
    assert f'href="/console/scan/{sha}"' in page
    r = await env.client.get(f"/console/scan/{sha}")
    assert "masih dibaca" in await r.text()  # no worker here: not read yet


async def test_dead_citizen_answers_are_listed_with_retry(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.console.pages_dead as pages_dead

    monkeypatch.setattr(pages_dead, "WATCH_SECONDS", 0.3)
    tid = add_complaint(env, {"body": "b"}, state="forwarded")
    journal = env.console.open_journal()
    dead = [{"tracking_id": tid, "channel": "sms.kannel", "state": "dead_letter", "attempts": 8,
             "last_error": "store answered 503", "created_at": 1_800_000_000.0}]
    queued: list[Any] = []
    monkeypatch.setattr(journal, "dead_responses", lambda limit=500: dead)
    monkeypatch.setattr(journal, "retry_dead_responses_sync", lambda ids=None: queued.append(ids) or [tid])
    monkeypatch.setattr(journal, "responses_for", lambda t: [{"state": "pending", "attempts": 0}])
    await env.login("ana")
    page = await (await env.client.get("/console/dead-letters")).text()
    assert page.count('id="dead-responses"') == 1 and "<title>Gagal kirim" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "Gagal kirim" in title
    table = page.split('id="dead-responses"', 1)[1].split("</table>", 1)[0]
    assert tid in table and "store answered 503" in table and "Gagal" not in table.split("<tbody>")[0]
    assert f'name="tracking_id" value="{tid}"' in table
    token = await env.csrf("/console/dead-letters")
    r = await env.client.post("/console/dead-letters/retry", data={"csrf_token": token, "tracking_id": tid})
    page = await r.text()
    assert r.status == 200 and queued == [[tid]]
    assert "1 jawaban warga" in page and re.search(r"Jawaban warga</td>\s*<td data-state=\"queued\">", page)


async def test_a_rejections_reason_is_kept_with_the_decision(env: Env) -> None:
    tid = add_complaint(env, {"body": "b"}, state="review")
    await env.login("ana")
    token = await env.csrf(f"/console/complaints/{tid}")
    r = await env.client.post(f"/console/complaints/{tid}/reject", allow_redirects=False,
                              data={"csrf_token": token, "reason": "Bukan pengaduan: iklan <b>pinjol</b>",
                                    "because": "not_a_complaint"})
    assert r.status == 303
    assert env.console.open_journal().complaint_by_tracking(tid)["review_reason"] == "Bukan pengaduan: iklan <b>pinjol</b>"
    page = await (await env.client.get(f"/console/complaints/{tid}")).text()
    assert 'id="reject-reason-shown">Bukan pengaduan: iklan &lt;b&gt;pinjol&lt;/b&gt;<' in page
    out = cli(env.gw, "show", tid)
    assert out.returncode == 0 and "rejected because" in out.stdout and "iklan <b>pinjol</b>" in out.stdout
    # the reason is not in the intake log
    assert all("pinjol" not in str(e.get("detail")) for e in env.console.open_journal().events_matching(limit=100))
