"""Poison between normal messages, through the real gateway (issue 11, items 1–3, 9).

Hostile mails (a Message-ID that decodes to a lone surrogate, a 1,000-deep
multipart, a ``utf-7`` body, a header injection in From) and hostile webhook
calls (numbers out of range, a reused Kannel id with other content) arrive
between ordinary SMS. Every ordinary SMS is forwarded; every poison message is
forwarded flagged for review, kept as its own message, refused with a 4xx, or
quarantined with its reason for an operator; ``/healthz`` answers 200 all along
(the worker is healthy: that is the truth) and the worker never restarts.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from gateway.intake.children import child_pid
from tests.e2e_helpers import intake_log, records_by_external_id
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers.ports import port_open

pytestmark = [pytest.mark.slow]

DOMAIN = "lapor.localhost"
RCPT = f"pengaduan@{DOMAIN}"


def kannel(gw: GatewayProcess, **params: str) -> int:
    q = urllib.parse.urlencode({"to": "1708", "coding": "0", **params})
    try:
        with urllib.request.urlopen(f"{gw.url}/channels/sms/kannel?{q}", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def raw_mail(mid_header: str, body: bytes, content_type: str = "text/plain; charset=utf-8",
             from_header: str = "Warga <warga@contoh.id>") -> bytes:
    head = (f"From: {from_header}\r\nTo: {RCPT}\r\nSubject: Laporan warga\r\nMessage-ID: {mid_header}\r\n"
            f"Date: Thu, 13 Mar 2025 10:44:31 +0700\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n")
    return head.encode() + body + b"\r\n"


def deep_multipart(depth: int) -> bytes:
    parts = []
    for i in range(depth):
        parts.append(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n".encode())
    inner = b"--b%d\r\nContent-Type: text/plain\r\n\r\nGorong-gorong di Jl. Kenanga tersumbat total\r\n--b%d--\r\n" % (
        depth, depth)
    return b"".join(parts) + inner + b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))


def test_poison_between_normal_messages(tmp_path: Path) -> None:
    gw = GatewayProcess(tmp_path / "data", {"LAPOR_SMTP__DOMAINS": f'["{DOMAIN}"]', "LAPOR_LOG__LEVEL": "INFO",
                                            "LAPOR_WORKER__MAX_ATTEMPTS": "3", "COLUMNS": "250"})  # log rows unwrapped
    gw.start()
    wait_until(lambda: port_open(gw.smtp_port), 15, interval=0.05, what="the SMTP listener")
    run = uuid.uuid4().hex[:8]
    worker = child_pid(gw.proc.pid, "worker")  # type: ignore[union-attr]
    normal: list[str] = []
    health: list[int] = []

    def ordinary(i: int) -> None:
        ext = f"{run}-ok{i}"
        assert kannel(gw, id=ext, text=f"Jalan berlubang di RT 0{i % 9} depan masjid, motor sering jatuh",
                      **{"from": f"62812700{i:05d}"}) == 200
        normal.append(ext)
        health.append(gw.healthz()[0])

    mails = {
        "surrogate message-id": raw_mail("=?utf-7?q?+2D3c-?= <x@y>", b"Pungli di kantor kelurahan saat urus KTP"),
        "utf-7 body": raw_mail(f"<{run}.u7@contoh.id>", b"Sampah +2D3cAAA- tidak diangkat sebulan",
                               "text/plain; charset=utf-7"),
        "1000-deep multipart": raw_mail(f"<{run}.deep@contoh.id>", deep_multipart(1000),
                                        'multipart/mixed; boundary="b0"'),
        "header injection in From": raw_mail(
            f"<{run}.inj@contoh.id>", b"Drainase mampet di perumahan Griya Asri",
            from_header="=?utf-8?q?Budi=0D=0ABcc:_x@penyerang.example?= <budi@contoh.id>"),
    }
    try:
        for i, raw in enumerate(mails.values()):
            ordinary(2 * i)
            with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=20) as s:
                s.sendmail("warga@contoh.id", [RCPT], raw)  # 250: journaled
            ordinary(2 * i + 1)
        # webhook poison: refused with a reason, never a 500
        assert kannel(gw, id=f"{run}-big", text="halo", unixtime="99999999999999999999",
                      **{"from": "6281270099999"}) in (200, 400)
        assert kannel(gw, id=f"{run}-nul", text="a\x00b\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
                      **{"from": "6281270099998"}) in (200, 400)
        # a reused Kannel id with other content and another sender: kept as its own message
        assert kannel(gw, id=f"{run}-ok0", text="Laporan lain sama sekali tentang parkir liar",
                      **{"from": "6281270088888"}) == 200
        ordinary(100)

        def forwarded() -> dict | None:
            recs = records_by_external_id(gw)
            return recs if all(e in recs for e in normal) else None

        recs = wait_until(forwarded, timeout=60, interval=0.3, what="every ordinary SMS in the store")
        # the original once, and the reuse of its id as a complaint of its own, shown to the operator
        wait_until(lambda: len(records_by_external_id(gw)[f"{run}-ok0"]) == 2, timeout=30, what="the reuse forwarded")
        assert sorted("parkir" in r["body"] for r in records_by_external_id(gw)[f"{run}-ok0"]) == [False, True]
        wait_until(lambda: "external_id_conflict" in intake_log(gw), timeout=30, what="the conflict in the intake log")

        # every poison mail ends: forwarded (flagged where its MIME was broken) or quarantined with a reason
        def settled() -> list[dict] | None:
            mail_recs = [i["record"] for i in gw.central_records() if i["record"]["channel"].startswith("email.")]
            quarantined = intake_log(gw).count("quarantined")  # the state is "failed", the reason says
            return mail_recs if len(mail_recs) + quarantined >= len(mails) else None

        mail_recs = wait_until(settled, timeout=90, interval=0.5, what="every poison mail forwarded or quarantined")
        bodies = " ".join(r["body"] for r in mail_recs)
        assert "Gorong-gorong" in bodies  # the deep multipart's text was kept
        assert "kelurahan" in bodies  # the surrogate Message-ID did not cost the mail
        for r in mail_recs:
            json.dumps(r, ensure_ascii=False).encode()  # every forwarded value is valid text
        assert "penyerang.example" not in json.dumps(recs) + json.dumps(mail_recs)
        assert all(code == 200 for code in health), health
        assert gw.healthz()[0] == 200
        assert child_pid(gw.proc.pid, "worker") == worker, "the worker was restarted"  # type: ignore[union-attr]
    finally:
        gw.stop()
