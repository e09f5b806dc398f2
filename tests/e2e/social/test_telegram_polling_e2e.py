"""Telegram long polling through ``lapor-gateway run``: queued updates become complaints, the offset survives a restart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.social.conftest import SocialFakes, tg_update
from tests.e2e_helpers import records_by_external_id, tracking_ids_in, wait_record
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = pytest.mark.peer


def test_polling_ingests_queued_updates_and_resumes_from_the_persisted_offset(
    social_fakes: SocialFakes, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    tg = social_fakes.tg
    first = [tg_update(f"Aduan nomor {i}: saluran air tersumbat di RT 0{i} Kelurahan Bojong", user_id=5200000 + i,
                       username=f"poll_warga_{i}") for i in range(1, 4)]
    for u in first:
        social_fakes.telegram.call(tg.queue_update, u)  # queued before the gateway starts: it picks them up
    gw = gateway_factory(social_fakes.telegram_env("polling"))
    gw.start()
    records = [wait_record(gw, str(u["update_id"])) for u in first]
    assert {r["channel"] for r in records} == {"social.telegram"}
    wait_until(lambda: len(tg.sent_messages) >= 3, 30, what="three receipts")
    for u, r in zip(first, records, strict=True):
        (reply,) = [m for m in tg.sent_messages if int(m["chat_id"]) == u["message"]["chat"]["id"]]
        assert tracking_ids_in(reply["text"]) == [r["tracking_id"]]
    # the gateway confirmed the batch to Telegram with the next getUpdates
    last = max(u["update_id"] for u in first)
    wait_until(lambda: any(int(c.get("offset") or 0) == last + 1 for c in tg.calls("getUpdates")),
               what="getUpdates with offset past the batch")  # fmt: skip
    assert gw.stop() == 0

    # Telegram never saw a confirmation of the last batch (as after a crash): it offers it again,
    # plus one new update. The persisted offset skips the old ones at once.
    calls_before = len(tg.calls("getUpdates"))
    for u in first:
        social_fakes.telegram.call(tg.queue_update, u)
    new = social_fakes.telegram.call(tg.queue_update, tg_update(
        "Aduan baru setelah restart: jembatan gantung putus", user_id=5200009, username="poll_warga_9"))
    gw.start()
    wait_record(gw, str(new["update_id"]))
    after = tg.calls("getUpdates")[calls_before:]
    assert int(after[0].get("offset") or 0) == last + 1, "the first getUpdates after the restart ignored the offset"
    by_id = records_by_external_id(gw)
    assert all(len(by_id[str(u["update_id"])]) == 1 for u in first)
    assert len(gw.central_records()) == 4
    # and each old complaint got exactly one receipt
    wait_until(lambda: len(tg.sent_messages) >= 4, 30, what="the new receipt")
    assert len(tg.sent_messages) == 4
