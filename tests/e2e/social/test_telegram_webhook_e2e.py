"""Telegram in webhook mode through ``lapor-gateway run``: complaints, commands, photos, replays, the secret."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.social.conftest import SocialFakes, blob_bytes, post_telegram, tg_update
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

PHOTO = hashlib.sha256(b"seed").digest() * 64  # 2 KiB standing in for a JPEG


@pytest.fixture(scope="module")
def gw(social_fakes: SocialFakes, module_gateway: Callable[[dict[str, str]], GatewayProcess]) -> GatewayProcess:
    return module_gateway(social_fakes.telegram_env("webhook"))


def replies_to(fakes: SocialFakes, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in list(fakes.tg.sent_messages) if int(m["chat_id"]) == chat_id]


def wait_reply(fakes: SocialFakes, chat_id: int, count: int = 1) -> list[dict[str, Any]]:
    return wait_until(lambda: len(got := replies_to(fakes, chat_id)) >= count and got, 30,
                      what=f"{count} sendMessage(s) to chat {chat_id}")  # fmt: skip


def test_text_update_becomes_complaint_and_chat_gets_tracking_id(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    upd = tg_update("Jalan berlubang besar di depan SDN 3 Cibinong sudah dua bulan tidak diperbaiki",
                    user_id=5100001, username="warga_cibinong")
    status, _ = post_telegram(gw, upd)
    assert status == 200
    record = wait_record(gw, str(upd["update_id"]))
    assert record["channel"] == "social.telegram"
    assert record["reporter"]["handle"] == "@warga_cibinong"
    assert "Jalan berlubang" in record["body"]
    (reply,) = wait_reply(social_fakes, 5100001)
    assert tracking_ids_in(reply["text"]) == [record["tracking_id"]]
    # a reply in the same conversation: to the citizen's message
    assert reply["reply_parameters"]["message_id"] == upd["message"]["message_id"]
    assert "/cek" in reply["text"]


def test_start_answers_help_in_indonesian_and_files_nothing(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    before = len(gw.central_records())
    upd = tg_update("/start", user_id=5100002, username="warga_baru")
    assert post_telegram(gw, upd)[0] == 200
    (reply,) = wait_reply(social_fakes, 5100002)
    assert "Selamat datang" in reply["text"] and "/anonim" in reply["text"] and "/cek" in reply["text"]
    assert tracking_ids_in(reply["text"]) == []
    wait_until(lambda: "help" in intake_log(gw), what="the help answer in the intake log")
    assert str(upd["update_id"]) not in records_by_external_id(gw)
    assert len(gw.central_records()) == before


def test_start_addressed_to_the_bot_in_a_group_is_help_too(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    """In groups Telegram sends commands as ``/start@<bot>``: still the help text, not a complaint."""
    upd = tg_update(f"/start@{social_fakes.tg.username}", user_id=5100008, username="warga_grup_rt",
                    chat_id=-100777, chat_type="group")
    assert post_telegram(gw, upd)[0] == 200
    (reply,) = wait_reply(social_fakes, -100777)
    assert "Selamat datang" in reply["text"]
    assert tracking_ids_in(reply["text"]) == []
    assert str(upd["update_id"]) not in records_by_external_id(gw)


def test_anonim_command_files_an_anonymous_complaint(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    upd = tg_update("/anonim Petugas kelurahan minta uang rokok untuk mengurus surat domisili",
                    user_id=5100003, username="anon_canary_tg", first_name="Kanaria")
    assert post_telegram(gw, upd)[0] == 200
    record = wait_record(gw, str(upd["update_id"]))
    assert record["privacy"]["anonymous"] is True
    assert record.get("reporter") is None
    assert record["reporter_ref"]
    assert "Petugas kelurahan" in record["body"] and "/anonim" not in record["body"]
    (reply,) = wait_reply(social_fakes, 5100003)  # the receipt still reaches the citizen
    assert tracking_ids_in(reply["text"]) == [record["tracking_id"]]
    assert "ANONIM" in reply["text"]


def test_cek_command_answers_the_status(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    filed = tg_update("Sampah menumpuk di pasar Sukasari sejak seminggu", user_id=5100004, username="warga_pasar")
    assert post_telegram(gw, filed)[0] == 200
    record = wait_record(gw, str(filed["update_id"]))
    tid = record["tracking_id"]
    wait_reply(social_fakes, 5100004)
    count = len(gw.central_records())
    ask = tg_update(f"/cek {tid}", user_id=5100004, username="warga_pasar")
    assert post_telegram(gw, ask)[0] == 200
    _, answer = wait_reply(social_fakes, 5100004, 2)
    assert answer["text"].startswith(f"Tiket {tid}:")
    assert any(word in answer["text"] for word in ("diterima", "diverifikasi")), answer["text"]
    unknown = tg_update("/cek 1234567890", user_id=5100004, username="warga_pasar")
    post_telegram(gw, unknown)
    third = wait_reply(social_fakes, 5100004, 3)[2]
    assert "1234567890" in third["text"] or "Contoh" in third["text"]  # not found, or a bad check digit
    assert len(gw.central_records()) == count  # a status question is not a complaint


def test_photo_with_caption_becomes_complaint_with_the_downloaded_attachment(
    gw: GatewayProcess, social_fakes: SocialFakes
) -> None:
    social_fakes.telegram.call(social_fakes.tg.add_file, "PHOTO-big", PHOTO, "photos/file_77.jpg")
    social_fakes.telegram.call(social_fakes.tg.add_file, "PHOTO-small", b"thumbnail", "photos/file_76.jpg")
    upd = tg_update(None, user_id=5100005, username="warga_foto", caption="Lampu jalan mati di Jl. Melati",
                    photo=[{"file_id": "PHOTO-small", "file_unique_id": "s1", "file_size": 9, "width": 90, "height": 67},
                           {"file_id": "PHOTO-big", "file_unique_id": "b1", "file_size": len(PHOTO), "width": 1280,
                            "height": 960}])
    assert post_telegram(gw, upd)[0] == 200
    record = wait_record(gw, str(upd["update_id"]))
    assert "Lampu jalan mati" in record["body"]
    (att,) = record["attachments"]
    assert att["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert att["size"] == len(PHOTO)
    assert att["media_type"] == "image/jpeg"
    assert blob_bytes(gw, att["sha256"]) == PHOTO
    assert any(c.get("file_id") == "PHOTO-big" for c in social_fakes.tg.calls("getFile"))
    wait_reply(social_fakes, 5100005)


def test_replayed_update_is_one_complaint(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    upd = tg_update("Air PDAM tidak mengalir tiga hari di Perumahan Griya Asri", user_id=5100006, username="warga_air")
    for _ in range(3):
        assert post_telegram(gw, upd)[0] == 200
    wait_record(gw, str(upd["update_id"]))
    wait_reply(social_fakes, 5100006)
    # the receipts after the last replay are all in: still one complaint, one receipt
    wait_until(lambda: 'outcome="duplicate"} 2' in metrics_text(gw), what="two duplicates counted")
    later = tg_update("/cek 1234567890", user_id=5100006, username="warga_air")  # a marker after the replays
    post_telegram(gw, later)
    wait_reply(social_fakes, 5100006, 2)
    assert len(records_by_external_id(gw)[str(upd["update_id"])]) == 1
    assert len(replies_to(social_fakes, 5100006)) == 2


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"], ids=["missing", "empty", "wrong"])
def test_bad_or_missing_secret_is_403_and_nothing_is_stored(
    gw: GatewayProcess, social_fakes: SocialFakes, secret: str | None
) -> None:
    marker = f"Pesan palsu tanpa rahasia {secret!s}-zq81"
    upd = tg_update(marker, user_id=5100007, username="penyusup")
    status, body = post_telegram(gw, upd, secret=secret)
    assert status == 403
    assert "zq81" not in body
    assert 'channel="social.telegram",outcome="rejected_403"' in metrics_text(gw)
    assert str(upd["update_id"]) not in records_by_external_id(gw)
    assert "zq81" not in journal_dump(gw.data_dir)
    assert str(upd["update_id"]) not in journal_dump(gw.data_dir)
    assert "zq81" not in intake_log(gw)
    assert replies_to(social_fakes, 5100007) == []
