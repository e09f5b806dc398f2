"""A stranger's BALAS held for review (issue 15), as a clerk reads it: the review page and the complaint page
spoke of OCR and page images for an SMS ('Teks hasil OCR', 'Gambar halaman', 0 pages) and gave the reason as
the code 'follow_up_of_unknown'."""

from __future__ import annotations

import re

from tests.unit.gateway.console.console_env import Env, add_complaint


async def test_an_sms_held_for_review_reads_as_an_sms(operator_env: Env) -> None:
    tid = add_complaint(operator_env, {"body": "saya bukan pelapor", "needs_review": ["follow_up_of_unknown"],
                                       "follow_up_of": "4509948496"}, state="review")
    page = await (await operator_env.client.get(f"/console/complaints/{tid}")).text()
    assert '<label for="c-body">Isi pengaduan</label>' in page and "Teks hasil OCR" not in page
    assert '<h3 id="pages-h">Lampiran</h3>' in page and "Gambar halaman" not in page
    assert "milik pelapor lain" in page and 'title="follow_up_of_unknown"' in page
    # which ticket it named, one click away (the reviewer compares the two)
    assert '<a href="/console/complaints/4509948496">4509948496</a>' in page
    queue = await (await operator_env.client.get("/console/review")).text()
    row = re.search(rf"<tr><td><a href=\"/console/complaints/{tid}\">.*?</tr>", queue, re.S)
    assert row is not None and '<td class="num">-</td>' in row.group(0)
    assert "milik pelapor lain" in row.group(0)


async def test_a_letter_held_for_review_still_speaks_of_ocr_and_pages(operator_env: Env) -> None:
    tid = add_complaint(operator_env, {"body": "surat", "channel": "letters.scan", "account": "counter",
                                       "needs_review": ["no complaint text found"]}, state="review")
    page = await (await operator_env.client.get(f"/console/complaints/{tid}")).text()
    assert '<label for="c-body">Teks hasil OCR</label>' in page and '<h3 id="pages-h">Gambar halaman</h3>' in page
