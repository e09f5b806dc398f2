"""Canaries: an anonymous SMS that names its sender in passing ("ANONIM saya Budi Santoso NIK …") forwards
neither the name nor the NIK, in ``body`` or ``body_public``, decoded (:func:`tests.adversarial.decode.leaks`).

The NIK was masked by its shape; the name went out in clear, because only "nama saya", "saya bernama" and
the like were read as introductions, not a bare "saya" followed by a name.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.message import InboundMessage
from normalizer.pipeline import Normalizer
from tests.adversarial.decode import leaks

NIK = "3174012503870004"
SECRETS = ["Budi", "Santoso", "Kanari", NIK]
COMPLAINT = "jalan rusak parah di depan SDN 3 Cibeureum, dua motor sudah jatuh"
TEXTS = {
    "after the keyword": f"ANONIM saya Budi Santoso NIK {NIK} {COMPLAINT}",
    "after a greeting": f"ANONIM selamat pagi pak saya Budi Kanari mau lapor {COMPLAINT}",
    "in lower case, then the NIK": f"anonim. saya budi santoso nik {NIK}, {COMPLAINT}",
    "in lower case, then where they live": f"ANONIM saya budi kanari warga rt 3, {COMPLAINT}",
    "at the end": f"ANONIM {COMPLAINT}. Saya Budi Santoso.",
}


def _sms(text: str) -> InboundMessage:
    return InboundMessage(channel="sms.kannel", account="1708", external_id="k-intro", sender="6281377712345",
                          received_at=datetime(2026, 1, 2, 8, 0, tzinfo=UTC), text=text)


@pytest.mark.parametrize("label", list(TEXTS))
def test_a_name_given_in_passing_is_not_forwarded(label: str) -> None:
    text = TEXTS[label]
    n = Normalizer("intro-canary-key").build(_sms(text), complaint_id="0190f3a2-0000-7000-8000-0000000000b1",
                                             tracking_id="8082656733")
    record = n.complaint.model_dump(mode="json")
    assert record["privacy"]["anonymous"] is True
    assert leaks(record, SECRETS, context=[text]) == []
    assert "Cibeureum" in record["body"] and "Cibeureum" in record["body_public"]  # the complaint itself stays


def test_the_check_has_teeth() -> None:
    assert leaks({"body": TEXTS["after the keyword"]}, SECRETS)
