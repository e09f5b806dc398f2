"""Privacy canaries: an ANONIM SMS's number and NIK appear nowhere they must not."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.adversarial.decode import leaks
from tests.e2e.sms.conftest import SHORTCODE, SmsRig
from tests.e2e_helpers import tracking_ids_in
from tests.gateway_proc import wait_until

pytestmark = pytest.mark.peer

CANARY_PHONE = "6281377712345"
CANARY_NIK = "3273012501900007"
CANARY_PHONE_IN_TEXT = "0812-7788-9900"


def _forms(number: str) -> list[str]:
    """The ways a phone number can be written: 62…, +62…, 0…, and its bare digits."""
    local = "0" + number[2:]
    return [number, "+" + number, local, number[2:]]


def test_anonymous_sms_identity_never_leaks(sms_rig: SmsRig) -> None:
    gw = sms_rig.gateway
    text = f"ANONIM kepala desa minta uang 500rb utk surat pindah. NIK saya {CANARY_NIK} hp {CANARY_PHONE_IN_TEXT}"
    sms_rig.kannel.inject(CANARY_PHONE, SHORTCODE, text)
    mt = sms_rig.kannel.wait_for_mt(lambda m: m.receiver == CANARY_PHONE, timeout=20)
    (tid,) = tracking_ids_in(mt.text)
    stored = wait_until(lambda: gw.central_get(f"/v1/complaints/{tid}"), what="forwarded record")
    record = stored.get("record", stored)

    # an error answer on the same webhook must not echo identity either
    q = urllib.parse.urlencode({"from": CANARY_PHONE, "to": SHORTCODE, "id": "bad-1", "charset": "UTF-16BE"})
    try:
        urllib.request.urlopen(f"{gw.url}/channels/sms/kannel?{q}&text=%00", timeout=5)
        raise AssertionError("odd UTF-16 bytes were accepted")
    except urllib.error.HTTPError as e:
        error_body = e.read().decode()
    with urllib.request.urlopen(gw.url + "/metrics", timeout=5) as r:
        metrics = r.read().decode()
    intake_log = gw.cli("log", "-n", "500").stdout
    shown = gw.cli("show", tid).stdout

    # the forwarded record: no identity, NIK and phone masked in body and body_public
    assert record["privacy"]["anonymous"] is True
    assert record.get("reporter") is None
    assert "[NIK]" in record["body_public"] or "****" in record["body_public"]
    flat_record = json.dumps(record)
    # decoded too (base64, hex, percent) and the obvious hashes of the number with the text or the shortcode
    assert leaks(record, [CANARY_PHONE, CANARY_NIK, CANARY_PHONE_IN_TEXT], context=[text, SHORTCODE]) == []
    wait_until(lambda: "forwarded" in gw.cli("log", "-n", "500").stdout, what="forwarded event")
    gw.stop()  # flush and close the log files before reading them
    places = {
        "process logs": gw.log_text(),
        "intake log": intake_log,
        "metrics": metrics,
        "error body": error_body,
        "forwarded record": flat_record,
        "show": shown,
        "receipt": mt.text,
    }
    canaries = [*_forms(CANARY_PHONE), CANARY_NIK, CANARY_PHONE_IN_TEXT, "081277889900"]
    for where, content in places.items():
        for canary in canaries:
            assert canary not in content, f"{canary!r} leaked into the {where}"
    assert "anonim" in intake_log  # the contact shows as masked

    # at rest: the journal holds the identity only sealed
    dump = ""
    for name in ("gateway.db", "gateway-state.db"):
        db = sqlite3.connect(gw.data_dir / name)
        dump += "\n".join(db.iterdump())
        db.close()
    assert "INSERT INTO" in dump
    for canary in canaries:
        assert canary not in dump, f"{canary!r} stored in clear in the journal"
