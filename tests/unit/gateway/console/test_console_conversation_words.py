"""The complaint page's conversation says each message's state in words: the agency's update read 'pending'
(and 'rate_limited') in an Indonesian page while the citizen's answers beside it read 'Diteruskan'."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.store.records import ReceiptRow
from tests.unit.gateway.cli.cli_data import add_complaint, journal
from tests.unit.gateway.console.console_env import Env


def _update(update_id: int, state: str) -> ReceiptRow:
    return ReceiptRow(dedup_key=f"update:{update_id}:r", kind="update", channel="sms.kannel",
                      target={"to": "6281200000077", "reply_context": {"update_id": update_id}},
                      body={"text": f"LAPOR! jawaban instansi {update_id}", "public": False,
                            "update": {"update_id": update_id, "kind": "response", "status": "verifying"}},
                      state=state)


async def test_the_agencys_updates_state_is_in_words(operator_env: Env) -> None:
    tid = await asyncio.to_thread(add_complaint, operator_env.gw, {"body": "jalan rusak"}, state="forwarded",
                                  receipts=[_update(1, "pending"), _update(2, "rate_limited")])
    page = await (await operator_env.client.get(f"/console/complaints/{tid}")).text()
    conversation = page.split('<h2>Percakapan</h2>', 1)[1].split("</table>", 1)[0]
    assert 'Dalam antrean <small class="code">pending</small>' in conversation
    assert 'terlalu banyak dalam satu jam) <small class="code">rate_limited</small>' in conversation
    assert "<td>pending" not in conversation


async def test_a_delivery_report_is_in_words_with_its_code_beside(operator_env: Env) -> None:
    """A mail receipt that bounced read '· bounce' and an out-of-office '· auto_reply' on the complaint page."""
    receipt = ReceiptRow(dedup_key="receipt:x", kind="receipt", channel="email.smtp",
                         target={"to": "warga@contoh.id"}, body={"text": "LAPOR! diterima", "public": False},
                         state="sent")
    tid = await asyncio.to_thread(add_complaint, operator_env.gw, {"body": "jalan rusak", "channel": "email.smtp"},
                                  state="forwarded", receipts=[receipt, _update(3, "sent")])

    def report(conn: Any) -> None:
        conn.execute("UPDATE receipts SET delivery_status='bounce' WHERE kind='receipt'")
        conn.execute("UPDATE receipts SET delivery_status='auto_reply' WHERE kind='update'")

    j = journal(operator_env.gw)
    j.state_writer.write_sync(report)
    j.close()
    page = await (await operator_env.client.get(f"/console/complaints/{tid}")).text()
    assert 'surel ditolak server penerima (bounce) <small class="code">bounce</small>' in page
    assert 'dijawab otomatis (misalnya sedang cuti) <small class="code">auto_reply</small>' in page
    assert "· bounce" not in page and "· auto_reply" not in page
