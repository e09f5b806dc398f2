"""What /healthz reads to tell a stalled delivery process: a forward due since when, and the forwarder's last try."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer

VAULT_KEY = base64.urlsafe_b64encode(b"p" * 32).decode()


def put(j: Journal, cid: str, created_at: float, next_at: float = 0.0, state: str = "normalized") -> None:
    j.state_writer.write_sync(lambda c: c.execute(
        "INSERT INTO complaints(id, tracking_id, inbound_id, channel, record, reporter_ref, anonymous, confidential, "
        "state, next_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (cid, f"T-{cid}", abs(hash(cid)) % 10**9, "sms.kannel", json.dumps({}), "r", 0, 0, state, next_at,
         created_at)))


async def test_a_due_forward_and_the_forwarders_tries(tmp_path: Path) -> None:
    j = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    try:
        assert j.forwarding_progress() == {"due_since": None, "last_progress": None}
        put(j, "later", time.time() - 5, next_at=time.time() + 600)  # backing off: not due
        put(j, "done", time.time() - 900, state="forwarded")
        assert j.forwarding_progress()["due_since"] is None
        put(j, "new", 1000.0)
        assert j.forwarding_progress()["due_since"] == 1000.0  # due since it was made
        before = time.time()
        await j.mark_forward_failed("new", "store down", time.time() + 60, dead=False)
        p = j.forwarding_progress()
        assert p["due_since"] is None and p["last_progress"] >= before  # a try ended: progress
        put(j, "retry", 1000.0, next_at=2000.0)
        assert j.forwarding_progress()["due_since"] == 2000.0  # due again since its next try's time
        await j.mark_forwarded("retry", {"id": "x"})
        assert j.forwarding_progress()["due_since"] is None
    finally:
        j.close()
