"""SMS 1708 end to end through a real Kannel: MO → gateway → central store, receipt → fake SMSC."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.e2e.sms.conftest import SHORTCODE, SmsRig
from tests.e2e_helpers import tracking_ids_in
from tests.gateway_proc import wait_until

pytestmark = pytest.mark.peer

SEED = "Jalan rusak parah di depan SDN 3 Cibeureum, sdh 3 bln tdk diperbaiki"


def _record_from(rig: SmsRig, tracking_id: str) -> dict:
    return wait_until(lambda: rig.gateway.central_get(f"/v1/complaints/{tracking_id}"), what="record in central store")


def _receipt(rig: SmsRig, number: str, contains: str = "", timeout: float = 20) -> str:
    mt = rig.kannel.wait_for_mt(lambda m: m.receiver == number and contains in m.text, timeout=timeout)
    return mt.text


def _first_record(rig: SmsRig, number: str, contains: str = "") -> tuple[str, dict]:
    text = _receipt(rig, number, contains)
    ids = tracking_ids_in(text)
    assert len(ids) == 1, text
    rec = _record_from(rig, ids[0])
    return text, rec.get("record", rec)


def test_gsm_complaint_reaches_store_and_gets_sms_receipt(sms_rig: SmsRig) -> None:
    sms_rig.kannel.inject("6281234567001", SHORTCODE, SEED)
    receipt, rec = _first_record(sms_rig, "6281234567001")
    assert len(receipt) <= 160 and "CEK" in receipt  # one SMS, says how to check status
    assert rec["body"] == SEED
    assert rec["channel"] == "sms.kannel" and rec["account"] == SHORTCODE
    assert rec["reporter"]["phone"] == "6281234567001"
    assert rec["category_suggestion"][0]["category"] == "Infrastruktur"
    assert rec["privacy"] == {"anonymous": False, "confidential": False, "source": None}


def test_concatenated_300_chars_arrive_as_one_complaint(sms_rig: SmsRig) -> None:
    text = (
        "Lampu PJU di Jl. Merdeka padam sejak 2 minggu, warga takut lewat malam hari. Sdh lapor ke kelurahan "
        "tp blm ada tindakan. Kemarin ada motor jatuh krn jalan gelap dan berlubang di dekat jembatan. Mohon "
        "dinas perhubungan segera memperbaiki lampu dan menambal lubang sebelum musim hujan, terima kasih bn."
    )
    assert len(text) == 300
    sms_rig.kannel.inject("6281234567002", SHORTCODE, text)
    _, rec = _first_record(sms_rig, "6281234567002")
    assert rec["body"] == text.strip()
    assert len(sms_rig.receipts_to("6281234567002")) == 1


def test_ucs2_with_emoji(sms_rig: SmsRig) -> None:
    text = "Banjir di RT 05 😭🙏 tolong segera — café ñ"
    sms_rig.kannel.inject("6281234567003", SHORTCODE, text)
    _, rec = _first_record(sms_rig, "6281234567003")
    assert rec["body"] == text


def test_anonim_keeps_identity_out_of_the_record(sms_rig: SmsRig) -> None:
    sms_rig.kannel.inject("6281234567004", SHORTCODE, "ANONIM pungli di kantor kelurahan Sukamaju, diminta 200rb")
    receipt, rec = _first_record(sms_rig, "6281234567004")
    assert "ANONIM" in receipt
    assert rec["privacy"]["anonymous"] is True and rec["privacy"]["source"] == "keyword"
    assert rec.get("reporter") is None
    assert rec["reporter_ref"] and "6281234567004" not in str(rec)
    assert rec["body"].startswith("pungli di kantor")


def test_cek_answers_status_by_sms(sms_rig: SmsRig) -> None:
    sms_rig.kannel.inject("6281234567005", SHORTCODE, SEED)
    receipt = _receipt(sms_rig, "6281234567005")
    (tid,) = tracking_ids_in(receipt)
    _record_from(sms_rig, tid)
    sms_rig.kannel.inject("6281234567005", SHORTCODE, f"cek {tid[:3]} {tid[3:6]} {tid[6:]}")
    status = _receipt(sms_rig, "6281234567005", contains="Tiket")
    assert tid in status and "diterima" in status
    # a typo in the check digit gets a helpful answer, not a status
    wrong = tid[:-1] + str((int(tid[-1]) + 1) % 10)
    sms_rig.kannel.inject("6281234567005", SHORTCODE, f"CEK {wrong}")
    bad = _receipt(sms_rig, "6281234567005", contains="Contoh")
    assert "CEK 1234567890" in bad


def test_redelivery_of_same_kannel_id_is_one_complaint_one_receipt(sms_rig: SmsRig) -> None:
    q = urllib.parse.urlencode(
        {"from": "6281234567006", "to": SHORTCODE, "text": SEED, "id": "c0ffee00-0000-4000-8000-000000000006",
         "coding": "0", "charset": "UTF-8", "smsc": "fakemo"}
    )
    for _ in range(3):
        with urllib.request.urlopen(f"{sms_rig.gateway.url}/channels/sms/kannel?{q}", timeout=5) as r:
            assert r.status == 200 and r.read() == b""
    receipt = _receipt(sms_rig, "6281234567006")
    (tid,) = tracking_ids_in(receipt)
    _record_from(sms_rig, tid)
    wait_until(lambda: sms_rig.gateway.cli("show", tid).returncode == 0)
    # give a duplicate every chance to show up, then count
    sms_rig.kannel.inject("6281234567099", SHORTCODE, "penanda urutan")
    _receipt(sms_rig, "6281234567099")
    assert len(sms_rig.receipts_to("6281234567006")) == 1
    records = [r for r in sms_rig.gateway.central_records() if r["record"]["external_id"].startswith("c0ffee00")]
    assert len(records) == 1


def test_bad_input_answers(sms_rig: SmsRig) -> None:
    base = f"{sms_rig.gateway.url}/channels/sms/kannel?"

    def status_of(url: str, data: bytes | None = None) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    code, body = status_of(base + "to=1708&text=abc&id=x1")
    assert code == 400 and "from" in body
    code, body = status_of(base + "from=6281200000001&to=1708&text=%00A%00&charset=UTF-16BE&coding=2&id=x2")
    assert code == 400 and "UTF-16BE" in body and "6281200000001" not in body
    code, body = status_of(base + "from=6281200000001&to=1708&text=%FF%FE&charset=UTF-8&id=x3")
    assert code == 400 and "UTF-8" in body
    code, _ = status_of(base + "from=6281200000001&to=1708&id=x4", data=b"x" * 200_000)
    assert code == 413
    counts = sms_rig.gateway.cli("log", "-n", "1000").stdout
    assert "received" not in counts  # nothing was journaled
