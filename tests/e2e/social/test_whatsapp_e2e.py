"""WhatsApp Cloud API webhook through ``lapor-gateway run``: verification, signed messages, statuses, media."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.social.conftest import WA_VERIFY, SocialFakes, blob_bytes, http, post_whatsapp, wa_message, wa_payload
from tests.e2e_helpers import (
    intake_log,
    journal_dump,
    metrics_text,
    records_by_external_id,
    tracking_ids_in,
    wait_record,
)
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer

IMAGE = hashlib.sha256(b"jembatan").digest() * 100


@pytest.fixture(scope="module")
def gw(social_fakes: SocialFakes, module_gateway: Callable[[dict[str, str]], GatewayProcess]) -> GatewayProcess:
    return module_gateway(social_fakes.whatsapp_env())


def sent_to(fakes: SocialFakes, wa_id: str) -> list[dict[str, Any]]:
    return [m for m in list(fakes.wa.sent_messages) if m.get("to") == wa_id]


def verify(gw: GatewayProcess, token: str, challenge: str = "1158201444") -> tuple[int, str]:
    q = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge})
    return http("GET", f"{gw.url}/channels/whatsapp?{q}")


def test_subscription_check_echoes_the_challenge_and_refuses_a_wrong_token(gw: GatewayProcess) -> None:
    assert verify(gw, WA_VERIFY) == (200, "1158201444")
    status, body = verify(gw, "not-the-token")
    assert status == 403
    assert "1158201444" not in body


def test_signed_message_becomes_complaint_and_reply_goes_through_graph(
    gw: GatewayProcess, social_fakes: SocialFakes
) -> None:
    wa_id = "6281311110001"
    m = wa_message(wa_id, body="Puskesmas Cilandak tutup jam 10 padahal jadwal sampai jam 14")
    payload = wa_payload(social_fakes.wa.phone_number_id, messages=[m],
                         contacts=[{"profile": {"name": "Budi"}, "wa_id": wa_id}])
    assert post_whatsapp(gw, payload, social_fakes.wa.app_secret)[0] == 200
    record = wait_record(gw, m["id"])
    assert record["channel"] == "social.whatsapp"
    assert record["reporter"]["phone"].endswith("81311110001")
    (reply,) = wait_until(lambda: sent_to(social_fakes, wa_id), 30, what="the Graph reply")
    assert tracking_ids_in(reply["text"]["body"]) == [record["tracking_id"]]
    assert reply["context"] == {"message_id": m["id"]}  # an answer to the citizen's message
    assert reply["messaging_product"] == "whatsapp"


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc"], ids=["missing", "wrong", "malformed"])
def test_bad_signature_is_403_and_nothing_is_stored(
    gw: GatewayProcess, social_fakes: SocialFakes, signature: str | None
) -> None:
    wa_id = "6281311110002"
    m = wa_message(wa_id, body="pesan palsu qx47 tanpa tanda tangan")
    raw = json.dumps(wa_payload(social_fakes.wa.phone_number_id, messages=[m])).encode()
    headers = {"Content-Type": "application/json"} | ({"X-Hub-Signature-256": signature} if signature else {})
    status, body = http("POST", gw.url + "/channels/whatsapp", raw, headers)
    assert status == 403
    assert "qx47" not in body
    assert 'channel="social.whatsapp",outcome="rejected_403"' in metrics_text(gw)
    assert m["id"] not in records_by_external_id(gw)
    dump = journal_dump(gw.data_dir)
    assert "qx47" not in dump and m["id"] not in dump
    assert sent_to(social_fakes, wa_id) == []


def test_status_callback_is_recorded_not_filed(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    before = len(gw.central_records())
    st = {"id": "wamid.OURREPLY000042", "status": "delivered", "timestamp": "1732512060", "recipient_id": "6281311110003"}
    assert post_whatsapp(gw, wa_payload(social_fakes.wa.phone_number_id, statuses=[st]),
                         social_fakes.wa.app_secret)[0] == 200
    wait_until(lambda: "receipt_delivered" in intake_log(gw), what="the status in the intake log")
    assert "wamid.OURREPLY000042:delivered" not in records_by_external_id(gw)
    assert len(gw.central_records()) == before
    assert sent_to(social_fakes, "6281311110003") == []  # nobody is answered for a status


def test_image_message_is_filed_with_the_downloaded_attachment(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    social_fakes.graph.call(social_fakes.wa.add_media, "1003383421387256", IMAGE, "image/jpeg")
    wa_id = "6281311110004"
    m = wa_message(wa_id, "image", caption="Jembatan retak di Desa Sukamaju", mime_type="image/jpeg",
                   sha256="x", id="1003383421387256")
    assert post_whatsapp(gw, wa_payload(social_fakes.wa.phone_number_id, messages=[m]),
                         social_fakes.wa.app_secret)[0] == 200
    record = wait_record(gw, m["id"])
    assert "Jembatan retak" in record["body"]
    (att,) = record["attachments"]
    assert att["sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert att["size"] == len(IMAGE) and att["media_type"] == "image/jpeg"
    assert blob_bytes(gw, att["sha256"]) == IMAGE
    wait_until(lambda: sent_to(social_fakes, wa_id), 30, what="the reply")
