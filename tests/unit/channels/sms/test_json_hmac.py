"""The JSON SMS aggregator webhook (``X-Signature: sha256=…`` over the body): a table over ``fixtures/json/*.http``."""

from __future__ import annotations

from functools import partial

import pytest

from channels.sms.json_hmac import JsonSmsChannel
from tests.unit.channels.harness import Case, Check, Signature, Table, cases

NUMBER = "6281234567890"
MO = partial(Case, sender=NUMBER)

TABLE = Table(JsonSmsChannel("aggregator-key"), [
    MO("JSON aggregator, signed", "mo__signed", text="Pungli di samsat", external_id="agg-1", account="1708"),
    MO("JSON aggregator, bad signature", "mo__wrong_key", rejected=403, reason="signature"),
    MO("JSON aggregator, missing field", "mo__missing_from", rejected=400, reason="from"),
    MO("a batch of two", "mo__batch", count=2, texts=["Sampah menumpuk", "di pasar baru"], external_id="agg-3"),
], signature=Signature(header="X-Signature"), canaries=(NUMBER,))


@cases(TABLE)
def test_json_sms(check: Check, caplog: pytest.LogCaptureFixture) -> None:
    check.run(caplog)
