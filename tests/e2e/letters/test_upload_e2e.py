"""Scanning stations upload to POST /channels/letters: 202 at once, OCR later in the worker."""

from __future__ import annotations

import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from gateway.bench.synth import LetterSpec
from tests.e2e.letters.conftest import UPLOAD_TOKEN, letter_image_pdf, letter_text_pdf, receipt_pdf_text, sha256
from tests.e2e_helpers import intake_log, metrics_text, records_by_external_id, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer

SPEC = LetterSpec(name="Indah Permatasari", nik="3171014707950002", phone="0838-1212-3434",
                  subject="Puskesmas Tutup di Jam Pelayanan")  # fmt: skip


def upload(gw: GatewayProcess, data: bytes, token: str | None = UPLOAD_TOKEN, query: str = "",
           content_type: str = "application/pdf") -> tuple[int, str]:  # fmt: skip
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{gw.url}/channels/letters{query}", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _blob(gw: GatewayProcess, data: bytes) -> bool:
    digest = sha256(data)
    return (gw.data_dir / "blobs" / digest[:2] / digest[2:]).exists()


def _inbound_uploads(gw: GatewayProcess) -> int:
    db = sqlite3.connect(gw.data_dir / "gateway.db")
    try:
        return db.execute("SELECT count(*) FROM inbound WHERE channel='letters.upload'").fetchone()[0]
    finally:
        db.close()


def _received(gw: GatewayProcess) -> int:
    return sum(1 for line in intake_log(gw).splitlines() if re.search(r"letters\.upload\s+received", line))


def test_upload_ocr_after_ack_and_refusals(letters_gateway: Callable[..., GatewayProcess]) -> None:
    # the HTTP limit is raised above the letters limit so the channel's own 413 can be seen
    gw = letters_gateway({"LAPOR_HTTP__MAX_BODY_BYTES": str(4_000_000),
                          "LAPOR_LETTERS__MAX_FILE_BYTES": str(3_000_000)})  # fmt: skip
    scan = letter_image_pdf(SPEC, seed=61)  # ~2.3 MB, no text layer: OCR happens in the worker
    assert 1_000_000 < len(scan) < 3_000_000

    status, body = upload(gw, scan, query="?station=loket-2&filename=surat-loket.pdf")
    assert (status, body) == (202, '{"status": "accepted"}')
    rec = wait_record(gw, sha256(scan), timeout=60)
    assert rec["channel"] == "letters.upload" and rec["account"] == "loket-2"
    assert rec["subject"] == SPEC.subject and rec["reporter"]["nik"] == SPEC.nik
    assert rec["ocr"]["engine"].startswith("tesseract") and not rec["needs_review"]
    pdf_text = receipt_pdf_text(gw, rec["tracking_id"])
    assert rec["tracking_id"] in pdf_text and "CEK" in pdf_text
    # a flaky station sends it again: accepted, but the same complaint
    assert upload(gw, scan, query="?station=loket-2")[0] == 202

    # refusals: nothing stored, nothing journaled
    other = letter_text_pdf(SPEC)
    received_before = _received(gw)
    status, body = upload(gw, other, token="salah")
    assert status == 403 and "token" in body
    assert upload(gw, other, token=None)[0] == 403
    assert not _blob(gw, other)
    too_big = other + b"\0" * (3_500_000 - len(other))  # over letters.max_file_bytes
    status, body = upload(gw, too_big)
    assert status == 413 and "larger than 3000000 bytes" in body
    assert upload(gw, too_big + b"\0" * 1_000_000)[0] == 413  # over both limits: refused before it is read
    assert not _blob(gw, too_big)
    assert _inbound_uploads(gw) == 1  # only the first scan (its repeat was the same message) was journaled
    metrics = metrics_text(gw)
    assert 'lapor_webhook_requests_total{channel="letters.upload",outcome="rejected_403"} 2' in metrics
    assert 'lapor_webhook_requests_total{channel="letters.upload",outcome="rejected_413"} 2' in metrics
    assert 'lapor_webhook_requests_total{channel="letters.upload",outcome="duplicate"} 1' in metrics

    # a corrupt upload is acknowledged (the OCR comes later) and then fails, with its reason, for an operator
    broken = other[:300]
    assert upload(gw, broken)[0] == 202
    wait_until(lambda: re.search(r"letters\.upload\s+failed.*corrupt", intake_log(gw)), 30,
               what="the corrupt upload's failure in the intake log")  # fmt: skip
    assert _received(gw) == received_before  # a failed read is one 'failed' event, the refusals none
    assert _inbound_uploads(gw) == 2
    assert set(records_by_external_id(gw)) == {sha256(scan)}


def test_upload_of_a_real_scan_with_default_limits(letters_gateway: Callable[..., GatewayProcess]) -> None:
    gw = letters_gateway()
    scan = letter_image_pdf(SPEC, seed=61)
    assert upload(gw, scan)[0] == 202
