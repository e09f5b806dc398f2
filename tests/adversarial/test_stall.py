"""No message can stall the others (issue 11, item 4), through the real gateway.

A mail with a decompression-bomb PDF and a 30-page 7700×7700 G4 TIFF in the
hot folder, then 50 SMS: every SMS is in the central store within 10 s, while
the heavy jobs run in the isolated lane, and the worker process itself stays
small (its peak RSS under ``WORKER_PEAK_MB``). The bombs end as what they are:
the mail forwarded with its text and a review note, the scan failed with a reason.
"""

from __future__ import annotations

import smtplib
import time
import urllib.parse
import urllib.request
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from gateway.intake.children import child_pid
from tests.adversarial.hostile_files import flate_bomb_pdf, huge_g4_tiff
from tests.e2e_helpers import records_by_external_id
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers.ports import port_open

pytestmark = [pytest.mark.slow]

DOMAIN = "lapor.localhost"
WORKER_PEAK_MB = 350  # idle it is ~70 MB; OCR, PDF and image decoding happen in isolated children


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def sms(gw: GatewayProcess, ext: str, i: int) -> int:
    q = urllib.parse.urlencode({"from": f"62859{i:08d}", "to": "1708", "id": ext, "coding": "0",
                                "text": f"Sampah menumpuk di pasar blok {i}, bau menyengat sampai ke sekolah"})
    with urllib.request.urlopen(f"{gw.url}/channels/sms/kannel?{q}", timeout=10) as r:
        return r.status


def bomb_mail(mid: str) -> bytes:
    m = EmailMessage()
    m["From"] = "Warga <warga@contoh.id>"
    m["To"] = f"pengaduan@{DOMAIN}"
    m["Subject"] = "Laporan jalan rusak (lampiran)"
    m["Message-ID"] = f"<{mid}>"
    m.set_content("Jalan di depan balai desa berlubang besar, lihat lampiran.")
    m.add_attachment(flate_bomb_pdf(), maintype="application", subtype="pdf", filename="laporan.pdf")
    return m.as_bytes(policy=SMTP)


def test_bombs_do_not_stall_sms_and_the_worker_stays_small(tmp_path: Path) -> None:
    gw = GatewayProcess(tmp_path / "data", {"LAPOR_SMTP__DOMAINS": f'["{DOMAIN}"]', "LAPOR_LETTERS__POLL_SECONDS": "0.5",
                                            "LAPOR_LOG__LEVEL": "INFO"})
    gw.start()
    wait_until(lambda: port_open(gw.smtp_port), 15, interval=0.05, what="the SMTP listener")
    run = uuid.uuid4().hex[:8]
    try:
        worker = child_pid(gw.proc.pid, "worker")  # type: ignore[union-attr]
        mid = f"{run}.bomb@contoh.id"
        with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
            s.sendmail("warga@contoh.id", [f"pengaduan@{DOMAIN}"], bomb_mail(mid))
        inbox = tmp_path / "data" / "inbox" / "letters"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / ".surat-besar.tif.part").write_bytes(huge_g4_tiff())
        (inbox / ".surat-besar.tif.part").rename(inbox / "surat-besar.tif")
        time.sleep(1.5)  # both heavy jobs have been taken up by now

        started = time.monotonic()
        exts = [f"{run}-{i}" for i in range(50)]
        assert [sms(gw, e, i) for i, e in enumerate(exts)] == [200] * 50

        def all_in_store() -> bool:
            recs = records_by_external_id(gw)
            return all(e in recs for e in exts)

        wait_until(all_in_store, timeout=60, interval=0.2, what="the 50 SMS in the store")
        took = time.monotonic() - started
        assert took < 10, f"SMS took {took:.1f}s to reach the store while the bombs ran"

        # the bombs end as what they are, each alone: the mail forwarded flagged, or held for a person
        # (a short mail with an unreadable scan attached is read like a letter, and a letter that cannot be
        # read waits in review)
        def bomb_settled() -> str | None:
            recs = records_by_external_id(gw).get(mid)
            if recs:
                assert "balai desa" in recs[0]["body"] and recs[0]["needs_review"], recs[0]["needs_review"]
                return "forwarded"
            queue = gw.cli("review").stdout
            return "review" if "email.smtp" in queue else None

        wait_until(bomb_settled, timeout=120, interval=0.5, what="the bomb mail forwarded flagged or in review")
        failed = inbox / "failed"
        wait_until(lambda: failed.exists() and any(p.suffix == ".tif" for p in failed.iterdir()), timeout=120,
                   interval=0.5, what="the huge TIFF set aside with a reason")
        peak = peak_rss_mb(worker)
        print(f"SMS through in {took:.2f}s; worker peak RSS {peak:.0f} MB")
        assert peak < WORKER_PEAK_MB, f"worker peaked at {peak:.0f} MB"
        assert child_pid(gw.proc.pid, "worker") == worker  # it never died on the way  # type: ignore[union-attr]
    finally:
        gw.stop()
