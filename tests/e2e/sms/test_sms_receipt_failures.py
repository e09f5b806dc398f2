"""Receipts while Kannel's sendsms is down, through the real gateway and a real Kannel (issue 13, items 1-3).

The gateway's ``sms.kannel.sendsms_url`` points at a port of our own that is closed while "Kannel is
down" and forwards to the real sendsms once it is back; the fake SMSC counts what really went out.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from normalizer.tracking import new_tracking_id
from tests.e2e.sms.conftest import SHORTCODE, SmsRig
from tests.e2e_helpers import tracking_ids_in
from tests.gateway_proc import GatewayProcess, wait_until
from tests.peers.ports import free_port

pytestmark = pytest.mark.peer


class Outage:
    """A TCP port that refuses connections while down and forwards to ``target`` while up."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None

    def up(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def make_outage_rig(make_kannel: Any, gateway_factory: Any) -> Iterator[Any]:
    """Kannel runs; the gateway's sendsms URL is a closed port until the test brings it ``up``."""
    outages: list[Outage] = []

    def make(retry_hours: str = "24") -> tuple[SmsRig, Outage]:
        port = free_port()
        kannel = make_kannel(f"http://127.0.0.1:{port}/channels/sms/kannel")
        outage = Outage(("127.0.0.1", kannel.ports.sendsms))
        outages.append(outage)
        gw = gateway_factory({"LAPOR_HTTP__PORT": str(port), **kannel.settings_env(),
                              "LAPOR_SMS__KANNEL__SENDSMS_URL": f"http://127.0.0.1:{outage.port}/cgi-bin/sendsms",
                              "LAPOR_RECEIPTS__RETRY_HOURS": retry_hours})
        gw.start()
        return SmsRig(gw, kannel), outage

    yield make
    for outage in outages:
        outage.down()


def events(gw: GatewayProcess, tid: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{gw.data_dir / 'gateway-state.db'}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM events WHERE tracking_id=? ORDER BY seq", (tid,))]
    finally:
        conn.close()


def states(gw: GatewayProcess, tid: str) -> list[str]:
    return [e["state"] for e in events(gw, tid)]


def health(gw: GatewayProcess) -> dict[str, Any]:
    with urllib.request.urlopen(gw.url + "/healthz", timeout=5) as r:
        assert r.status == 200  # intake works: a failing receipt path does not take the gateway out
        return json.loads(r.read())


def metrics(gw: GatewayProcess) -> str:
    with urllib.request.urlopen(gw.url + "/metrics", timeout=5) as r:
        return r.read().decode()


def tracking_of_first_complaint(gw: GatewayProcess) -> str:
    def one() -> str | None:
        conn = sqlite3.connect(f"file:{gw.data_dir / 'gateway-state.db'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT tracking_id FROM complaints ORDER BY created_at LIMIT 1").fetchone()
        finally:
            conn.close()
        return row[0] if row else None

    return wait_until(one, what="the complaint")


def test_kannel_down_the_receipt_fails_loudly_and_retry_dead_sends_it_when_kannel_is_back(
    make_outage_rig: Any,
) -> None:
    rig, outage = make_outage_rig(retry_hours="0.0025")  # 9 s: given up within the test
    gw, number = rig.gateway, "6281322200001"
    # start-up said it in one line
    log = gw.data_dir / "gateway.log"
    line = wait_until(lambda: [x for x in log.read_text().splitlines() if "receipts: Kannel sendsms" in x],
                      what="the start-up line about sendsms")
    assert len(line) == 1 and "unreachable" in line[0] and f":{outage.port}/cgi-bin/sendsms" in line[0]

    rig.kannel.inject(number, SHORTCODE, "Jembatan di Desa Cikahuripan retak, truk masih lewat tiap hari")
    tid = tracking_of_first_complaint(gw)
    wait_until(lambda: "receipt_retrying" in states(gw, tid), what="the first failed attempt in the intake log")
    problems = wait_until(lambda: [p for p in health(gw)["problems"] if p.startswith("receipts: sms failing")],
                          what="/healthz naming the failing receipt path")
    assert problems[0].endswith("(1 waiting)")
    assert 'lapor_receipt_path_up{family="sms"} 0' in metrics(gw)

    wait_until(lambda: "receipt_failed" in states(gw, tid), timeout=40, what="the receipt given up")
    assert states(gw, tid).count("receipt_retrying") == 1  # once per receipt, not per attempt
    assert rig.receipts_to(number) == []

    outage.up()  # Kannel is back
    refused = gw.cli("retry-dead", "nonsense")
    assert refused.returncode == 2 and "nothing queued" in refused.stderr
    unknown = new_tracking_id()
    mixed = gw.cli("retry-dead", unknown)
    assert mixed.returncode == 1 and unknown in mixed.stderr
    assert states(gw, tid).count("retry_receipt") == 0
    done = gw.cli("retry-dead", tid)
    assert done.returncode == 0, done.stderr
    assert f"{tid}  receipt by sms.kannel queued again" in done.stdout
    assert "queued again: 0 forward(s), 1 receipt(s)" in done.stdout
    wait_until(lambda: rig.receipts_to(number), what="the receipt at the fake SMSC")
    (receipt,) = rig.receipts_to(number)
    assert tid in receipt
    wait_until(lambda: not [p for p in health(gw)["problems"] if p.startswith("receipts:")],
               what="/healthz clear again")
    assert 'lapor_receipt_path_up{family="sms"} 1' in metrics(gw)
    # queued once: a second retry-dead finds nothing to send, and nothing more goes out
    again = gw.cli("retry-dead", tid)
    assert again.returncode == 0 and "nothing dead or failed" in again.stdout
    assert len(rig.receipts_to(number)) == 1
    for text in (done.stdout, refused.stderr, mixed.stderr, gw.log_text()):
        assert number not in text


def test_a_cek_reply_waits_for_its_tickets_receipt_and_is_listed_under_it(make_outage_rig: Any) -> None:
    rig, outage = make_outage_rig()
    gw, number = rig.gateway, "6281322200002"
    rig.kannel.inject(number, SHORTCODE, "Lampu jalan di Jl. Kenanga mati sejak minggu lalu, gelap gulita")
    tid = tracking_of_first_complaint(gw)
    wait_until(lambda: "receipt_retrying" in states(gw, tid), what="the receipt failing for now")
    rig.kannel.inject(number, SHORTCODE, f"CEK {tid}")
    wait_until(lambda: "status_query" in states(gw, tid), what="the CEK answered")
    outage.up()
    wait_until(lambda: len(rig.receipts_to(number)) == 2, timeout=40, what="receipt and status reply")
    receipt, status = rig.receipts_to(number)
    assert tid in receipt and tid in status
    assert "kurang jelas" not in receipt and receipt != status
    assert states(gw, tid).index("receipt_sent") < states(gw, tid).index("reply_sent")
    shown = json.loads(gw.cli("show", tid, "--json").stdout)
    kinds = [r["kind"] for r in shown["receipts"]]
    assert kinds == ["receipt", "reply"]


def test_an_empty_sms_is_kept_and_completed_by_the_next_sms(sms_rig: SmsRig) -> None:
    gw, number = sms_rig.gateway, "6281322200003"
    sms_rig.kannel.inject(number, SHORTCODE, "halo")
    wait_until(lambda: sms_rig.receipts_to(number), what="the request for details")
    (ask,) = sms_rig.receipts_to(number)
    (tid,) = tracking_ids_in(ask)
    assert "kurang jelas" in ask
    assert "waiting_for_details" in states(gw, tid) and "needs_review" not in states(gw, tid)
    review = gw.cli("review")
    assert review.returncode == 0 and tid in review.stdout and "waiting_for_details" in review.stdout
    with pytest.raises(urllib.error.HTTPError) as missing:
        gw.central_get(f"/v1/complaints/{tid}")
    assert missing.value.code == 404

    details = "Got depan rumah no 12 Jl. Melati tersumbat sampah, air meluap tiap hujan"
    sms_rig.kannel.inject(number, SHORTCODE, details)
    wait_until(lambda: len(sms_rig.receipts_to(number)) == 2, what="the receipt")
    assert tid in sms_rig.receipts_to(number)[1] and "kurang jelas" not in sms_rig.receipts_to(number)[1]
    record = wait_until(lambda: gw.central_get(f"/v1/complaints/{tid}"), what="forwarded")["record"]
    assert record["body"] == details and "no_substance" not in record["needs_review"]
    assert tid not in gw.cli("review").stdout
