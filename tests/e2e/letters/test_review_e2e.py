"""Unreadable scans wait for a person: `lapor-gateway review` lists them, --approve forwards, --reject keeps out
(and the reporter gets one printed letter saying it cannot be processed, and why)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.letters.conftest import (
    _pdf_text,
    drop,
    files_in,
    inbox,
    receipt_pdf,
    receipt_pdf_text,
    sha256,
    wait_moved,
)
from tests.e2e_helpers import intake_log, records_by_external_id, review_rows, wait_record
from tests.gateway_proc import GatewayProcess, wait_until
from tests.unit.channels.letters.render import blank_page, noise_page, png_bytes

pytestmark = pytest.mark.peer


def _title_count(gw: GatewayProcess) -> int:
    m = re.search(r"review queue \((\d+)\)", gw.cli("review").stdout)
    assert m, "no review queue title"
    return int(m.group(1))


def test_blank_and_noise_pages_are_held_for_review_then_approved_or_rejected(
    letters_gateway: Callable[..., GatewayProcess],
) -> None:
    gw = letters_gateway()
    blank, noise = png_bytes(blank_page()), png_bytes(noise_page())
    drop(gw, "halaman-kosong.png", blank)
    drop(gw, "halaman-bintik.png", noise)
    wait_moved(gw, ["halaman-kosong.png", "halaman-bintik.png"])
    assert set(files_in(inbox(gw) / "processed")) == {"halaman-kosong.png", "halaman-bintik.png"}

    queue = wait_until(lambda: (q := review_rows(gw)) and len(q) == 2 and q, 30, what="both scans in the review queue")
    (blank_tid,) = [t for t, row in queue.items() if "page 1: blank" in row]
    (noise_tid,) = [t for t, row in queue.items() if "looks like noise" in row]
    assert all("no complaint text found" in row for row in queue.values())
    assert all("review --images" in row for row in queue.values())  # the reviewer can open the page images
    out = gw.data_dir.parent / "review-out"
    shown = gw.cli("review", "--images", blank_tid, "--out", str(out))
    assert shown.returncode == 0
    pages = [Path(p) for p in shown.stdout.split()]  # the scan as dropped and its cleaned page
    assert pages and all(p.read_bytes().startswith(b"\x89PNG") for p in pages)  # sealed at rest, opened here
    assert _title_count(gw) == 2
    # held: not forwarded, no receipt printed (the receipt rows were written held, with the complaint)
    assert records_by_external_id(gw) == {}
    assert not receipt_pdf(gw, blank_tid).exists() and not receipt_pdf(gw, noise_tid).exists()
    log = intake_log(gw)
    assert re.search(rf"{blank_tid}\s+needs_review", log) and re.search(rf"{noise_tid}\s+needs_review", log)

    # reject the noise, approve the blank page (say the letter was stapled behind it)
    assert gw.cli("review", "--reject", noise_tid).returncode == 2  # a rejection needs its reason from the list
    rejected = gw.cli("review", "--reject", noise_tid, "--because", "unreadable", "--reason", "bintik saja, staf A")
    assert rejected.returncode == 0 and "rejected" in rejected.stdout and "citizen is told" in rejected.stdout
    approved = gw.cli("review", "--approve", blank_tid)
    assert approved.returncode == 0 and "approved" in approved.stdout

    rec = wait_record(gw, sha256(blank), timeout=30)
    assert rec["tracking_id"] == blank_tid
    assert "page 1: blank" in rec["needs_review"]  # the store sees why a person looked at it
    tid_text = receipt_pdf_text(gw, blank_tid)
    assert blank_tid in tid_text and "CEK" in tid_text
    # the forwarder has run since the rejection: the rejected scan stays out
    assert set(records_by_external_id(gw)) == {sha256(blank)}
    assert review_rows(gw) == {} and _title_count(gw) == 0
    again = gw.cli("review", "--approve", noise_tid)
    assert again.returncode == 1 and "not waiting for review" in again.stdout
    wait_until(lambda: re.search(rf"{blank_tid}\s+receipt_sent", intake_log(gw)), 20, what="the approved receipt")
    log = intake_log(gw)
    assert re.search(rf"{blank_tid}\s+review_approved", log) and re.search(rf"{noise_tid}\s+review_rejected", log)
    assert re.search(rf"{blank_tid}\s+forwarded", log) and not re.search(rf"{noise_tid}\s+forwarded", log)
    assert not re.search(rf"{noise_tid}\s+receipt_sent", log) and not receipt_pdf(gw, noise_tid).exists()
    # the rejected letter's reporter: one printed letter (no "received" receipt), the reason in their words
    notice = gw.data_dir / "outbox" / "letters" / f"{noise_tid}-tolak.pdf"
    wait_until(lambda: notice.exists() and _pdf_text(notice), 30, what="the rejection letter")
    text = " ".join(_pdf_text(notice).split())
    assert "tidak dapat diproses" in text and "tidak dapat kami baca" in text and "staf A" not in text
    assert noise_tid in text  # Nomor LAPOR/<ticket>/tolak, and the body
    wait_until(lambda: re.search(rf"{noise_tid}\s+rejection_sent", intake_log(gw)), 20, what="the notice logged")
    assert sorted(p.name for p in notice.parent.iterdir() if noise_tid in p.name) == [notice.name]
