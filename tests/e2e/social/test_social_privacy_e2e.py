"""Privacy canaries across the social channels through ``lapor-gateway run``.

Anonymous reporters' handles, names, chat ids and phone numbers, and the text of
confidential reports, must appear in no log line, intake-log event, /metrics
line or public reply; anonymous identities not in the forwarded record and not
in clear in the journal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.adversarial.decode import leaks
from tests.e2e.social.conftest import (
    SERVICE_HANDLE,
    SocialFakes,
    post_telegram,
    post_whatsapp,
    tg_update,
    wa_message,
    wa_payload,
)
from tests.e2e_helpers import assert_absent, intake_log, journal_dump, metrics_text, tracking_ids_in, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer

# anonymous reporters: nothing of who they are may leak
TG_ANON_ID, TG_ANON_HANDLE, TG_ANON_NAME = 739184620, "kanari_anon_tg", "Kanariyanto"
X_ANON_ID, X_ANON_HANDLE, X_ANON_NAME = "1777000000000000077", "kanari_anon_x", "Kanarinda Iks"
WA_ANON, WA_ANON_NAME = "6281398765432", "Kanarisa Wati"
IDENTITY = [str(TG_ANON_ID), TG_ANON_HANDLE, TG_ANON_NAME, X_ANON_ID, X_ANON_HANDLE, X_ANON_NAME,
            WA_ANON, WA_ANON[2:], "0" + WA_ANON[2:], WA_ANON_NAME]
# confidential reports: nothing of what they say may leak
TG_SECRET_TEXT = "bendahara sekolah menggelapkan dana BOS kenari tahun ini"
X_SECRET_TEXT = "oknum samsat kenari meminta pungli untuk balik nama"
WA_SECRET_TEXT = "kepala gudang beras kenari menjual raskin ke tengkulak"
CONTENT = [TG_SECRET_TEXT, X_SECRET_TEXT, WA_SECRET_TEXT, "menggelapkan dana BOS", "meminta pungli",
           "menjual raskin"]


@pytest.fixture(scope="module")
def gw(social_fakes: SocialFakes, module_gateway: Callable[[dict[str, str]], GatewayProcess]) -> GatewayProcess:
    social_fakes.x.call(social_fakes.fx.add_user, X_ANON_ID, X_ANON_HANDLE, X_ANON_NAME)
    social_fakes.x.call(social_fakes.fx.add_user, "1777000000000000078", "warga_biasa", "Warga Biasa")
    return module_gateway({**social_fakes.telegram_env(), **social_fakes.x_env(poll_seconds=0.3),
                           **social_fakes.whatsapp_env()})


def test_anonymous_identities_and_confidential_text_leak_nowhere(gw: GatewayProcess, social_fakes: SocialFakes) -> None:
    fx, wa = social_fakes.fx, social_fakes.wa
    # Telegram: an anonymous report, and a confidential one sent in a group (the reply there is public)
    tg_anon = tg_update("/anonim lurah meminta imbalan untuk tanda tangan surat keterangan usaha",
                        user_id=TG_ANON_ID, username=TG_ANON_HANDLE, first_name=TG_ANON_NAME)
    tg_conf = tg_update(f"RAHASIA {TG_SECRET_TEXT}", user_id=5400002, username="warga_grup",
                        chat_id=-100555, chat_type="group")
    # X: an anonymous mention and a confidential one
    x_anon = social_fakes.x.call(fx.add_mention, X_ANON_ID,
                                 f"@{SERVICE_HANDLE} ANONIM jalan kabupaten rusak tapi anggaran sudah cair")
    x_conf = social_fakes.x.call(fx.add_mention, "1777000000000000078", f"@{SERVICE_HANDLE} RAHASIA {X_SECRET_TEXT}")
    # WhatsApp: an anonymous message and a confidential one
    wa_anon = wa_message(WA_ANON, body="ANONIM pungutan liar di sekolah negeri untuk seragam")
    wa_conf = wa_message("6281300000099", body=f"RAHASIA {WA_SECRET_TEXT}")
    for upd in (tg_anon, tg_conf):
        assert post_telegram(gw, upd)[0] == 200
    payload = wa_payload(wa.phone_number_id, messages=[wa_anon, wa_conf],
                         contacts=[{"profile": {"name": WA_ANON_NAME}, "wa_id": WA_ANON},
                                   {"profile": {"name": "Pelapor Rahasia"}, "wa_id": "6281300000099"}])
    assert post_whatsapp(gw, payload, wa.app_secret)[0] == 200

    records = {k: wait_record(gw, ext) for k, ext in (
        ("tg_anon", str(tg_anon["update_id"])), ("tg_conf", str(tg_conf["update_id"])), ("x_anon", x_anon["id"]),
        ("x_conf", x_conf["id"]), ("wa_anon", wa_anon["id"]), ("wa_conf", wa_conf["id"]))}
    for k in ("tg_anon", "x_anon", "wa_anon"):
        assert records[k]["privacy"]["anonymous"] is True, k
        assert records[k].get("reporter") is None, k
    for k in ("tg_conf", "x_conf", "wa_conf"):
        assert records[k]["privacy"]["confidential"] is True, k
        assert records[k]["body_public"] is None, k

    # every answer went out: receipts in private chats, public replies in the group and on X
    def replies() -> dict[str, Any] | None:
        tg = {int(m["chat_id"]): m["text"] for m in list(social_fakes.tg.sent_messages)}
        xr = {(t.get("reply") or {}).get("in_reply_to_tweet_id"): t["text"] for t in list(fx.tweets)}
        was = {m["to"]: m["text"]["body"] for m in list(wa.sent_messages)}
        got = {"tg_anon": tg.get(TG_ANON_ID), "tg_conf": tg.get(-100555), "x_anon": xr.get(x_anon["id"]),
               "x_conf": xr.get(x_conf["id"]), "wa_anon": was.get(WA_ANON), "wa_conf": was.get("6281300000099")}
        return got if all(got.values()) else None

    answers: dict[str, str] = wait_until(replies, 30, what="all six answers")
    for k, text in answers.items():
        assert tracking_ids_in(text) == [records[k]["tracking_id"]], k
    for k in ("tg_conf", "x_anon", "x_conf"):  # public: the group and X see these
        assert "DM" in answers[k] or "pesan langsung" in answers[k], (k, answers[k])
    wait_until(lambda: intake_log(gw).count("forwarded") >= 6, what="six forwarded events")

    metrics = metrics_text(gw)
    shown = "\n".join(gw.cli("show", records[k]["tracking_id"]).stdout for k in ("tg_anon", "x_anon", "wa_anon"))
    assert all(records[k]["tracking_id"] in shown for k in ("tg_anon", "x_anon", "wa_anon"))
    log_events = intake_log(gw)
    assert gw.stop() == 0  # flush the log files
    anon_records = json.dumps([records[k] for k in ("tg_anon", "x_anon", "wa_anon")])
    assert_absent(IDENTITY + CONTENT, {
        "process logs": gw.log_text(), "intake log": log_events, "metrics": metrics,
        "public replies": "\n".join(answers[k] for k in ("tg_conf", "x_anon", "x_conf")),
        "receipts": "\n".join(answers.values()),
    })
    for k in ("tg_anon", "x_anon", "wa_anon"):  # decoded too: base64, hex, percent; and the obvious hashes
        assert leaks(records[k], IDENTITY) == [], k
    assert_absent(IDENTITY, {"anonymous forwarded records": anon_records, "lapor-gateway show": shown,
                             "journal at rest": journal_dump(gw.data_dir)})
    assert "anonim" in log_events and "rahasia" in log_events  # the flags show, masked contacts only
